//! Who is connected, under which nickname, in which channels — and relaying
//! what happens to everyone concerned.
//!
//! One `std::sync::Mutex` guards it all. It is held only for map look-ups and
//! non-blocking appends to bounded queues, never across an `.await` or a
//! socket write, so a slow client can never stall it. A relayed line is
//! serialised once per style (IRC or plain text) and copied into every
//! recipient's queue.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::bans::{self, Ban, BanError, BanList};
use super::caps::Caps;
use super::history::{History, LineCommand, StoredLine};
use super::irc::pack_spaced;
use super::memberships::Memberships;
use super::modes::{ModeProblem, Modes, Rank};
use super::plain;
use super::send_queue::{Backlog, SendQueue};
use crate::protocol::{
    fold_case, is_valid_nick, tags, time, truncate_utf8, Message, ModeChange, MAX_LINE_BYTES,
};

/// Channels one client may be in (advertised as `CHANLIMIT` in 005).
pub const MAX_CHANNELS_PER_CLIENT: usize = 20;
/// Longest topic, PART, QUIT or AWAY reason kept (advertised as `TOPICLEN`
/// and `AWAYLEN`), so the relayed line with the longest prefix still fits
/// in 512 bytes.
pub const MAX_REASON_BYTES: usize = 300;
/// Mode changes one MODE line may make (advertised as `MODES`): with the
/// longest parameters the announced line still fits in 512 bytes.
pub const MAX_MODE_CHANGES: usize = 4;
/// Gone nicknames WHOWAS remembers, newest first.
const MAX_WHOWAS: usize = 200;
/// Pending invitations one channel keeps; the oldest go first.
const MAX_INVITES: usize = 100;

pub(super) type ClientId = u64;

/// How a client wants to read what happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Irc,
    Plain,
}

/// Who someone is on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    pub nick: String,
    pub user: String,
    pub host: String,
    pub realname: String,
}

impl Identity {
    /// `nick!user@host`, the source of everything this client does.
    pub fn prefix(&self) -> String {
        format!("{}!{}@{}", self.nick, self.user, self.host)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Topic {
    pub text: String,
    /// `nick!user@host` of who set it.
    pub set_by: String,
    /// Seconds since the Unix epoch.
    pub set_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MessageKind {
    Privmsg,
    Notice,
}

impl MessageKind {
    pub fn command(self) -> &'static str {
        match self {
            MessageKind::Privmsg => "PRIVMSG",
            MessageKind::Notice => "NOTICE",
        }
    }

    fn stored(self) -> LineCommand {
        match self {
            MessageKind::Privmsg => LineCommand::Privmsg,
            MessageKind::Notice => LineCommand::Notice,
        }
    }
}

/// Client-only tags longer than this are relayed but not kept in history:
/// a hostile client must not fill the disk with tags.
const MAX_STORED_CLIENT_TAGS: usize = 512;

/// What IRCv3 clients learn about a line beside its text: when the host
/// relayed it, its id (chat lines and topics only) and the client-only tags
/// it came with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stamp<'a> {
    pub msgid: Option<u64>,
    pub time_ms: i64,
    pub client_tags: &'a str,
}

impl Stamp<'_> {
    /// A line with no id, stamped now.
    fn now() -> Stamp<'static> {
        Stamp {
            msgid: None,
            time_ms: time::now_ms(),
            client_tags: "",
        }
    }

    /// The tag section a client with `caps` is shown (`None`: no tags).
    pub fn tags_for(&self, caps: Caps) -> Option<String> {
        if caps.has(Caps::MESSAGE_TAGS) {
            let time = time::format_ms(self.time_ms);
            let msgid = self.msgid.map(|id| id.to_string());
            let pairs = std::iter::once(("time", time.as_str()))
                .chain(msgid.as_deref().map(|id| ("msgid", id)));
            Some(tags::build(pairs, self.client_tags))
        } else if caps.has(Caps::SERVER_TIME) {
            Some(tags::build(
                [("time", time::format_ms(self.time_ms).as_str())],
                "",
            ))
        } else {
            None
        }
    }
}

/// Which of the three IRC forms of a line a client reads.
fn tag_level(caps: Caps) -> usize {
    if caps.has(Caps::MESSAGE_TAGS) {
        2
    } else if caps.has(Caps::SERVER_TIME) {
        1
    } else {
        0
    }
}

/// Why someone left the host, as those who shared a channel are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Departure<'a> {
    /// QUIT, with the client's own words (none from a connection too young
    /// to have its words relayed).
    Quit(Option<&'a str>),
    HostClosing,
    SendQueueFull,
    StoppedReading,
    PingTimeout,
    ConnectionClosed,
}

impl Departure<'_> {
    /// What ended a connection the client did not end itself, in the
    /// words IRC servers use (both styles show them); `None` for a QUIT.
    pub fn cause(self) -> Option<&'static str> {
        match self {
            Departure::Quit(_) => None,
            Departure::HostClosing => Some("Host is closing the room"),
            Departure::SendQueueFull => Some("Send queue full"),
            Departure::StoppedReading => Some("Stopped reading"),
            Departure::PingTimeout => Some("Ping timeout"),
            Departure::ConnectionClosed => Some("Connection closed"),
        }
    }
}

/// Something a client did that others are told about.
#[derive(Debug, Clone, Copy)]
pub(super) enum Happening<'a> {
    Joined {
        channel: &'a str,
    },
    Left {
        channel: &'a str,
        reason: Option<&'a str>,
    },
    Quit {
        why: Departure<'a>,
    },
    Renamed {
        new: &'a str,
    },
    Said {
        kind: MessageKind,
        target: &'a str,
        text: &'a str,
    },
    TopicSet {
        channel: &'a str,
        text: &'a str,
    },
    /// Marked away (`Some` reason) or back (IRCv3 `away-notify`).
    Away {
        reason: Option<&'a str>,
    },
    /// A TAGMSG: client-only tags (typing…) and no text.
    Tagged {
        target: &'a str,
    },
    /// Put out of a channel by an operator.
    Kicked {
        channel: &'a str,
        target: &'a str,
        reason: &'a str,
    },
    /// Channel modes changed: `changes` as one mode string (`+o-v`) and
    /// its parameters in order.
    ModesChanged {
        channel: &'a str,
        changes: &'a str,
        params: &'a [String],
    },
    /// Asked to join a channel (only the invitee is told).
    Invited {
        target: &'a str,
        channel: &'a str,
    },
}

impl Happening<'_> {
    fn to_message(self) -> Message {
        match self {
            Happening::Joined { channel } => Message::new("JOIN", [channel]),
            Happening::Left { channel, reason } => {
                Message::new("PART", [Some(channel), reason].into_iter().flatten())
            }
            Happening::Quit { why } => match why {
                Departure::Quit(Some(words)) => Message::new("QUIT", [format!("Quit: {words}")]),
                Departure::Quit(None) => Message::new("QUIT", ["Quit"]),
                _ => Message::new("QUIT", [why.cause().unwrap_or_default()]),
            },
            Happening::Renamed { new } => Message::new("NICK", [new]),
            Happening::Said { kind, target, text } => Message::new(kind.command(), [target, text]),
            Happening::TopicSet { channel, text } => Message::new("TOPIC", [channel, text]),
            Happening::Away { reason } => Message::new("AWAY", reason),
            Happening::Tagged { target } => Message::new("TAGMSG", [target]),
            Happening::Kicked {
                channel,
                target,
                reason,
            } => Message::new("KICK", [channel, target, reason]),
            Happening::ModesChanged {
                channel,
                changes,
                params,
            } => Message::new(
                "MODE",
                [channel, changes]
                    .into_iter()
                    .chain(params.iter().map(String::as_str)),
            ),
            Happening::Invited { target, channel } => Message::new("INVITE", [target, channel]),
        }
    }
}

