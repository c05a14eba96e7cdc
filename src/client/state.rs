//! What a session knows (our nick, the room, registration progress) and how
//! each IRC message and each command changes it.

use super::nick::{alternative_nick, sanitize_nick, RFC_NICK_LEN};
use super::outgoing::{
    action_budget, chunks, ctcp_action, parse_ctcp_action, text_budget, typed_lines,
};
use super::writer::Outbox;
use crate::api::{Command, DisconnectReason, Event, LineMeta};
use crate::protocol::{fold_case, is_channel_name, numeric, truncate_utf8, Message};

/// The session is over, for this reason.
#[derive(Debug)]
pub struct End(pub DisconnectReason);

/// Nicknames tried before giving up on registering.
const MAX_NICK_ATTEMPTS: u32 = 30;
/// Commands typed before the room is joined that we keep for later.
const MAX_QUEUED_COMMANDS: usize = 256;
/// Names collected from 353 replies before a 366 must come.
const MAX_COLLECTED_NAMES: usize = 100_000;
/// Join failures that leave us outside the room for good.
const JOIN_FAILURES: [&str; 6] = ["403", "405", "471", "473", "474", "475"];

/// Where events go; a send that fails means the window is gone.
#[derive(Clone)]
pub struct EventSink(async_channel::Sender<Event>);

impl EventSink {
    pub fn new(sender: async_channel::Sender<Event>) -> Self {
        EventSink(sender)
    }

