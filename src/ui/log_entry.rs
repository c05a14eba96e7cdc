//! What each network event adds to the room's log, as plain data the log
//! widget styles. GTK-free.

use std::net::SocketAddr;

use crate::api::{Event, LineMeta, Rank, RoomModeChange, RoomModes, Security, Trust, WhoisInfo};
use crate::i18n::{gettext, gettext_f, ngettext_f};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    /// `/me`: shown in italics after the nick.
    Action,
    /// Notices from the server or another user.
    Notice,
    /// Joins, parts, nick and topic changes: quieter than chat.
    System,
    Error,
    /// A heading between parts of the log ("Earlier conversation").
    Divider,
    /// "New messages": above the first line the person has not read. A log
    /// shows one at most.
    Unread,
}

/// Who a line is from, as shown before its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speaker {
    pub label: String,
    /// The nick whose colour the label takes.
    pub colour_key: String,
    pub own: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub kind: Kind,
    pub speaker: Option<Speaker>,
    pub text: String,
    /// When it was said, in milliseconds since the Unix epoch; `None`: now.
    pub time_ms: Option<i64>,
    /// Our own line still on its way: its outbox id, until delivered.
    pub pending: Option<u64>,
    /// Said before we joined (history): shown dimmed.
    pub earlier: bool,
    /// Names the person (or is meant for them): highlighted.
    pub mentions_you: bool,
}

impl LogEntry {
    fn new(kind: Kind, speaker: Option<Speaker>, text: String) -> Self {
        LogEntry {
            kind,
            speaker,
            text,
            time_ms: None,
            pending: None,
            earlier: false,
            mentions_you: false,
        }
    }

    pub fn system(text: String) -> Self {
        LogEntry::new(Kind::System, None, text)
    }

    pub fn error(text: String) -> Self {
        LogEntry::new(Kind::Error, None, text)
    }

    pub fn divider(text: String) -> Self {
        LogEntry::new(Kind::Divider, None, text)
    }

    /// Where the lines the person has not read begin.
    pub fn unread_divider() -> Self {
        LogEntry::new(Kind::Unread, None, gettext("New messages"))
    }

    /// A chat line or action by someone else (not a notice or system line).
    pub fn is_said_by_others(&self) -> bool {
        matches!(self.kind, Kind::Chat | Kind::Action)
            && self.speaker.as_ref().is_some_and(|speaker| !speaker.own)
    }

    fn said(kind: Kind, label: String, colour_key: &str, own: bool, text: &str) -> Self {
        let speaker = Speaker {
            label,
            colour_key: colour_key.to_owned(),
            own,
        };
        LogEntry::new(kind, Some(speaker), plain_text(text))
    }

    /// Said at `meta`'s time; pending if it is our line on its way.
    fn with_meta(mut self, meta: &LineMeta, own: bool) -> Self {
        self.time_ms = meta.time_ms;
        self.pending = meta.outbox_id.filter(|_| own);
        self
    }
}

/// `text` as the log shows it: without IRC formatting codes and control
/// characters.
pub fn plain_text(text: &str) -> String {
    crate::protocol::strip_formatting(text)
}

/// The one line that opens a room we host: who we are and where friends
/// can join (instead of "joined … on [::1]:port", which is noise here).
pub fn hosting(room: &str, nick: &str, port: u16, addresses: &[SocketAddr]) -> LogEntry {
    let text = if addresses.is_empty() {
        gettext_f(
            "You are hosting {room} as {nick}. No network was found: only this computer can join, on port {port}.",
            &[("room", room), ("nick", nick), ("port", &port.to_string())],
        )
    } else {
        let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        gettext_f(
            "You are hosting {room} as {nick}. Friends can join at {addresses}.",
            &[
                ("room", room),
                ("nick", nick),
                ("addresses", &list.join(", ")),
            ],
        )
    };
    LogEntry::system(text)
}

/// The line that opens a room we joined (not hosted).
pub fn joined(room: &str, server: &str, nick: &str) -> LogEntry {
    LogEntry::system(gettext_f(
        "You joined {room} on {server} as {nick}",
        &[("room", room), ("server", server), ("nick", nick)],
    ))
}

/// Heads the lines said before we joined.
pub fn earlier_divider() -> LogEntry {
    LogEntry::divider(gettext("Earlier conversation"))
}

/// Heads the lines said while we were disconnected.
pub fn missed_divider() -> LogEntry {
    LogEntry::divider(gettext("While you were away"))
}