/// Who a relayed line comes from: a client, or the host itself (the
/// operator status the host gives its own person).
#[derive(Debug, Clone, Copy)]
pub(super) enum Source<'a> {
    Client(&'a Identity),
    Server(&'a str),
}

impl Source<'_> {
    fn prefix(self) -> String {
        match self {
            Source::Client(identity) => identity.prefix(),
            Source::Server(name) => name.to_owned(),
        }
    }

    /// How a plain-text user is shown who did it.
    fn name(&self) -> &str {
        match self {
            Source::Client(identity) => &identity.nick,
            Source::Server(name) => name,
        }
    }
}

/// One happening on its way to its recipients, serialised at most once per
/// form (plain sentence, or IRC with no tags, server-time or all tags), on
/// first need.
struct Delivery<'a> {
    backlog: &'a Backlog,
    /// Bytes queued so far, told to `backlog` once at the end.
    queued: usize,
    source: Source<'a>,
    happening: Happening<'a>,
    stamp: Stamp<'a>,
    room: &'a str,
    /// By [`tag_level`].
    irc: [Option<Vec<u8>>; 3],
    plain: Option<Option<Vec<u8>>>,
}

impl<'a> Delivery<'a> {
    fn new(hub: &'a Hub, source: &'a Identity, happening: Happening<'a>) -> Self {
        Self::stamped(hub, source, happening, Stamp::now())
    }

    /// A line from the host itself.
    fn from_server(hub: &'a Hub, happening: Happening<'a>) -> Self {
        Self::new_from(hub, Source::Server(&hub.server_name), happening)
    }

    fn new_from(hub: &'a Hub, source: Source<'a>, happening: Happening<'a>) -> Self {
        Delivery {
            backlog: &hub.backlog,
            queued: 0,
            room: &hub.room,
            source,
            happening,
            stamp: Stamp::now(),
            irc: [None, None, None],
            plain: None,
        }
    }

    fn stamped(
        hub: &'a Hub,
        source: &'a Identity,
        happening: Happening<'a>,
        stamp: Stamp<'a>,
    ) -> Self {
        let mut delivery = Self::new_from(hub, Source::Client(source), happening);
        delivery.stamp = stamp;
        delivery
    }

    fn send_to(&mut self, recipient: &Recipient) {
        let line = match recipient.style {
            Style::Irc => {
                let (happening, source, stamp) = (self.happening, self.source, self.stamp);
                Some(
                    &*self.irc[tag_level(recipient.caps)].get_or_insert_with(|| {
                        let mut message = happening.to_message().with_prefix(source.prefix());
                        message.tags = stamp.tags_for(recipient.caps);
                        message.to_bytes()
                    }),
                )
            }
            Style::Plain => self
                .plain
                .get_or_insert_with(|| plain::render(self.source.name(), self.happening, self.room))
                .as_ref(),
        };
        if let Some(line) = line {
            if recipient.queue.relay(line) {
                self.queued += line.len();
            }
        }
    }
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        self.backlog.add(self.queued);
    }
}

/// Where, and in which style, a client is told what happens.
#[derive(Clone)]
struct Recipient {
    style: Style,
    caps: Caps,
    queue: SendQueue,
}

impl Recipient {
    /// An IRC client that took `cap`: what only such clients may be sent
    /// (AWAY lines, TAGMSG). Plain-text users never are.
    fn takes(&self, cap: Caps) -> bool {
        self.style == Style::Irc && self.caps.has(cap)
    }
}

struct Member {
    identity: Identity,
    recipient: Recipient,
    /// Folded names of the channels this client is in.
    channels: Memberships,
    /// The away reason, while marked away.
    away: Option<String>,
    /// When it registered, and when it last said something (seconds since
    /// the Unix epoch), for WHOIS.
    signon: u64,
    last_spoke: u64,
    /// The host's own person (it proved so at registration): operator of
    /// the hosted room whenever it is in it.
    owner: bool,
}

/// A member as WHO and `/who` list them.
#[derive(Debug, Clone)]
pub(super) struct Listed {
    pub identity: Identity,
    pub away: bool,
    /// In the channel listed (none when listed by nick).
    pub rank: Rank,
}

impl Member {
    fn listed(&self, rank: Rank) -> Listed {
        Listed {
            identity: self.identity.clone(),
            away: self.away.is_some(),
            rank,
        }
    }
}

struct Channel {
    name: String,
    /// In joining order (ids only grow), each with its queue at hand so a
    /// broadcast looks nothing up.
    members: BTreeMap<ClientId, Recipient>,
    topic: Option<Topic>,
    /// Seconds since the Unix epoch (329).
    created: u64,
    modes: Modes,
    /// Operators and voiced members (the others have no entry).
    ranks: HashMap<ClientId, Rank>,
    bans: BanList,
    /// Invited to pass `+i` once, oldest first.
    invited: VecDeque<ClientId>,
    /// What NAMES says, kept between requests: in a join storm every
    /// joiner is sent the whole list, and building it anew each time was
    /// a third of the host's CPU.
    names: NamesCache,
}

/// A channel's NAMES entries (prefix symbols and nickname), packed once per
/// form asked for: highest prefix only, or all (`multi-prefix`). Each costs
/// about two bytes more than the nickname per member. A join adds its
/// entry; any other change of who is in or of their nick or rank drops
/// both forms, which the next NAMES builds again.
#[derive(Default)]
struct NamesCache {
    highest: Option<PackedNames>,
    all: Option<PackedNames>,
}

/// Entries separated by single spaces, in joining order (that of the
/// channel's members).
#[derive(Default)]
struct PackedNames {
    entries: String,
    /// How many entries `entries` holds.
    count: usize,
}

/// A member's NAMES entry: its prefix symbols (all, or the highest), then
/// its nickname.
fn names_entry(rank: Rank, nick: &str, all_prefixes: bool) -> String {
    let mut entry = rank.symbols(all_prefixes);
    entry.push_str(nick);
    entry
}

impl PackedNames {
    /// Puts `entry` in last.
    fn push(&mut self, entry: &str) {
        if self.count > 0 {
            self.entries.push(' ');
        }
        self.entries.push_str(entry);
        self.count += 1;
    }

    /// Puts `entry` in before `next` (an entry it holds), or last when
    /// there is none. False if `next` is not there, so the cache is wrong.
    fn insert(&mut self, mut entry: String, next: Option<&str>) -> bool {
        let Some(next) = next else {
            self.push(&entry);
            return true;
        };
        // A nick may be part of another's entry: only a whole one counts.
        let bytes = self.entries.as_bytes();
        let whole = |at: &usize| {
            let end = at + next.len();
            (*at == 0 || bytes[at - 1] == b' ') && bytes.get(end).is_none_or(|b| *b == b' ')
        };
        let Some(at) = self
            .entries
            .match_indices(next)
            .map(|(at, _)| at)
            .find(whole)
        else {
            return false;
        };
        entry.push(' ');
        self.entries.insert_str(at, &entry);
        self.count += 1;
        true
    }
}

impl NamesCache {
    fn form(&mut self, all_prefixes: bool) -> &mut Option<PackedNames> {
        if all_prefixes {
            &mut self.all
        } else {
            &mut self.highest
        }
    }

    /// Someone came in (`rank` and `nick`), `members` in all now, just
    /// before the member `next` (rank and nick; none: last): their entry
    /// goes into each form built so far. A form that does not hold the
    /// other members is dropped rather than trusted.
    fn joined(&mut self, members: usize, rank: Rank, nick: &str, next: Option<(Rank, &str)>) {
        for all_prefixes in [false, true] {
            let form = self.form(all_prefixes);
            let Some(packed) = form else {
                continue;
            };
            let next = next.map(|(rank, nick)| names_entry(rank, nick, all_prefixes));
            let entry = names_entry(rank, nick, all_prefixes);
            if packed.count + 1 != members || !packed.insert(entry, next.as_deref()) {
                *form = None;
            }
        }
    }

    /// Something changed that NAMES shows other than a join.
    fn forget(&mut self) {
        *self = NamesCache::default();
    }
}

/// Why someone may not join a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JoinError {
    /// Nothing to do.
    AlreadyMember,
    Banned,
    InviteOnly,
    BadKey,
    Full,
}

