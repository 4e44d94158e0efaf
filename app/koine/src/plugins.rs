//! The one place that names concrete plugins.

use koine_core::Registry;

/// Every network this build supports.
pub fn registry() -> Registry {
    Registry::new()
}
