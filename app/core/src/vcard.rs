//! A small vCard 3.0/4.0 reader and 4.0 writer for address books: names,
//! phone numbers, e-mail addresses and chat addresses (`IMPP`, `X-JABBER`,
//! `X-MATRIX`, `X-KOINE-PROVIDER`). Folded lines and escapes are handled;
//! malformed input gives a typed [`VcardError`], never a panic.

use koine_api::{Address, Jid, Mxid, PhoneNumber, ProviderAddress};
use thiserror::Error;

/// Largest vCard file read (address books are small).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Why a vCard file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VcardError {
    /// The file holds no `BEGIN:VCARD`.
    #[error("no vCard in the file")]
    NoCard,
    /// A card is not closed by `END:VCARD`.
    #[error("the vCard starting on line {0} has no END:VCARD")]
    Unterminated(usize),
    /// A line is not `NAME[;PARAMS]:VALUE`.
    #[error("line {0} is not a vCard property")]
    Malformed(usize),
    /// A property outside any card, or a card inside a card.
    #[error("line {0} is outside a vCard or nests one")]
    Misplaced(usize),
    /// The file is larger than [`MAX_BYTES`].
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooLarge,
}

/// One person's card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    /// The formatted name (`FN`, else built from `N`).
    pub name: String,
    /// International phone numbers.
    pub phones: Vec<PhoneNumber>,
    /// E-mail addresses, lowercased.
    pub emails: Vec<String>,
    /// Chat addresses (XMPP, Matrix, provider-scoped).
    pub addresses: Vec<Address>,
    /// Values that could not be used (national numbers, unknown schemes).
    pub skipped: Vec<String>,
}

struct Property {
    name: String,
    value: String,
}

/// Joins folded lines: a line starting with a space or tab continues the
/// previous one. Returns each logical line with its first physical line number.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(rest) = line.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(rest);
        } else if !line.trim().is_empty() {
            out.push((i.saturating_add(1), line.to_owned()));
        }
    }
    out
}

fn split_property(line: &str) -> Option<Property> {
    // The first ':' outside double quotes ends the name and parameters.
    let mut quoted = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let (head, value) = line.split_at(colon?);
    let value = value.strip_prefix(':')?;
    // Parameters (TYPE=…) do not change what is read here.
    let name = head.split(';').next()?.trim();
    let name = name.rsplit_once('.').map_or(name, |(_, n)| n); // drop a group
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    Some(Property {
        name: name.to_ascii_uppercase(),
        value: value.to_owned(),
    })
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// A chat URI or bare address from `IMPP` and the `X-` fields.
fn chat_address(value: &str) -> Option<Address> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    // Lowercasing ASCII keeps every byte where it was: a prefix matched in
    // `lower` has the same length in `v`.
    if let Some(rest) = lower.strip_prefix("xmpp:").and_then(|_| v.get(5..)) {
        let rest = rest.split('?').next().unwrap_or(rest);
        return Jid::parse(rest).ok().map(|j| Address::Jid(j.bare()));
    }
    if let Some(rest) = lower.strip_prefix("matrix:").and_then(|_| v.get(7..)) {
        let rest = rest.split('?').next().unwrap_or(rest);
        if let Some(user) = rest.strip_prefix("u/") {
            return Mxid::parse(&format!("@{user}")).ok().map(Address::Mxid);
        }
        return Mxid::parse(rest).ok().map(Address::Mxid);
    }
    if v.starts_with('@') {
        return Mxid::parse(v).ok().map(Address::Mxid);
    }
    Jid::parse(v).ok().map(|j| Address::Jid(j.bare()))
}