impl Channel {
    fn new(name: &str, modes: Modes) -> Self {
        Channel {
            name: name.to_owned(),
            members: BTreeMap::new(),
            topic: None,
            created: unix_now(),
            modes,
            ranks: HashMap::new(),
            bans: BanList::default(),
            invited: VecDeque::new(),
            names: NamesCache::default(),
        }
    }

    fn rank(&self, id: ClientId) -> Rank {
        self.ranks.get(&id).copied().unwrap_or_default()
    }

    /// Whether `id` (known as `prefix`) may send to the channel: `+n` keeps
    /// outsiders out; `+m` and bans quieten all but operators and voiced.
    fn may_speak(&self, id: ClientId, prefix: &str) -> bool {
        if !self.members.contains_key(&id) && self.modes.no_outside {
            return false;
        }
        let quieted = self.modes.moderated || self.bans.bans(prefix);
        !quieted || self.rank(id).may_speak_when_quieted()
    }

    /// Whether `id` (known as `prefix`) may come in, with `key`; uses up
    /// its invitation.
    fn admit(&mut self, id: ClientId, prefix: &str, key: Option<&str>) -> Result<(), JoinError> {
        if self.bans.bans(prefix) {
            return Err(JoinError::Banned);
        }
        let invited = self.invited.iter().position(|i| *i == id);
        if self.modes.invite_only && invited.is_none() {
            return Err(JoinError::InviteOnly);
        }
        if self.modes.key.is_some() && self.modes.key.as_deref() != key {
            return Err(JoinError::BadKey);
        }
        if self
            .modes
            .limit
            .is_some_and(|limit| self.members.len() >= limit)
        {
            return Err(JoinError::Full);
        }
        if let Some(at) = invited {
            self.invited.remove(at);
        }
        Ok(())
    }

    /// Its members' nicknames, each after its prefixes (all of them, or
    /// the highest), packed into lines of at most `width` bytes.
    fn names(&mut self, members: &Members, width: usize, all_prefixes: bool) -> Vec<String> {
        let packed = match self.names.form(all_prefixes) {
            Some(packed) => packed,
            form => {
                let mut packed = PackedNames::default();
                for id in self.members.keys() {
                    if let Some(member) = members.get(id) {
                        let rank = self.ranks.get(id).copied().unwrap_or_default();
                        packed.push(&names_entry(rank, &member.identity.nick, all_prefixes));
                    }
                }
                form.insert(packed)
            }
        };
        pack_spaced(&packed.entries, width)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Adds `id` to the members, after any rank it is to have has been
    /// set, and to the NAMES kept (`members` has its nick and the others').
    fn add_member(&mut self, id: ClientId, recipient: Recipient, members: &Members) {
        self.members.insert(id, recipient);
        let nick_of = |id: &ClientId| members.get(id).map(|m| m.identity.nick.as_str());
        let Some(nick) = nick_of(&id) else {
            self.names.forget();
            return;
        };
        // Ids mostly come in growing, so a joiner mostly goes last; one that
        // registered before others joined goes in before the first of them.
        let next = self
            .members
            .range((Bound::Excluded(id), Bound::Unbounded))
            .next()
            .map(|(next, _)| (self.rank(*next), nick_of(next)));
        let next = match next {
            None => None,
            Some((rank, Some(nick))) => Some((rank, nick)),
            Some((_, None)) => {
                self.names.forget();
                return;
            }
        };
        let rank = self.rank(id);
        self.names.joined(self.members.len(), rank, nick, next);
    }
}

/// Every registered client. Boxed: a hash table keeps up to twice as many
/// slots as entries, and an empty slot costs a pointer rather than a member.
type Members = HashMap<ClientId, Box<Member>>;

#[derive(Default)]
struct State {
    members: Members,
    /// The most members there have been at once (LUSERS).
    peak_members: usize,
    /// Folded nickname → client.
    nicks: HashMap<String, ClientId>,
    /// Folded channel name → channel.
    channels: HashMap<String, Channel>,
    /// Who was here (the newest first), for WHOWAS.
    gone: VecDeque<Identity>,
}

impl State {
    fn deliver<'a>(recipients: impl IntoIterator<Item = &'a Recipient>, delivery: &mut Delivery) {
        for recipient in recipients {
            delivery.send_to(recipient);
        }
    }

    /// The recipients among `ids` (those still here).
    fn recipients<'a>(
        &'a self,
        ids: impl IntoIterator<Item = &'a ClientId>,
    ) -> impl Iterator<Item = &'a Recipient> {
        ids.into_iter()
            .filter_map(|id| self.members.get(id).map(|m| &m.recipient))
    }

    /// Everyone sharing a channel with `id` (each once), without `id`.
    fn neighbours(&self, id: ClientId) -> Vec<&Recipient> {
        self.members
            .get(&id)
            .map_or_else(Vec::new, |member| self.sharing(id, &member.channels))
    }

    /// Everyone in `channels` (each once), without `id`: taken from the
    /// channels' own lists, which hold each member's queue, so no table is
    /// looked up or built per recipient (one departure from a room of
    /// thousands is told to all of them, and a crowd may leave at once).
    fn sharing(&self, id: ClientId, channels: &Memberships) -> Vec<&Recipient> {
        let mut found: Vec<(ClientId, &Recipient)> = channels
            .iter()
            .filter_map(|c| self.channels.get(c))
            .flat_map(|channel| channel.members.iter())
            .filter(|(member, _)| **member != id)
            .map(|(member, recipient)| (*member, recipient))
            .collect();
        // One channel's list is sorted and single already.
        if channels.len() > 1 {
            found.sort_unstable_by_key(|(member, _)| *member);
            found.dedup_by_key(|(member, _)| *member);
        }
        found.into_iter().map(|(_, recipient)| recipient).collect()
    }

    /// The identity of `id`, a member of `channel`, and the channel.
    fn membership(
        &self,
        id: ClientId,
        channel: &str,
    ) -> Result<(&Identity, &Channel), ChannelError> {
        let found = self.channel_of(id, channel)?;
        let source = self.members.get(&id).ok_or(ChannelError::NotOnChannel)?;
        Ok((&source.identity, found))
    }

    /// Keeps who `identity` was for WHOWAS (a bounded ring).
    fn remember_gone(&mut self, identity: Identity) {
        if self.gone.len() == MAX_WHOWAS {
            self.gone.pop_back();
        }
        self.gone.push_front(identity);
    }

    /// The one nickname rule: valid, and free or `id`'s own.
    fn check_nick(&self, id: ClientId, nick: &str) -> Result<(), NickError> {
        valid_nick(nick)?;
        match self.nicks.get(&fold_case(nick)) {
            Some(owner) if *owner != id => Err(NickError::InUse),
            _ => Ok(()),
        }
    }

    fn channel_of(&self, id: ClientId, channel: &str) -> Result<&Channel, ChannelError> {
        let channel = self
            .channels
            .get(&fold_case(channel))
            .ok_or(ChannelError::NoSuchChannel)?;
        if channel.members.contains_key(&id) {
            Ok(channel)
        } else {
            Err(ChannelError::NotOnChannel)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChannelError {
    NoSuchChannel,
    NotOnChannel,
    /// Only the channel's operators may.
    NotOperator,
    /// The nickname acted on is nobody's.
    NoSuchNick,
    /// The member acted on is not in the channel.
    TheyAreNotOn,
    /// The one invited is in the channel already.
    AlreadyOn,
    /// The member acted on is the host's own person in the hosted room.
    TheyAreTheHost,
}

/// One change of a MODE line that was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ModeRefusal {
    NeedsParam(char),
    Unknown(char),
    NoSuchNick(String),
    TheyAreNotOn(String),
    BanListFull(String),
    /// `-o` on the host's own person in the hosted room.
    TheyAreTheHost(String),
}

/// A channel's modes as 324 and 329 show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ModesShown {
    pub channel: String,
    /// The mode letters, then their parameters.
    pub modes: Vec<String>,
    pub created: u64,
}

