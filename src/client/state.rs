//! What one connection knows (registration progress, capabilities, the
//! catch-up under way) and how each IRC message and each command changes it
//! and the [`Conversation`] it carries on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::Instant;

use super::caps::{self, Granted};
use super::conversation::{Conversation, Seen};
use super::history::{self, Batches, MAX_BATCH_LINES};
use super::nick::{alternative_nick, sanitize_nick, RFC_NICK_LEN};
use super::outbox::TOKEN_TAG;
use super::reply::{NickRefusal, Reply};
use super::room_modes::ModeBook;
use super::writer::WriteQueue;
use crate::api::{
    Command, DisconnectReason, Event, Flood, HistoryKind, LineMeta, Presence, RoomModeChange,
    TypingState, WhoisInfo, WINDOW_PATIENCE,
};
use crate::protocol::{
    ctcp, fold_case, is_channel_name, numeric, tags, truncate_utf8, Message, MAX_LINE_BYTES,
};

/// The session is over, for this reason.
#[derive(Debug)]
pub struct End(pub DisconnectReason);

/// Nicknames tried before giving up on registering.
const MAX_NICK_ATTEMPTS: u32 = 30;
/// Commands typed before the room is joined that we keep for later.
const MAX_QUEUED_COMMANDS: usize = 256;
/// Names collected from 353 replies before a 366 must come: a room beyond
/// it is a host trying to use up our memory, and the session ends.
pub const MAX_COLLECTED_NAMES: usize = 100_000;
/// Join failures that leave us outside the room for good.
const JOIN_FAILURES: [&str; 6] = [
    numeric::ERR_NOSUCHCHANNEL,
    numeric::ERR_TOOMANYCHANNELS,
    numeric::ERR_CHANNELISFULL,
    numeric::ERR_INVITEONLYCHAN,
    numeric::ERR_BANNEDFROMCHAN,
    numeric::ERR_BADCHANNELKEY,
];
/// Channels kept from WHOIS replies (a host may list many).
const MAX_WHOIS_CHANNELS: usize = 100;
/// Words of a typed `/mode` sent on (a mode string and its arguments).
const MAX_MODE_ARGS: usize = 14;
/// The room's latest lines shown on joining.
const EARLIER_LINES: usize = 100;
/// The IRCv3 typing client tag, and the draft name older clients send.
const TYPING_TAG: &str = "+typing";
const DRAFT_TYPING_TAG: &str = "+draft/typing";
/// Longest target a typing notification is sent to (channel names and
/// nicks are far shorter).
const MAX_TYPING_TARGET_BYTES: usize = 200;
/// Pages of missed lines fetched after a reconnect before giving up on the
/// rest (each page is at most [`MAX_BATCH_LINES`]).
const MAX_MISSED_PAGES: u32 = 5;

/// Where events go. The channel to the window is bounded; the events one
/// message or command makes beyond it wait here (a few: at most one history
/// batch's worth), and the session reads nothing more from the host until
/// [`EventSink::deliver_backlog`] has handed them over. A send that fails
/// means the window is gone.
#[derive(Clone)]
pub struct EventSink {
    sender: async_channel::Sender<Event>,
    backlog: Arc<Mutex<VecDeque<Event>>>,
}

impl EventSink {
    pub fn new(sender: async_channel::Sender<Event>) -> Self {
        EventSink {
            sender,
            backlog: Arc::default(),
        }
    }

    fn backlog(&self) -> MutexGuard<'_, VecDeque<Event>> {
        // The queue stays whole whatever panicked while holding it.
        self.backlog.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn emit(&self, event: Event) -> Result<(), End> {
        let mut backlog = self.backlog();
        // Behind what already waits, to keep the order.
        let refused = if backlog.is_empty() {
            self.sender.try_send(event)
        } else {
            Err(async_channel::TrySendError::Full(event))
        };
        match refused {
            Ok(()) => Ok(()),
            Err(async_channel::TrySendError::Full(event)) if !self.sender.is_closed() => {
                backlog.push_back(event);
                Ok(())
            }
            Err(_) => Err(window_gone()),
        }
    }

    /// Whether events wait for room in the window's channel.
    pub fn is_backed_up(&self) -> bool {
        !self.backlog().is_empty()
    }

    /// Hands the waiting events to the window, in order, as it takes them;
    /// a window that takes none for [`WINDOW_PATIENCE`] counts as gone.
    pub async fn deliver_backlog(&self) -> Result<(), End> {
        loop {
            let Some(event) = self.backlog().pop_front() else {
                return Ok(());
            };
            match tokio::time::timeout(WINDOW_PATIENCE, self.sender.send(event)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(window_gone()),
                Err(_) => {
                    log::warn!("the window took no event for {WINDOW_PATIENCE:?}");
                    return Err(window_gone());
                }
            }
        }
    }
}

