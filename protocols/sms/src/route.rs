//! The route of an SMS: your computer → your phone → the carrier → recipient.
//! Never end-to-end encrypted; the carrier reads everything.

use koine_api::{EndToEnd, Hop, HopKind, Route, TlsVersion, TransportSecurity, Visibility};

/// The hop to the phone, for the KDE Connect link on the local network with
/// the certificate pinned at pairing, saying the TLS version negotiated
/// ("TLS 1.2, pinned" with the Android app).
pub fn phone_hop_lan(device_name: &str, version: TlsVersion) -> Hop {
    Hop::new(
        device_name,
        HopKind::RelayDevice,
        TransportSecurity::Tls {
            version,
            pinned: true,
        },
    )
    .reading(Visibility::Content)
    .operated_by("you")
    .seeing_your_ip()
}

/// The hop to the phone over SMSGate's local HTTP API (plaintext HTTP).
pub fn phone_hop_http(device_name: &str) -> Hop {
    Hop::new(
        device_name,
        HopKind::RelayDevice,
        TransportSecurity::Plaintext,
    )
    .reading(Visibility::Content)
    .operated_by("you")
    .seeing_your_ip()
}

/// The carrier hop.
pub fn carrier_hop() -> Hop {
    Hop::new(
        "mobile carrier",
        HopKind::Carrier,
        TransportSecurity::Cellular,
    )
    .reading(Visibility::Content)
    .operated_by("your carrier")
}

/// The whole route through `phone`.
pub fn sms_route(phone: Hop) -> Route {
    Route {
        hops: vec![phone, carrier_hop()],
        end_to_end: EndToEnd::none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::Protection;

    #[test]
    fn sms_routes_are_exposed_and_valid() {
        for route in [
            sms_route(phone_hop_lan("Pixel", TlsVersion::Tls12)),
            sms_route(phone_hop_http("Pixel")),
        ] {
            assert_eq!(route.validate(), Ok(()));
            assert_eq!(route.protection(), Protection::Exposed);
            assert!(!route.is_end_to_end());
            assert_eq!(
                route.hosts().collect::<Vec<_>>(),
                ["Pixel", "mobile carrier"]
            );
        }
    }
}
