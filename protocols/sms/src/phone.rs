//! Phone numbers: normalisation to E.164 with a default region.

use koine_api::{AddressError, PhoneNumber};

/// The region used when the account sets none.
pub const DEFAULT_REGION: &str = "FR";

/// Normalises a number as typed by a person or stored by a phone (national
/// or international form) to E.164, resolving national numbers in `region`
/// (ISO 3166 code, e.g. `FR`). Short codes and other numbers that are not
/// valid E.164 are refused.
pub fn normalize(input: &str, region: &str) -> Result<PhoneNumber, AddressError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AddressError::Empty);
    }
    let country = region
        .trim()
        .to_ascii_uppercase()
        .parse::<phonenumber::country::Id>()
        .ok();
    let parsed = phonenumber::parse(country, trimmed)
        .map_err(|_| AddressError::NotE164(trimmed.to_owned()))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(AddressError::NotE164(trimmed.to_owned()));
    }
    let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
    PhoneNumber::parse(&e164)
}

/// Whether a region code is one the number database knows.
pub fn valid_region(region: &str) -> bool {
    region
        .trim()
        .to_ascii_uppercase()
        .parse::<phonenumber::country::Id>()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_use_the_region() {
        let n = normalize("06 12 34 56 78", "FR").expect("french mobile");
        assert_eq!(n.as_str(), "+33612345678");
        let n = normalize("+33 6 12-34-56-78", "US").expect("international");
        assert_eq!(n.as_str(), "+33612345678");
        let n = normalize("(202) 555-0143", "us").expect("us");
        assert_eq!(n.as_str(), "+12025550143");
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(normalize("  ", "FR"), Err(AddressError::Empty));
        assert!(normalize("hello", "FR").is_err());
        assert!(normalize("12", "FR").is_err());
        assert!(valid_region("DE"));
        assert!(!valid_region("ZZZ"));
    }
}
