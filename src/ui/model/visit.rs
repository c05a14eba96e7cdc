//! Who we are and where: what the last Host or Connect asked for and what
//! the network answered.

use std::net::SocketAddr;

use crate::api::{Command, RoomModes, Security};
use crate::protocol::Fingerprint;

/// One stay in a room, from Host or Connect to leaving. (Not the
/// client's `Session`, the network side's connection task.)
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Visit {
    /// The last Host or Connect, repeated by Try Again.
    pub request: Option<Command>,
    pub room: String,
    /// The session's `host:port` once connected.
    pub server: String,
    /// Our nickname as the room knows it.
    pub nick: String,
    /// The room's topic, as last told.
    pub topic: String,
    /// The room's own modes, as last told (Room Details).
    pub room_modes: RoomModes,
    /// Where friends can reach our host, once it listens.
    pub hosting: Option<(u16, Vec<SocketAddr>)>,
    /// Our host's certificate fingerprint, while we host over TLS.
    pub own_fingerprint: Option<Fingerprint>,
    /// How the latest connection is protected, once its handshake is done.
    pub security: Option<Security>,
    /// The certificate the host showed when it was refused for not being
    /// the one pinned: what "Trust New Identity" accepts.
    pub changed_identity: Option<Fingerprint>,
}

impl Visit {
    /// A visit about to start `request` (Host or Connect).
    pub fn for_request(request: Command) -> Self {
        let (nick, room) = nick_and_room(&request).unwrap_or_default();
        Visit {
            nick: nick.to_owned(),
            room: room.to_owned(),
            request: Some(request),
            ..Visit::default()
        }
    }

    /// The address to give friends while we host: the first IPv4 one
    /// (easiest to type), else the first of any kind.
    pub fn share_address(&self) -> Option<String> {
        let (port, addresses) = self.hosting.as_ref()?;
        let address = addresses
            .iter()
            .find(|address| address.is_ipv4())
            .or(addresses.first())
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("localhost:{port}"));
        Some(address)
    }

    /// The address as the person typed it, for messages about connecting.
    pub fn target(&self) -> String {
        match &self.request {
            Some(Command::Connect(request)) => request.address.clone(),
            Some(Command::Host(request)) => format!("localhost:{}", request.port),
            _ => self.server.clone(),
        }
    }

    /// The address of the room we were in: the session's `host:port`
    /// (not a whole irc:// link), else what was typed.
    pub fn server_or_target(&self) -> String {
        if self.server.is_empty() {
            self.target()
        } else {
            self.server.clone()
        }
    }

    pub fn is_hosting(&self) -> bool {
        self.hosting.is_some()
    }
}

/// Who we will be and where, for a Host or Connect.
pub fn nick_and_room(request: &Command) -> Option<(&str, &str)> {
    match request {
        Command::Host(request) => Some((&request.nick, &request.room)),
        Command::Connect(request) => Some((&request.nick, &request.room)),
        _ => None,
    }
}
