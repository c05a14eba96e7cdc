//! What the host says about itself: its name, version, message of the day
//! and INFO lines.

use crate::protocol::{is_valid_server_name, truncate_utf8};

/// Our server name when the machine's host name cannot be one.
pub const FALLBACK_SERVER_NAME: &str = "tcp-chat";

/// In 002, 004 and 351.
pub const VERSION: &str = concat!("tcp-chat-", env!("CARGO_PKG_VERSION"));

/// MOTD lines kept: a long file must not make every arrival a flood, nor
/// fill the send queue before the room's JOIN that follows the welcome.
pub const MAX_MOTD_LINES: usize = 100;
/// Longest MOTD line kept, so `:server 372 nick :line` fits in 512 bytes
/// with the longest server name (63) and nickname (30).
pub const MAX_MOTD_LINE_BYTES: usize = 400;

/// The machine's host name when it is a valid server name, else
/// [`FALLBACK_SERVER_NAME`].
pub fn default_server_name() -> String {
    server_name_or_fallback(&crate::discovery::machine_name())
}

fn server_name_or_fallback(name: &str) -> String {
    if is_valid_server_name(name) {
        name.to_owned()
    } else {
        FALLBACK_SERVER_NAME.to_owned()
    }
}

/// A MOTD file's text as the lines sent in 372: at most
/// [`MAX_MOTD_LINES`], each cut to [`MAX_MOTD_LINE_BYTES`] on a character
/// boundary, without control characters (tabs become spaces).
pub fn motd_lines(text: &str) -> Vec<String> {
    text.lines()
        .take(MAX_MOTD_LINES)
        .map(|line| {
            let line: String = line
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .filter(|c| !c.is_control())
                .collect();
            truncate_utf8(&line, MAX_MOTD_LINE_BYTES).to_owned()
        })
        .collect()
}

/// What INFO answers, one 371 each.
pub fn info_lines() -> [&'static str; 3] {
    [
        VERSION,
        "TCP Chat: a chat room for your local network, hosted from the desktop",
        env!("CARGO_PKG_HOMEPAGE"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_that_cannot_be_server_names_fall_back() {
        assert_eq!(server_name_or_fallback("mei-laptop"), "mei-laptop");
        assert_eq!(server_name_or_fallback(""), FALLBACK_SERVER_NAME);
        assert_eq!(server_name_or_fallback("my pc"), FALLBACK_SERVER_NAME);
        assert_eq!(server_name_or_fallback("мой-пк"), FALLBACK_SERVER_NAME);
        assert!(is_valid_server_name(&default_server_name()));
    }

    #[test]
    fn motd_lines_are_bounded_and_clean() {
        assert_eq!(motd_lines("hello\r\n\tworld\x07\n"), ["hello", " world"]);
        let long = "你".repeat(500);
        let lines = motd_lines(&format!("{long}\n").repeat(1000));
        assert_eq!(lines.len(), MAX_MOTD_LINES);
        assert!(lines.iter().all(|l| l.len() <= MAX_MOTD_LINE_BYTES));
        assert!(motd_lines("").is_empty());
    }
}
