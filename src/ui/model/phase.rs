//! Where the window is between "nothing" and "chatting".

/// The room's phase. A `glib::Enum` so the window can expose it as a
/// property and `window.ui` can bind pages and sensitivity to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, glib::Enum)]
#[enum_type(name = "TcpChatPhase")]
pub enum Phase {
    /// Nothing started: the welcome page.
    #[default]
    Welcome,
    /// A Host or Connect is under way.
    Connecting,
    /// In the room.
    InRoom,
    /// The connection broke; the network thread is trying again. The log
    /// and the entry stay usable.
    Reconnecting,
    /// The session ended by itself; the log stays readable.
    Closed,
}

impl Phase {
    /// Connecting or in a room: Host and Connect step aside.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            Phase::Connecting | Phase::InRoom | Phase::Reconnecting
        )
    }

    /// The room is (still) ours: lines typed now reach it, sooner or later.
    pub fn can_chat(self) -> bool {
        matches!(self, Phase::InRoom | Phase::Reconnecting)
    }

    /// Whether the log belongs to a room we were in (so it stays shown).
    pub fn shows_room(self) -> bool {
        matches!(self, Phase::InRoom | Phase::Reconnecting | Phase::Closed)
    }
}