/// Why a nickname cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NickError {
    /// Not a nickname at all (see [`is_valid_nick`]).
    Invalid,
    /// Someone else has it (compared with [`fold_case`]).
    InUse,
}

/// The nickname rule that needs no look at who is here: before the room's
/// password, a front-end may tell no more.
pub(super) fn valid_nick(nick: &str) -> Result<(), NickError> {
    if is_valid_nick(nick) {
        Ok(())
    } else {
        Err(NickError::Invalid)
    }
}

/// What a PRIVMSG's sender may need to hear back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Said {
    /// The recipient of a private message is away, for this reason.
    pub away: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SayError {
    NoSuchNick,
    NoSuchChannel,
    CannotSendToChannel,
}

/// Someone as WHOIS shows them.
#[derive(Debug, Clone)]
pub(super) struct Whois {
    pub identity: Identity,
    /// Display names of the channels they are in, with their rank there.
    pub channels: Vec<(String, Rank)>,
    pub away: Option<String>,
    /// Seconds since the Unix epoch.
    pub signon: u64,
    /// Seconds since they last said something.
    pub idle: u64,
}

/// A channel as LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChannelSummary {
    pub name: String,
    pub members: usize,
    pub topic: Option<String>,
}

/// What LUSERS counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub users: usize,
    pub channels: usize,
    pub peak_users: usize,
}

/// What a client that just joined is shown.
#[derive(Debug, Clone)]
pub(super) struct Joined {
    pub channel: String,
    pub topic: Option<Topic>,
    /// Members' nicknames packed into lines (none unless asked for).
    pub names: Vec<String>,
}

pub(super) struct Hub {
    room: String,
    /// The prefix of what the host itself says.
    server_name: String,
    /// Output queued for every client together.
    backlog: Arc<Backlog>,
    next_id: AtomicU64,
    /// The next chat line's `msgid`. Taken under the state lock, so ids
    /// grow in the order lines are relayed.
    next_msgid: AtomicU64,
    history: Option<History>,
    state: Mutex<State>,
}

