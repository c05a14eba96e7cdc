//! IRCv3 `draft/chathistory`: reading a CHATHISTORY command, and the lines
//! that answer it (in a `chathistory` batch for clients that take batches).

use super::caps::Caps;
use super::history::{Anchor, LineCommand, Selector, StoredLine};
use super::hub::Stamp;
use crate::protocol::{is_channel_name, tags, time, Message};

/// Most lines one request may ask for (advertised as `CHATHISTORY=`).
pub(super) const MAX_LIMIT: usize = 1000;

/// A CHATHISTORY request that made sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    /// LATEST, BEFORE, AFTER, AROUND or BETWEEN.
    Lines {
        subcommand: String,
        target: String,
        selector: Selector,
        limit: usize,
    },
    Targets {
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    },
}

/// A `FAIL CHATHISTORY <code> <context…> :<text>` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fail {
    pub code: &'static str,
    pub context: Vec<String>,
    pub text: &'static str,
}

impl Fail {
    pub fn new(code: &'static str, context: &[&str], text: &'static str) -> Self {
        Fail {
            code,
            context: context.iter().map(|c| (*c).to_owned()).collect(),
            text,
        }
    }

    pub fn to_message(&self, server: &str) -> Message {
        let params = ["CHATHISTORY", self.code]
            .into_iter()
            .map(str::to_owned)
            .chain(self.context.iter().cloned())
            .chain([self.text.to_owned()]);
        Message::new("FAIL", params).with_prefix(server)
    }
}

/// Reads `CHATHISTORY <params…>`.
pub(super) fn parse(params: &[String]) -> Result<Request, Fail> {
    let param = |i: usize| params.get(i).map(String::as_str);
    let Some(subcommand) = param(0).map(str::to_ascii_uppercase) else {
        return Err(Fail::new("NEED_MORE_PARAMS", &[], "Missing subcommand"));
    };
    let sub = subcommand.as_str();
    let needed = match sub {
        "LATEST" | "BEFORE" | "AFTER" | "AROUND" | "TARGETS" => 4,
        "BETWEEN" => 5,
        _ => return Err(Fail::new("INVALID_PARAMS", &[sub], "Unknown subcommand")),
    };
    if params.len() < needed {
        return Err(Fail::new("NEED_MORE_PARAMS", &[sub], "Missing parameters"));
    }
    let limit_text = param(needed - 1).unwrap_or_default();
    let limit = limit_text
        .parse::<usize>()
        .map_err(|_| Fail::new("INVALID_PARAMS", &[sub, limit_text], "Invalid limit"))?
        .min(MAX_LIMIT);
    let anchor = |i: usize| {
        let text = param(i).unwrap_or_default();
        parse_anchor(text)
            .ok_or_else(|| Fail::new("INVALID_PARAMS", &[sub, text], "Invalid reference"))
    };
    if sub == "TARGETS" {
        let (Anchor::Time(from_ms), Anchor::Time(to_ms)) = (anchor(1)?, anchor(2)?) else {
            return Err(Fail::new(
                "INVALID_PARAMS",
                &[sub],
                "TARGETS takes timestamps",
            ));
        };
        let (from_ms, to_ms) = (from_ms.min(to_ms), from_ms.max(to_ms));
        return Ok(Request::Targets {
            from_ms,
            to_ms,
            limit,
        });
    }
    let target = param(1).unwrap_or_default().to_owned();
    let selector = match sub {
        "LATEST" if param(2) == Some("*") => Selector::Latest(None),
        "LATEST" => Selector::Latest(Some(anchor(2)?)),
        "BEFORE" => Selector::Before(anchor(2)?),
        "AFTER" => Selector::After(anchor(2)?),
        "AROUND" => Selector::Around(anchor(2)?),
        _ => Selector::Between(anchor(2)?, anchor(3)?),
    };
    Ok(Request::Lines {
        subcommand,
        target,
        selector,
        limit,
    })
}

/// `msgid=…` (ours are numbers) or `timestamp=…`.
fn parse_anchor(text: &str) -> Option<Anchor> {
    let (kind, value) = text.split_once('=')?;
    match kind {
        "msgid" => value.parse().ok().map(Anchor::MsgId),
        "timestamp" => time::parse_ms(value).map(Anchor::Time),
        _ => None,
    }
}

