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
    use super::region_of;

    #[test]
    fn regions_come_from_the_locale_tag() {
        assert_eq!(region_of("fr-FR").as_deref(), Some("FR"));
        assert_eq!(region_of("en_GB.UTF-8").as_deref(), Some("GB"));
        assert_eq!(region_of("C"), None);
        assert_eq!(region_of("de"), None);
        assert_eq!(region_of("zh-Hans-CN"), None);
    }
}