fn apply(card: &mut Card, p: &Property, structured_name: &mut Option<String>) {
    let value = unescape(&p.value);
    match p.name.as_str() {
        "FN" => card.name = value.trim().to_owned(),
        "N" => {
            // N:Family;Given;Additional;Prefix;Suffix (raw value: split
            // before unescaping so an escaped ';' stays in its part).
            let parts: Vec<String> = split_unescaped(&p.value, ';')
                .iter()
                .map(|s| unescape(s))
                .collect();
            let given = parts.get(1).map_or("", |s| s.trim());
            let family = parts.first().map_or("", |s| s.trim());
            let name = format!("{given} {family}").trim().to_owned();
            if !name.is_empty() {
                *structured_name = Some(name);
            }
        }
        "TEL" => {
            let number = value.trim();
            let number = number.strip_prefix("tel:").unwrap_or(number);
            match PhoneNumber::parse(number) {
                Ok(n) if !card.phones.contains(&n) => card.phones.push(n),
                Ok(_) => {}
                Err(_) => card.skipped.push(format!("TEL:{number}")),
            }
        }
        "EMAIL" => {
            let email = value.trim();
            let email = email
                .strip_prefix("mailto:")
                .unwrap_or(email)
                .to_lowercase();
            if email.contains('@') && !card.emails.contains(&email) {
                card.emails.push(email);
            } else if !email.contains('@') {
                card.skipped.push(format!("EMAIL:{email}"));
            }
        }
        "IMPP" | "X-JABBER" | "X-MATRIX" => match chat_address(&value) {
            Some(a) if !card.addresses.contains(&a) => card.addresses.push(a),
            Some(_) => {}
            None => card.skipped.push(format!("{}:{}", p.name, value.trim())),
        },
        "X-KOINE-PROVIDER" => match ProviderAddress::parse(&value) {
            Ok(a) => card.addresses.push(Address::Provider(a)),
            Err(_) => card.skipped.push(format!("{}:{}", p.name, value.trim())),
        },
        _ => {}
    }
}

fn split_unescaped(value: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(value.get(start..i).unwrap_or_default());
            start = i.saturating_add(c.len_utf8());
        }
    }
    out.push(value.get(start..).unwrap_or_default());
    out
}

/// Reads every card of a vCard 3.0 or 4.0 file.
pub fn parse(text: &str) -> Result<Vec<Card>, VcardError> {
    if text.len() > MAX_BYTES {
        return Err(VcardError::TooLarge);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cards = Vec::new();
    let mut current: Option<(usize, Card, Option<String>)> = None;
    for (line_no, line) in unfold(text) {
        let p = split_property(&line).ok_or(VcardError::Malformed(line_no))?;
        match (
            p.name.as_str(),
            p.value.trim().to_ascii_uppercase().as_str(),
        ) {
            ("BEGIN", "VCARD") => {
                if current.is_some() {
                    return Err(VcardError::Misplaced(line_no));
                }
                current = Some((line_no, Card::default(), None));
            }
            ("END", "VCARD") => {
                let (_, mut card, n) = current.take().ok_or(VcardError::Misplaced(line_no))?;
                if card.name.is_empty() {
                    card.name = n.unwrap_or_default();
                }
                cards.push(card);
            }
            _ => {
                let (_, card, n) = current.as_mut().ok_or(VcardError::Misplaced(line_no))?;
                apply(card, &p, n);
            }
        }
    }
    if let Some((start, _, _)) = current {
        return Err(VcardError::Unterminated(start));
    }
    if cards.is_empty() {
        return Err(VcardError::NoCard);
    }
    Ok(cards)
}

/// Folds a content line at 75 octets, never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width: usize = 0;
    for c in line.chars() {
        if width.saturating_add(c.len_utf8()) > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width = width.saturating_add(c.len_utf8());
    }
    out.push_str("\r\n");
}

/// Writes cards as vCard 4.0.
pub fn write(cards: &[Card]) -> String {
    let mut out = String::new();
    for card in cards {
        fold("BEGIN:VCARD", &mut out);
        fold("VERSION:4.0", &mut out);
        fold(&format!("FN:{}", escape(&card.name)), &mut out);
        for p in &card.phones {
            fold(&format!("TEL;VALUE=uri:tel:{}", p.as_str()), &mut out);
        }
        for e in &card.emails {
            fold(&format!("EMAIL:{}", escape(e)), &mut out);
        }
        for a in &card.addresses {
            let line = match a {
                Address::Jid(j) => format!("IMPP:xmpp:{}", j.as_str()),
                Address::Mxid(m) => format!(
                    "IMPP:matrix:u/{}",
                    m.as_str().strip_prefix('@').unwrap_or(m.as_str())
                ),
                Address::Provider(p) => format!("X-KOINE-PROVIDER:{p}"),
                Address::Phone(p) => format!("TEL;VALUE=uri:tel:{}", p.as_str()),
                _ => continue,
            };
            fold(&line, &mut out);
        }
        fold("END:VCARD", &mut out);
    }
    out
}

#[cfg(test)]
mod tests;
