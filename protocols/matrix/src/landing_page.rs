//! The page the browser shows when a sign-in comes back to Koine, in the
//! user's language (`i18n/<lang>/koine-matrix.ftl`).

use fluent_bundle::{FluentBundle, FluentResource};
use unic_langid::LanguageIdentifier;

const EN: &str = include_str!("../../../i18n/en/koine-matrix.ftl");
const FR: &str = include_str!("../../../i18n/fr/koine-matrix.ftl");

/// The language from the usual locale variables (`fr` or, else, `en`).
fn language() -> &'static str {
    for var in ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"] {
        if let Ok(value) = std::env::var(var)
            && !value.is_empty()
        {
            return if value.starts_with("fr") { "fr" } else { "en" };
        }
    }
    "en"
}

/// The message `key` in `lang`, the key itself when it is missing.
pub(crate) fn text(lang: &str, key: &str) -> String {
    let (source, id) = match lang {
        "fr" => (FR, "fr"),
        _ => (EN, "en"),
    };
    let Ok(resource) = FluentResource::try_new(source.to_owned()) else {
        return key.to_owned();
    };
    let langid: LanguageIdentifier = match id.parse() {
        Ok(l) => l,
        Err(_) => return key.to_owned(),
    };
    let mut bundle = FluentBundle::new(vec![langid]);
    bundle.set_use_isolating(false);
    if bundle.add_resource(resource).is_err() {
        return key.to_owned();
    }
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, None, &mut errors)
        .into_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The "signed in, you can close this page" page.
pub(crate) fn signed_in() -> String {
    let lang = language();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{body}</p></body></html>",
        title = escape(&text(lang, "matrix-sign-in-done-title")),
        body = escape(&text(lang, "matrix-sign-in-done-body")),
    )
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn both_languages_have_every_message() {
        for key in ["matrix-sign-in-done-title", "matrix-sign-in-done-body"] {
            let en = text("en", key);
            let fr = text("fr", key);
            assert_ne!(en, key, "en lacks {key}");
            assert_ne!(fr, key, "fr lacks {key}");
            assert_ne!(en, fr, "{key} is not translated");
        }
    }
}
