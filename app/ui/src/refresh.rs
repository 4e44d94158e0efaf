//! Reading the lists again after a change, at most once at a time.
//!
//! Every stored message changes the conversation list (order, unread
//! count), so a burst of 5,000 messages used to start 5,000 reads of the
//! lists, each followed by an update and a redraw. Now a change while a read
//! is running only marks the lists stale, and one more read starts when it
//! ends: a burst costs a handful of reads, and the list is never older than
//! one read.

use crate::app::{App, Effect};
use crate::message::Message;

/// Whether the lists are being read, and whether they changed since.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ListRefresh {
    loading: bool,
    stale: bool,
}

impl ListRefresh {
    /// Keeps at most one `LoadLists` in flight; `settled` says a read just
    /// ended (with or without success).
    fn coalesce(&mut self, effects: Vec<Effect>, settled: bool) -> Vec<Effect> {
        if settled {
            self.loading = false;
        }
        let was_stale = settled && std::mem::take(&mut self.stale);
        let mut out = Vec::with_capacity(effects.len() + 1);
        for effect in effects {
            if !matches!(effect, Effect::LoadLists) {
                out.push(effect);
            } else if !self.loading {
                // The first one goes, where it was asked for.
                self.loading = true;
                out.push(Effect::LoadLists);
            } else {
                self.stale = true;
            }
        }
        if was_stale && !self.loading {
            self.loading = true;
            out.push(Effect::LoadLists);
        }
        out
    }
}

impl App {
    /// Handles one message; returns what the engine must do.
    pub fn update(&mut self, message: Message) -> Vec<Effect> {
        let settled = matches!(message, Message::ListsLoaded { .. } | Message::ListsFailed);
        let effects = self.apply(message);
        self.refresh.coalesce(effects, settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loads(effects: &[Effect]) -> usize {
        effects
            .iter()
            .filter(|e| matches!(e, Effect::LoadLists))
            .count()
    }

    #[test]
    fn a_burst_of_changes_reads_the_lists_once_more_not_once_each() {
        let mut r = ListRefresh::default();
        assert_eq!(loads(&r.coalesce(vec![Effect::LoadLists], false)), 1);
        for _ in 0..1000 {
            assert_eq!(loads(&r.coalesce(vec![Effect::LoadLists], false)), 0);
        }
        // The read ends: one more for everything that changed meanwhile.
        assert_eq!(loads(&r.coalesce(Vec::new(), true)), 1);
        // That one ends with nothing new: no further read.
        assert_eq!(loads(&r.coalesce(Vec::new(), true)), 0);
        // A failed read does not block later ones.
        assert_eq!(loads(&r.coalesce(vec![Effect::LoadLists], false)), 1);
        assert_eq!(loads(&r.coalesce(Vec::new(), true)), 0);
        assert_eq!(loads(&r.coalesce(vec![Effect::LoadLists], false)), 1);
    }
}
