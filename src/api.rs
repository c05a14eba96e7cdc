//! The vocabulary the window and the network side share: [`Command`]s in,
//! [`Event`]s out, and the requests and reasons they carry. It sits below both
//! `client` and `network` (and `ui`), so neither imports the other for it.

pub use crate::protocol::Fingerprint;
use std::net::SocketAddr;

pub use crate::discovery::NearbyRoom;

/// Start a host on this machine, then join its room as `nick`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRequest {
    pub nick: String,
    pub port: u16,
    pub room: String,
    pub password: Option<String>,
    /// Refuse plain-text guests (each gets one line saying why).
    pub encrypted_only: bool,
}

/// Join a room elsewhere. `address` is `host[:port]` or `irc://host[:port]/#room`;
/// a room in the URL wins over `room`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    pub address: String,
    pub nick: String,
    pub room: String,
    pub password: Option<String>,
    /// What is known of the host's certificate before connecting.
    pub identity: ExpectedIdentity,
}

/// What the window knows of a host's TLS certificate before connecting,
/// beside what the known hosts remember.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExpectedIdentity {
    /// A typed address: TLS first, plain text only for a host never seen
    /// speaking TLS.
    #[default]
    Unknown,
    /// A room announced on the local network as speaking TLS, with the
    /// certificate's fingerprint when the announcement gave one.
    AnnouncedTls(Option<Fingerprint>),
    /// A host known to speak plain text only (a room announced so):
    /// no TLS attempt, unless the known hosts remember it speaking TLS.
    PlainOnly,
    /// The person accepted this certificate after its host's identity
    /// changed: it replaces the pinned one.
    Accepted(Fingerprint),
    /// Our own host, whose certificate we made: nothing to remember.
    Own(Fingerprint),
}

/// How the conversation with the host is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// Plain text: anyone on the network path can read it.
    Plain,
    /// TLS with the host's own certificate, pinned the first time we met
    /// it, or accepted by the person after it changed.
    Pinned {
        fingerprint: Fingerprint,
        trust: Trust,
    },
    /// TLS with a certificate an authority the system trusts signed for
    /// `host`.
    Verified { host: String },
}

/// Why a pinned certificate is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Never met before: pinned just now (compare the safety code).
    FirstUse,
    /// The one pinned on an earlier visit (or our own host's).
    Remembered,
    /// A new one the person accepted after the host's identity changed.
    Accepted,
}

impl Security {
    pub fn is_encrypted(&self) -> bool {
        !matches!(self, Security::Plain)
    }
}

/// Why a certificate signed by an authority was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Signed by nobody the system trusts (often: self-signed).
    UnknownIssuer,
    /// Made out for another host name.
    WrongName,
    /// Expired, or not valid yet.
    Expired,
    /// The server does not speak TLS on that port.
    NotTls,
    /// Anything else, in rustls's words.
    Other(String),
}

