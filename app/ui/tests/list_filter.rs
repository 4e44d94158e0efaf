//! Filters above the conversation list: everything, unread only, or one
//! network; the choice stays until changed, and the quick switcher still
//! finds every chat.

mod common;

use common::*;
use koine_api::ProtocolId;
use koine_ui::app::ListFilter;

#[test]
fn the_list_filters_by_unread_and_by_network() {
    koine_ui::i18n::set_language("en");
    let mut app = app();
    assert!(shows(&app, "Alice") && shows(&app, "Bob on WhatsApp") && shows(&app, "Mum"));

    let messages = click(&app, "Unread");
    let _ = apply(&mut app, messages);
    assert_eq!(app.filter, ListFilter::Unread);
    let inbox: Vec<_> = app.visible_inbox().iter().map(|c| c.id).collect();
    assert_eq!(inbox, vec![MUM_SMS], "only Mum has unread messages");

    let messages = click(&app, "Matrix");
    let _ = apply(&mut app, messages);
    assert_eq!(app.filter, ListFilter::Network(ProtocolId::new("matrix")));
    let inbox: Vec<_> = app.visible_inbox().iter().map(|c| c.id).collect();
    assert_eq!(inbox, vec![ALICE, BRIDGED]);
    assert!(!shows(&app, "Mum"), "{:?}", texts(&app));

    let messages = click(&app, "All");
    let _ = apply(&mut app, messages);
    assert_eq!(app.visible_inbox().len(), 3);
}
