//! Nicknames, channel names and text lengths as IRC counts them.

/// The room hosted or joined when nobody names one.
pub const DEFAULT_ROOM: &str = "#chat";

/// The IRC port when none is given (RFC 7194 keeps 6667 for plain text).
pub const DEFAULT_PORT: u16 = 6667;

/// Where public IRC servers speak TLS (RFC 7194).
pub const DEFAULT_TLS_PORT: u16 = 6697;

/// Longest nickname we accept (RFC 2812 says 9; modern servers allow more).
pub const MAX_NICK_LEN: usize = 30;
/// Longest channel name we accept.
pub const MAX_CHANNEL_LEN: usize = 50;

/// The `CASEMAPPING` advertised in 005: what [`fold_case`] does, the
/// simplest mapping modern clients understand.
pub const CASEMAPPING: &str = "ascii";

/// Case folding for nickname and channel comparison (see [`CASEMAPPING`]).
pub fn fold_case(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Whether two nicknames or channel names are one under [`fold_case`].
pub fn same_name(a: &str, b: &str) -> bool {
    fold_case(a) == fold_case(b)
}

/// Longest server name we use (ngircd's and a DNS label's limit).
pub const MAX_SERVER_NAME_LEN: usize = 63;

/// A server name as it may stand in a prefix: a host name of dot-separated
/// labels of letters, digits and inner `-`. Anything else (a space, `!`,
/// `@`) would make every prefix the host writes ambiguous.
pub fn is_valid_server_name(name: &str) -> bool {
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    !name.is_empty() && name.len() <= MAX_SERVER_NAME_LEN && name.split('.').all(label_ok)
}

/// A nickname starts with a letter or one of `[]\`_^{|}` and goes on with
/// those, digits and `-`. Non-ASCII names are refused: every IRC client can
/// type and display ASCII, and the wire stays unambiguous.
pub fn is_valid_nick(nick: &str) -> bool {
    let special = |c: char| "[]\\`_^{|}".contains(c);
    let mut chars = nick.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    nick.len() <= MAX_NICK_LEN
        && (first.is_ascii_alphabetic() || special(first))
        && chars.all(|c| c.is_ascii_alphanumeric() || special(c) || c == '-')
}

/// `#name` or `&name`, without spaces, commas, BEL or control characters.
pub fn is_channel_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('#' | '&'))
        && name.len() > 1
        && name.len() <= MAX_CHANNEL_LEN
        && chars.all(|c| !c.is_control() && c != ' ' && c != ',' && c != ':')
}

/// The longest prefix of `text` that fits in `max_bytes` without cutting a
/// UTF-8 character in two.
pub fn truncate_utf8(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames() {
        for ok in ["alice", "Bob_2", "[away]", "x-y", "a"] {
            assert!(is_valid_nick(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "-x",
            "a b",
            "a!b",
            "a@b",
            "名字",
            "#chan",
            &"a".repeat(31),
        ] {
            assert!(!is_valid_nick(bad), "{bad}");
        }
    }

    #[test]
    fn server_names() {
        for ok in ["tcp-chat", "mei-laptop", "irc.example.org", "a1"] {
            assert!(is_valid_server_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "-x",
            "x-",
            "a..b",
            ".a",
            "a!b",
            "名字",
            &"a".repeat(64),
        ] {
            assert!(!is_valid_server_name(bad), "{bad}");
        }
        assert!(same_name("Alice", "aLICE") && !same_name("alice", "alicia"));
    }

    #[test]
    fn channels() {
        assert!(is_channel_name("#chat"));
        assert!(is_channel_name("&local"));
        assert!(is_channel_name("#中文"));
        for bad in ["chat", "#", "#a b", "#a,b", "#a\x07"] {
            assert!(!is_channel_name(bad), "{bad}");
        }
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_utf8("hello", 10), "hello");
        assert_eq!(truncate_utf8("hello", 3), "hel");
        // '你' is three bytes: cutting at 4 must drop the second one whole.
        assert_eq!(truncate_utf8("你好", 4), "你");
        assert_eq!(truncate_utf8("你好", 2), "");
    }
}