/// How the connection is protected, said when it starts or changes;
/// `hosting`: it is our own room (guests compare our code).
pub fn security(security: &Security, hosting: bool) -> LogEntry {
    let text = match security {
        Security::Plain => {
            gettext("This conversation is not encrypted: others on the network can read it")
        }
        Security::Pinned { fingerprint, .. } if hosting => gettext_f(
            "Guests who join over an encrypted connection see the safety code {code}: read it out to them to compare",
            &[("code", &fingerprint.safety_code())],
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::FirstUse,
        } => gettext_f(
            "Encrypted. First visit to this host: its safety code is {code}. Compare it with the code in the host’s window",
            &[("code", &fingerprint.safety_code())],
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::Accepted,
        } => gettext_f(
            "Encrypted. You trusted the host’s new safety code {code}",
            &[("code", &fingerprint.safety_code())],
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::Remembered,
        } => gettext_f(
            "Encrypted. The host’s safety code is {code}, as on your first visit",
            &[("code", &fingerprint.safety_code())],
        ),
        Security::Verified { host } => gettext_f(
            "Encrypted. The certificate of {host} is signed by an authority this computer trusts",
            &[("host", host)],
        ),
    };
    LogEntry::system(text)
}

/// Back in the room after the connection was lost.
pub fn reconnected() -> LogEntry {
    LogEntry::system(gettext("Reconnected"))
}

/// The log line for `event`, if it has one. Disconnections and host errors
/// are described by the window's banner, which also logs them.
pub fn for_event(event: &Event) -> Option<LogEntry> {
    let entry = match event {
        // Private lines go to the conversation with that person, where
        // they read as plain chat.
        Event::Message {
            from,
            text,
            own,
            meta,
            ..
        } => LogEntry::said(Kind::Chat, from.clone(), from, *own, text).with_meta(meta, *own),
        Event::Action {
            from,
            text,
            own,
            meta,
            ..
        } => LogEntry::said(Kind::Action, format!("* {from}"), from, *own, text)
            .with_meta(meta, *own),
        Event::Notice {
            from: Some(from),
            text,
        } => LogEntry::said(Kind::Notice, format!("-{from}-"), from, false, text),
        Event::Notice { from: None, text } => LogEntry::new(Kind::Notice, None, plain_text(text)),
        Event::Connected { server, nick, room } => joined(room, server, nick),
        Event::NickInUse { requested, using } => LogEntry::system(gettext_f(
            "The nickname {requested} is taken, so you are {using}",
            &[("requested", requested), ("using", using)],
        )),
        Event::Joined { own: true, .. }
        | Event::History { .. }
        | Event::Delivered { .. }
        | Event::Reconnecting { .. }
        | Event::HistoryCleared { .. }
        | Event::Away { .. }
        | Event::Typing { .. }
        | Event::Invited { .. }
        | Event::NearbyRoom(_)
        | Event::NearbyRoomGone { .. } => return None,
        Event::Joined {
            nick,
            room,
            own: false,
        } => LogEntry::system(gettext_f(
            "{nick} joined {room}",
            &[("nick", nick), ("room", room)],
        )),
        Event::Parted { nick, room, reason } => LogEntry::system(with_reason(
            gettext_f("{nick} left {room}", &[("nick", nick), ("room", room)]),
            reason,
        )),
        Event::Kicked {
            nick,
            room,
            by,
            reason,
        } => LogEntry::system(with_reason(
            gettext_f(
                "{by} removed {nick} from {room}",
                &[("by", by), ("nick", nick), ("room", room)],
            ),
            reason,
        )),
        Event::MemberRank { nick, rank, by, .. } => {
            let by = by.clone().unwrap_or_else(|| gettext("The server"));
            let at = [("by", by.as_str()), ("nick", nick.as_str())];
            LogEntry::system(match rank {
                Rank::Operator => gettext_f("{by} made {nick} an operator", &at),
                Rank::HalfOperator => gettext_f("{by} made {nick} a half-operator", &at),
                Rank::Voiced => gettext_f("{by} gave {nick} a voice", &at),
                Rank::Member => gettext_f("{by} made {nick} a regular member", &at),
            })
        }
        Event::Ban {
            mask, banned, by, ..
        } => {
            let by = by.clone().unwrap_or_else(|| gettext("The server"));
            let at = [("by", by.as_str()), ("mask", mask.as_str())];
            LogEntry::system(if *banned {
                gettext_f("{by} banned {mask} from the room", &at)
            } else {
                gettext_f("{by} lifted the ban on {mask}", &at)
            })
        }
        Event::Whois(info) => LogEntry::system(whois(info)),
        Event::Quit { nick, reason } => LogEntry::system(with_reason(
            gettext_f("{nick} quit", &[("nick", nick)]),
            reason,
        )),
        Event::NickChanged { new, own: true, .. } => {
            LogEntry::system(gettext_f("You are now known as {new}", &[("new", new)]))
        }
        Event::NickChanged {
            old,
            new,
            own: false,
        } => LogEntry::system(gettext_f(
            "{old} is now known as {new}",
            &[("old", old), ("new", new)],
        )),
        Event::Topic {
            topic,
            set_by: Some(by),
            ..
        } => LogEntry::system(gettext_f(
            "{nick} set the topic: {topic}",
            &[("nick", by), ("topic", &plain_text(topic))],
        )),
        Event::Topic {
            topic,
            set_by: None,
            ..
        } if topic.is_empty() => LogEntry::system(gettext("There is no topic")),
        Event::Topic {
            topic,
            set_by: None,
            ..
        } => LogEntry::system(gettext_f(
            "Topic: {topic}",
            &[("topic", &plain_text(topic))],
        )),
        Event::ServerError { text } => LogEntry::error(plain_text(text)),
        // Worded per change by the model, which knows what they were before
        // ([`room_mode_changed`]).
        Event::RoomModes { .. }
        | Event::Hosting { .. }
        | Event::Security(_)
        | Event::HostFailed(_)
        | Event::Members { .. }
        | Event::Disconnected { .. } => return None,
    };
    Some(entry)
}