impl Hub {
    pub fn new(room: &str, server_name: &str, history: Option<History>) -> Self {
        let mut state = State::default();
        let hosted = Channel::new(room, Modes::hosted_room());
        state.channels.insert(fold_case(room), hosted);
        // Ids start at the microseconds since the epoch, so they keep
        // growing across restarts even with no history kept, and above
        // every stored one.
        let now_us = u64::try_from(time::now_ms()).unwrap_or(0) * 1000;
        let stored = history.as_ref().map_or(0, History::last_id);
        Hub {
            room: room.to_owned(),
            server_name: server_name.to_owned(),
            backlog: Arc::default(),
            next_id: AtomicU64::new(1),
            next_msgid: AtomicU64::new(now_us.max(stored + 1)),
            history,
            state: Mutex::new(state),
        }
    }

    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    /// A stamp for a chat line relayed now; call with the state locked.
    fn stamp_chat<'t>(&self, client_tags: &'t str) -> Stamp<'t> {
        Stamp {
            msgid: Some(self.next_msgid.fetch_add(1, Ordering::Relaxed)),
            time_ms: time::now_ms(),
            client_tags,
        }
    }

    /// Keeps a channel's line, when the host keeps history.
    fn record(
        &self,
        channel: &str,
        source: &Identity,
        command: LineCommand,
        text: &str,
        stamp: Stamp,
    ) {
        let (Some(history), Some(id)) = (&self.history, stamp.msgid) else {
            return;
        };
        let client_tags = if stamp.client_tags.len() <= MAX_STORED_CLIENT_TAGS {
            stamp.client_tags
        } else {
            ""
        };
        history.record(StoredLine {
            id,
            time_ms: stamp.time_ms,
            room_key: fold_case(channel),
            room: channel.to_owned(),
            prefix: source.prefix(),
            command,
            text: text.to_owned(),
            client_tags: client_tags.to_owned(),
        });
    }

    pub fn room(&self) -> &str {
        &self.room
    }

    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.backlog
    }

    pub fn new_id(&self) -> ClientId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the whole host down with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `id` could claim `nick` now: a valid nickname that is free
    /// or already its own.
    pub fn check_nick(&self, id: ClientId, nick: &str) -> Result<(), NickError> {
        self.lock().check_nick(id, nick)
    }

    /// Makes a client known under its nickname (checked and claimed at
    /// once, so two clients never get one nick).
    pub fn register(
        &self,
        id: ClientId,
        identity: Identity,
        style: Style,
        caps: Caps,
        queue: SendQueue,
        owner: bool,
    ) -> Result<(), NickError> {
        let mut state = self.lock();
        state.check_nick(id, &identity.nick)?;
        state.nicks.insert(fold_case(&identity.nick), id);
        let now = unix_now();
        let member = Member {
            identity,
            recipient: Recipient { style, caps, queue },
            channels: Memberships::default(),
            away: None,
            signon: now,
            last_spoke: now,
            owner,
        };
        state.members.insert(id, Box::new(member));
        state.peak_members = state.peak_members.max(state.members.len());
        Ok(())
    }

    /// A registered client changed its capabilities (CAP REQ after CAP END).
    pub fn set_caps(&self, id: ClientId, caps: Caps) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(member) = state.members.get_mut(&id) else {
            return;
        };
        member.recipient.caps = caps;
        for folded in &member.channels {
            let recipient = state
                .channels
                .get_mut(folded)
                .and_then(|channel| channel.members.get_mut(&id));
            if let Some(recipient) = recipient {
                recipient.caps = caps;
            }
        }
    }

    pub fn identity(&self, id: ClientId) -> Option<Identity> {
        self.lock().members.get(&id).map(|m| m.identity.clone())
    }

    /// Whether `id` may join `channel`: it is in it already, or in fewer
    /// than [`MAX_CHANNELS_PER_CLIENT`] channels (each one costs the host memory).
    pub fn may_join(&self, id: ClientId, channel: &str) -> bool {
        let state = self.lock();
        state.members.get(&id).is_some_and(|member| {
            member.channels.len() < MAX_CHANNELS_PER_CLIENT
                || member.channels.contains(&fold_case(channel))
        })
    }

    /// Joins `channel` with `key`, creating it (`+nt`, the joiner its
    /// operator), and tells every member including the joiner. In the
    /// hosted room only the host's own person is made operator. With
    /// `names_width`, the members' nicknames come packed into lines of at
    /// most that many bytes.
    pub fn join(
        &self,
        id: ClientId,
        channel: &str,
        key: Option<&str>,
        names_width: Option<usize>,
    ) -> Result<Joined, JoinError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let folded = fold_case(channel);
        let member = state.members.get(&id).ok_or(JoinError::AlreadyMember)?;
        if member.channels.contains(&folded) {
            return Err(JoinError::AlreadyMember);
        }
        let (prefix, owner) = (member.identity.prefix(), member.owner);
        let recipient = member.recipient.clone();
        let is_room = folded == fold_case(&self.room);
        let entry = match state.channels.entry(folded.clone()) {
            std::collections::hash_map::Entry::Occupied(found) => {
                let found = found.into_mut();
                // The host's person always gets back into its own room.
                if !(is_room && owner) {
                    found.admit(id, &prefix, key)?;
                }
                found
            }
            std::collections::hash_map::Entry::Vacant(place) => {
                let mut made = Channel::new(channel, Modes::new_channel());
                made.ranks.insert(id, Rank::OPERATOR);
                place.insert(made)
            }
        };
        let made_op = is_room && owner;
        if made_op {
            entry.ranks.insert(id, Rank::OPERATOR);
        }
        entry.add_member(id, recipient, &state.members);
        if let Some(member) = state.members.get_mut(&id) {
            member.channels.insert(folded.clone());
        }
        let (Some(entry), Some(source)) = (state.channels.get(&folded), state.members.get(&id))
        else {
            return Err(JoinError::AlreadyMember);
        };
        let happening = Happening::Joined {
            channel: &entry.name,
        };
        let mut delivery = Delivery::new(self, &source.identity, happening);
        State::deliver(entry.members.values(), &mut delivery);
        drop(delivery);
        if made_op {
            // The others learn at once who runs the room.
            let params = [source.identity.nick.clone()];
            let happening = Happening::ModesChanged {
                channel: &entry.name,
                changes: "+o",
                params: &params,
            };
            let mut delivery = Delivery::from_server(self, happening);
            let others = entry.members.iter().filter(|(m, _)| **m != id);
            State::deliver(others.map(|(_, r)| r), &mut delivery);
        }
        if let Some(reason) = &source.away {
            // away-notify: the others learn at once that the newcomer is away.
            let happening = Happening::Away {
                reason: Some(reason),
            };
            let mut delivery = Delivery::new(self, &source.identity, happening);
            let others = entry.members.iter().filter(|(m, _)| **m != id);
            let told = others
                .map(|(_, r)| r)
                .filter(|r| r.takes(Caps::AWAY_NOTIFY));
            State::deliver(told, &mut delivery);
        }
        let all_prefixes = source.recipient.caps.has(Caps::MULTI_PREFIX);
        let (channel, topic) = (entry.name.clone(), entry.topic.clone());
        let names = match (names_width, state.channels.get_mut(&folded)) {
            (Some(width), Some(entry)) => entry.names(&state.members, width, all_prefixes),
            _ => Vec::new(),
        };
        Ok(Joined {
            channel,
            topic,
            names,
        })
    }

    /// Leaves `channel`, telling every member including the leaver.
    pub fn part(
        &self,
        id: ClientId,
        channel: &str,
        reason: Option<&str>,
    ) -> Result<(), ChannelError> {
        let reason = reason.map(|r| truncate_utf8(r, MAX_REASON_BYTES));
        let mut state = self.lock();
        let (source, found) = state.membership(id, channel)?;
        let happening = Happening::Left {
            channel: &found.name,
            reason,
        };
        State::deliver(
            found.members.values(),
            &mut Delivery::new(self, source, happening),
        );
        let folded = fold_case(&found.name);
        self.leave(&mut state, id, &folded);
        Ok(())
    }

    fn leave(&self, state: &mut State, id: ClientId, folded: &str) {
        if let Some(member) = state.members.get_mut(&id) {
            member.channels.remove(folded);
        }
        if let Some(channel) = state.channels.get_mut(folded) {
            channel.members.remove(&id);
            channel.ranks.remove(&id);
            channel.names.forget();
            // The room outlives its members (its topic too); others go empty.
            if channel.members.is_empty() && channel.name != self.room {
                state.channels.remove(folded);
            }
        }
    }

    /// Changes a nickname, telling the changer and everyone sharing a
    /// channel with them, once each.
    /// A change that fails leaves everything as it was.
    pub fn rename(&self, id: ClientId, new: &str) -> Result<(), NickError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.check_nick(id, new)?;
        let new_folded = fold_case(new);
        let Some(member) = state.members.get_mut(&id) else {
            return Ok(());
        };
        if member.identity.nick == new {
            return Ok(());
        }
        let source = member.identity.clone();
        member.identity.nick = new.to_owned();
        for folded in &member.channels {
            if let Some(channel) = state.channels.get_mut(folded) {
                channel.names.forget();
            }
        }
        state.nicks.remove(&fold_case(&source.nick));
        state.remember_gone(source.clone());
        state.nicks.insert(new_folded, id);
        let mut recipients = state.neighbours(id);
        recipients.extend(state.members.get(&id).map(|m| &m.recipient));
        let mut delivery = Delivery::new(self, &source, Happening::Renamed { new });
        State::deliver(recipients, &mut delivery);
        Ok(())
    }

    /// Relays a PRIVMSG or NOTICE, cut on a character boundary so the whole
    /// relayed line fits in 512 bytes, with the sender's client-only tags
    /// for those who read tags; back to the sender too if it asked for
    /// echo-message. A channel's lines are kept in its history.
    pub fn say(
        &self,
        id: ClientId,
        kind: MessageKind,
        target: &str,
        text: &str,
        client_tags: &str,
    ) -> Result<Said, SayError> {
        let mut guard = self.lock();
        if let Some(member) = guard.members.get_mut(&id) {
            member.last_spoke = unix_now();
        }
        let state = &*guard;
        let Some(member) = state.members.get(&id) else {
            return Ok(Said::default());
        };
        let source = &member.identity;
        let echo = member
            .recipient
            .caps
            .has(Caps::ECHO_MESSAGE)
            .then_some(&member.recipient);
        // ":" prefix " " COMMAND " " target " :" text "\r\n"
        let overhead =
            1 + source.prefix().len() + 1 + kind.command().len() + 1 + target.len() + 2 + 2;
        let text = truncate_utf8(text, MAX_LINE_BYTES.saturating_sub(overhead));
        let folded = fold_case(target);
        if crate::protocol::is_channel_name(target) {
            let channel = state.channels.get(&folded).ok_or(SayError::NoSuchChannel)?;
            if !channel.may_speak(id, &source.prefix()) {
                return Err(SayError::CannotSendToChannel);
            }
            let stamp = self.stamp_chat(client_tags);
            let happening = Happening::Said { kind, target, text };
            let mut delivery = Delivery::stamped(self, source, happening, stamp);
            let others = channel.members.iter().filter(|(m, _)| **m != id);
            State::deliver(others.map(|(_, r)| r).chain(echo), &mut delivery);
            self.record(&channel.name, source, kind.stored(), text, stamp);
        } else {
            let to = state.nicks.get(&folded).ok_or(SayError::NoSuchNick)?;
            let stamp = self.stamp_chat(client_tags);
            let happening = Happening::Said { kind, target, text };
            let mut delivery = Delivery::stamped(self, source, happening, stamp);
            let echo = echo.filter(|_| *to != id);
            State::deliver(state.recipients([to]).chain(echo), &mut delivery);
            let away = state.members.get(to).and_then(|m| m.away.clone());
            return Ok(Said { away });
        }
        Ok(Said::default())
    }

    /// Relays a TAGMSG — client-only tags, no text — to those of `target`
    /// (a channel the sender is in, or a nickname) who read tags, and back
    /// to the sender if it asked for echo-message. Never kept in history,
    /// never shown to plain-text users or clients without message-tags.
    pub fn tag(&self, id: ClientId, target: &str, client_tags: &str) -> Result<(), SayError> {
        let state = self.lock();
        let Some(member) = state.members.get(&id) else {
            return Ok(());
        };
        let source = &member.identity;
        let echo = Some(&member.recipient)
            .filter(|r| r.caps.has(Caps::ECHO_MESSAGE) && r.takes(Caps::MESSAGE_TAGS));
        let stamp = Stamp {
            client_tags,
            ..Stamp::now()
        };
        let happening = Happening::Tagged { target };
        let mut delivery = Delivery::stamped(self, source, happening, stamp);
        let reads_tags = |r: &&Recipient| r.takes(Caps::MESSAGE_TAGS);
        if crate::protocol::is_channel_name(target) {
            let channel = state
                .channels
                .get(&fold_case(target))
                .ok_or(SayError::NoSuchChannel)?;
            if !channel.may_speak(id, &source.prefix()) {
                return Err(SayError::CannotSendToChannel);
            }
            let others = channel.members.iter().filter(|(m, _)| **m != id);
            let others = others.map(|(_, r)| r).filter(reads_tags);
            State::deliver(others.chain(echo), &mut delivery);
        } else {
            let to = state
                .nicks
                .get(&fold_case(target))
                .ok_or(SayError::NoSuchNick)?;
            let echo = echo.filter(|_| *to != id);
            let to = state.recipients([to]).filter(reads_tags);
            State::deliver(to.chain(echo), &mut delivery);
        }
        Ok(())
    }

    /// Marks a client away with `reason`, or back when there is none (an
    /// empty reason counts as none, as in RFC 2812), telling those who share
    /// a channel with it and took away-notify. Whether it is now away.
    pub fn set_away(&self, id: ClientId, reason: Option<&str>) -> bool {
        let reason = reason
            .map(|r| truncate_utf8(r, MAX_REASON_BYTES))
            .filter(|r| !r.is_empty());
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(member) = state.members.get_mut(&id) else {
            return false;
        };
        if member.away.as_deref() == reason {
            return reason.is_some(); // nothing new to tell anyone
        }
        member.away = reason.map(str::to_owned);
        let source = member.identity.clone();
        let told = state
            .neighbours(id)
            .into_iter()
            .filter(|r| r.takes(Caps::AWAY_NOTIFY));
        let mut delivery = Delivery::new(self, &source, Happening::Away { reason });
        State::deliver(told, &mut delivery);
        reason.is_some()
    }

    /// Whether the client is in `channel`.
    pub fn is_member(&self, id: ClientId, channel: &str) -> bool {
        self.lock().channel_of(id, channel).is_ok()
    }

    /// The topic of a channel the client is in.
    pub fn topic(
        &self,
        id: ClientId,
        channel: &str,
    ) -> Result<(String, Option<Topic>), ChannelError> {
        let state = self.lock();
        let found = state.channel_of(id, channel)?;
        Ok((found.name.clone(), found.topic.clone()))
    }

    /// Sets a topic (any member may, unless the channel is `+t` and they
    /// are not its operator) and tells every member.
    pub fn set_topic(&self, id: ClientId, channel: &str, text: &str) -> Result<(), ChannelError> {
        let text = truncate_utf8(text, MAX_REASON_BYTES);
        let mut guard = self.lock();
        let state = &mut *guard;
        let (source, found) = state.membership(id, channel)?;
        if found.modes.topic_locked && !found.rank(id).op {
            return Err(ChannelError::NotOperator);
        }
        // The full mask, as InspIRCd and ngircd give it: irssi shows an
        // empty `[]` for the host part of a bare nick.
        let set_by = source.prefix();
        let folded = fold_case(channel);
        if let Some(found) = state.channels.get_mut(&folded) {
            found.topic = (!text.is_empty()).then(|| Topic {
                text: text.to_owned(),
                set_by,
                set_at: unix_now(),
            });
        }
        let (source, found) = state.membership(id, channel)?;
        let happening = Happening::TopicSet {
            channel: &found.name,
            text,
        };
        let stamp = self.stamp_chat("");
        let mut delivery = Delivery::stamped(self, source, happening, stamp);
        State::deliver(found.members.values(), &mut delivery);
        self.record(&found.name, source, LineCommand::Topic, text, stamp);
        Ok(())
    }

    /// The channel's display name and its members, in joining order.
    pub fn members(&self, channel: &str) -> Option<(String, Vec<Listed>)> {
        let state = self.lock();
        let found = state.channels.get(&fold_case(channel))?;
        let members = found
            .members
            .keys()
            .filter_map(|m| {
                state
                    .members
                    .get(m)
                    .map(|member| member.listed(found.rank(*m)))
            })
            .collect();
        Some((found.name.clone(), members))
    }

    /// The channel's display name and its members' nicknames (after their
    /// prefixes: all, or the highest) packed into lines of at most `width`
    /// bytes, in joining order.
    pub fn names(
        &self,
        channel: &str,
        width: usize,
        all_prefixes: bool,
    ) -> Option<(String, Vec<String>)> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let found = state.channels.get_mut(&fold_case(channel))?;
        let names = found.names(&state.members, width, all_prefixes);
        Some((found.name.clone(), names))
    }

    /// The display name of an existing channel.
    pub fn channel_name(&self, channel: &str) -> Option<String> {
        let state = self.lock();
        state
            .channels
            .get(&fold_case(channel))
            .map(|c| c.name.clone())
    }

    pub fn find_nick(&self, nick: &str) -> Option<Listed> {
        let state = self.lock();
        let id = state.nicks.get(&fold_case(nick))?;
        state.members.get(id).map(|m| m.listed(Rank::default()))
    }

    /// What WHOIS tells about `nick`.
    pub fn whois(&self, nick: &str) -> Option<Whois> {
        let state = self.lock();
        let member = state.members.get(state.nicks.get(&fold_case(nick))?)?;
        let id = state.nicks.get(&fold_case(nick))?;
        let channels = member
            .channels
            .iter()
            .filter_map(|folded| state.channels.get(folded))
            .map(|channel| (channel.name.clone(), channel.rank(*id)))
            .collect();
        Some(Whois {
            identity: member.identity.clone(),
            channels,
            away: member.away.clone(),
            signon: member.signon,
            idle: unix_now().saturating_sub(member.last_spoke),
        })
    }

    /// Every channel (or those of `only` that exist), for LIST, in name order.
    pub fn list(&self, only: Option<&[&str]>) -> Vec<ChannelSummary> {
        let state = self.lock();
        let summary = |channel: &Channel| ChannelSummary {
            name: channel.name.clone(),
            members: channel.members.len(),
            topic: channel.topic.as_ref().map(|t| t.text.clone()),
        };
        let mut found: Vec<ChannelSummary> = match only {
            Some(names) => names
                .iter()
                .filter_map(|name| state.channels.get(&fold_case(name)))
                .map(summary)
                .collect(),
            None => state.channels.values().map(summary).collect(),
        };
        found.sort_by_key(|c| fold_case(&c.name));
        found
    }

    /// Registered clients, channels and the peak, for LUSERS.
    pub fn counts(&self) -> Counts {
        let state = self.lock();
        Counts {
            users: state.members.len(),
            channels: state.channels.len(),
            peak_users: state.peak_members,
        }
    }

    /// The display names of the channels `id` is in (for JOIN 0).
    pub fn channels_of(&self, id: ClientId) -> Vec<String> {
        let state = self.lock();
        state.members.get(&id).map_or_else(Vec::new, |member| {
            member
                .channels
                .iter()
                .filter_map(|folded| state.channels.get(folded))
                .map(|channel| channel.name.clone())
                .collect()
        })
    }

    /// Forgets a client, telling everyone who shared a channel with it.
    pub fn remove(&self, id: ClientId, why: Departure) {
        let why = match why {
            Departure::Quit(words) => {
                Departure::Quit(words.map(|w| truncate_utf8(w, MAX_REASON_BYTES)))
            }
            other => other,
        };
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(member) = state.members.remove(&id).map(|member| *member) else {
            return;
        };
        // A closing host closes everyone: nobody needs to hear of the
        // others, and telling each of thousands about all the rest would
        // keep the host busy for minutes.
        let tell_others = !matches!(why, Departure::HostClosing);
        let mut delivery = Delivery::new(self, &member.identity, Happening::Quit { why });
        if tell_others {
            State::deliver(state.sharing(id, &member.channels), &mut delivery);
        }
        state.nicks.remove(&fold_case(&member.identity.nick));
        for channel in &member.channels {
            self.leave(state, id, channel);
        }
        drop(delivery);
        state.remember_gone(member.identity);
    }

    /// A channel's modes, for anyone (members also learn its key and limit).
    pub fn modes(&self, id: ClientId, channel: &str) -> Result<ModesShown, ChannelError> {
        let state = self.lock();
        let found = state
            .channels
            .get(&fold_case(channel))
            .ok_or(ChannelError::NoSuchChannel)?;
        Ok(ModesShown {
            channel: found.name.clone(),
            modes: found.modes.describe(found.members.contains_key(&id)),
            created: found.created,
        })
    }

    /// A channel's display name and its bans, for anyone.
    pub fn bans(&self, channel: &str) -> Result<(String, Vec<Ban>), ChannelError> {
        let state = self.lock();
        let found = state
            .channels
            .get(&fold_case(channel))
            .ok_or(ChannelError::NoSuchChannel)?;
        Ok((found.name.clone(), found.bans.list().to_vec()))
    }

    /// Makes an operator's MODE changes (at most [`MAX_MODE_CHANGES`]) and
    /// tells every member of those made, in one MODE line; the changes not
    /// made, and why.
    pub fn change_modes(
        &self,
        id: ClientId,
        channel: &str,
        changes: &[ModeChange],
    ) -> Result<Vec<ModeRefusal>, ChannelError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let (source, found) = state.membership(id, channel)?;
        if !found.rank(id).op {
            return Err(ChannelError::NotOperator);
        }
        let source = source.clone();
        let folded = fold_case(&found.name);
        let mut refusals = Vec::new();
        let mut made = ModeLine::default();
        for change in changes.iter().take(MAX_MODE_CHANGES) {
            let protected = |nick: &str| {
                state
                    .nicks
                    .get(&fold_case(nick))
                    .is_some_and(|target| self.is_protected_host(state, &folded, id, *target))
            };
            let result = match (change.mode, change.arg) {
                ('o', Some(nick)) if !change.adding && protected(nick) => {
                    Err(ModeRefusal::TheyAreTheHost(nick.to_owned()))
                }
                _ => Ok(()),
            }
            .and_then(|()| match change.mode {
                'o' | 'v' => state.change_rank(&folded, *change),
                'b' => state.change_bans(&folded, *change, &source.nick),
                _ => state
                    .channels
                    .get_mut(&folded)
                    .map_or(Ok(None), |c| c.modes.apply(*change))
                    .map_err(|problem| match problem {
                        ModeProblem::NeedsParam => ModeRefusal::NeedsParam(change.mode),
                        ModeProblem::Unknown => ModeRefusal::Unknown(change.mode),
                    }),
            });
            match result {
                Ok(Some(param)) => made.push(change.adding, change.mode, param),
                Ok(None) => {}
                Err(refusal) => refusals.push(refusal),
            }
        }
        if let (false, Some(found)) = (made.changes.is_empty(), state.channels.get(&folded)) {
            let happening = Happening::ModesChanged {
                channel: &found.name,
                changes: &made.changes,
                params: &made.params,
            };
            let mut delivery = Delivery::new(self, &source, happening);
            State::deliver(found.members.values(), &mut delivery);
        }
        Ok(refusals)
    }

    /// Whether `target` is the host's own person in the hosted room and
    /// `actor` someone else: nobody else may remove it or take its operator
    /// status, since the host's window leaving ends the room for everyone.
    fn is_protected_host(
        &self,
        state: &State,
        folded: &str,
        actor: ClientId,
        target: ClientId,
    ) -> bool {
        target != actor
            && folded == fold_case(&self.room)
            && state.members.get(&target).is_some_and(|m| m.owner)
    }

    /// Puts `target` out of `channel` (an operator's doing), telling every
    /// member including them; the reason defaults to the operator's nick.
    pub fn kick(
        &self,
        id: ClientId,
        channel: &str,
        target: &str,
        reason: Option<&str>,
    ) -> Result<(), ChannelError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let (source, found) = state.membership(id, channel)?;
        let target_id = *state
            .nicks
            .get(&fold_case(target))
            .ok_or(ChannelError::NoSuchNick)?;
        if !found.members.contains_key(&target_id) {
            return Err(ChannelError::TheyAreNotOn);
        }
        if !found.rank(id).op {
            return Err(ChannelError::NotOperator);
        }
        if self.is_protected_host(state, &fold_case(channel), id, target_id) {
            return Err(ChannelError::TheyAreTheHost);
        }
        let target_nick = state
            .members
            .get(&target_id)
            .map_or(target, |m| m.identity.nick.as_str());
        let reason = reason.filter(|r| !r.is_empty()).unwrap_or(&source.nick);
        let happening = Happening::Kicked {
            channel: &found.name,
            target: target_nick,
            reason: truncate_utf8(reason, MAX_REASON_BYTES),
        };
        let mut delivery = Delivery::new(self, source, happening);
        State::deliver(found.members.values(), &mut delivery);
        drop(delivery);
        let folded = fold_case(&found.name);
        self.leave(state, target_id, &folded);
        Ok(())
    }

    /// Invites `target` into `channel` (once past `+i`), telling them; their
    /// nick as they spell it, and their away reason.
    pub fn invite(
        &self,
        id: ClientId,
        target: &str,
        channel: &str,
    ) -> Result<(String, Option<String>), ChannelError> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let target_id = *state
            .nicks
            .get(&fold_case(target))
            .ok_or(ChannelError::NoSuchNick)?;
        let (source, found) = state.membership(id, channel)?;
        if found.members.contains_key(&target_id) {
            return Err(ChannelError::AlreadyOn);
        }
        if found.modes.invite_only && !found.rank(id).op {
            return Err(ChannelError::NotOperator);
        }
        let Some(invitee) = state.members.get(&target_id) else {
            return Err(ChannelError::NoSuchNick);
        };
        let happening = Happening::Invited {
            target: &invitee.identity.nick,
            channel: &found.name,
        };
        let mut delivery = Delivery::new(self, source, happening);
        State::deliver([&invitee.recipient], &mut delivery);
        drop(delivery);
        let answer = (invitee.identity.nick.clone(), invitee.away.clone());
        if let Some(found) = state.channels.get_mut(&fold_case(channel)) {
            if !found.invited.contains(&target_id) {
                if found.invited.len() == MAX_INVITES {
                    found.invited.pop_front();
                }
                found.invited.push_back(target_id);
            }
        }
        Ok(answer)
    }

    /// Who went by `nick` lately, the newest first, at most `count`.
    pub fn whowas(&self, nick: &str, count: usize) -> Vec<Identity> {
        let folded = fold_case(nick);
        let state = self.lock();
        state
            .gone
            .iter()
            .filter(|identity| fold_case(&identity.nick) == folded)
            .take(count)
            .cloned()
            .collect()
    }
}