fn window_gone() -> End {
    log::info!("the window is gone; ending the session");
    End(DisconnectReason::Left)
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

/// A history request under way. After a reconnect our own lines wait until
/// it is answered, so that what it shows arrived is not sent twice.
#[derive(Debug)]
struct CatchUp {
    kind: HistoryKind,
    /// After this, the outbox is sent whatever the server says.
    deadline: Instant,
    /// Full pages of missed lines still allowed.
    pages_left: u32,
    limit: usize,
}

pub struct State<'c> {
    events: EventSink,
    wire: WriteQueue,
    server: String,
    conversation: &'c mut Conversation,
    /// The nick this connection registered with first.
    requested_nick: String,
    phase: Phase,
    /// NICKLEN from ISUPPORT, once the server says.
    nick_len: Option<usize>,
    /// NAMES entries collected until 366: nick and membership modes.
    names: Vec<(String, Vec<char>)>,
    /// Ranks in our room and its own modes.
    modes: ModeBook,
    /// A WHOIS answer being collected until 318.
    whois: Option<WhoisInfo>,
    /// Our JOIN's member list is still to come. Only that one is taken:
    /// unasked-for lists (each up to the cap) would only fill memory.
    names_wanted: bool,
    /// A 332 waiting to see whether a 333 names who set it.
    pending_topic: Option<(String, String)>,
    /// Nick and topic changes typed before the room is joined.
    queued: Vec<Command>,
    sent_password: bool,
    quitting: bool,
    /// Capability names of a CAP LS still being listed (302 multi-line).
    cap_list: Vec<String>,
    caps: Granted,
    /// Most lines one CHATHISTORY may ask for (ISUPPORT `CHATHISTORY=`).
    history_limit: usize,
    batches: Batches,
    catch_up: Option<CatchUp>,
    /// How long to wait for a catch-up before sending the outbox anyway.
    catch_up_wait: std::time::Duration,
    /// The nick we had before a reconnect, taken again once its ghost leaves.
    reclaim: Option<String>,
}

impl<'c> State<'c> {
    pub fn new(
        events: EventSink,
        wire: WriteQueue,
        server: String,
        conversation: &'c mut Conversation,
        catch_up_wait: std::time::Duration,
    ) -> Self {
        let nick = conversation.nick.clone();
        State {
            events,
            wire,
            server,
            requested_nick: nick.clone(),
            phase: Phase::Registering {
                attempt: 0,
                suffix: 0,
                base: nick,
            },
            conversation,
            nick_len: None,
            names: Vec::new(),
            modes: ModeBook::default(),
            whois: None,
            names_wanted: false,
            pending_topic: None,
            queued: Vec::new(),
            sent_password: false,
            quitting: false,
            cap_list: Vec::new(),
            caps: Granted::default(),
            history_limit: MAX_BATCH_LINES,
            batches: Batches::default(),
            catch_up: None,
            catch_up_wait,
            reclaim: None,
        }
    }

    /// Protocol lines, ahead of queued chat.
    fn send_new<const N: usize>(&self, command: &str, params: [&str; N]) {
        self.wire.urgent(&Message::new(command, params));
    }

    /// What the person does, paced so the server does not see a flood.
    fn send_chat<const N: usize>(&self, command: &str, params: [&str; N]) {
        self.wire.paced(&Message::new(command, params));
    }

