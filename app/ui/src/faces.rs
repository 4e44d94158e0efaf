//! The networks' faces, as each plugin describes itself
//! ([`koine_api::Face`]): its badge and the translations of the labels it
//! names. The window knows no plugin by name; [`register`] is called once per
//! plugin at start.

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use iced::widget::svg;
use koine_api::{Label, ProtocolId, ProtocolInfo};
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};
use unic_langid::LanguageIdentifier;

#[derive(Default)]
struct Faces {
    badges: HashMap<ProtocolId, svg::Handle>,
    /// One bundle per language, holding every plugin's texts.
    texts: HashMap<String, FluentBundle<FluentResource>>,
}

static FACES: LazyLock<RwLock<Faces>> = LazyLock::new(RwLock::default);

/// Takes a plugin's badge and texts. A text whose id another plugin already
/// uses is refused (logged): ids start with the protocol id.
pub fn register(info: &ProtocolInfo) {
    let mut faces = FACES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(badge) = &info.face.badge {
        faces
            .badges
            .insert(info.id.clone(), svg::Handle::from_memory(badge.to_vec()));
    }
    for t in &info.face.translations {
        let resource = match FluentResource::try_new(t.ftl.to_string()) {
            Ok(r) => r,
            Err((r, errors)) => {
                tracing::warn!(protocol = %info.id, lang = %t.lang, ?errors, "a plugin's texts have errors");
                r
            }
        };
        let lang = t.lang.to_string();
        let bundle = faces.texts.entry(lang.clone()).or_insert_with(|| {
            let id = lang.parse::<LanguageIdentifier>().unwrap_or_default();
            let mut b = FluentBundle::new_concurrent(vec![id]);
            b.set_use_isolating(false);
            b
        });
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::warn!(protocol = %info.id, lang = %lang, ?errors, "some of a plugin's texts were refused");
        }
    }
}

/// A network's badge, if its plugin gave one.
pub fn badge(protocol: &ProtocolId) -> Option<svg::Handle> {
    FACES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .badges
        .get(protocol)
        .cloned()
}

/// A plugin's label in the window's language, else in English, else the
/// plugin's own fallback text.
pub fn label(label: &Label) -> String {
    let faces = FACES.read().unwrap_or_else(PoisonError::into_inner);
    let current = crate::i18n::current_language();
    [current.as_str(), "en"]
        .into_iter()
        .find_map(|lang| {
            let bundle = faces.texts.get(lang)?;
            let pattern = bundle.get_message(&label.id)?.value()?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, None, &mut errors);
            errors.is_empty().then(|| text.into_owned())
        })
        .unwrap_or_else(|| label.fallback.clone())
}
