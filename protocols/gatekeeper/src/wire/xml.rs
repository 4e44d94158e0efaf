//! The restricted XML of stanzas (PROTOCOL.md §3): one element, no
//! declaration, doctype, comments, CDATA, processing instructions or
//! namespaces; only the predefined entities and character references; at
//! most [`MAX_DEPTH`] levels; text only in leaves.
//!
//! A small hand-written parser rather than a general XML library: the grammar
//! is tiny, everything outside it is an error by design, and the parser is a
//! fuzz target.

use super::error::WireError;

/// The deepest nesting allowed.
pub const MAX_DEPTH: usize = 4;
const MAX_NAME: usize = 32;
const MAX_ATTRS: usize = 32;
const MAX_CHILDREN: usize = 1024;

/// One XML element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The element name.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// Text content (leaves only), unescaped.
    pub text: String,
}

impl Element {
    /// An element with no attributes, children or text.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs.push((name.to_owned(), value.into()));
        self
    }

    /// Adds an attribute when the value is present.
    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Adds a child.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// Sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Serialises the element.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_into(v, out);
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        escape_into(&self.text, out);
        for c in &self.children {
            c.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    /// Parses one element from a frame body.
    pub fn parse(bytes: &[u8]) -> Result<Element, WireError> {
        let text = std::str::from_utf8(bytes).map_err(|_| WireError::NotUtf8)?;
        let mut p = Parser {
            s: text.as_bytes(),
            src: text,
            pos: 0,
        };
        p.skip_ws();
        let el = p.element(1)?;
        p.skip_ws();
        if p.pos != p.s.len() {
            return p.err("content after the root element");
        }
        Ok(el)
    }
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err<T>(&self, reason: &'static str) -> Result<T, WireError> {
        Err(WireError::Xml {
            offset: self.pos,
            reason,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn starts_with(&self, lit: &[u8]) -> bool {
        self.s.get(self.pos..).is_some_and(|r| r.starts_with(lit))
    }

    /// Moves past `n` bytes, never beyond the end.
    fn bump(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.s.len());
    }

    /// The source from `start` to the current position (both at ASCII
    /// delimiters, so on character boundaries).
    fn since(&self, start: usize) -> Result<&str, WireError> {
        match self.src.get(start..self.pos) {
            Some(t) => Ok(t),
            None => self.err("not on a character boundary"),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump(1);
        }
    }

    fn expect(&mut self, b: u8, reason: &'static str) -> Result<(), WireError> {
        if self.peek() == Some(b) {
            self.bump(1);
            Ok(())
        } else {
            self.err(reason)
        }
    }

    fn name(&mut self) -> Result<String, WireError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'a'..=b'z' | b'0'..=b'9' | b'-')) {
            self.bump(1);
        }
        let len = self.pos.saturating_sub(start);
        if len == 0 {
            return self.err("expected a name");
        }
        if len > MAX_NAME {
            return self.err("name too long");
        }
        Ok(self.since(start)?.to_owned())
    }

    fn element(&mut self, depth: usize) -> Result<Element, WireError> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.expect(b'<', "expected '<'")?;
        if matches!(self.peek(), Some(b'!' | b'?')) {
            return self.err("declarations, comments and CDATA are not allowed");
        }
        let mut el = Element::new(&self.name()?);
        loop {
            let had_ws = matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n'));
            self.skip_ws();
            match self.peek() {
                Some(b'/') => {
                    self.bump(1);
                    self.expect(b'>', "expected '>' after '/'")?;
                    return Ok(el);
                }
                Some(b'>') => {
                    self.bump(1);
                    break;
                }
                Some(_) if had_ws => {
                    let key = self.name()?;
                    self.skip_ws();
                    self.expect(b'=', "expected '='")?;
                    self.skip_ws();
                    let value = self.quoted()?;
                    if el.attrs.iter().any(|(k, _)| *k == key) {
                        return self.err("duplicate attribute");
                    }
                    if el.attrs.len() >= MAX_ATTRS {
                        return self.err("too many attributes");
                    }
                    el.attrs.push((key, value));
                }
                Some(_) => return self.err("expected whitespace before an attribute"),
                None => return self.err("unexpected end inside a tag"),
            }
        }
        // Content.
        let mut text = String::new();
        loop {
            if self.starts_with(b"</") {
                self.bump(2);
                let end = self.name()?;
                if end != el.name {
                    return self.err("mismatched end tag");
                }
                self.skip_ws();
                self.expect(b'>', "expected '>' in end tag")?;
                break;
            }
            match self.peek() {
                Some(b'<') => {
                    if el.children.len() >= MAX_CHILDREN {
                        return self.err("too many children");
                    }
                    el.children.push(self.element(depth.saturating_add(1))?);
                }
                Some(_) => text.push_str(&self.text_run()?),
                None => return self.err("unexpected end inside an element"),
            }
        }
        if el.children.is_empty() {
            el.text = text;
        } else if !text.trim().is_empty() {
            return self.err("text mixed with child elements");
        }
        Ok(el)
    }

    fn quoted(&mut self) -> Result<String, WireError> {
        let q = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return self.err("expected a quoted value"),
        };
        self.bump(1);
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == q {
                let value = unescape(self.since(start)?).map_err(|reason| WireError::Xml {
                    offset: start,
                    reason,
                });
                self.bump(1);
                return value;
            }
            if c == b'<' {
                return self.err("'<' in an attribute value");
            }
            self.bump(1);
        }
        self.err("unterminated attribute value")
    }

    fn text_run(&mut self) -> Result<String, WireError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'<' {
                break;
            }
            if c == b'>' {
                return self.err("'>' in text");
            }
            self.bump(1);
        }
        unescape(self.since(start)?).map_err(|reason| WireError::Xml {
            offset: start,
            reason,
        })
    }
}

