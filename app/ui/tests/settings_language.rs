//! The language choice switches the whole window at once. In its own test
//! binary: the language is global to the process, and the other tests read
//! English.

mod common;

use common::*;
use koine_ui::app::Effect;
use koine_ui::settings::LanguageChoice;

#[test]
fn choosing_french_switches_the_window_and_is_saved() {
    let mut app = app();
    let messages = click(&app, "Settings");
    let _ = apply(&mut app, messages);
    let messages = click(&app, "Français");
    let effects = apply(&mut app, messages);
    assert!(
        matches!(&effects[..], [Effect::SaveSettings(s)] if s.language == LanguageChoice::French),
        "{effects:?}"
    );
    assert!(shows(&app, "Paramètres"), "{:?}", texts(&app));
    assert!(shows(&app, "Contraste élevé"));
    assert!(shows(&app, "Demandes (1)"), "the sidebar too");

    let messages = click(&app, "English");
    let _ = apply(&mut app, messages);
    assert!(shows(&app, "High contrast"));
    assert!(!shows(&app, "Paramètres"));
}