/// What the window asks of the network thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Host(HostRequest),
    Connect(ConnectRequest),
    /// A chat line to the current room.
    SendMessage {
        text: String,
    },
    /// `/me text`, to the room (`to: None`) or to a person in private.
    SendAction {
        to: Option<String>,
        text: String,
    },
    /// `/msg nick text`.
    SendPrivate {
        nick: String,
        text: String,
    },
    ChangeNick {
        nick: String,
    },
    SetTopic {
        topic: String,
    },
    /// `/away reason` (`Some`) or back again (`None`). Kept across
    /// reconnections; the server confirms with an own [`Event::Away`].
    SetAway {
        reason: Option<String>,
    },
    /// Remove `nick` from the room (we must be an operator there).
    Kick {
        nick: String,
        reason: Option<String>,
    },
    /// Ban `nick` from the room and remove them: the ban mask is
    /// `nick!*@*` (by nickname only; a new nick gets past it, as in most
    /// clients' simplest ban).
    Ban {
        nick: String,
    },
    /// Give (`on`) or take away a member's operator or voice mode.
    SetMemberMode {
        nick: String,
        mode: MemberMode,
        on: bool,
    },
    /// Invite `nick` into the room (lets them past invite-only).
    Invite {
        nick: String,
    },
    /// Change one of the room's own modes (the Room Details switches).
    SetRoomMode(RoomModeChange),
    /// `/mode ARGS`: a MODE line on the room, the arguments as typed.
    RawMode {
        args: String,
    },
    /// Ask who `nick` is; answered by an [`Event::Whois`].
    Whois {
        nick: String,
    },
    /// Tell `target` (the room, or a nick) that we are typing, paused or
    /// done. Ephemeral: sent only to a server with IRCv3 `message-tags`,
    /// and dropped rather than queued behind chat that has not left yet.
    /// How often to send it (at most every 3 s while typing) is the
    /// window's business.
    SendTyping {
        target: String,
        state: TypingState,
    },
    /// While waiting to reconnect: try now instead of at the end of the wait.
    ReconnectNow,
    /// Forget the history of the rooms we host (answered by
    /// [`Event::HistoryCleared`]).
    ClearHistory,
    /// Leave the room (and stop hosting, if we host it).
    Leave {
        message: Option<String>,
    },
    /// The application is quitting: leave, stop hosting, end the thread.
    Shutdown,
}

/// A member's standing in the room, from the membership modes they hold
/// (the highest counts). Ordered: operators sort first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    #[default]
    Member,
    /// `+v`: may speak in a moderated room.
    Voiced,
    /// `+h` (on servers that have it): a helper who may remove members.
    HalfOperator,
    /// `+o`, or a server's higher ranks (`+a` admin, `+q` owner).
    Operator,
}

impl Rank {
    /// The rank a set of membership modes gives.
    pub fn of_modes(modes: &[char]) -> Rank {
        modes
            .iter()
            .map(|mode| match mode {
                'q' | 'a' | 'o' => Rank::Operator,
                'h' => Rank::HalfOperator,
                'v' => Rank::Voiced,
                _ => Rank::Member,
            })
            .max()
            .unwrap_or_default()
    }

    /// May remove members and change modes.
    pub fn is_operator(self) -> bool {
        self >= Rank::HalfOperator
    }

    /// May give and take operator status and ban. Half-operators may not
    /// on most servers (they moderate: remove and voice members).
    pub fn may_op_and_ban(self) -> bool {
        self == Rank::Operator
    }

    /// May remove a member of rank `them`, or give or take their voice:
    /// an operator anyone, a half-operator only those below them.
    pub fn may_moderate(self, them: Rank) -> bool {
        match self {
            Rank::Operator => true,
            Rank::HalfOperator => them < Rank::HalfOperator,
            Rank::Voiced | Rank::Member => false,
        }
    }
}

/// A membership mode the window can give or take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberMode {
    /// `o`.
    Operator,
    /// `v`.
    Voice,
}

impl MemberMode {
    pub fn letter(self) -> char {
        match self {
            MemberMode::Operator => 'o',
            MemberMode::Voice => 'v',
        }
    }
}

/// The room's own modes the window shows in Room Details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomModes {
    /// `+t`: only operators can change the topic.
    pub topic_locked: bool,
    /// `+m`: only operators and voiced members can speak.
    pub moderated: bool,
    /// `+i`: only invited people can join.
    pub invite_only: bool,
    /// `+k`: the room's password, when the server shows it.
    pub key: Option<String>,
    /// `+l`: the most members the room takes.
    pub limit: Option<u32>,
}

/// One change to [`RoomModes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomModeChange {
    TopicLocked(bool),
    Moderated(bool),
    InviteOnly(bool),
    /// A new password, or none.
    Key(Option<String>),
    /// A member limit, or none.
    Limit(Option<u32>),
}

/// What a server told of someone asked about with WHOIS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhoisInfo {
    pub nick: String,
    /// `user@host`, when told.
    pub address: Option<String>,
    pub realname: Option<String>,
    pub server: Option<String>,
    /// Channels, with their rank prefixes as the server wrote them.
    pub channels: Vec<String>,
    pub idle_secs: Option<u64>,
    /// When they connected, in seconds since the Unix epoch.
    pub signon: Option<i64>,
    pub away: Option<String>,
    /// The server knows nobody by that nick (401).
    pub unknown: bool,
}

