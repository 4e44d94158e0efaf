//! Text from the networks made safe for a terminal.
//!
//! Names and messages come from strangers. Printed as they are, an escape
//! sequence could move the cursor, rewrite earlier lines, change the
//! window title or (on some terminals) answer back into the shell; a
//! right-to-left override could make a line read differently from what it
//! says; a tab or a newline could forge a column or a line of the tabular
//! output. Every field of the human-readable output goes through
//! [`field`]; the JSON output is escaped by the JSON encoder.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as it is: C0 and C1 controls
/// (escape, bell, carriage return, tab, newline…), DEL, and the Unicode
/// bidirectional controls and line separators.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// One field of tabular output: every unsafe character is written as a
/// visible `\u{…}` escape, so nothing in it acts on the terminal or breaks
/// the columns, and nothing is silently hidden from the reader.
pub fn field(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn escapes_and_controls_are_shown_not_obeyed() {
        // Clear the screen, set the window title, ring, fake a new line.
        let hostile = "hi\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nroot# \u{9b}31m";
        let shown = field(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(
            shown,
            "hi\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{d}\\u{a}root# \\u{9b}31m"
        );
    }

    #[test]
    fn bidi_overrides_and_tabs_cannot_forge_what_a_line_says() {
        assert_eq!(field("bob\u{202e}gpj.exe"), "bob\\u{202e}gpj.exe");
        assert_eq!(field("a\tb"), "a\\u{9}b");
    }

    #[test]
    fn ordinary_text_in_any_script_is_untouched() {
        for text in ["Café ☕", "Ελληνικά", "עברית", "日本語", "👍🏽", ""] {
            assert!(matches!(field(text), std::borrow::Cow::Borrowed(t) if t == text));
        }
    }
}
