//! What the simulated people of the demo (`koine --demo`) write, in the
//! window's language. The binary's demo module runs them; the lines live
//! here with the window's other texts.

use crate::fl;

/// The people of the demo, each reached over one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoContact {
    /// Lena, a gatekeeper-messenger user (interop network).
    Lena,
    /// Sam, another gatekeeper-messenger user.
    Sam,
    /// Mum, reached by SMS through your phone.
    Mum,
}

impl DemoContact {
    /// The name shown for the contact.
    pub fn name(self) -> String {
        match self {
            Self::Lena => fl!("demo-name-lena"),
            Self::Sam => fl!("demo-name-sam"),
            Self::Mum => fl!("demo-name-mum"),
        }
    }

    /// The first message of the conversation: written by you to Lena and
    /// Sam, by Mum to you.
    pub fn opening(self) -> String {
        match self {
            Self::Lena => fl!("demo-opening-lena"),
            Self::Sam => fl!("demo-opening-sam"),
            Self::Mum => fl!("demo-opening-mum"),
        }
    }

    /// The contact's answer to your `turn`-th message (from 0); the lines
    /// repeat after the last one.
    pub fn reply(self, turn: usize) -> String {
        match (self, turn % 3) {
            (Self::Lena, 0) => fl!("demo-lena-1"),
            (Self::Lena, 1) => fl!("demo-lena-2"),
            (Self::Lena, _) => fl!("demo-lena-3"),
            (Self::Sam, 0) => fl!("demo-sam-1"),
            (Self::Sam, 1) => fl!("demo-sam-2"),
            (Self::Sam, _) => fl!("demo-sam-3"),
            (Self::Mum, 0) => fl!("demo-mum-1"),
            (Self::Mum, 1) => fl!("demo-mum-2"),
            (Self::Mum, _) => fl!("demo-mum-3"),
        }
    }
}
