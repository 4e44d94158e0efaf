//! Translations: Fluent files `i18n/<lang>/koine-ui.ftl`, embedded at build
//! time and checked at compile time by [`fl!`](crate::fl).
//!
//! The language comes from the system locale (`sys-locale`); "C" and "POSIX"
//! mean English. [`set_language`] overrides it (the `KOINE_LANG` variable or
//! the settings).

use i18n_embed::fluent::{FluentLanguageLoader, fluent_language_loader};
use i18n_embed::{LanguageLoader, unic_langid::LanguageIdentifier};
use rust_embed::RustEmbed;
use std::sync::LazyLock;

#[derive(RustEmbed)]
#[folder = "../../i18n/"]
struct Localizations;

/// The loader every `fl!` call reads from.
pub static LOADER: LazyLock<FluentLanguageLoader> = LazyLock::new(|| {
    let loader: FluentLanguageLoader = fluent_language_loader!();
    if let Err(error) = loader.load_fallback_language(&Localizations) {
        tracing::error!(%error, "loading the English texts");
    }
    // Bidi isolation marks would end up in copied text and in tests.
    loader.set_use_isolating(false);
    loader
});

/// Looks up a message; with variables: `fl!("id", name = value)`.
#[macro_export]
macro_rules! fl {
    ($id:literal) => {{ i18n_embed_fl::fl!($crate::i18n::LOADER, $id) }};
    ($id:literal, $($args:tt)*) => {{ i18n_embed_fl::fl!($crate::i18n::LOADER, $id, $($args)*) }};
}

/// The languages with a complete translation.
pub const LANGUAGES: &[&str] = &["en", "fr"];

/// Maps a system locale such as `fr_FR.UTF-8`, `fr-FR`, `C` or `POSIX` to one
/// of [`LANGUAGES`]; anything unknown is English.
pub fn language_for_locale(locale: &str) -> &'static str {
    let base = locale
        .split(['.', '@'])
        .next()
        .unwrap_or_default()
        .split(['_', '-'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    LANGUAGES
        .iter()
        .copied()
        .find(|l| *l == base)
        .unwrap_or("en")
}

/// The language to use: the override if given, else the system's.
pub fn choose_language(override_lang: Option<&str>) -> &'static str {
    match override_lang {
        Some(lang) if !lang.trim().is_empty() => language_for_locale(lang),
        _ => language_for_locale(&sys_locale::get_locale().unwrap_or_default()),
    }
}

/// Switches every later `fl!` to `lang` (one of [`LANGUAGES`]).
pub fn set_language(lang: &str) {
    let Ok(id) = lang.parse::<LanguageIdentifier>() else {
        return;
    };
    // Already in use: reloading would briefly swap in bundles that isolate
    // variables with bidi marks, under the feet of other threads.
    if LOADER.current_languages() == [id.clone()] {
        return;
    }
    if let Err(error) = LOADER.load_languages(&Localizations, &[id]) {
        tracing::error!(%error, lang, "loading texts");
    }
    // Loading builds new bundles, which isolate by default.
    LOADER.set_use_isolating(false);
}

/// The language currently in use.
pub fn current_language() -> String {
    LOADER.current_language().language.as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_map_to_languages() {
        assert_eq!(language_for_locale("C"), "en");
        assert_eq!(language_for_locale("POSIX"), "en");
        assert_eq!(language_for_locale("fr_FR.UTF-8"), "fr");
        assert_eq!(language_for_locale("fr-CA"), "fr");
        assert_eq!(language_for_locale("de_DE"), "en");
        assert_eq!(language_for_locale(""), "en");
        assert_eq!(choose_language(Some("fr")), "fr");
    }
}
