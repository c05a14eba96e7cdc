//! What the header bar and window title say in each phase.

use super::{Conversations, Phase, Visit};
use crate::api::Command;
use crate::i18n::{gettext, gettext_f};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub title: String,
    pub subtitle: String,
    /// The window's own title (task switchers, screen readers).
    pub window_title: String,
    /// What the Connecting page says it waits for.
    pub waiting_for: String,
    /// The message entry's placeholder.
    pub placeholder: String,
}

pub fn header(phase: Phase, visit: &Visit, conversations: &Conversations) -> Header {
    let app = gettext("TCP Chat");
    let room = visit.room.clone();
    // A private conversation is titled by the person; the rest stays the room's.
    let title_of_shown = conversations
        .selected_person()
        .map_or_else(|| room.clone(), str::to_owned);
    let (title, subtitle) = match phase {
        Phase::Welcome => (app.clone(), String::new()),
        Phase::Connecting => (room.clone(), gettext("Connecting…")),
        Phase::InRoom => {
            let subtitle = match visit.share_address() {
                Some(address) => gettext_f(
                    "{nick} · hosting at {address}",
                    &[("nick", &visit.nick), ("address", &address)],
                ),
                // The session's `host:port`, not the typed address, which
                // may be a whole irc:// link.
                None => gettext_f(
                    "{nick} · connected to {server}",
                    &[("nick", &visit.nick), ("server", &visit.server)],
                ),
            };
            (title_of_shown.clone(), subtitle)
        }
        Phase::Reconnecting => (title_of_shown.clone(), gettext("Reconnecting…")),
        Phase::Closed => (title_of_shown.clone(), gettext("Disconnected")),
    };
    let mut window_title = if phase == Phase::Welcome {
        app
    } else {
        format!("{title} — {app}")
    };
    // Mentions and private lines waiting: counted where the task switcher
    // and the window list show it.
    let attention = conversations.attention();
    if attention > 0 {
        window_title = format!("({attention}) {window_title}");
    }
    let waiting_for = match &visit.request {
        Some(Command::Host(request)) => gettext_f(
            "Opening {room} on port {port}",
            &[("room", &request.room), ("port", &request.port.to_string())],
        ),
        _ => gettext_f(
            "Joining {room} at {target}",
            &[("room", &room), ("target", &visit.target())],
        ),
    };
    Header {
        placeholder: gettext_f("Message {room}", &[("room", &title_of_shown)]),
        title,
        subtitle,
        window_title,
        waiting_for,
    }
}