    /// CAP LS first (a server without capabilities answers 421 and goes on),
    /// then PASS, NICK and USER.
    pub fn register(&mut self, password: Option<&str>) {
        self.send_new("CAP", ["LS", "302"]);
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            self.send_new("PASS", [password]);
            self.sent_password = true;
        }
        let me = self.conversation.nick.clone();
        self.send_new("NICK", [me.as_str()]);
        let user = sanitize_nick(&me);
        self.send_new("USER", [user.as_str(), "0", "*", me.as_str()]);
    }

    /// When a catch-up stops being worth waiting for.
    pub fn catch_up_deadline(&self) -> Option<Instant> {
        self.catch_up.as_ref().map(|c| c.deadline)
    }

    /// The server did not answer the history request in time.
    pub fn catch_up_expired(&mut self) -> Result<(), End> {
        log::info!("no history from the server in time; sending what waits");
        self.catch_up = None;
        self.flush_outbox()
    }

    /// Whether this connection made it into the room.
    pub fn got_in(&self) -> bool {
        self.phase == Phase::Joined
    }

    /// Whether the session may try again after this connection ends.
    pub fn may_reconnect(&self) -> bool {
        self.conversation.joined_before && !self.conversation.beyond_reconnect && !self.quitting
    }

    pub fn ping(&self) {
        self.send_new("PING", ["tcp-chat"]);
    }

    /// Why the connection is of no more use, if it is not: the host does
    /// not read what we owe it (answers to its PINGs, our lines).
    pub fn flooded(&self) -> Option<DisconnectReason> {
        self.wire
            .is_backlogged()
            .then_some(DisconnectReason::HostFlooded {
                flood: Flood::UnreadAnswers,
            })
    }

    /// How the connection ended, given that the host took nothing we wrote
    /// for the stall timeout.
    pub fn stalled(&self) -> DisconnectReason {
        if self.quitting {
            DisconnectReason::Left
        } else {
            DisconnectReason::TimedOut
        }
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
        fold_case(nick) == fold_case(&self.conversation.nick)
    }

    fn is_our_room(&self, room: &str) -> bool {
        fold_case(room) == fold_case(&self.conversation.room)
    }

    fn emit(&self, event: Event) -> Result<(), End> {
        self.events.emit(event)
    }

    /// Whether events wait for the window: read nothing more until it
    /// has taken them.
    pub fn events_backed_up(&self) -> bool {
        self.events.is_backed_up()
    }

    pub fn on_message(&mut self, message: Message) -> Result<(), End> {
        let Some(message) = self.batches.take(message) else {
            return Ok(()); // kept for its history batch
        };
        if message.command != numeric::RPL_TOPICWHOTIME {
            self.flush_topic(None)?;
        }
        if let Some(reply) = Reply::read(&message) {
            return self.on_reply(reply);
        }
        if !is_well_formed(&message) {
            log::debug!("ignoring malformed {message}");
            return Ok(());
        }
        let source = message.source_nick().map(str::to_owned);
        let meta = history::stamps(&message);
        let token = message
            .tags
            .as_deref()
            .and_then(|raw| tags::find(raw, TOKEN_TAG));
        let typing = message.tags.as_deref().and_then(typing_state);
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
            "CAP" => {
                let _me = next();
                let verb = next();
                let rest: Vec<String> = std::iter::from_fn(|| params.next()).collect();
                self.cap(&verb, &rest);
            }
            "BATCH" => {
                let reference = next();
                if let Some(started) = reference.strip_prefix('+') {
                    if next() == "chathistory" {
                        self.batches.open(started);
                    }
                } else if let Some(lines) = reference
                    .strip_prefix('-')
                    .and_then(|ended| self.batches.close(ended))
                {
                    self.history_arrived(lines)?;
                }
            }
            "FAIL" => {
                let about = next();
                let rest: Vec<String> = std::iter::from_fn(|| params.next()).collect();
                if about == "CHATHISTORY" && self.catch_up.is_some() {
                    log::info!("the server has no history for us: {rest:?}");
                    self.catch_up = None;
                    self.flush_outbox()?;
                } else if let Some(text) = rest.last() {
                    self.emit(Event::ServerError { text: text.clone() })?;
                }
            }
            "JOIN" => self.joined(source.unwrap_or_default(), next())?,
            "PART" => {
                let room = next();
                let reason = Some(next()).filter(|r| !r.is_empty());
                let nick = source.unwrap_or_default();
                if self.is_our_room(&room) {
                    self.modes.left(&nick);
                }
                self.emit(Event::Parted { nick, room, reason })?;
            }
            "KICK" => {
                let room = next();
                let nick = next();
                let reason = Some(next()).filter(|r| !r.is_empty());
                let by = source.unwrap_or_default();
                if self.is_me(&nick) && self.is_our_room(&room) {
                    // Coming back is the person's choice, not the session's.
                    self.conversation.beyond_reconnect = true;
                    self.quit(None);
                    return Err(End(DisconnectReason::Kicked { by, reason }));
                }
                if self.is_our_room(&room) {
                    self.modes.left(&nick);
                }
                self.emit(Event::Kicked {
                    nick,
                    room,
                    by,
                    reason,
                })?;
            }
            "QUIT" => {
                let reason = Some(next()).filter(|r| !r.is_empty());
                let nick = source.unwrap_or_default();
                self.nick_freed(&nick);
                self.modes.left(&nick);
                self.emit(Event::Quit { nick, reason })?;
            }
            "NICK" => {
                let new = next();
                let old = source.unwrap_or_default();
                let own = self.is_me(&old);
                self.modes.renamed(&old, &new);
                if own {
                    self.conversation.nick.clone_from(&new);
                } else {
                    self.nick_freed(&old);
                }
                self.emit(Event::NickChanged { old, new, own })?;
            }
            "AWAY" => {
                let nick = source.unwrap_or_default();
                let reason = Some(next()).filter(|r| !r.is_empty());
                let own = self.is_me(&nick);
                let presence = match reason {
                    Some(reason) => Presence::Away {
                        reason: Some(reason),
                    },
                    None => Presence::Here,
                };
                self.emit(Event::Away {
                    nick,
                    presence,
                    own,
                })?;
            }
            "MODE" => {
                let room = next();
                let modes = next();
                let args: Vec<String> = std::iter::from_fn(|| params.next()).collect();
                if self.is_our_room(&room) {
                    self.mode_changed(room, &modes, &args, source)?;
                }
            }
            "TAGMSG" => {
                let nick = source.unwrap_or_default();
                let target = next();
                // Our own echo (echo-message) tells us nothing.
                if let Some(state) = typing.filter(|_| !self.is_me(&nick)) {
                    self.emit(Event::Typing {
                        nick,
                        target,
                        state,
                    })?;
                }
            }
            "PRIVMSG" => {
                let (target, text) = (next(), next());
                let from = source.unwrap_or_default();
                self.privmsg(from, target, text, meta, token)?;
            }
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
                if self.is_our_room(&room) {
                    self.saw(&meta);
                }
                self.emit(Event::Topic {
                    room,
                    topic,
                    set_by: source,
                })?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A numeric reply, read by [`Reply::read`].
    fn on_reply(&mut self, reply: Reply) -> Result<(), End> {
        let registering = matches!(self.phase, Phase::Registering { .. });
        match reply {
            Reply::Welcome { nick } if registering => self.welcomed(nick)?,
            Reply::Welcome { .. } => {}
            Reply::ISupport { tokens } => self.isupport(&tokens),
            Reply::NickRefused { refusal, .. } if registering => self.retry_nick(refusal)?,
            Reply::NickRefused { refusal, rest } => {
                let code = match refusal {
                    NickRefusal::InUse => numeric::ERR_NICKNAMEINUSE,
                    NickRefusal::Erroneous => numeric::ERR_ERRONEUSNICKNAME,
                    NickRefusal::Unavailable => numeric::ERR_UNAVAILRESOURCE,
                };
                self.server_error(code, rest)?;
            }
            Reply::PasswordMismatch => return Err(End(DisconnectReason::WrongPassword)),
            Reply::Away { nick, reason } => {
                if let Some(whois) = self
                    .whois
                    .as_mut()
                    .filter(|w| fold_case(&w.nick) == fold_case(&nick))
                {
                    whois.away = Some(reason.clone());
                }
                self.emit(Event::Away {
                    nick,
                    presence: Presence::Away {
                        reason: Some(reason).filter(|r| !r.is_empty()),
                    },
                    own: false,
                })?;
            }
            Reply::UnAway | Reply::NowAway => {
                let presence = if reply == Reply::NowAway {
                    Presence::Away {
                        reason: self.conversation.away.clone(),
                    }
                } else {
                    Presence::Here
                };
                self.emit(Event::Away {
                    nick: self.conversation.nick.clone(),
                    presence,
                    own: true,
                })?;
            }
            Reply::WhoEntry { nick, flags, .. } => {
                let gone = flags.starts_with('G');
                if gone && !self.is_me(&nick) {
                    let presence = Presence::Away { reason: None };
                    let own = false;
                    self.emit(Event::Away {
                        nick,
                        presence,
                        own,
                    })?;
                }
            }
            Reply::Topic { room, topic } => self.pending_topic = Some((room, topic)),
            Reply::TopicWhoTime { setter } => {
                let nick = setter.split(['!', '@']).next().unwrap_or_default();
                self.flush_topic(Some(nick.to_owned()))?;
            }
            Reply::Names { names } if self.names_wanted => {
                for name in names.split(' ').filter(|n| !n.is_empty()) {
                    if self.names.len() == MAX_COLLECTED_NAMES {
                        self.quit(None);
                        let limit = MAX_COLLECTED_NAMES;
                        let flood = Flood::Members { limit };
                        return Err(End(DisconnectReason::HostFlooded { flood }));
                    }
                    let (nick, modes) = self.modes.names_entry(name);
                    self.names.push((nick.to_owned(), modes));
                }
            }
            Reply::Names { .. } => {}
            Reply::EndOfNames { room } => {
                let names = std::mem::take(&mut self.names);
                if self.names_wanted && self.is_our_room(&room) {
                    self.names_wanted = false;
                    let nicks = names.iter().map(|(nick, _)| nick.clone()).collect();
                    let ranks = self.modes.replace_members(names);
                    self.emit(Event::Members { room, nicks, ranks })?;
                }
            }
            Reply::ChannelModes { room, modes, args } if self.is_our_room(&room) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.modes.room_modes_are(&modes, &args);
                let modes = self.modes.room().clone();
                self.emit(Event::RoomModes {
                    room,
                    modes,
                    by: None,
                })?;
            }
            Reply::ChannelModes { .. } | Reply::NoMotd => {}
            Reply::WhoisUser {
                nick,
                user,
                host,
                realname,
            } => {
                let whois = self.whois_of(&nick);
                whois.address = Some(format!("{user}@{host}"));
                whois.realname = Some(realname).filter(|r| !r.is_empty());
            }
            Reply::WhoisServer { nick, server, .. } => self.whois_of(&nick).server = Some(server),
            Reply::WhoisIdle {
                nick,
                idle_secs,
                signon,
            } => {
                let whois = self.whois_of(&nick);
                whois.idle_secs = Some(idle_secs);
                whois.signon = signon;
            }
            Reply::WhoisChannels { nick, channels } => {
                let whois = self.whois_of(&nick);
                let room = MAX_WHOIS_CHANNELS.saturating_sub(whois.channels.len());
                let listed = channels.split(' ').filter(|c| !c.is_empty()).take(room);
                whois.channels.extend(listed.map(str::to_owned));
            }
            Reply::EndOfWhois { nick } => {
                if let Some(whois) = self.whois.take() {
                    if fold_case(&whois.nick) == fold_case(&nick) {
                        self.emit(Event::Whois(whois))?;
                    }
                }
            }
            Reply::Inviting { nick, room } => self.emit(Event::Invited { nick, room })?,
            Reply::Error { code, rest } if self.is_whois_of_nobody(&code, &rest) => {
                if let Some(whois) = &mut self.whois {
                    whois.unknown = true;
                }
            }
            Reply::Error { code, rest } => self.server_error(&code, rest)?,
        }
        Ok(())
    }

    fn isupport(&mut self, tokens: &[String]) {
        for token in tokens {
            self.modes.isupport(token);
            if let Some(len) = token.strip_prefix("NICKLEN=") {
                self.nick_len = len.parse().ok().or(self.nick_len);
            } else if let Some(limit) = token.strip_prefix("CHATHISTORY=") {
                // 0 means no limit: ours still holds.
                let limit = limit.parse().unwrap_or(MAX_BATCH_LINES);
                self.history_limit = if limit == 0 {
                    MAX_BATCH_LINES
                } else {
                    limit.min(MAX_BATCH_LINES)
                };
            }
        }
    }

    /// The WHOIS answer under way for `nick`; a reply about someone else
    /// starts a new one (the server answers one WHOIS at a time).
    fn whois_of(&mut self, nick: &str) -> &mut WhoisInfo {
        let same = |w: &WhoisInfo| fold_case(&w.nick) == fold_case(nick);
        if !self.whois.as_ref().is_some_and(same) {
            self.whois = Some(WhoisInfo {
                nick: nick.to_owned(),
                ..WhoisInfo::default()
            });
        }
        self.whois.get_or_insert_with(WhoisInfo::default)
    }

    /// A 401 answering the WHOIS under way: part of its answer, not an error.
    fn is_whois_of_nobody(&self, code: &str, rest: &[String]) -> bool {
        code == numeric::ERR_NOSUCHNICK
            && self
                .whois
                .as_ref()
                .zip(rest.first())
                .is_some_and(|(w, nick)| fold_case(&w.nick) == fold_case(nick))
    }

    /// A MODE line on our room: ranks and the room's modes as it changes them.
    fn mode_changed(
        &mut self,
        room: String,
        modes: &str,
        args: &[String],
        by: Option<String>,
    ) -> Result<(), End> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let changed = self.modes.apply(modes, &args);
        for (nick, rank) in changed.ranks {
            self.emit(Event::MemberRank {
                room: room.clone(),
                nick,
                rank,
                by: by.clone(),
            })?;
        }
        for (mask, banned) in changed.bans {
            self.emit(Event::Ban {
                room: room.clone(),
                mask,
                banned,
                by: by.clone(),
            })?;
        }
        if changed.room {
            let modes = self.modes.room().clone();
            self.emit(Event::RoomModes { room, modes, by })?;
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

    /// CAP LS (maybe over several lines), ACK or NAK during registration.
    fn cap(&mut self, verb: &str, rest: &[String]) {
        match verb {
            "LS" => {
                // `CAP * LS * :list` means more lines follow (CAP 302).
                let more = rest.len() > 1 && rest[0] == "*";
                if let Some(list) = rest.last() {
                    let room = caps::MAX_LISTED.saturating_sub(self.cap_list.len());
                    let words = list.split(' ').filter(|w| !w.is_empty()).take(room);
                    self.cap_list.extend(words.map(str::to_owned));
                }
                if more {
                    return;
                }
                let wanted = caps::request_for(&std::mem::take(&mut self.cap_list));
                if wanted.is_empty() {
                    self.send_new("CAP", ["END"]);
                } else {
                    self.send_new("CAP", ["REQ", wanted.join(" ").as_str()]);
                }
            }
            "ACK" => {
                self.caps = caps::granted(rest.last().map_or("", String::as_str));
                self.send_new("CAP", ["END"]);
            }
            "NAK" => self.send_new("CAP", ["END"]),
            _ => {}
        }
    }

    fn welcomed(&mut self, nick: String) -> Result<(), End> {
        let before = self.conversation.nick.clone();
        if !nick.is_empty() && nick != "*" {
            self.conversation.nick = nick;
        }
        self.phase = Phase::Joining;
        if self.conversation.nick != self.requested_nick {
            if self.conversation.joined_before {
                // Our old connection may still hold it: take it back when it goes.
                self.reclaim = Some(self.requested_nick.clone());
            }
            self.emit(Event::NickInUse {
                requested: self.requested_nick.clone(),
                using: self.conversation.nick.clone(),
            })?;
        }
        log::debug!(
            "registered as {} (asked for {before})",
            self.conversation.nick
        );
        if let Some(reason) = self.conversation.away.clone() {
            // Still away from before a reconnect.
            self.send_new("AWAY", [reason.as_str()]);
        }
        let room = self.conversation.room.clone();
        self.send_new("JOIN", [room.as_str()]);
        Ok(())
    }

    /// Someone left or renamed: if it was the ghost of our old connection,
    /// our nick is free again.
    fn nick_freed(&mut self, nick: &str) {
        let freed = self
            .reclaim
            .as_ref()
            .is_some_and(|wanted| fold_case(wanted) == fold_case(nick));
        if freed {
            if let Some(wanted) = self.reclaim.take() {
                self.send_new("NICK", [wanted.as_str()]);
            }
        }
    }

    fn retry_nick(&mut self, refusal: NickRefusal) -> Result<(), End> {
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
            self.conversation.beyond_reconnect = true;
            self.quit(None);
            return Err(End(DisconnectReason::HostClosed { message: None }));
        }
        let erroneous = refusal == NickRefusal::Erroneous;
        if erroneous {
            *base = sanitize_nick(base);
            // Refused and longer than RFC 2812's nine: assume that is the limit
            // (registration errors come before the server's ISUPPORT).
            if self.conversation.nick.len() > RFC_NICK_LEN {
                self.nick_len = Some(self.nick_len.map_or(RFC_NICK_LEN, |n| n.min(RFC_NICK_LEN)));
            }
        }
        let max_len = self
            .nick_len
            .unwrap_or_else(|| RFC_NICK_LEN.max(self.requested_nick.len()));
        let cleaned = truncate_utf8(base, max_len);
        let next = if erroneous && cleaned != self.conversation.nick {
            // The cleaned-up, shortened nick has not been tried yet.
            cleaned.to_owned()
        } else {
            *suffix += 1;
            alternative_nick(base, *suffix, max_len)
        };
        self.send_new("NICK", [next.as_str()]);
        self.conversation.nick = next;
        Ok(())
    }

    fn joined(&mut self, nick: String, room: String) -> Result<(), End> {
        let own = self.is_me(&nick);
        if own && self.is_our_room(&room) && self.phase != Phase::Joined {
            self.phase = Phase::Joined;
            self.names_wanted = true;
            // The server's spelling of the room is the one to show.
            self.conversation.room.clone_from(&room);
            self.emit(Event::Connected {
                server: self.server.clone(),
                nick: self.conversation.nick.clone(),
                room: room.clone(),
            })?;
            self.emit(Event::Joined { nick, room, own })?;
            let rejoined = self.conversation.joined_before;
            self.conversation.joined_before = true;
            // The room's modes, for Room Details (answered by 324).
            self.send_new("MODE", [self.conversation.room.as_str()]);
            if self.caps.away_notify {
                // away-notify tells what changes; WHO tells who is away now.
                let room = self.conversation.room.clone();
                self.send_new("WHO", [room.as_str()]);
            }
            for command in std::mem::take(&mut self.queued) {
                self.on_command(command);
            }
            self.start_catch_up(rejoined);
            return self.flush_outbox();
        }
        self.emit(Event::Joined { nick, room, own })
    }

    /// Asks for the room's latest lines (first join) or for what we missed
    /// (rejoin), when the server keeps history.
    fn start_catch_up(&mut self, rejoined: bool) {
        if !self.caps.history() {
            return;
        }
        let room = self.conversation.room.clone();
        let (kind, request) = match (&self.conversation.last_seen, rejoined) {
            (Some(seen), true) => (HistoryKind::Missed, ("AFTER", seen.reference())),
            (None, true) => (HistoryKind::Missed, ("LATEST", "*".to_owned())),
            (_, false) => (HistoryKind::Earlier, ("LATEST", "*".to_owned())),
        };
        let limit = match kind {
            HistoryKind::Earlier => EARLIER_LINES.min(self.history_limit),
            HistoryKind::Missed => self.history_limit,
        };
        let (subcommand, reference) = request;
        let count = limit.to_string();
        self.send_new(
            "CHATHISTORY",
            [
                subcommand,
                room.as_str(),
                reference.as_str(),
                count.as_str(),
            ],
        );
        self.catch_up = Some(CatchUp {
            kind,
            deadline: Instant::now() + self.catch_up_wait,
            pages_left: MAX_MISSED_PAGES - 1,
            limit,
        });
    }

    /// A history batch ended: our own lines in it have arrived; the others
    /// go to the window in one event.
    fn history_arrived(&mut self, lines: Vec<Message>) -> Result<(), End> {
        let received = lines.len();
        let mut shown = Vec::with_capacity(received);
        let room = self.conversation.room.clone();
        for line in lines {
            let meta = history::stamps(&line);
            let token = line
                .tags
                .as_deref()
                .and_then(|raw| tags::find(raw, TOKEN_TAG));
            if line.param(0).is_some_and(|target| self.is_our_room(target)) {
                self.saw(&meta);
            }
            if let Some(token) = token.filter(|t| self.conversation.outbox.is_ours(t)) {
                if let Some(outbox_id) = self.conversation.outbox.arrived(&token) {
                    self.emit(Event::Delivered { outbox_id })?;
                }
                continue;
            }
            let from = line.source_nick().unwrap_or_default().to_owned();
            let own = self.is_me(&from);
            let (Some(target), Some(text)) = (line.param(0), line.param(1)) else {
                continue;
            };
            let (target, text) = (target.to_owned(), text.to_owned());
            let event = match line.command.as_str() {
                "PRIVMSG" => chat_event(from, target, text, own, meta),
                "TOPIC" => Some(Event::Topic {
                    room: target,
                    topic: text,
                    set_by: Some(from),
                }),
                _ => None,
            };
            shown.extend(event);
        }
        let Some(catch_up) = self.catch_up.take() else {
            // History we did not ask for now (a late answer): still worth showing.
            return self.emit_history(room, HistoryKind::Missed, shown);
        };
        let kind = catch_up.kind;
        self.emit_history(room.clone(), kind, shown)?;
        let more =
            kind == HistoryKind::Missed && received >= catch_up.limit && catch_up.pages_left > 0;
        if let (true, Some(seen)) = (more, self.conversation.last_seen.clone()) {
            let (reference, count) = (seen.reference(), catch_up.limit.to_string());
            self.send_new(
                "CHATHISTORY",
                ["AFTER", room.as_str(), reference.as_str(), count.as_str()],
            );
            self.catch_up = Some(CatchUp {
                pages_left: catch_up.pages_left - 1,
                deadline: Instant::now() + self.catch_up_wait,
                ..catch_up
            });
            return Ok(());
        }
        self.flush_outbox()
    }

    fn emit_history(&self, room: String, kind: HistoryKind, lines: Vec<Event>) -> Result<(), End> {
        if lines.is_empty() {
            return Ok(());
        }
        self.emit(Event::History { room, kind, lines })
    }

    /// Remembers the newest line of the room seen, for a later catch-up.
    fn saw(&mut self, meta: &LineMeta) {
        let seen = match (&meta.msgid, meta.time_ms) {
            (Some(id), _) => Seen::MsgId(id.clone()),
            (None, Some(ms)) => Seen::Time(ms),
            (None, None) => return,
        };
        self.conversation.last_seen = Some(seen);
    }

    /// Writes the person's waiting lines, once in the room and, after a
    /// reconnect, caught up (a line written before the break may be in what
    /// we missed). On a first join nothing was written before: no waiting.
    fn flush_outbox(&mut self) -> Result<(), End> {
        let catching_up = self
            .catch_up
            .as_ref()
            .is_some_and(|c| c.kind == HistoryKind::Missed);
        if self.phase != Phase::Joined || catching_up {
            return Ok(());
        }
        let tagged = self.caps.confirms_delivery();
        for piece in self.conversation.outbox.take_waiting() {
            let mut message = Message::new("PRIVMSG", [piece.target.as_str(), piece.text.as_str()]);
            if tagged {
                message.tags = Some(tags::build([(TOKEN_TAG, piece.token.as_str())], ""));
            }
            self.wire.paced(&message);
        }
        if !tagged {
            for outbox_id in self.conversation.outbox.written_is_arrived() {
                self.emit(Event::Delivered { outbox_id })?;
            }
        }
        Ok(())
    }

    fn privmsg(
        &mut self,
        from: String,
        target: String,
        text: String,
        meta: LineMeta,
        token: Option<String>,
    ) -> Result<(), End> {
        if self.is_our_room(&target) {
            self.saw(&meta);
        }
        let own = self.is_me(&from);
        if own {
            // The echo of one of our lines: it has arrived.
            if let Some(token) = token.filter(|t| self.conversation.outbox.is_ours(t)) {
                return match self.conversation.outbox.arrived(&token) {
                    Some(outbox_id) => self.emit(Event::Delivered { outbox_id }),
                    None => Ok(()),
                };
            }
        }
        match chat_event(from, target, text, own, meta) {
            Some(event) => self.emit(event),
            None => Ok(()),
        }
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
            self.conversation.beyond_reconnect = true;
            self.quit(None);
            if code == numeric::ERR_BANNEDFROMCHAN {
                return Err(End(DisconnectReason::Banned));
            }
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
        let result = match command {
            Command::SendMessage { text } => self.keep(None, &text, false),
            Command::SendAction { to, text } => self.keep(to.as_deref(), &text, true),
            Command::SendPrivate { nick, text } => self.keep(Some(&nick), &text, false),
            Command::SendTyping { target, state } => {
                self.typing(&target, state);
                Ok(())
            }
            command if self.phase != Phase::Joined && !matches!(command, Command::Leave { .. }) => {
                if self.queued.len() < MAX_QUEUED_COMMANDS {
                    self.queued.push(command);
                }
                Ok(())
            }
            Command::ChangeNick { nick } => {
                self.send_chat("NICK", [nick.trim()]);
                Ok(())
            }
            Command::SetTopic { topic } => {
                self.send_chat("TOPIC", [self.conversation.room.as_str(), topic.as_str()]);
                Ok(())
            }
            Command::SetAway { reason } => {
                // "AWAY :" reason CRLF in one line; servers cut it further (AWAYLEN).
                let budget = MAX_LINE_BYTES - "AWAY :\r\n".len();
                let reason = reason
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| truncate_utf8(&r, budget).to_owned());
                match &reason {
                    Some(reason) => self.send_chat("AWAY", [reason.as_str()]),
                    None => self.send_chat("AWAY", []),
                }
                self.conversation.away = reason;
                Ok(())
            }
            Command::Leave { message } => {
                self.quit(message);
                Ok(())
            }
            Command::Whois { nick } => {
                self.whois = Some(WhoisInfo {
                    nick: nick.trim().to_owned(),
                    ..WhoisInfo::default()
                });
                self.send_chat("WHOIS", [nick.trim()]);
                Ok(())
            }
            command => {
                self.operate(command);
                Ok(())
            }
        };
        if result.is_err() {
            // The window is gone: nobody to chat for.
            self.quit(None);
        }
    }

    /// What an operator does to the room and its members.
    fn operate(&mut self, command: Command) {
        let room = self.conversation.room.clone();
        let room = room.as_str();
        match command {
            Command::Kick { nick, reason } => match reason.filter(|r| !r.trim().is_empty()) {
                Some(reason) => self.send_chat("KICK", [room, nick.trim(), reason.as_str()]),
                None => self.send_chat("KICK", [room, nick.trim()]),
            },
            Command::Ban { nick } => {
                let mask = format!("{}!*@*", nick.trim());
                self.send_chat("MODE", [room, "+b", mask.as_str()]);
                self.send_chat("KICK", [room, nick.trim()]);
            }
            Command::SetMemberMode { nick, mode, on } => {
                let change = format!("{}{}", if on { '+' } else { '-' }, mode.letter());
                self.send_chat("MODE", [room, change.as_str(), nick.trim()]);
            }
            Command::Invite { nick } => self.send_chat("INVITE", [nick.trim(), room]),
            Command::SetRoomMode(change) => {
                let flag =
                    |on: bool, letter: char| format!("{}{letter}", if on { '+' } else { '-' });
                match change {
                    RoomModeChange::TopicLocked(on) => {
                        self.send_chat("MODE", [room, &flag(on, 't')])
                    }
                    RoomModeChange::Moderated(on) => self.send_chat("MODE", [room, &flag(on, 'm')]),
                    RoomModeChange::InviteOnly(on) => {
                        self.send_chat("MODE", [room, &flag(on, 'i')])
                    }
                    RoomModeChange::Key(Some(key)) => {
                        self.send_chat("MODE", [room, "+k", key.trim()])
                    }
                    // Servers want the key back to unset it; those that do
                    // not check take any.
                    RoomModeChange::Key(None) => {
                        let key = self.modes.room().key.clone().unwrap_or_else(|| "*".into());
                        self.send_chat("MODE", [room, "-k", key.as_str()]);
                    }
                    RoomModeChange::Limit(Some(limit)) => {
                        self.send_chat("MODE", [room, "+l", limit.to_string().as_str()]);
                    }
                    RoomModeChange::Limit(None) => self.send_chat("MODE", [room, "-l"]),
                }
            }
            Command::RawMode { args } => {
                let params =
                    std::iter::once(room).chain(args.split_whitespace().take(MAX_MODE_ARGS));
                self.wire.paced(&Message::new("MODE", params));
            }
            other => log::debug!("not a session command: {other:?}"),
        }
    }

    /// `TAGMSG target` with the typing tag: only in the room, only to a
    /// server that relays tags, and only when nothing else waits to be
    /// written (never queued).
    fn typing(&self, target: &str, state: TypingState) {
        let target = target.trim();
        // One channel or nick: no lists, nothing that would not fit a line.
        let one_target = !target.is_empty()
            && target.len() <= MAX_TYPING_TARGET_BYTES
            && !target.contains([' ', ',']);
        if self.phase != Phase::Joined || !self.caps.message_tags || !one_target {
            return;
        }
        let value = match state {
            TypingState::Active => "active",
            TypingState::Paused => "paused",
            TypingState::Done => "done",
        };
        let mut message = Message::new("TAGMSG", [target]);
        message.tags = Some(tags::build([(TYPING_TAG, value)], ""));
        if !self.wire.ephemeral(&message) {
            log::debug!("typing notification dropped: the connection is busy");
        }
    }

    /// The person's lines go through the outbox: shown at once as on their
    /// way, written once we are in the room and caught up.
    fn keep(&mut self, to: Option<&str>, text: &str, action: bool) -> Result<(), End> {
        self.conversation.keep(&self.events, to, text, action)?;
        self.flush_outbox()
    }
}

