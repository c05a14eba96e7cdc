//! Reading history from the server: collecting the lines of a
//! `chathistory` batch, and the stamps (msgid, server time) of any line.

use crate::api::LineMeta;
use crate::protocol::{tags, time, Message};

/// History batches open at once; a server opening more is ignored.
const MAX_OPEN_BATCHES: usize = 4;
/// Lines kept per batch: what we ask for at most, so more is a hostile server.
pub const MAX_BATCH_LINES: usize = 1000;

/// The stamps of a line: its `msgid` and `time` tags.
pub fn stamps(message: &Message) -> LineMeta {
    let raw = message.tags.as_deref().unwrap_or_default();
    LineMeta {
        msgid: tags::find(raw, "msgid").filter(|id| !id.is_empty()),
        time_ms: tags::find(raw, "time").and_then(|t| time::parse_ms(&t)),
        outbox_id: None,
    }
}

/// The `chathistory` batches being received.
#[derive(Debug, Default)]
pub struct Batches {
    open: Vec<(String, Vec<Message>)>,
}

impl Batches {
    /// `BATCH +reference chathistory …` started.
    pub fn open(&mut self, reference: &str) {
        if self.open.len() < MAX_OPEN_BATCHES {
            self.open.push((reference.to_owned(), Vec::new()));
        }
    }

    /// Keeps `message` if it belongs to an open history batch; otherwise
    /// hands it back to be handled as a live line.
    pub fn take(&mut self, message: Message) -> Option<Message> {
        let reference = message
            .tags
            .as_deref()
            .and_then(|raw| tags::find(raw, "batch"));
        let Some(reference) = reference else {
            return Some(message);
        };
        match self.open.iter_mut().find(|(r, _)| *r == reference) {
            Some((_, lines)) => {
                if lines.len() < MAX_BATCH_LINES {
                    lines.push(message);
                }
                None
            }
            None => Some(message),
        }
    }

    /// `BATCH -reference`: the lines of that history batch, if it was one.
    pub fn close(&mut self, reference: &str) -> Option<Vec<Message>> {
        let at = self.open.iter().position(|(r, _)| r == reference)?;
        Some(self.open.remove(at).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Message {
        Message::parse(line).unwrap()
    }

    #[test]
    fn collects_only_its_own_batch() {
        let mut batches = Batches::default();
        batches.open("1");
        assert!(batches
            .take(parse("@batch=1;msgid=5 :a!a@h PRIVMSG #c :old"))
            .is_none());
        let live = parse("@msgid=6 :a!a@h PRIVMSG #c :new");
        assert_eq!(batches.take(live.clone()), Some(live));
        let other = parse("@batch=2 :a!a@h PRIVMSG #c :other batch");
        assert!(batches.take(other).is_some());
        let lines = batches.close("1").unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(stamps(&lines[0]).msgid.as_deref(), Some("5"));
        assert!(batches.close("1").is_none());
    }

    #[test]
    fn is_bounded() {
        let mut batches = Batches::default();
        for n in 0..10 {
            batches.open(&n.to_string());
        }
        assert_eq!(batches.open.len(), MAX_OPEN_BATCHES);
        for _ in 0..MAX_BATCH_LINES + 10 {
            batches.take(parse("@batch=0 :a!a@h PRIVMSG #c :x"));
        }
        assert_eq!(batches.close("0").unwrap().len(), MAX_BATCH_LINES);
    }

    #[test]
    fn reads_stamps() {
        let meta = stamps(&parse(
            "@time=2026-11-29T02:45:58.123Z;msgid=abc :a!a@h PRIVMSG #c :x",
        ));
        assert_eq!(meta.msgid.as_deref(), Some("abc"));
        assert_eq!(meta.time_ms, Some(1_795_920_358_123));
        assert_eq!(stamps(&parse(":a!a@h PRIVMSG #c :x")), LineMeta::default());
    }
}
