//! The room as plain data: a reducer from network [`Event`]s and the
//! person's actions to state (phase, who and where, members, own lines on
//! their way, lines already shown, the conversations and what is unread in
//! them) and typed [`Effect`]s. GTK-free (plain
//! `glib` only for the [`Phase`] enum type), so unit tests drive it without
//! a display; the window is a view of it.
//!
//! [`Event`]: crate::api::Event

mod alert;
mod conversations;
mod effect;
mod header;
mod history;
mod members;
mod mention;
mod nearby;
mod pending;
mod phase;
mod room;
pub mod room_details;
mod seen;
#[cfg(test)]
mod tests;
mod typing;
mod visit;

pub use alert::{notification_id, Alert, NotifyLevel};
pub use conversations::{Conversation, ConversationId, Conversations, MAX_CONVERSATIONS};
pub use effect::Effect;
pub use header::{Header, SecurityDetails};
pub use members::{MemberRow, Members};
pub use nearby::NearbyRooms;
pub use pending::PendingLines;
pub use phase::Phase;
pub use room::Room;
pub use seen::{SeenIds, SEEN_CAPACITY};
pub use typing::Typing;
pub use visit::{nick_and_room, Visit};
