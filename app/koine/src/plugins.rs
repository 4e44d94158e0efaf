//! The one place that names concrete plugins.

use koine_core::Registry;
use std::sync::Arc;

/// Every network this build supports.
pub fn registry() -> Registry {
    Registry::new()
        .with(Arc::new(koine_gatekeeper::GatekeeperProtocol))
        .with(Arc::new(koine_xmpp::Xmpp::new()))
        .with(Arc::new(koine_matrix::Matrix::new()))
        .with(Arc::new(koine_sms::SmsRelay::new(&default_region())))
}

/// The region for phone numbers typed without a country code, from the
/// locale (`fr-FR` → `FR`); `C`/`POSIX` or no region gives the plugin's default.
fn default_region() -> String {
    sys_locale::get_locale()
        .as_deref()
        .and_then(region_of)
        .unwrap_or_default()
}

fn region_of(locale: &str) -> Option<String> {
    let tag = locale.split(['.', '@']).next()?;
    let region = tag.split(['-', '_']).nth(1)?;
    (region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| region.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::{region_of, registry};
    use std::collections::BTreeSet;

    fn ids(ftl: &str) -> BTreeSet<&str> {
        ftl.lines()
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim()))
            .filter(|id| !id.is_empty() && !id.starts_with(['#', ' ', '.']))
            .collect()
    }

    /// Each bundled plugin gives its badge and, in English and French, a
    /// text for every label it uses; nothing about it lives in the window.
    #[test]
    fn every_bundled_plugin_describes_its_own_face() {
        for protocol in registry().iter() {
            let info = protocol.info();
            assert!(info.face.badge.is_some(), "{}: no badge", info.id);
            assert!(
                info.face.about.is_some(),
                "{}: nothing for the welcome screen",
                info.id
            );
            let mut labels: BTreeSet<&str> = info
                .account_fields
                .iter()
                .map(|f| f.label.id.as_str())
                .collect();
            labels.insert(info.account_label.id.as_str());
            let about = info.face.about.as_ref();
            labels.insert(about.map_or("", |a| a.id.as_str()));
            let mut by_lang = Vec::new();
            for lang in ["en", "fr"] {
                let t = info
                    .face
                    .translations
                    .iter()
                    .find(|t| t.lang == lang)
                    .unwrap_or_else(|| panic!("{}: no {lang} texts", info.id));
                let known = ids(&t.ftl);
                let missing: Vec<_> = labels.iter().filter(|l| !known.contains(*l)).collect();
                assert!(
                    missing.is_empty(),
                    "{} {lang}: missing {missing:?}",
                    info.id
                );
                assert!(
                    known.iter().all(|id| id.starts_with(info.id.as_str())),
                    "{} {lang}: an id not prefixed with the protocol id",
                    info.id
                );
                by_lang.push(known);
            }
            assert_eq!(by_lang[0], by_lang[1], "{}: en and fr differ", info.id);
        }
    }

    #[test]
    fn regions_come_from_the_locale_tag() {
        assert_eq!(region_of("fr-FR").as_deref(), Some("FR"));
        assert_eq!(region_of("en_GB.UTF-8").as_deref(), Some("GB"));
        assert_eq!(region_of("C"), None);
        assert_eq!(region_of("de"), None);
        assert_eq!(region_of("zh-Hans-CN"), None);
    }
}