/// One change `by` made to the room's settings, for the log.
pub fn room_mode_changed(by: &str, change: &RoomModeChange) -> LogEntry {
    let at = [("by", by)];
    LogEntry::system(match change {
        RoomModeChange::TopicLocked(true) => {
            gettext_f("{by} locked the topic: only operators change it", &at)
        }
        RoomModeChange::TopicLocked(false) => gettext_f("{by} unlocked the topic", &at),
        RoomModeChange::Moderated(true) => gettext_f(
            "{by} made the room moderated: only operators and voiced members speak",
            &at,
        ),
        RoomModeChange::Moderated(false) => gettext_f("{by} lifted moderation", &at),
        RoomModeChange::InviteOnly(true) => gettext_f("{by} made the room invitation only", &at),
        RoomModeChange::InviteOnly(false) => {
            gettext_f("{by} opened the room to all, invited or not", &at)
        }
        RoomModeChange::Key(Some(_)) => gettext_f("{by} set a password for the room", &at),
        RoomModeChange::Key(None) => gettext_f("{by} removed the room’s password", &at),
        RoomModeChange::Limit(Some(limit)) => {
            let count = limit.to_string();
            ngettext_f(
                "{by} limited the room to {count} member",
                "{by} limited the room to {count} members",
                (*limit).into(),
                &[("by", by), ("count", &count)],
            )
        }
        RoomModeChange::Limit(None) => gettext_f("{by} removed the member limit", &at),
    })
}

/// The answer to `/mode` alone: the room's settings as they are.
pub fn room_settings_entry(modes: &RoomModes) -> LogEntry {
    LogEntry::system(gettext_f(
        "Room settings: {settings}",
        &[("settings", &room_settings(modes))],
    ))
}

/// The room's modes in words ("topic locked, moderated").
pub fn room_settings(modes: &RoomModes) -> String {
    let mut parts = Vec::new();
    if modes.topic_locked {
        parts.push(gettext("only operators change the topic"));
    }
    if modes.moderated {
        parts.push(gettext("moderated"));
    }
    if modes.invite_only {
        parts.push(gettext("invitation only"));
    }
    if modes.key.is_some() {
        parts.push(gettext("password required"));
    }
    if let Some(limit) = modes.limit {
        let count = limit.to_string();
        parts.push(ngettext_f(
            "at most {count} member",
            "at most {count} members",
            limit.into(),
            &[("count", &count)],
        ));
    }
    if parts.is_empty() {
        return gettext("open to all");
    }
    parts.join(", ")
}

