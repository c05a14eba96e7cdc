//! Checks and tidies what a person types into the Host and Connect forms and
//! on the command line. GTK-free.

use crate::protocol::{is_channel_name, is_valid_nick};
pub use crate::protocol::{DEFAULT_PORT, DEFAULT_ROOM};

pub const FALLBACK_NICK: &str = "guest";

/// A nickname as typed, without surrounding spaces, if IRC accepts it.
pub fn nick(text: &str) -> Option<String> {
    let text = text.trim();
    is_valid_nick(text).then(|| text.to_owned())
}

/// A room name; `chat` becomes `#chat`, since people rarely type the `#`.
pub fn room(text: &str) -> Option<String> {
    let text = text.trim();
    let room = if text.starts_with(['#', '&']) {
        text.to_owned()
    } else {
        format!("#{text}")
    };
    is_channel_name(&room).then_some(room)
}

/// A TCP port to listen on or connect to (0 is not one a person can use).
pub fn port(text: &str) -> Option<u16> {
    text.trim().parse().ok().filter(|port| *port != 0)
}

/// An address to connect to: `host`, `host:port`, `[v6]:port` or an
/// `irc://` URL. The network thread resolves it; this only refuses what
/// cannot possibly be one.
pub fn address(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && !text.contains(char::is_whitespace)).then(|| text.to_owned())
}

/// An empty password field means no password. Trimmed as the host
/// compares it: spaces around it could never be typed by an `nc` user.
pub fn password(text: &str) -> Option<String> {
    let text = crate::protocol::trim_password(text);
    (!text.is_empty()).then(|| text.to_owned())
}

/// The nickname to offer a first-time user: their login name if IRC accepts
/// it, otherwise "guest".
pub fn default_nick(login_name: &str) -> String {
    nick(login_name).unwrap_or_else(|| FALLBACK_NICK.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_get_their_hash() {
        assert_eq!(room("chat").as_deref(), Some("#chat"));
        assert_eq!(room(" #chat ").as_deref(), Some("#chat"));
        assert_eq!(room("&local").as_deref(), Some("&local"));
        assert_eq!(room("#中文").as_deref(), Some("#中文"));
        assert_eq!(room(""), None);
        assert_eq!(room("#"), None);
        assert_eq!(room("two words"), None);
    }

    #[test]
    fn ports() {
        assert_eq!(port("6667"), Some(6667));
        assert_eq!(port(" 1 "), Some(1));
        for bad in ["0", "65536", "-1", "", "http"] {
            assert_eq!(port(bad), None, "{bad}");
        }
    }

    #[test]
    fn nicks_and_addresses() {
        assert_eq!(nick(" alice ").as_deref(), Some("alice"));
        assert_eq!(nick("a b"), None);
        assert_eq!(address(" irc://h:1/#r ").as_deref(), Some("irc://h:1/#r"));
        assert_eq!(address("a b"), None);
        assert_eq!(address("  "), None);
        assert_eq!(password(""), None);
        assert_eq!(password(" s \n").as_deref(), Some("s"));
        assert_eq!(password("  "), None);
    }

    #[test]
    fn default_nick_falls_back_to_guest() {
        assert_eq!(default_nick("alice"), "alice");
        assert_eq!(default_nick("1user"), "guest");
        assert_eq!(default_nick(""), "guest");
    }
}