/// Whether the history of `target` could hold anything: only channels are
/// kept (private messages never touch the disk).
pub(super) fn is_kept(target: &str) -> bool {
    is_channel_name(target)
}

/// A stored line as replayed to a client with `caps`, inside `batch`.
pub(super) fn replay(line: &StoredLine, caps: Caps, batch: Option<&str>) -> Message {
    let command = match line.command {
        LineCommand::Privmsg => "PRIVMSG",
        LineCommand::Notice => "NOTICE",
        LineCommand::Topic => "TOPIC",
    };
    let mut message =
        Message::new(command, [line.room.as_str(), line.text.as_str()]).with_prefix(&line.prefix);
    let stamp = Stamp {
        msgid: Some(line.id),
        time_ms: line.time_ms,
        client_tags: &line.client_tags,
    };
    let stamped = stamp.tags_for(caps);
    message.tags = match (batch, stamped) {
        (Some(batch), Some(rest)) => Some(tags::build([("batch", batch)], &rest)),
        (Some(batch), None) => Some(tags::build([("batch", batch)], "")),
        (None, stamped) => stamped,
    };
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn reads_every_subcommand() {
        let latest = parse(&words("LATEST #chat * 100")).unwrap();
        assert_eq!(
            latest,
            Request::Lines {
                subcommand: "LATEST".into(),
                target: "#chat".into(),
                selector: Selector::Latest(None),
                limit: 100
            }
        );
        let before = parse(&words("before #chat msgid=42 5000")).unwrap();
        assert!(matches!(
            before,
            Request::Lines {
                selector: Selector::Before(Anchor::MsgId(42)),
                limit: MAX_LIMIT,
                ..
            }
        ));
        let between = parse(&words(
            "BETWEEN #chat timestamp=2026-11-29T00:00:00.000Z msgid=7 10",
        ))
        .unwrap();
        assert!(matches!(
            between,
            Request::Lines {
                selector: Selector::Between(Anchor::Time(_), Anchor::MsgId(7)),
                ..
            }
        ));
        let targets = parse(&words(
            "TARGETS timestamp=2026-11-29T01:00:00Z timestamp=2026-11-29T00:00:00Z 10",
        ))
        .unwrap();
        let Request::Targets { from_ms, to_ms, .. } = targets else {
            panic!("not TARGETS: {targets:?}");
        };
        assert!(from_ms < to_ms);
    }

    #[test]
    fn refuses_with_the_spec_codes() {
        let code = |line: &str| parse(&words(line)).unwrap_err().code;
        assert_eq!(parse(&[]).unwrap_err().code, "NEED_MORE_PARAMS");
        assert_eq!(code("LATEST #chat *"), "NEED_MORE_PARAMS");
        assert_eq!(code("SIDEWAYS #chat * 10"), "INVALID_PARAMS");
        assert_eq!(code("LATEST #chat * many"), "INVALID_PARAMS");
        assert_eq!(code("BEFORE #chat * 10"), "INVALID_PARAMS");
        assert_eq!(code("AFTER #chat msgid=abc 10"), "INVALID_PARAMS");
        assert_eq!(code("AFTER #chat timestamp=soon 10"), "INVALID_PARAMS");
        assert_eq!(code("TARGETS msgid=1 msgid=2 10"), "INVALID_PARAMS");
    }

    #[test]
    fn replays_with_the_tags_a_client_reads() {
        let line = StoredLine {
            id: 9,
            time_ms: 0,
            room_key: "#chat".into(),
            room: "#Chat".into(),
            prefix: "li!li@host".into(),
            command: LineCommand::Privmsg,
            text: "hello there".into(),
            client_tags: "+tcpchat.github.io/id=ab".into(),
        };
        let all = Caps::default().with(Caps::MESSAGE_TAGS).with(Caps::BATCH);
        assert_eq!(
            replay(&line, all, Some("1")).to_string(),
            "@batch=1;time=1970-01-01T00:00:00.000Z;msgid=9;+tcpchat.github.io/id=ab \
             :li!li@host PRIVMSG #Chat :hello there"
        );
        assert_eq!(
            replay(&line, Caps::default(), None).to_string(),
            ":li!li@host PRIVMSG #Chat :hello there"
        );
    }
}