/// What someone is doing in the message entry (the IRCv3 `+typing` client
/// tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypingState {
    /// Typing now. Without news, stale after about 6 s.
    Active,
    /// Stopped typing for a while, with text still in the entry. Stale
    /// after about 30 s.
    Paused,
    /// Sent the text, or cleared the entry.
    Done,
}

/// Whether someone is at their keyboard, as far as IRC says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Here (back, or never away).
    Here,
    /// Marked away; `reason` when the server told it (a WHO reply shows
    /// only the flag).
    Away { reason: Option<String> },
}

/// Why the host could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    PortInUse { port: u16 },
    PermissionDenied { port: u16 },
    Other(String),
}

/// Why a session ended, in terms a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// We asked to leave.
    Left,
    /// Nobody listens at that address and port.
    Refused,
    /// No route to the host / network unreachable.
    Unreachable,
    /// The name did not resolve.
    NotResolved {
        host: String,
    },
    /// The address could not be understood at all.
    InvalidAddress {
        address: String,
    },
    WrongPassword,
    /// An operator removed us from the room (KICK).
    Kicked {
        by: String,
        reason: Option<String>,
    },
    /// The room refuses us: we are banned there (474 on joining).
    Banned,
    /// The host closed the room (server sent ERROR / shut down).
    HostClosed {
        message: Option<String>,
    },
    /// Connecting or the host's answers timed out.
    TimedOut,
    /// The connection broke; the text is the system's error.
    ConnectionLost {
        detail: String,
    },
    /// The host showed another certificate than the one pinned for it (or
    /// than its announcement named). Nothing was sent to it: no nick, no
    /// password. Connecting again with
    /// [`ExpectedIdentity::Accepted`]`(presented)` trusts the new one.
    IdentityChanged {
        expected: Fingerprint,
        presented: Fingerprint,
    },
    /// A host seen speaking TLS before (or announced so) does not now:
    /// we do not fall back to plain text with it.
    NoLongerEncrypted,
    /// An `ircs://` or port 6697 server's certificate was not accepted.
    CertificateRejected {
        problem: CertificateProblem,
    },
    /// The host sent more than a window can take; we left rather than let
    /// it use up this computer's memory.
    HostFlooded {
        flood: Flood,
    },
}

/// What a host sent too much of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flood {
    /// Requests for answers (PINGs and the like) while it did not read the
    /// answers we owed it.
    UnreadAnswers,
    /// A member list longer than `limit` names.
    Members { limit: usize },
}

/// Where and when a chat line was said, as far as the host tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMeta {
    /// The host's id for the line (IRCv3 `msgid`), when it gives one.
    pub msgid: Option<String>,
    /// When the host relayed it, in milliseconds since the Unix epoch
    /// (IRCv3 `server-time`); `None`: just now.
    pub time_ms: Option<i64>,
    /// One of our own lines still on its way: its outbox id, until
    /// [`Event::Delivered`] names it.
    pub outbox_id: Option<u64>,
}

/// Which earlier lines an [`Event::History`] brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKind {
    /// The room's latest lines, fetched on joining.
    Earlier,
    /// What was said while we were away (after a reconnect).
    Missed,
}

