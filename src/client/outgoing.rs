//! Turning what a person typed into IRC lines that fit the 512-byte limit
//! once the server has put our full `nick!user@host` prefix in front.

use crate::protocol::{ctcp, truncate_utf8, MAX_LINE_BYTES};

/// The longest `user` part of a prefix we plan for (USERLEN is 10 on most
/// servers, plus the `~` of an unverified ident).
const WORST_CASE_USER_LEN: usize = 11;
/// The longest host name (RFC 1035 label limits put a full name at 253, but
/// IRC servers cap displayed hosts at 63 for cloaks and addresses).
const WORST_CASE_HOST_LEN: usize = 63;
/// Whatever the arithmetic says, a chunk carries at least this much text so
/// splitting always makes progress.
const MIN_CHUNK_BYTES: usize = 32;

/// How many bytes of text fit in one `command target :text` line relayed
/// by the server with our prefix in front.
pub fn text_budget(command: &str, target: &str, nick_len: usize) -> usize {
    let prefix = 1 + nick_len + 1 + WORST_CASE_USER_LEN + 1 + WORST_CASE_HOST_LEN + 1;
    let framing = command.len() + 1 + target.len() + 2 + 2; // spaces, ':' and CRLF
    MAX_LINE_BYTES
        .saturating_sub(prefix + framing)
        .max(MIN_CHUNK_BYTES)
}

/// The budget for the text of a `/me` action, whose CTCP framing shares the line.
pub fn action_budget(target: &str, nick_len: usize) -> usize {
    text_budget("PRIVMSG", target, nick_len)
        .saturating_sub(ctcp::ACTION_FRAMING_BYTES)
        .max(MIN_CHUNK_BYTES)
}

/// The non-blank lines of what was typed (CRLF, LF or CR line breaks),
/// without trailing white space, which servers strip anyway.
pub fn typed_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
}

/// Splits one line into chunks of at most `max_bytes`, never inside a UTF-8
/// character, preferring to break before a space in the chunk's second half.
/// Concatenating the chunks gives the line back exactly.
pub fn chunks(line: &str, max_bytes: usize) -> impl Iterator<Item = &str> {
    let mut rest = line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let window = truncate_utf8(rest, max_bytes);
        let end = if window.len() == rest.len() {
            window.len()
        } else if window.is_empty() {
            // A character longer than the budget: send it whole.
            rest.chars().next().map_or(rest.len(), char::len_utf8)
        } else {
            // Break before a space: some servers (ngircd) strip trailing
            // white space from a line, a leading one survives.
            match window.rfind(' ') {
                Some(space) if space >= window.len() / 2 => {
                    match window[..space].trim_end_matches(' ').len() {
                        0 => window.len(),
                        end => end,
                    }
                }
                _ => window.len(),
            }
        };
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(chunks("hello", 100).collect::<Vec<_>>(), ["hello"]);
        assert_eq!(chunks("", 100).count(), 0);
    }

    #[test]
    fn breaks_after_spaces_when_it_can() {
        let parts: Vec<_> = chunks("aaaa bbbb cccc", 10).collect();
        assert_eq!(parts, ["aaaa bbbb", " cccc"]);
        let parts: Vec<_> = chunks("aaaaaaa   bbbbbbb", 10).collect();
        assert_eq!(parts, ["aaaaaaa", "   bbbbbbb"]);
        let parts: Vec<_> = chunks("aaaaaaaaaaaaaaa", 10).collect();
        assert_eq!(parts, ["aaaaaaaaaa", "aaaaa"]);
    }

    #[test]
    fn never_cuts_a_character() {
        let parts: Vec<_> = chunks("你好世界", 7).collect();
        assert_eq!(parts, ["你好", "世界"]);
    }

    #[test]
    fn typed_lines_skip_blank_ones() {
        let lines: Vec<_> = typed_lines("one\r\n two \n\n \nthree\r").collect();
        assert_eq!(lines, ["one", " two", "three"]);
    }

    #[test]
    fn budget_leaves_room_for_prefix() {
        let budget = text_budget("PRIVMSG", "#chat", 9);
        let prefix = 1 + 9 + 1 + WORST_CASE_USER_LEN + 1 + WORST_CASE_HOST_LEN + 1;
        assert_eq!(prefix + "PRIVMSG #chat :".len() + budget + 2, 512);
        assert!(action_budget("#chat", 9) + ctcp::wrap_action("").len() == budget);
    }

    proptest! {
        #[test]
        fn chunks_fit_and_reassemble(line in "\\PC{0,400}", max in 4usize..120) {
            let parts: Vec<&str> = chunks(&line, max).collect();
            for part in &parts {
                prop_assert!(part.len() <= max);
                prop_assert!(!part.is_empty());
            }
            prop_assert_eq!(parts.concat(), line);
        }

        #[test]
        fn chunks_do_not_end_in_spaces(line in "[a-z ]{0,400}", max in MIN_CHUNK_BYTES..120) {
            let parts: Vec<&str> = chunks(&line, max).collect();
            for part in parts.iter().take(parts.len().saturating_sub(1)) {
                // Only a run of spaces over half a chunk can force a trailing one.
                prop_assert!(!part.ends_with(' ') || line.contains(&" ".repeat(max / 2)));
            }
        }
    }
}