/// The changes a MODE line made, as one mode string and its parameters.
#[derive(Default)]
struct ModeLine {
    changes: String,
    params: Vec<String>,
    adding: Option<bool>,
}

impl ModeLine {
    /// One change; an empty `param` is none.
    fn push(&mut self, adding: bool, mode: char, param: String) {
        if self.adding != Some(adding) {
            self.changes.push(if adding { '+' } else { '-' });
            self.adding = Some(adding);
        }
        self.changes.push(mode);
        if !param.is_empty() {
            self.params.push(param);
        }
    }
}

impl State {
    /// `+o`/`-o`/`+v`/`-v` on a member: the nick announced when it changed.
    fn change_rank(
        &mut self,
        folded: &str,
        change: ModeChange,
    ) -> Result<Option<String>, ModeRefusal> {
        let nick = change.arg.ok_or(ModeRefusal::NeedsParam(change.mode))?;
        let target = self
            .nicks
            .get(&fold_case(nick))
            .and_then(|id| self.members.get(id).map(|m| (*id, m.identity.nick.clone())));
        let (target, spelled) = target.ok_or_else(|| ModeRefusal::NoSuchNick(nick.to_owned()))?;
        let channel = self
            .channels
            .get_mut(folded)
            .filter(|c| c.members.contains_key(&target))
            .ok_or_else(|| ModeRefusal::TheyAreNotOn(nick.to_owned()))?;
        let rank = channel.ranks.entry(target).or_default();
        let changed = rank.set(change.mode, change.adding);
        if *rank == Rank::default() {
            channel.ranks.remove(&target);
        }
        if changed {
            channel.names.forget();
        }
        Ok(changed.then_some(spelled))
    }

