//! Bounded line reading for IRC connections.
//!
//! `tokio_util`'s own `LinesCodec` rejects invalid UTF-8 and ends the stream
//! on an over-long line; IRC peers need both tolerated, so this decoder
//! decodes lossily and turns an over-long line into [`Line::TooLong`] after
//! skipping it, never holding more than one line's limit in memory.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// Longest message we accept, CRLF included (RFC 1459 §2.3).
pub const MAX_LINE_BYTES: usize = 512;
/// Longest tag section, `@` and the separating space included (IRCv3).
pub const MAX_TAGS_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// One line without its ending; invalid UTF-8 replaced by U+FFFD.
    Text(String),
    /// A line over the limit was read and thrown away.
    TooLong,
}

/// Splits a byte stream on `\n`, accepting `\r\n` too.
#[derive(Debug, Default)]
pub struct LineCodec {
    /// Bytes of the buffer already known to hold no `\n`.
    scanned: usize,
    /// True while skipping the rest of an over-long line.
    discarding: bool,
}

impl LineCodec {
    pub fn new() -> Self {
        Self::default()
    }
}

/// The most bytes a line (without its ending) may have, given how it starts.
fn limit_for(start: &[u8]) -> usize {
    let body = MAX_LINE_BYTES - 2;
    if start.first() == Some(&b'@') {
        MAX_TAGS_BYTES + body
    } else {
        body
    }
}

/// Whether a complete line (without its ending) is within the limits.
fn within_limits(line: &[u8]) -> bool {
    if line.first() == Some(&b'@') {
        match line.iter().position(|b| *b == b' ') {
            Some(space) => space < MAX_TAGS_BYTES && line.len() - space - 1 <= MAX_LINE_BYTES - 2,
            None => line.len() < MAX_TAGS_BYTES,
        }
    } else {
        line.len() <= MAX_LINE_BYTES - 2
    }
}

impl Decoder for LineCodec {
    type Item = Line;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, Self::Error> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|b| *b == b'\n') {
            Some(offset) => {
                let line = buf.split_to(from + offset + 1);
                self.scanned = 0;
                if std::mem::take(&mut self.discarding) {
                    return Ok(Some(Line::TooLong));
                }
                let mut body = &line[..line.len() - 1];
                if let Some(stripped) = body.strip_suffix(b"\r") {
                    body = stripped;
                }
                if !within_limits(body) {
                    return Ok(Some(Line::TooLong));
                }
                Ok(Some(Line::Text(String::from_utf8_lossy(body).into_owned())))
            }
            None => {
                // +1: a CR of a CRLF may be waiting for its LF.
                let limit = if self.discarding {
                    0
                } else {
                    limit_for(buf) + 1
                };
                if buf.len() > limit {
                    self.discarding = true;
                    buf.clear();
                    self.scanned = 0;
                } else {
                    self.scanned = buf.len();
                }
                Ok(None)
            }
        }
    }

    /// A peer that vanishes mid-line: the unfinished line is dropped, as a
    /// line without its ending was never sent.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, Self::Error> {
        let line = self.decode(buf)?;
        if line.is_none() {
            buf.clear();
            self.scanned = 0;
            self.discarding = false;
        }
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Line> {
        let mut codec = LineCodec::new();
        let mut buf = BytesMut::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(line) = codec.decode(&mut buf).unwrap() {
                lines.push(line);
            }
        }
        while let Some(line) = codec.decode_eof(&mut buf).unwrap() {
            lines.push(line);
        }
        lines
    }

    fn text(s: &str) -> Line {
        Line::Text(s.to_owned())
    }

    #[test]
    fn splits_crlf_and_bare_lf_across_chunks() {
        let lines = decode_all(&[b"NICK a\r", b"\nUSER a 0 * :A\nPI", b"NG x\r\n"]);
        assert_eq!(
            lines,
            [text("NICK a"), text("USER a 0 * :A"), text("PING x")]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let lines = decode_all(&[b"PRIVMSG #c :\xff\xfeok\r\n"]);
        assert_eq!(lines, [text("PRIVMSG #c :\u{fffd}\u{fffd}ok")]);
    }

    #[test]
    fn over_long_line_is_reported_once_and_skipped() {
        let long = vec![b'a'; 5000];
        let lines = decode_all(&[b"PING 1\r\n", &long, &long, b"\r\nPING 2\r\n"]);
        assert_eq!(lines, [text("PING 1"), Line::TooLong, text("PING 2")]);
    }

    #[test]
    fn limit_is_exact() {
        let ok = "a".repeat(510);
        let too_long = "a".repeat(511);
        let input = format!("{ok}\r\n{too_long}\r\n");
        assert_eq!(decode_all(&[input.as_bytes()]), [text(&ok), Line::TooLong]);
    }

    #[test]
    fn tags_get_their_own_budget() {
        let tagged = format!("@{} PRIVMSG #c :{}", "t".repeat(4000), "m".repeat(490));
        let lines = decode_all(&[tagged.as_bytes(), b"\r\n"]);
        assert_eq!(lines, [text(&tagged)]);
        let too_many_tags = format!("@{} PING", "t".repeat(4100));
        assert_eq!(
            decode_all(&[too_many_tags.as_bytes(), b"\n"]),
            [Line::TooLong]
        );
    }

    #[test]
    fn unfinished_line_at_eof_is_dropped() {
        assert_eq!(
            decode_all(&[b"PING 1\r\nPRIVMSG #c :half"]),
            [text("PING 1")]
        );
    }

    #[test]
    fn buffer_stays_bounded_without_newlines() {
        let mut codec = LineCodec::new();
        let mut buf = BytesMut::new();
        for _ in 0..1000 {
            buf.extend_from_slice(&[b'x'; 1000]);
            assert_eq!(codec.decode(&mut buf).unwrap(), None);
            assert!(buf.len() <= MAX_TAGS_BYTES + MAX_LINE_BYTES);
        }
        buf.extend_from_slice(b"\nPING\n");
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Line::TooLong));
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(text("PING")));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..20)) {
            let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            for line in decode_all(&refs) {
                if let Line::Text(line) = line {
                    prop_assert!(!line.contains('\n'));
                    let _ = crate::protocol::Message::parse(&line);
                }
            }
        }

        #[test]
        fn written_messages_parse_back(command in "[A-Z]{1,10}", params in proptest::collection::vec("[^\r\n\0 :][^\r\n\0]{0,20}", 0..5)) {
            // Only the last parameter may hold spaces on the wire.
            let mut params = params;
            let count = params.len();
            for p in params.iter_mut().take(count.saturating_sub(1)) {
                *p = p.replace(' ', "_");
            }
            let message = crate::protocol::Message::new(&command, params);
            let parsed = crate::protocol::Message::parse(&message.to_string()).unwrap();
            prop_assert_eq!(parsed, message);
        }
    }
}