/// A WHOIS answer as one readable line: "ann is Ann Lee (ann@host), in
/// #chat, on irc.example, idle 5 minutes, connected 2 hours ago".
fn whois(info: &WhoisInfo) -> String {
    let nick = info.nick.as_str();
    if info.unknown {
        return gettext_f("Nobody called {nick} is connected", &[("nick", nick)]);
    }
    let mut text = match (&info.realname, &info.address) {
        (Some(name), Some(address)) => gettext_f(
            "{nick} is {name} ({address})",
            &[("nick", nick), ("name", name), ("address", address)],
        ),
        (_, Some(address)) => gettext_f(
            "{nick} is {address}",
            &[("nick", nick), ("address", address)],
        ),
        _ => nick.to_owned(),
    };
    let mut add = |part: String| {
        text.push_str(", ");
        text.push_str(&part);
    };
    if !info.channels.is_empty() {
        add(gettext_f(
            "in {channels}",
            &[("channels", &info.channels.join(" "))],
        ));
    }
    if let Some(server) = &info.server {
        add(gettext_f("on {server}", &[("server", server)]));
    }
    if let Some(idle) = info.idle_secs {
        add(gettext_f(
            "idle {duration}",
            &[("duration", &duration(idle))],
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(since) = info.signon.and_then(|t| u64::try_from(t).ok()) {
        let ago = duration(now.saturating_sub(since));
        add(gettext_f("connected {duration} ago", &[("duration", &ago)]));
    }
    if let Some(reason) = &info.away {
        add(gettext_f(
            "away: {reason}",
            &[("reason", &plain_text(reason))],
        ));
    }
    text
}

/// "5 minutes", "2 hours": the largest whole unit.
fn duration(secs: u64) -> String {
    let spelled = |n: u64| n.to_string();
    match secs {
        0..=59 => ngettext_f("{n} second", "{n} seconds", secs, &[("n", &spelled(secs))]),
        60..=3599 => {
            let n = secs / 60;
            ngettext_f("{n} minute", "{n} minutes", n, &[("n", &spelled(n))])
        }
        3600..=86_399 => {
            let n = secs / 3600;
            ngettext_f("{n} hour", "{n} hours", n, &[("n", &spelled(n))])
        }
        _ => {
            let n = secs / 86_400;
            ngettext_f("{n} day", "{n} days", n, &[("n", &spelled(n))])
        }
    }
}

fn with_reason(text: String, reason: &Option<String>) -> String {
    match reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => format!("{text} ({reason})"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(own: bool, private: bool) -> Event {
        Event::Message {
            from: "alice".into(),
            target: if private {
                "bob".into()
            } else {
                "#chat".into()
            },
            text: "hi".into(),
            own,
            private,
            meta: crate::api::LineMeta::default(),
        }
    }

    #[test]
    fn chat_lines_carry_their_speaker() {
        let entry = for_event(&message(false, false)).unwrap();
        assert_eq!(entry.kind, Kind::Chat);
        assert_eq!(entry.text, "hi");
        let speaker = entry.speaker.unwrap();
        assert_eq!((speaker.label.as_str(), speaker.own), ("alice", false));
        assert!(
            for_event(&message(true, false))
                .unwrap()
                .speaker
                .unwrap()
                .own
        );
    }

    #[test]
    fn system_lines() {
        let quit = Event::Quit {
            nick: "bob".into(),
            reason: Some("later".into()),
        };
        assert_eq!(
            for_event(&quit).unwrap(),
            LogEntry::system("bob quit (later)".into())
        );
        let part = Event::Parted {
            nick: "bob".into(),
            room: "#chat".into(),
            reason: Some(" ".into()),
        };
        assert_eq!(for_event(&part).unwrap().text, "bob left #chat");
        let own_join = Event::Joined {
            nick: "me".into(),
            room: "#chat".into(),
            own: true,
        };
        assert_eq!(for_event(&own_join), None);
        let error = Event::ServerError {
            text: "No such nick".into(),
        };
        assert_eq!(for_event(&error).unwrap().kind, Kind::Error);
    }

    #[test]
    fn hosting_line_names_room_nick_and_addresses() {
        let addresses = [
            "192.168.1.5:6667".parse().unwrap(),
            "[fd00::2]:6667".parse().unwrap(),
        ];
        assert_eq!(
            hosting("#chat", "mei", 6667, &addresses).text,
            "You are hosting #chat as mei. Friends can join at 192.168.1.5:6667, [fd00::2]:6667."
        );
        assert!(hosting("#chat", "mei", 6667, &[])
            .text
            .contains("only this computer"));
    }
}
