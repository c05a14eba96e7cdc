//! What the header bar and window title say in each phase.

use super::{Conversations, Phase, Visit};
use crate::api::{Command, Security, Trust};
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
    /// The lock beside the title and its details, once the connection's
    /// protection is known.
    pub security: Option<SecurityDetails>,
}

/// What the header's lock and its popover say about the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityDetails {
    pub encrypted: bool,
    pub icon_name: &'static str,
    pub tooltip: String,
    pub heading: String,
    pub explanation: String,
    /// Five groups of four digits, for a host's own certificate.
    pub safety_code: Option<String>,
    /// The certificate's SHA-256 fingerprint, for those who compare that.
    pub fingerprint: Option<String>,
}

/// How `security` reads in the header; `hosting`: our own room.
pub fn security_details(security: &Security, hosting: bool) -> SecurityDetails {
    let (heading, explanation, fingerprint) = match security {
        Security::Plain => (
            gettext("Not Encrypted"),
            gettext("Others on the network can read this conversation, and nothing checks who the host is. The host does not offer encryption."),
            None,
        ),
        Security::Pinned { fingerprint, .. } if hosting => (
            gettext("Encrypted Room"),
            gettext("Guests who join with TCP Chat see this safety code. Read it out to them: if theirs is the same, no one is in between. Guests with other programs join in plain text unless they choose TLS or the room accepts encrypted connections only."),
            Some(fingerprint),
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::FirstUse,
        } => (
            gettext("Encrypted Connection"),
            gettext("This is your first visit to this host. Compare this safety code with the one in the host’s window: if they are the same, no one is in between. TCP Chat remembers it and warns you if it ever changes."),
            Some(fingerprint),
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::Accepted,
        } => (
            gettext("Encrypted Connection"),
            gettext("You trusted this new safety code after the host’s identity changed. TCP Chat remembers it and warns you if it changes again."),
            Some(fingerprint),
        ),
        Security::Pinned {
            fingerprint,
            trust: Trust::Remembered,
        } => (
            gettext("Encrypted Connection"),
            gettext("The host’s safety code is the one TCP Chat remembered from your first visit. Compare it with the one in the host’s window to be sure no one is in between."),
            Some(fingerprint),
        ),
        Security::Verified { host } => (
            gettext("Encrypted Connection"),
            gettext_f(
                "The certificate of {host} is signed by an authority this computer trusts.",
                &[("host", host)],
            ),
            None,
        ),
    };
    let encrypted = security.is_encrypted();
    SecurityDetails {
        encrypted,
        icon_name: if encrypted {
            "channel-secure-symbolic"
        } else {
            "channel-insecure-symbolic"
        },
        tooltip: if encrypted {
            gettext("Encrypted — details")
        } else {
            gettext("Not encrypted — details")
        },
        heading,
        explanation,
        safety_code: fingerprint.map(|fingerprint| fingerprint.safety_code()),
        fingerprint: fingerprint.map(|fingerprint| fingerprint.hex()),
    }
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
    let security = match phase {
        Phase::Welcome => None,
        _ => visit
            .security
            .as_ref()
            .map(|security| security_details(security, visit.is_hosting())),
    };
    Header {
        placeholder: gettext_f("Message {room}", &[("room", &title_of_shown)]),
        security,
        title,
        subtitle,
        window_title,
        waiting_for,
    }
}