fn unescape(raw: &str) -> Result<String, &'static str> {
    if !raw.contains('&') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let (entity, tail) = after.split_once(';').ok_or("unterminated entity")?;
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).map_err(|_| "bad character reference")?
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse::<u32>().map_err(|_| "bad character reference")?
                } else {
                    return Err("unknown entity");
                };
                match char::from_u32(code) {
                    Some(c) if code != 0 => c,
                    _ => return Err("invalid character reference"),
                }
            }
        };
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_attributes_children_and_escapes() {
        let el = Element::new("iq")
            .attr("id", "a\"<&>'b")
            .attr("type", "set")
            .child(Element::new("keys").with_text("QUJD+/=="));
        let xml = el.to_xml();
        assert_eq!(Element::parse(xml.as_bytes()), Ok(el));
    }

    #[test]
    fn accepts_whitespace_single_quotes_and_char_refs() {
        let el = Element::parse(b" <a x='1' y = \"&#65;&#x42;\" >\n <b/> </a> ").expect("valid");
        assert_eq!(el.get("x"), Some("1"));
        assert_eq!(el.get("y"), Some("AB"));
        assert_eq!(el.children.len(), 1);
    }

    #[test]
    fn refuses_everything_outside_the_grammar() {
        let bad: &[&[u8]] = &[
            b"",
            b"<",
            b"<a",
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"<?xml version='1.0'?><a/>",
            b"<!DOCTYPE a><a/>",
            b"<a><!-- c --></a>",
            b"<a><![CDATA[x]]></a>",
            b"<A/>",
            b"<x:a/>",
            b"<a b/>",
            b"<a b=c/>",
            b"<a b='1' b='2'/>",
            b"<a b='1'c='2'/>",
            b"<a b='<'/>",
            b"<a>&nbsp;</a>",
            b"<a>&#0;</a>",
            b"<a>&#xD800;</a>",
            b"<a>&amp</a>",
            b"<a>x<b/></a>",
            b"<a><b><c><d><e/></d></c></b></a>",
            b"\xff<a/>",
            b"<a>1 > 0</a>",
        ];
        for input in bad {
            assert!(
                Element::parse(input).is_err(),
                "accepted {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn four_levels_are_allowed() {
        assert!(Element::parse(b"<a><b><c><d/></c></b></a>").is_ok());
    }
}
