//! One IRC message: `[@tags] [:prefix] COMMAND [params…] [:trailing]`.

use std::fmt;

/// A parsed IRC message. Tags are kept raw: we never interpret them, but a
/// client must be able to read servers that send them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub tags: Option<String>,
    pub prefix: Option<String>,
    pub command: String,
    pub params: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The line held nothing but white space (or only tags / a prefix).
    Empty,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "empty IRC message"),
        }
    }
}

impl std::error::Error for ParseError {}

impl Message {
    /// A message with no prefix, e.g. `Message::new("PRIVMSG", ["#chat", "hi"])`.
    pub fn new<I, S>(command: &str, params: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Message {
            tags: None,
            prefix: None,
            command: command.to_owned(),
            params: params.into_iter().map(Into::into).collect(),
        }
    }

    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Parses one line (without its line ending). The command is upper-cased
    /// so callers can match on it directly; numerics are left as they are.
    pub fn parse(line: &str) -> Result<Message, ParseError> {
        let mut rest = line.trim_start_matches(' ');
        let mut tags = None;
        if let Some(after) = rest.strip_prefix('@') {
            let (raw, tail) = split_word(after);
            tags = Some(raw.to_owned());
            rest = tail;
        }
        let mut prefix = None;
        if let Some(after) = rest.strip_prefix(':') {
            let (raw, tail) = split_word(after);
            prefix = Some(raw.to_owned());
            rest = tail;
        }
        let (command, mut rest) = split_word(rest);
        if command.is_empty() {
            return Err(ParseError::Empty);
        }
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
            if let Some(trailing) = rest.strip_prefix(':') {
                params.push(trailing.to_owned());
                break;
            }
            let (param, tail) = split_word(rest);
            params.push(param.to_owned());
            rest = tail;
        }
        Ok(Message {
            tags,
            prefix,
            command: command.to_ascii_uppercase(),
            params,
        })
    }

    /// The nickname part of the prefix (`nick!user@host` → `nick`).
    pub fn source_nick(&self) -> Option<&str> {
        let prefix = self.prefix.as_deref()?;
        Some(prefix.split(['!', '@']).next().unwrap_or(prefix))
    }

    pub fn param(&self, index: usize) -> Option<&str> {
        self.params.get(index).map(String::as_str)
    }

    /// Appends the wire form, always ending in CRLF. Line breaks and NULs
    /// inside parameters are replaced by spaces: they would otherwise split
    /// the message into two on the wire (an injection).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if let Some(tags) = &self.tags {
            out.push(b'@');
            push_clean(out, tags);
            out.push(b' ');
        }
        if let Some(prefix) = &self.prefix {
            out.push(b':');
            push_clean(out, prefix);
            out.push(b' ');
        }
        push_clean(out, &self.command);
        let count = self.params.len();
        for (index, param) in self.params.iter().enumerate() {
            out.push(b' ');
            let is_last = index + 1 == count;
            // Decided on the parameter as written, after cleaning: a CR or
            // NUL becomes a space, which without the colon would cut the
            // parameter short (`left\rright` read back as `left`).
            let spaced = param.contains([' ', '\r', '\n', '\0']);
            if is_last && (param.is_empty() || spaced || param.starts_with(':')) {
                out.push(b':');
            }
            push_clean(out, param);
        }
        out.extend_from_slice(b"\r\n");
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Message {
    /// The wire form without the CRLF, for logs and tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        let text = String::from_utf8_lossy(&bytes[..bytes.len() - 2]);
        f.write_str(&text)
    }
}

fn split_word(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(at) => (&s[..at], &s[at + 1..]),
        None => (s, ""),
    }
}

fn push_clean(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().map(|b| {
        if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_message() {
        let m = Message::parse("@time=x;a=b :nick!u@h privmsg #chat :hello there").unwrap();
        assert_eq!(m.tags.as_deref(), Some("time=x;a=b"));
        assert_eq!(m.prefix.as_deref(), Some("nick!u@h"));
        assert_eq!(m.source_nick(), Some("nick"));
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(m.params, ["#chat", "hello there"]);
    }

    #[test]
    fn parses_middle_params_and_extra_spaces() {
        let m = Message::parse("USER  guest 0 *   :Real Name").unwrap();
        assert_eq!(m.params, ["guest", "0", "*", "Real Name"]);
        let m = Message::parse("PING").unwrap();
        assert!(m.params.is_empty());
        let m = Message::parse("NICK :").unwrap();
        assert_eq!(m.params, [""]);
    }

    #[test]
    fn empty_lines_are_errors() {
        assert_eq!(Message::parse(""), Err(ParseError::Empty));
        assert_eq!(Message::parse("   "), Err(ParseError::Empty));
        assert_eq!(Message::parse(":prefix-only"), Err(ParseError::Empty));
        assert_eq!(Message::parse("@tags-only"), Err(ParseError::Empty));
    }

    #[test]
    fn writes_trailing_only_when_needed() {
        let m = Message::new("PRIVMSG", ["#chat", "hi"]);
        assert_eq!(m.to_bytes(), b"PRIVMSG #chat hi\r\n");
        let m = Message::new("PRIVMSG", ["#chat", "hi there"]).with_prefix("a!b@c");
        assert_eq!(m.to_bytes(), b":a!b@c PRIVMSG #chat :hi there\r\n");
        let m = Message::new("TOPIC", ["#chat", ""]);
        assert_eq!(m.to_bytes(), b"TOPIC #chat :\r\n");
        let m = Message::new("PRIVMSG", ["#chat", ":)"]);
        assert_eq!(m.to_bytes(), b"PRIVMSG #chat ::)\r\n");
    }

    #[test]
    fn writing_never_splits_a_line() {
        let m = Message::new("PRIVMSG", ["#chat", "one\r\nQUIT :two\0"]);
        assert_eq!(m.to_bytes(), b"PRIVMSG #chat :one  QUIT :two \r\n");
    }

    #[test]
    fn a_last_parameter_with_a_line_break_or_nul_keeps_its_colon() {
        for (text, wire) in [
            ("left\rright", "left right"),
            ("left\0right", "left right"),
            ("left\nright", "left right"),
            ("\r", " "),
        ] {
            let m = Message::new("PRIVMSG", ["#chat", text]);
            let line = String::from_utf8(m.to_bytes()).unwrap();
            assert_eq!(line, format!("PRIVMSG #chat :{wire}\r\n"));
            let read = Message::parse(line.trim_end_matches("\r\n")).unwrap();
            assert_eq!(read.params, ["#chat", wire]);
        }
    }

    #[test]
    fn round_trips() {
        for line in [
            ":srv 001 nick :Welcome to the network",
            "PRIVMSG #chat :\u{4f60}\u{597d} world",
            ":n!u@h JOIN #chat",
            "CAP * LS :",
        ] {
            let m = Message::parse(line).unwrap();
            assert_eq!(m.to_string(), line);
            assert_eq!(Message::parse(&m.to_string()).unwrap(), m);
        }
    }
}
