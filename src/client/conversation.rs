//! What a session remembers across connections: the room, our nick, the
//! person's unsent lines, and the newest line seen (where catching up after
//! a reconnect starts).

use super::outbox::Outbox;
use super::outgoing::{action_budget, chunks, text_budget, typed_lines};
use super::state::{End, EventSink};
use crate::api::{Event, LineMeta};
use crate::protocol::ctcp;

/// A point in the room's history, as the server names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    MsgId(String),
    /// Server time, in milliseconds since the Unix epoch.
    Time(i64),
}

impl Seen {
    /// The CHATHISTORY reference (`msgid=…` / `timestamp=…`).
    pub fn reference(&self) -> String {
        match self {
            Seen::MsgId(id) => format!("msgid={id}"),
            Seen::Time(ms) => format!("timestamp={}", crate::protocol::time::format_ms(*ms)),
        }
    }
}

#[derive(Debug)]
pub struct Conversation {
    /// The room to (re)join, in the server's spelling once joined.
    pub room: String,
    /// Our nick: asked for on every (re)connection.
    pub nick: String,
    pub outbox: Outbox,
    /// The newest line of the room we have seen.
    pub last_seen: Option<Seen>,
    /// We were in the room once: later connections are reconnections.
    pub joined_before: bool,
    /// It ended for a reason a reconnect cannot mend (kicked, refused a
    /// place in the room, no nickname left to try).
    pub beyond_reconnect: bool,
    /// Our away reason, while the person is away: said again after a
    /// reconnect.
    pub away: Option<String>,
}

impl Conversation {
    pub fn new(room: String, nick: String) -> Self {
        Conversation {
            room,
            nick,
            outbox: Outbox::default(),
            last_seen: None,
            joined_before: false,
            beyond_reconnect: false,
            away: None,
        }
    }

    /// Keeps each typed line of `text` for the room (or, with `to`, for one
    /// person), split to fit the wire, and shows it as on its way.
    pub fn keep(
        &mut self,
        events: &EventSink,
        to: Option<&str>,
        text: &str,
        action: bool,
    ) -> Result<(), End> {
        let target = to.map_or_else(|| self.room.clone(), |nick| nick.trim().to_owned());
        let budget = if action {
            action_budget(&target, self.nick.len())
        } else {
            text_budget("PRIVMSG", &target, self.nick.len())
        };
        for line in typed_lines(text) {
            let pieces = chunks(line, budget)
                .map(|chunk| {
                    if action {
                        ctcp::wrap_action(chunk)
                    } else {
                        chunk.to_owned()
                    }
                })
                .collect();
            let Some(outbox_id) = self.outbox.push(&target, pieces) else {
                events.emit(Event::ServerError {
                    text: "Too much is waiting to be sent; this line was not kept.".to_owned(),
                })?;
                continue;
            };
            let meta = LineMeta {
                outbox_id: Some(outbox_id),
                ..LineMeta::default()
            };
            let (from, text) = (self.nick.clone(), line.to_owned());
            events.emit(if action {
                Event::Action {
                    from,
                    target: target.clone(),
                    text,
                    own: true,
                    meta,
                }
            } else {
                Event::Message {
                    from,
                    target: target.clone(),
                    text,
                    own: true,
                    private: to.is_some(),
                    meta,
                }
            })?;
        }
        Ok(())
    }
}
