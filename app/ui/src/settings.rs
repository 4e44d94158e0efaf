//! The window's settings: what they are, and the TOML file in the profile
//! directory (`settings.toml`) that keeps them. (Who may reach you on each
//! network is the engine's: `Engine::set_stranger_policy`.)
//!
//! Reading is forgiving: unknown keys are reported and ignored, a file that
//! cannot be read gives the defaults and a notice, never a failure. The
//! functions that touch the disk ([`load`], [`save`]) are called from tasks
//! only, never from `update` or `view`.

use iced::Theme;
use iced::theme::Palette;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// The settings file's name inside the profile directory.
pub const FILE: &str = "settings.toml";

/// Text sizes offered, as factors of the normal size.
pub const FONT_SCALES: [f32; 4] = [0.9, 1.0, 1.15, 1.3];

/// The colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeChoice {
    /// Follow the desktop's light or dark preference.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
    /// White on black with strong accents.
    HighContrast,
}

impl ThemeChoice {
    /// Every choice, in the order the settings screen shows them.
    pub const ALL: [Self; 4] = [Self::System, Self::Light, Self::Dark, Self::HighContrast];

    /// Parses `system`, `light`, `dark` or `high-contrast`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "system" | "" => Some(Self::System),
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            "high-contrast" | "high_contrast" | "contrast" => Some(Self::HighContrast),
            _ => None,
        }
    }

    /// The iced theme ("system" gives light here; the window itself asks
    /// the desktop, see `App::window_theme`).
    pub fn theme(self) -> Theme {
        match self {
            Self::Dark => Theme::Dark,
            Self::Light | Self::System => Theme::Light,
            Self::HighContrast => Theme::custom(
                "High contrast",
                Palette {
                    background: iced::Color::BLACK,
                    text: iced::Color::WHITE,
                    primary: iced::color!(0xffd500),
                    success: iced::color!(0x00e676),
                    warning: iced::color!(0xffab00),
                    danger: iced::color!(0xff6e6e),
                },
            ),
        }
    }
}

/// The language of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LanguageChoice {
    /// The system's language.
    #[default]
    System,
    /// English.
    #[serde(rename = "en")]
    English,
    /// French.
    #[serde(rename = "fr")]
    French,
}

impl LanguageChoice {
    /// Every choice, in the order the settings screen shows them.
    pub const ALL: [Self; 3] = [Self::System, Self::English, Self::French];

    /// The override to give [`crate::i18n::choose_language`].
    pub fn code(self) -> Option<&'static str> {
        match self {
            Self::System => None,
            Self::English => Some("en"),
            Self::French => Some("fr"),
        }
    }
}

/// Everything the settings screen changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Settings {
    /// The colour scheme.
    pub theme: ThemeChoice,
    /// The text size, as a factor of the normal size.
    pub font_scale: f32,
    /// The language.
    pub language: LanguageChoice,
    /// Desktop notifications for new messages while the window is not focused.
    pub notifications: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: ThemeChoice::System,
            font_scale: 1.0,
            language: LanguageChoice::System,
            notifications: true,
        }
    }
}

/// A settings file that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not TOML, or a value of the wrong kind.
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// The settings could not be written as TOML.
    #[error("{0}")]
    Write(#[from] toml::ser::Error),
}

/// What reading the file gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loaded {
    /// The settings to use.
    pub settings: Settings,
    /// Keys that were ignored because this version does not know them.
    pub unknown: Vec<String>,
    /// Why the file could not be used, if it could not (the defaults are
    /// used then).
    pub error: Option<String>,
}

const KNOWN: [&str; 4] = ["theme", "font-scale", "language", "notifications"];

/// Reads settings from TOML text: unknown keys are listed, not refused; a
/// text size out of range falls back to the normal size.
pub fn parse(text: &str) -> Result<(Settings, Vec<String>), SettingsError> {
    let table: toml::Table = toml::from_str(text)?;
    let unknown = table
        .keys()
        .filter(|k| !KNOWN.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut settings: Settings = toml::from_str(text)?;
    if !(0.5..=2.0).contains(&settings.font_scale) || !settings.font_scale.is_finite() {
        settings.font_scale = 1.0;
    }
    Ok((settings, unknown))
}

/// The settings as TOML text.
pub fn to_toml(settings: &Settings) -> Result<String, SettingsError> {
    Ok(toml::to_string(settings)?)
}

/// Reads the file. A missing file gives the defaults; a broken one gives the
/// defaults and the reason. Blocking: call it from a task.
pub fn load(path: &Path) -> Loaded {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::default(),
        Err(e) => {
            return Loaded {
                error: Some(e.to_string()),
                ..Loaded::default()
            };
        }
    };
    match parse(&text) {
        Ok((settings, unknown)) => {
            for key in &unknown {
                tracing::warn!(key, "ignoring an unknown setting");
            }
            Loaded {
                settings,
                unknown,
                error: None,
            }
        }
        Err(error) => {
            tracing::warn!(%error, "the settings file cannot be read; using the defaults");
            Loaded {
                error: Some(error.to_string()),
                ..Loaded::default()
            }
        }
    }
}

/// Writes the file (through a temporary file, so a crash never leaves half
/// a file). Blocking: call it from a task.
pub fn save(path: &Path, settings: &Settings) -> Result<(), SettingsError> {
    let text = to_toml(settings)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_keeps_every_choice() {
        let s = Settings {
            theme: ThemeChoice::HighContrast,
            font_scale: 1.15,
            language: LanguageChoice::French,
            notifications: false,
        };
        let text = to_toml(&s).expect("toml");
        assert!(text.contains("theme = \"high-contrast\""), "{text}");
        assert!(text.contains("language = \"fr\""), "{text}");
        let (back, unknown) = parse(&text).expect("parse");
        assert_eq!(back, s);
        assert!(unknown.is_empty());
    }

    #[test]
    fn unknown_keys_are_reported_and_the_rest_is_kept() {
        let (s, unknown) = parse("theme = \"dark\"\ncolour = \"pink\"\n").expect("parse");
        assert_eq!(s.theme, ThemeChoice::Dark);
        assert_eq!(unknown, ["colour"]);
    }

    #[test]
    fn a_broken_file_gives_the_defaults_and_a_reason() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(FILE);
        assert_eq!(load(&path), Loaded::default(), "a missing file is fine");
        std::fs::write(&path, "theme = [unclosed").expect("write");
        let loaded = load(&path);
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.error.is_some());
        std::fs::write(&path, "theme = \"purple\"").expect("write");
        assert!(load(&path).error.is_some(), "an unknown theme is an error");
    }

    #[test]
    fn save_then_load_gives_the_same_settings() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(FILE);
        let s = Settings {
            theme: ThemeChoice::Dark,
            font_scale: 3.0,
            ..Settings::default()
        };
        save(&path, &s).expect("save");
        let loaded = load(&path);
        assert_eq!(loaded.error, None);
        assert_eq!(loaded.settings.theme, ThemeChoice::Dark);
        assert_eq!(loaded.settings.font_scale, 1.0, "out of range: normal size");
    }
}
