//! Phone numbers: normalisation to E.164 with a default region; senders
//! that are not numbers (alphanumeric ids, short codes) kept as given.

use koine_api::{Address, AddressError, PhoneNumber};

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

/// The longest sender kept as the phone gives it, in characters.
pub const MAX_SENDER_CHARS: usize = 64;

/// An address as a phone stores it: E.164 when it parses as a number in
/// `region`, else the sender as given ([`Address::SmsSender`]: alphanumeric
/// sender ids such as `Google`, short codes such as `72975`), trimmed, with
/// control characters and commas (which separate a group's members in
/// conversation keys) turned into spaces.
pub fn sms_address(input: &str, region: &str) -> Result<Address, AddressError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(AddressError::Empty);
    }
    if let Ok(number) = normalize(trimmed, region) {
        return Ok(Address::Phone(number));
    }
    if trimmed.chars().count() > MAX_SENDER_CHARS {
        let start: String = trimmed.chars().take(MAX_SENDER_CHARS).collect();
        return Err(AddressError::Unrecognised(start));
    }
    let cleaned: String = trimmed
        .chars()
        .map(|c| if c.is_control() || c == ',' { ' ' } else { c })
        .collect();
    Ok(Address::SmsSender(cleaned.trim().to_owned()))
}

/// A short code typed by a person (3 to 8 digits, no country code): what
/// one answers `STOP` to.
pub fn short_code(input: &str) -> Option<Address> {
    let trimmed = input.trim();
    ((3..=8).contains(&trimmed.len()) && trimmed.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Address::SmsSender(trimmed.to_owned()))
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
    fn senders_that_are_not_numbers_are_kept_as_given() {
        assert_eq!(
            sms_address(" Google ", "FR"),
            Ok(Address::SmsSender("Google".into()))
        );
        assert_eq!(
            sms_address("72975", "US"),
            Ok(Address::SmsSender("72975".into()))
        );
        assert_eq!(
            sms_address("06 12 34 56 78", "FR").map(|a| a.to_string()),
            Ok("+33612345678".into())
        );
        assert_eq!(
            sms_address("Bank,\nInc", "FR"),
            Ok(Address::SmsSender("Bank  Inc".into()))
        );
        assert_eq!(sms_address(" ", "FR"), Err(AddressError::Empty));
        assert!(sms_address(&"x".repeat(65), "FR").is_err());
        assert_eq!(
            short_code("72975"),
            Some(Address::SmsSender("72975".into()))
        );
        assert_eq!(short_code("Google"), None);
        assert_eq!(short_code("12"), None);
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
