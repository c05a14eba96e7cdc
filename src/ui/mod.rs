//! The GTK window and application. The only part of the crate that uses GTK.