/// A PRIVMSG as the window shows it: a message, an action, or nothing
/// (other CTCP queries such as VERSION are not chat).
fn chat_event(
    from: String,
    target: String,
    text: String,
    own: bool,
    meta: LineMeta,
) -> Option<Event> {
    let private = !is_channel_name(&target);
    if let Some(action) = ctcp::action_text(&text) {
        let text = action.to_owned();
        return Some(Event::Action {
            from,
            target,
            text,
            own,
            meta,
        });
    }
    if text.starts_with('\u{1}') {
        return None;
    }
    Some(Event::Message {
        from,
        target,
        text,
        own,
        private,
        meta,
    })
}

/// The typing state a TAGMSG's tags carry, if any (unknown values are none).
fn typing_state(raw: &str) -> Option<TypingState> {
    let value = tags::find(raw, TYPING_TAG).or_else(|| tags::find(raw, DRAFT_TYPING_TAG))?;
    match value.as_str() {
        "active" => Some(TypingState::Active),
        "paused" => Some(TypingState::Paused),
        "done" => Some(TypingState::Done),
        _ => None,
    }
}

/// Whether `message` has what its command needs: a sender for what people
/// do, and the parameters we read.
fn is_well_formed(message: &Message) -> bool {
    let (needs_source, params) = match message.command.as_str() {
        "PRIVMSG" | "KICK" | "TOPIC" => (true, 2),
        "JOIN" | "PART" | "NICK" | "TAGMSG" => (true, 1),
        "QUIT" | "AWAY" => (true, 0),
        "NOTICE" | "MODE" => (false, 2),
        _ => (false, 0),
    };
    message.params.len() >= params
        && (!needs_source || message.source_nick().is_some_and(|n| !n.is_empty()))
}
