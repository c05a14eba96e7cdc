//! The room as plain data: a reducer from network [`Event`]s and the
//! person's actions to state (phase, who and where, members, own lines on
//! their way, lines already shown) and typed [`Effect`]s. GTK-free (plain
//! `glib` only for the [`Phase`] enum type), so unit tests drive it without
//! a display; the window is a view of it.
//!
//! [`Event`]: crate::api::Event

mod effect;
mod header;
mod history;
mod members;
mod pending;
mod phase;
mod room;
mod seen;
#[cfg(test)]
mod tests;
mod visit;

pub use effect::Effect;
pub use header::Header;
pub use members::Members;
pub use pending::PendingLines;
pub use phase::Phase;
pub use room::Room;
pub use seen::{SeenIds, SEEN_CAPACITY};
pub use visit::{nick_and_room, Visit};