    /// `+b`/`-b` with a mask: the full mask announced when it changed. A
    /// `b` with no mask asks for the list (answered by the front-end).
    fn change_bans(
        &mut self,
        folded: &str,
        change: ModeChange,
        set_by: &str,
    ) -> Result<Option<String>, ModeRefusal> {
        let (Some(mask), Some(channel)) = (change.arg, self.channels.get_mut(folded)) else {
            return Ok(None);
        };
        let Some(mask) = bans::full_mask(mask) else {
            return Ok(None);
        };
        if !change.adding {
            return Ok(channel.bans.remove(&mask).then_some(mask));
        }
        let ban = Ban {
            mask: mask.clone(),
            set_by: set_by.to_owned(),
            set_at: unix_now(),
        };
        match channel.bans.add(ban) {
            Ok(()) => Ok(Some(mask)),
            Err(BanError::AlreadyThere) => Ok(None),
            Err(BanError::Full) => Err(ModeRefusal::BanListFull(mask)),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::server::send_queue::{self, Writer};

    /// Room for a long line of names, as a front-end would ask.
    const WIDTH: usize = 400;

    /// A hub whose clients' queues write to loopback peers that are kept,
    /// unread, for as long as the hub is used.
    struct TestHub {
        hub: Hub,
        held: Vec<(Writer, TcpStream)>,
    }

    impl TestHub {
        fn new() -> Self {
            TestHub {
                hub: Hub::new("#chat", "host.test", None),
                held: Vec::new(),
            }
        }

        /// Registers client `id` as `nick` (IRC, no caps).
        async fn register(&mut self, id: ClientId, nick: &str) {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let peer = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (host_side, _) = listener.accept().await.unwrap();
            let (_read, write) = crate::transport::plain(host_side);
            let (queue, writer) = send_queue::spawn(
                write,
                1 << 20,
                Arc::clone(self.hub.backlog()),
                Duration::from_secs(60),
            );
            let identity = Identity {
                nick: nick.to_owned(),
                user: nick.to_owned(),
                host: "127.0.0.1".to_owned(),
                realname: nick.to_owned(),
            };
            let registered =
                self.hub
                    .register(id, identity, Style::Irc, Caps::default(), queue, false);
            assert_eq!(registered, Ok(()));
            self.held.push((writer, peer));
        }

        /// Joins and returns the NAMES the joiner is shown.
        fn join(&self, id: ClientId, channel: &str) -> Vec<String> {
            let joined = self.hub.join(id, channel, None, Some(WIDTH)).unwrap();
            joined.names
        }

        /// NAMES of `channel` in one form, checked against the list built
        /// anew with nothing kept.
        fn names(&self, channel: &str, all_prefixes: bool) -> String {
            let (_, kept) = self.hub.names(channel, WIDTH, all_prefixes).unwrap();
            let mut guard = self.hub.lock();
            let state = &mut *guard;
            let found = state.channels.get_mut(&fold_case(channel)).unwrap();
            let mut fresh = Channel::new(&found.name, Modes::new_channel());
            fresh.members.clone_from(&found.members);
            fresh.ranks.clone_from(&found.ranks);
            let built = fresh.names(&state.members, WIDTH, all_prefixes);
            assert_eq!(kept, built, "kept NAMES differ from the truth");
            kept.join(" ")
        }

        /// Both forms, highest prefix first.
        fn both(&self, channel: &str) -> (String, String) {
            (self.names(channel, false), self.names(channel, true))
        }

        fn mode(&self, id: ClientId, channel: &str, adding: bool, mode: char, nick: &str) {
            let change = ModeChange {
                adding,
                mode,
                arg: Some(nick),
            };
            let refused = self.hub.change_modes(id, channel, &[change]).unwrap();
            assert!(refused.is_empty(), "{refused:?}");
        }
    }

    fn both(highest: &str, all: &str) -> (String, String) {
        (highest.to_owned(), all.to_owned())
    }

    #[tokio::test]
    async fn kept_names_follow_every_change_of_members_nicks_and_ranks() {
        let mut test = TestHub::new();
        for (id, nick) in [(1, "alice"), (2, "bob"), (3, "carol"), (4, "dave")] {
            test.register(id, nick).await;
        }
        assert_eq!(test.join(1, "#x"), ["@alice"]);
        assert_eq!(test.join(2, "#x"), ["@alice bob"]);
        assert_eq!(test.both("#x"), both("@alice bob", "@alice bob"));
        // Joins extend what is kept, in both forms.
        assert_eq!(test.join(3, "#x"), ["@alice bob carol"]);
        assert_eq!(
            test.both("#x"),
            both("@alice bob carol", "@alice bob carol")
        );

        test.mode(1, "#x", true, 'v', "bob");
        assert_eq!(
            test.both("#x"),
            both("@alice +bob carol", "@alice +bob carol")
        );
        test.mode(1, "#x", true, 'o', "bob");
        assert_eq!(
            test.both("#x"),
            both("@alice @bob carol", "@alice @+bob carol")
        );
        test.mode(1, "#x", false, 'o', "bob");
        assert_eq!(
            test.both("#x"),
            both("@alice +bob carol", "@alice +bob carol")
        );
        test.mode(1, "#x", true, 'o', "carol");
        test.mode(1, "#x", false, 'v', "bob");
        assert_eq!(
            test.both("#x"),
            both("@alice bob @carol", "@alice bob @carol")
        );

        test.hub.rename(3, "caroline").unwrap();
        assert_eq!(
            test.both("#x"),
            both("@alice bob @caroline", "@alice bob @caroline")
        );
        assert_eq!(test.join(4, "#x"), ["@alice bob @caroline dave"]);

        test.hub.part(2, "#x", Some("bye")).unwrap();
        assert_eq!(
            test.both("#x"),
            both("@alice @caroline dave", "@alice @caroline dave")
        );
        test.hub.kick(1, "#x", "dave", None).unwrap();
        assert_eq!(
            test.both("#x"),
            both("@alice @caroline", "@alice @caroline")
        );
        test.hub.remove(1, Departure::Quit(None));
        assert_eq!(test.both("#x"), both("@caroline", "@caroline"));
        // Back in after leaving: a new entry at its place.
        assert_eq!(test.join(2, "#x"), ["bob @caroline"]);
        assert_eq!(test.both("#x"), both("bob @caroline", "bob @caroline"));
    }

    #[tokio::test]
    async fn a_joiner_that_registered_before_others_goes_in_at_its_place() {
        let mut test = TestHub::new();
        let clients = [(1, "one"), (2, "anna"), (3, "bo"), (4, "an"), (5, "nan")];
        for (id, nick) in clients {
            test.register(id, nick).await;
        }
        assert_eq!(test.join(2, "#chat"), ["anna"]);
        assert_eq!(test.both("#chat"), both("anna", "anna"));
        assert_eq!(test.join(4, "#chat"), ["anna an"]);
        // Before "an", not inside "anna".
        assert_eq!(test.join(3, "#chat"), ["anna bo an"]);
        assert_eq!(test.join(1, "#chat"), ["one anna bo an"]);
        assert_eq!(test.join(5, "#chat"), ["one anna bo an nan"]);
        let all = "one anna bo an nan";
        assert_eq!(test.both("#chat"), both(all, all));

        // Before a member with a prefix.
        assert_eq!(test.join(5, "#x"), ["@nan"]);
        assert_eq!(test.both("#x"), both("@nan", "@nan"));
        test.mode(5, "#x", true, 'v', "nan");
        assert_eq!(test.both("#x"), both("@nan", "@+nan"));
        assert_eq!(test.join(4, "#x"), ["an @nan"]);
        assert_eq!(test.both("#x"), both("an @nan", "an @+nan"));
        assert_eq!(test.join(2, "#x"), ["anna an @nan"]);
        assert_eq!(test.both("#x"), both("anna an @nan", "anna an @+nan"));
    }

    #[tokio::test]
    async fn a_big_channel_lists_everyone_once_in_lines_that_fit() {
        let mut test = TestHub::new();
        let nicks: Vec<String> = (0..200)
            .map(|n| format!("member{n}_{}", "x".repeat(n % 20)))
            .collect();
        for (id, nick) in (1..).zip(&nicks) {
            test.register(id, nick).await;
            test.join(id, "#chat");
        }
        for all_prefixes in [false, true] {
            let (_, lines) = test.hub.names("#chat", WIDTH, all_prefixes).unwrap();
            assert!(lines.len() > 5, "{lines:?}");
            assert!(lines.iter().all(|line| line.len() <= WIDTH), "{lines:?}");
            let listed: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
            assert_eq!(listed, nicks);
        }
        assert_eq!(test.names("#chat", false).split(' ').count(), nicks.len());
    }
}
