//! Trust in peers' OMEMO devices: blind trust before verification (a new
//! device is used at once, shown as unverified), verified once the user
//! compared fingerprints, flagged when a device's identity key changes.
//! Kept in `omemo-trust.json` in the data directory (public keys only).

use koine_api::Verification;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceTrust {
    /// Trusted blindly, not compared by the user.
    Unverified,
    /// The user compared the fingerprint.
    Verified,
    /// The identity key changed since it was trusted; the user was told.
    Changed,
}

/// One device's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its state.
    pub trust: DeviceTrust,
}

/// Every peer device seen, by bare JID then device id.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct TrustStore {
    /// The records.
    pub peers: BTreeMap<String, BTreeMap<u32, Device>>,
}

impl TrustStore {
    /// The file name.
    pub const FILE: &'static str = "omemo-trust.json";

    /// Records the fingerprint seen for a device; returns true when it
    /// differs from a known one (the device is then marked changed).
    pub fn seen(&mut self, jid: &str, device: u32, fingerprint: String) -> bool {
        let devices = self.peers.entry(jid.to_owned()).or_default();
        match devices.get_mut(&device) {
            Some(d) if d.fingerprint == fingerprint => false,
            Some(d) => {
                d.fingerprint = fingerprint;
                d.trust = DeviceTrust::Changed;
                true
            }
            None => {
                devices.insert(
                    device,
                    Device {
                        fingerprint,
                        trust: DeviceTrust::Unverified,
                    },
                );
                false
            }
        }
    }

    /// Whether an OMEMO device of `jid` was ever seen (its bundle taken to
    /// encrypt to it, or a message from it opened): the contact uses OMEMO,
    /// and a device list that cannot be had now is no reason to write to
    /// them in plaintext. Kept across restarts with the records.
    pub fn used_omemo(&self, jid: &str) -> bool {
        self.peers
            .get(jid)
            .is_some_and(|devices| !devices.is_empty())
    }

    /// Whether `device` of `jid` changed identity and the user has not
    /// accepted it yet.
    pub fn is_changed(&self, jid: &str, device: u32) -> bool {
        self.peers
            .get(jid)
            .and_then(|m| m.get(&device))
            .is_some_and(|d| d.trust == DeviceTrust::Changed)
    }

    /// Sets every known device of `jid` to `trust`.
    pub fn set_all(&mut self, jid: &str, trust: DeviceTrust) {
        if let Some(devices) = self.peers.get_mut(jid) {
            for d in devices.values_mut() {
                d.trust = trust;
            }
        }
    }

    /// Sets one device.
    pub fn set(&mut self, jid: &str, device: u32, trust: DeviceTrust) {
        if let Some(d) = self.peers.get_mut(jid).and_then(|m| m.get_mut(&device)) {
            d.trust = trust;
        }
    }

    /// The verification of a conversation over `devices`: changed if any
    /// changed, verified if all were verified, unverified otherwise.
    pub fn verification(&self, jid: &str, devices: &[u32]) -> Verification {
        let Some(known) = self.peers.get(jid) else {
            return Verification::Unverified;
        };
        let states: Vec<DeviceTrust> = devices
            .iter()
            .filter_map(|d| known.get(d).map(|r| r.trust))
            .collect();
        if states.contains(&DeviceTrust::Changed) {
            Verification::IdentityChanged
        } else if !states.is_empty() && states.iter().all(|t| *t == DeviceTrust::Verified) {
            Verification::Verified
        } else {
            Verification::Unverified
        }
    }

    /// The fingerprints of `devices`, one a line: `<device>: <fingerprint>`.
    pub fn fingerprints(&self, jid: &str, devices: &[u32]) -> Option<String> {
        let known = self.peers.get(jid)?;
        let lines: Vec<String> = devices
            .iter()
            .filter_map(|d| known.get(d).map(|r| format!("{d}: {}", r.fingerprint)))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_trust_then_verified_then_changed() {
        let mut t = TrustStore::default();
        assert!(!t.seen("b@x", 1, "aa".into()));
        assert!(!t.seen("b@x", 2, "bb".into()));
        assert_eq!(t.verification("b@x", &[1, 2]), Verification::Unverified);
        t.set_all("b@x", DeviceTrust::Verified);
        assert_eq!(t.verification("b@x", &[1, 2]), Verification::Verified);
        assert!(!t.seen("b@x", 1, "aa".into()));
        assert!(t.seen("b@x", 1, "cc".into()));
        assert_eq!(
            t.verification("b@x", &[1, 2]),
            Verification::IdentityChanged
        );
        assert!(t.is_changed("b@x", 1) && !t.is_changed("b@x", 2));
        t.set("b@x", 1, DeviceTrust::Unverified);
        assert_eq!(t.verification("b@x", &[1, 2]), Verification::Unverified);
        assert_eq!(t.fingerprints("b@x", &[2]).as_deref(), Some("2: bb"));
    }
}
