//! Choosing another nickname when the server refuses ours.

use crate::protocol::{is_valid_nick, truncate_utf8};

/// The NICKLEN RFC 2812 guarantees; servers announce more in ISUPPORT.
pub const RFC_NICK_LEN: usize = 9;

/// The `attempt`-th alternative to `base`: `base_`, then `base2`, `base3`…,
/// shortening `base` so the result fits `max_len`.
pub fn alternative_nick(base: &str, attempt: u32, max_len: usize) -> String {
    let suffix = match attempt {
        0 => String::new(),
        1 => "_".to_owned(),
        n => n.to_string(),
    };
    let room = max_len.saturating_sub(suffix.len()).max(1);
    format!("{}{suffix}", truncate_utf8(base, room))
}

/// A nickname the server can accept, made from one it called erroneous:
/// characters IRC forbids are dropped, a leading digit or `-` gets a letter.
pub fn sanitize_nick(nick: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "[]\\`_^{|}-".contains(c);
    let mut clean: String = nick.chars().filter(|c| allowed(*c)).collect();
    if clean.is_empty() {
        return "guest".to_owned();
    }
    if !is_valid_nick(&clean) {
        clean.insert(0, 'u');
    }
    truncate_utf8(&clean, crate::protocol::names::MAX_NICK_LEN).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_fit() {
        assert_eq!(alternative_nick("alice", 1, 9), "alice_");
        assert_eq!(alternative_nick("alice", 2, 9), "alice2");
        assert_eq!(alternative_nick("alexander", 1, 9), "alexande_");
        assert_eq!(alternative_nick("alexander", 12, 9), "alexand12");
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitize_nick("张三"), "guest");
        assert_eq!(sanitize_nick("bob smith"), "bobsmith");
        assert_eq!(sanitize_nick("9lives"), "u9lives");
        assert!(is_valid_nick(&sanitize_nick(&"x".repeat(80))));
    }
}
