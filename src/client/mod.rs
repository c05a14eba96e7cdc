//! The client session: connects to a host (ours or any IRC server),
//! registers, joins the room and turns IRC traffic into typed events. GTK-free.
//!
//! - [`address`]: what a person types in the Connect box.
//! - [`Session`]: one connection, driven by the chat [`crate::api::Command`]s.

pub mod address;
mod backoff;
mod caps;
mod connect;
mod conversation;
mod history;
pub mod known_hosts;
mod nick;
mod outbox;
mod outgoing;
mod reply;
mod room_modes;
mod secure;
mod session;
mod state;
pub mod tls;
mod writer;

pub use address::{
    normalize_room, parse_address, room_or_default, AddressError, Target, DEFAULT_PORT,
    DEFAULT_ROOM,
};
pub use session::{Session, SessionConfig, Timing};
pub use state::MAX_COLLECTED_NAMES;
pub use writer::{Pacing, MAX_UNWRITTEN_PACED_BYTES, MAX_UNWRITTEN_URGENT_BYTES};