/// How long the network thread waits for the window to take one [`Event`]
/// from a full channel before it takes the window for gone: a main loop
/// stuck that long will not come back.
pub const WINDOW_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// What the network thread reports to the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Our host is listening; `addresses` are the local non-loopback
    /// addresses (with port) friends can use.
    Hosting {
        port: u16,
        addresses: Vec<SocketAddr>,
        /// Our certificate's fingerprint when the port speaks TLS: guests
        /// compare its safety code.
        fingerprint: Option<Fingerprint>,
    },
    HostFailed(HostError),
    /// How this connection is protected: said once per connection, after
    /// the TLS handshake and before anything is sent.
    Security(Security),
    /// Registered with the server and joined `room` as `nick`.
    Connected {
        server: String,
        nick: String,
        room: String,
    },
    /// The nickname we asked for was taken; we are `using` instead.
    NickInUse {
        requested: String,
        using: String,
    },
    Message {
        from: String,
        target: String,
        text: String,
        own: bool,
        private: bool,
        meta: LineMeta,
    },
    Action {
        from: String,
        target: String,
        text: String,
        own: bool,
        meta: LineMeta,
    },
    /// Lines said before we (re)joined `room`, oldest first: only
    /// `Message`, `Action` and `Topic` events, each line once.
    History {
        room: String,
        kind: HistoryKind,
        lines: Vec<Event>,
    },
    /// One of our lines reached the room: the host echoed it back, or it
    /// was written to a host that does not echo.
    Delivered {
        outbox_id: u64,
    },
    Notice {
        from: Option<String>,
        text: String,
    },
    Joined {
        nick: String,
        room: String,
        own: bool,
    },
    Parted {
        nick: String,
        room: String,
        reason: Option<String>,
    },
    Quit {
        nick: String,
        reason: Option<String>,
    },
    NickChanged {
        old: String,
        new: String,
        own: bool,
    },
    Topic {
        room: String,
        topic: String,
        set_by: Option<String>,
    },
    /// The full member list of `room` (after joining, or a NAMES reply).
    /// `ranks` names the members above [`Rank::Member`].
    Members {
        room: String,
        nicks: Vec<String>,
        ranks: Vec<(String, Rank)>,
    },
    /// `nick`'s rank in `room` changed (a MODE line, by `by`).
    MemberRank {
        room: String,
        nick: String,
        rank: Rank,
        by: Option<String>,
    },
    /// The room's own modes, as they are now (after joining, or a MODE
    /// line by `by`).
    RoomModes {
        room: String,
        modes: RoomModes,
        by: Option<String>,
    },
    /// `by` banned `mask` (`nick!user@host`, with wildcards) from `room`,
    /// or lifted that ban (`banned` false): a `+b`/`-b` MODE line.
    Ban {
        room: String,
        mask: String,
        banned: bool,
        by: Option<String>,
    },
    /// `nick` was removed from `room` by `by`. Our own removal ends the
    /// session with [`DisconnectReason::Kicked`] instead.
    Kicked {
        nick: String,
        room: String,
        by: String,
        reason: Option<String>,
    },
    /// The answer to a [`Command::Whois`].
    Whois(WhoisInfo),
    /// The server passed a [`Command::Invite`] on to `nick` (341).
    Invited {
        nick: String,
        room: String,
    },
    /// Someone is away or back: an IRCv3 `away-notify` AWAY, an RPL_AWAY
    /// (301) after we wrote to them, or a WHO reply's `G` flag after
    /// joining. `own`: our own state, as the server confirmed it (305/306).
    Away {
        nick: String,
        presence: Presence,
        own: bool,
    },
    /// `nick` is typing to `target` (the room, or our own nick for a
    /// private conversation). Never our own: the echo is dropped. Shown
    /// until a newer state or the state's staleness ([`TypingState`]).
    Typing {
        nick: String,
        target: String,
        state: TypingState,
    },
    /// An error reply from the server, with its text.
    ServerError {
        text: String,
    },
    /// The connection was lost for `reason`; the session tries again in
    /// `delay_secs` (attempt 1, 2, …) unless told [`Command::ReconnectNow`]
    /// or `Leave`. Lines typed meanwhile wait in the outbox.
    Reconnecting {
        reason: DisconnectReason,
        attempt: u32,
        delay_secs: u64,
    },
    /// The history of the rooms we host is gone (or could not be cleared:
    /// `error` says why).
    HistoryCleared {
        error: Option<String>,
    },
    /// The session is over for good (no reconnect follows).
    Disconnected {
        reason: DisconnectReason,
    },
    /// A room announced on the local network (new, or changed).
    NearbyRoom(NearbyRoom),
    /// The room announced as `instance` is gone.
    NearbyRoomGone {
        instance: String,
    },
}
