//! The IRC wire format: parsing and writing lines, bounded line reading, and
//! the names, numbers, CTCP actions and formatting codes both the host, the
//! client session and the window share.
//!
//! Nothing here touches sockets or GTK; it is plain data in, data out.

pub mod codec;
pub mod ctcp;
pub mod formatting;
pub mod message;
pub mod modes;
pub mod names;
pub mod numeric;
pub mod tags;
pub mod time;
pub mod trust;

pub use codec::{Line, LineCodec, MAX_LINE_BYTES, MAX_TAGS_BYTES};
pub use formatting::{strip_bidi_controls, strip_formatting};
pub use message::{Message, ParseError};
pub use modes::{ModeChange, ModeKinds};
pub use names::{
    fold_case, is_channel_name, is_valid_nick, is_valid_server_name, same_name, truncate_utf8,
    DEFAULT_PORT, DEFAULT_ROOM, DEFAULT_TLS_PORT,
};
pub use trust::Fingerprint;

/// A room password as every part compares it: without surrounding white
/// space, which a line typed into `nc` or a password file's last line
/// break cannot help adding, and the window's form should not keep either.
pub fn trim_password(text: &str) -> &str {
    text.trim()
}
