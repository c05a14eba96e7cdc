//! The two enums that cross between the GUI and the network thread.

use std::net::SocketAddr;

/// Start a host on this machine, then join its room as `nick`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRequest {
    pub nick: String,
    pub port: u16,
    pub room: String,
    pub password: Option<String>,
}

/// Join a room elsewhere. `address` is `host[:port]` or `irc://host[:port]/#room`;
/// a room in the URL wins over `room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    pub address: String,
    pub nick: String,
    pub room: String,
    pub password: Option<String>,
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
    /// `/me text` to the current room.
    SendAction {
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
    /// Leave the room (and stop hosting, if we host it).
    Leave {
        message: Option<String>,
    },
    /// The application is quitting: leave, stop hosting, end the thread.
    Shutdown,
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
}

/// What the network thread reports to the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Our host is listening; `addresses` are the local non-loopback
    /// addresses (with port) friends can use.
    Hosting {
        port: u16,
        addresses: Vec<SocketAddr>,
    },
    HostFailed(HostError),
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
    },
    Action {
        from: String,
        target: String,
        text: String,
        own: bool,
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
    Members {
        room: String,
        nicks: Vec<String>,
    },
    /// An error reply from the server, with its text.
    ServerError {
        text: String,
    },
    Disconnected {
        reason: DisconnectReason,
    },
}
