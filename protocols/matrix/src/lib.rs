//! Koine plugin for Matrix