    pub fn emit(&self, event: Event) -> Result<(), End> {
        // Unbounded, so this only fails once the window has gone away.
        self.0.try_send(event).map_err(|_| {
            log::info!("the window is gone; ending the session");
            End(DisconnectReason::Left)
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    /// NICK/USER sent; `attempt` counts the nicknames refused so far,
    /// `suffix` the alternatives made from `base`.
    Registering {
        attempt: u32,
        suffix: u32,
        base: String,
    },
    /// Welcomed, JOIN sent, waiting for our own JOIN echo.
    Joining,
    Joined,
}

pub struct State {
    events: EventSink,
    outbox: Outbox,
    server: String,
    requested_nick: String,
    me: String,
    room: String,
    phase: Phase,
    /// NICKLEN from ISUPPORT, once the server says.
    nick_len: Option<usize>,
    names: Vec<String>,
    /// A 332 waiting to see whether a 333 names who set it.
    pending_topic: Option<(String, String)>,
    queued: Vec<Command>,
    sent_password: bool,
    quitting: bool,
}

impl State {
    pub fn new(
        events: EventSink,
        outbox: Outbox,
        server: String,
        nick: String,
        room: String,
    ) -> Self {
        State {
            events,
            outbox,
            server,
            requested_nick: nick.clone(),
            phase: Phase::Registering {
                attempt: 0,
                suffix: 0,
                base: nick.clone(),
            },
            me: nick,
            room,
            nick_len: None,
            names: Vec::new(),
            pending_topic: None,
            queued: Vec::new(),
            sent_password: false,
            quitting: false,
        }
    }

    /// Protocol lines, ahead of queued chat.
    fn send_new<const N: usize>(&self, command: &str, params: [&str; N]) {
        self.outbox.urgent(&Message::new(command, params));
    }

    /// What the person does, paced so the server does not see a flood.
    fn send_chat<const N: usize>(&self, command: &str, params: [&str; N]) {
        self.outbox.paced(&Message::new(command, params));
    }

    pub fn register(&mut self, password: Option<&str>) {
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            self.send_new("PASS", [password]);
            self.sent_password = true;
        }
        self.send_new("NICK", [self.me.as_str()]);
        let user = sanitize_nick(&self.me);
        self.send_new("USER", [user.as_str(), "0", "*", self.me.as_str()]);
    }

    pub fn ping(&self) {
        self.send_new("PING", ["tcp-chat"]);
    }

    /// How the connection ended, given that it broke with `detail`.
    pub fn lost(&self, detail: String) -> DisconnectReason {
        if self.quitting {
            DisconnectReason::Left
        } else {
            DisconnectReason::ConnectionLost { detail }
        }
    }

    fn is_me(&self, nick: &str) -> bool {
        fold_case(nick) == fold_case(&self.me)
    }

    fn is_our_room(&self, room: &str) -> bool {
        fold_case(room) == fold_case(&self.room)
    }

    fn emit(&self, event: Event) -> Result<(), End> {
        self.events.emit(event)
    }

    pub fn on_message(&mut self, message: Message) -> Result<(), End> {
        if message.command != numeric::RPL_TOPICWHOTIME {
            self.flush_topic(None)?;
        }
        if !is_well_formed(&message) {
            log::debug!("ignoring malformed {message}");
            return Ok(());
        }
        let source = message.source_nick().map(str::to_owned);
        let Message {
            command, params, ..
        } = message;
        let mut params = params.into_iter();
        let mut next = || params.next().unwrap_or_default();
        match command.as_str() {
            "PING" => {
                let token = next();
                self.send_new("PONG", [token.as_str()]);
            }
            "ERROR" => return Err(End(self.closed_by_server(next()))),
            numeric::RPL_WELCOME if matches!(self.phase, Phase::Registering { .. }) => {
                self.welcomed(next())?;
            }
            numeric::RPL_ISUPPORT => {
                let announced = params.find_map(|t| t.strip_prefix("NICKLEN=")?.parse().ok());
                self.nick_len = announced.or(self.nick_len);
            }
            numeric::ERR_NICKNAMEINUSE | numeric::ERR_ERRONEUSNICKNAME | "437"
                if matches!(self.phase, Phase::Registering { .. }) =>
            {
                self.retry_nick(&command)?;
            }
            numeric::ERR_PASSWDMISMATCH => return Err(End(DisconnectReason::WrongPassword)),
            "JOIN" => self.joined(source.unwrap_or_default(), next())?,
            "PART" => {
                let room = next();
                let reason = Some(next()).filter(|r| !r.is_empty());
                let nick = source.unwrap_or_default();
                self.emit(Event::Parted { nick, room, reason })?;
            }
            "KICK" => {
                let room = next();
                let nick = next();
                let reason = Some(next()).filter(|r| !r.is_empty());
                let kicked_us = self.is_me(&nick) && self.is_our_room(&room);
                self.emit(Event::Parted {
                    nick,
                    room,
                    reason: reason.clone(),
                })?;
                if kicked_us {
                    self.quit(None);
                    return Err(End(DisconnectReason::HostClosed { message: reason }));
                }
            }
            "QUIT" => {
                let reason = Some(next()).filter(|r| !r.is_empty());
                let nick = source.unwrap_or_default();
                self.emit(Event::Quit { nick, reason })?;
            }
            "NICK" => {
                let new = next();
                let old = source.unwrap_or_default();
                let own = self.is_me(&old);
                if own {
                    self.me.clone_from(&new);
                }
                self.emit(Event::NickChanged { old, new, own })?;
            }
            "PRIVMSG" => self.privmsg(source.unwrap_or_default(), next(), next())?,
            "NOTICE" => {
                let _target = next();
                let text = next();
                // A server's notice has a bare server name as prefix.
                let from = source.filter(|nick| !nick.contains('.'));
                self.emit(Event::Notice { from, text })?;
            }
            "TOPIC" => {
                let room = next();
                let topic = next();
                self.emit(Event::Topic {
                    room,
                    topic,
                    set_by: source,
                })?;
            }
            numeric::RPL_TOPIC => {
                let _me = next();
                let room = next();
                self.pending_topic = Some((room, next()));
            }
            numeric::RPL_TOPICWHOTIME => {
                let _me = next();
                let _room = next();
                let setter = next();
                let nick = setter.split(['!', '@']).next().unwrap_or_default();
                self.flush_topic(Some(nick.to_owned()))?;
            }
            numeric::RPL_NAMREPLY => {
                // The names are always last (old servers leave out the
                // channel-type symbol before the channel).
                if let Some(names) = params.last() {
                    for name in names.split(' ').filter(|n| !n.is_empty()) {
                        if self.names.len() < MAX_COLLECTED_NAMES {
                            self.names.push(member_nick(name).to_owned());
                        }
                    }
                }
            }
            numeric::RPL_ENDOFNAMES => {
                let _me = next();
                let room = next();
                let nicks = std::mem::take(&mut self.names);
                self.emit(Event::Members { room, nicks })?;
            }
            // "No MOTD" is an error numeric only in name: many servers,
            // our host among them, send it on every connection.
            numeric::ERR_NOMOTD => {}
            code if is_error_numeric(code) => {
                let _me = next();
                let rest: Vec<String> = std::iter::from_fn(|| params.next()).collect();
                self.server_error(code, rest)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn closed_by_server(&self, text: String) -> DisconnectReason {
        if self.quitting {
            return DisconnectReason::Left;
        }
        // Servers like ngircd refuse a bad PASS with a bare ERROR, no 464.
        let refused_password = self.sent_password
            && matches!(self.phase, Phase::Registering { .. })
            && text.to_ascii_lowercase().contains("password");
        if refused_password {
            return DisconnectReason::WrongPassword;
        }
        DisconnectReason::HostClosed {
            message: (!text.is_empty()).then_some(text),
        }
    }

    fn welcomed(&mut self, nick: String) -> Result<(), End> {
        if !nick.is_empty() && nick != "*" {
            self.me = nick;
        }
        self.phase = Phase::Joining;
        if self.me != self.requested_nick {
            self.emit(Event::NickInUse {
                requested: self.requested_nick.clone(),
                using: self.me.clone(),
            })?;
        }
        self.send_new("JOIN", [self.room.as_str()]);
        Ok(())
    }

    fn retry_nick(&mut self, code: &str) -> Result<(), End> {
        let Phase::Registering {
            attempt,
            suffix,
            base,
        } = &mut self.phase
        else {
            return Ok(());
        };
        *attempt += 1;
        if *attempt > MAX_NICK_ATTEMPTS {
            self.quit(None);
            return Err(End(DisconnectReason::HostClosed { message: None }));
        }
        let erroneous = code == numeric::ERR_ERRONEUSNICKNAME;
        if erroneous {
            *base = sanitize_nick(base);
            // Refused and longer than RFC 2812's nine: assume that is the limit
            // (registration errors come before the server's ISUPPORT).
            if self.me.len() > RFC_NICK_LEN {
                self.nick_len = Some(self.nick_len.map_or(RFC_NICK_LEN, |n| n.min(RFC_NICK_LEN)));
            }
        }
        let max_len = self
            .nick_len
            .unwrap_or_else(|| RFC_NICK_LEN.max(self.requested_nick.len()));
        let cleaned = truncate_utf8(base, max_len);
        self.me = if erroneous && cleaned != self.me {
            // The cleaned-up, shortened nick has not been tried yet.
            cleaned.to_owned()
        } else {
            *suffix += 1;
            alternative_nick(base, *suffix, max_len)
        };
        self.send_new("NICK", [self.me.as_str()]);
        Ok(())
    }

    fn joined(&mut self, nick: String, room: String) -> Result<(), End> {
        let own = self.is_me(&nick);
        if own && self.is_our_room(&room) && self.phase != Phase::Joined {
            self.phase = Phase::Joined;
            // The server's spelling of the room is the one to show.
            self.room.clone_from(&room);
            self.emit(Event::Connected {
                server: self.server.clone(),
                nick: self.me.clone(),
                room: room.clone(),
            })?;
            self.emit(Event::Joined { nick, room, own })?;
            for command in std::mem::take(&mut self.queued) {
                self.on_command(command);
            }
            return Ok(());
        }
        self.emit(Event::Joined { nick, room, own })
    }

    fn privmsg(&mut self, from: String, target: String, text: String) -> Result<(), End> {
        let private = !is_channel_name(&target);
        if let Some(action) = parse_ctcp_action(&text) {
            let text = action.to_owned();
            return self.emit(Event::Action {
                from,
                target,
                text,
                own: false,
                meta: LineMeta::default(),
            });
        }
        if text.starts_with('\u{1}') {
            // Other CTCP queries (VERSION, PING…) are not chat.
            return Ok(());
        }
        self.emit(Event::Message {
            from,
            target,
            text,
            own: false,
            private,
            meta: LineMeta::default(),
        })
    }

    fn flush_topic(&mut self, set_by: Option<String>) -> Result<(), End> {
        match self.pending_topic.take() {
            Some((room, topic)) => self.emit(Event::Topic {
                room,
                topic,
                set_by,
            }),
            None => Ok(()),
        }
    }

    fn server_error(&mut self, code: &str, mut rest: Vec<String>) -> Result<(), End> {
        let text = match rest.pop() {
            Some(last) if rest.is_empty() => last,
            Some(last) => format!("{}: {last}", rest.join(" ")),
            None => code.to_owned(),
        };
        let join_failed = self.phase == Phase::Joining
            && JOIN_FAILURES.contains(&code)
            && rest.first().is_some_and(|room| self.is_our_room(room));
        if join_failed {
            self.quit(None);
            return Err(End(DisconnectReason::HostClosed {
                message: Some(text),
            }));
        }
        self.emit(Event::ServerError { text })
    }

    /// Sends QUIT; the session then waits for the server to close.
    fn quit(&mut self, message: Option<String>) {
        self.quitting = true;
        match message.filter(|m| !m.is_empty()) {
            Some(message) => self.send_new("QUIT", [message.as_str()]),
            None => self.send_new("QUIT", []),
        }
    }

    /// A chat command, or `Leave`; the others are not a session's business.
    pub fn on_command(&mut self, command: Command) {
        if self.phase != Phase::Joined && !matches!(command, Command::Leave { .. }) {
            if self.queued.len() < MAX_QUEUED_COMMANDS {
                self.queued.push(command);
            }
            return;
        }
        let result = match command {
            Command::SendMessage { text } => self.say(&text, false),
            Command::SendAction { text } => self.say(&text, true),
            Command::SendPrivate { nick, text } => self.whisper(nick, &text),
            Command::ChangeNick { nick } => {
                self.send_chat("NICK", [nick.trim()]);
                Ok(())
            }
            Command::SetTopic { topic } => {
                self.send_chat("TOPIC", [self.room.as_str(), topic.as_str()]);
                Ok(())
            }
            Command::Leave { message } => {
                self.quit(message);
                Ok(())
            }
            other => {
                log::debug!("not a session command: {other:?}");
                Ok(())
            }
        };
        if result.is_err() {
            // The window is gone: nobody to chat for.
            self.quit(None);
        }
    }

    /// Sends each typed line to the room, split to fit, and echoes it locally.
    fn say(&self, text: &str, action: bool) -> Result<(), End> {
        let budget = if action {
            action_budget(&self.room, self.me.len())
        } else {
            text_budget("PRIVMSG", &self.room, self.me.len())
        };
        for line in typed_lines(text) {
            for chunk in chunks(line, budget) {
                if action {
                    let framed = ctcp_action(chunk);
                    self.send_chat("PRIVMSG", [self.room.as_str(), framed.as_str()]);
                } else {
                    self.send_chat("PRIVMSG", [self.room.as_str(), chunk]);
                }
            }
            let (from, target, text) = (self.me.clone(), self.room.clone(), line.to_owned());
            self.emit(if action {
                Event::Action {
                    from,
                    target,
                    text,
                    own: true,
                    meta: LineMeta::default(),
                }
            } else {
                Event::Message {
                    from,
                    target,
                    text,
                    own: true,
                    private: false,
                    meta: LineMeta::default(),
                }
            })?;
        }
        Ok(())
    }

    fn whisper(&self, nick: String, text: &str) -> Result<(), End> {
        let nick = nick.trim().to_owned();
        let budget = text_budget("PRIVMSG", &nick, self.me.len());
        for line in typed_lines(text) {
            for chunk in chunks(line, budget) {
                self.send_chat("PRIVMSG", [nick.as_str(), chunk]);
            }
            self.emit(Event::Message {
                from: self.me.clone(),
                target: nick.clone(),
                text: line.to_owned(),
                own: true,
                private: true,
                meta: LineMeta::default(),
            })?;
        }
        Ok(())
    }
}

/// A member's nick from a NAMES entry: mode prefixes (`@`, `+`, multi-prefix
/// `@+`…) and a userhost-in-names `!user@host` removed.
fn member_nick(entry: &str) -> &str {
    let nick = entry.trim_start_matches(['@', '+', '%', '&', '~', '!']);
    nick.split('!').next().unwrap_or(nick)
}

/// Whether `message` has what its command needs: a sender for what people
/// do, and the parameters we read.
fn is_well_formed(message: &Message) -> bool {
    let (needs_source, params) = match message.command.as_str() {
        "PRIVMSG" | "KICK" | "TOPIC" => (true, 2),
        "JOIN" | "PART" | "NICK" => (true, 1),
        "QUIT" => (true, 0),
        "NOTICE" => (false, 2),
        numeric::RPL_TOPIC | numeric::RPL_ENDOFNAMES => (false, 2),
        numeric::RPL_TOPICWHOTIME | numeric::RPL_NAMREPLY => (false, 3),
        _ => (false, 0),
    };
    message.params.len() >= params
        && (!needs_source || message.source_nick().is_some_and(|n| !n.is_empty()))
}

fn is_error_numeric(code: &str) -> bool {
    code.len() == 3
        && matches!(code.as_bytes()[0], b'4' | b'5')
        && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_prefixes_are_stripped() {
        assert_eq!(member_nick("@alice"), "alice");
        assert_eq!(member_nick("@+bob"), "bob");
        assert_eq!(member_nick("carol!c@host"), "carol");
        assert_eq!(member_nick("dave"), "dave");
    }

    #[test]
    fn error_numerics() {
        assert!(is_error_numeric("401"));
        assert!(is_error_numeric("502"));
        assert!(!is_error_numeric("366"));
        assert!(!is_error_numeric("4x1"));
        assert!(!is_error_numeric("PRIVMSG"));
    }
}
