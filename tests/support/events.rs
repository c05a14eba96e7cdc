//! Client sessions, and awaiting the events they (or the network thread)
//! report.

use async_channel::Receiver;
use tcp_chat::api::{ConnectRequest, DisconnectReason, Event, ExpectedIdentity, LineMeta};
use tcp_chat::client::{Session, SessionConfig, Timing};

use super::within;

/// A session config with default timing (but quick reconnects: tests await
/// them) and no password.
pub fn session_config(address: &str, nick: &str, room: &str) -> SessionConfig {
    SessionConfig {
        request: ConnectRequest {
            address: address.to_owned(),
            nick: nick.to_owned(),
            room: room.to_owned(),
            password: None,
            // Fake servers speak plain text, and take every connection for
            // a guest: no TLS attempt first.
            identity: ExpectedIdentity::PlainOnly,
        },
        timing: Timing {
            reconnect_base: std::time::Duration::from_millis(20),
            reconnect_max: std::time::Duration::from_millis(200),
            ..Timing::default()
        },
        known_hosts: None,
    }
}

/// Starts a session whose events arrive on the returned receiver.
pub fn start_session(config: SessionConfig) -> (Session, Receiver<Event>) {
    let (sender, events) = async_channel::unbounded();
    (Session::start(config, sender), events)
}

pub async fn next_event(events: &Receiver<Event>) -> Event {
    within("event", events.recv())
        .await
        .expect("the event channel closed")
}

/// Skips events until one matches, returning it; a disconnection on the way
/// fails the test.
pub async fn wait_for(events: &Receiver<Event>, wanted: impl Fn(&Event) -> bool) -> Event {
    loop {
        let event = next_event(events).await;
        if wanted(&event) {
            return event;
        }
        assert!(
            !matches!(event, Event::Disconnected { .. }),
            "disconnected while waiting: {event:?}"
        );
    }
}

/// Who we are once connected: `Event::Connected`'s server, nick and room.
#[derive(Debug)]
pub struct Connected {
    pub server: String,
    pub nick: String,
    pub room: String,
}

pub async fn wait_connected(events: &Receiver<Event>) -> Connected {
    match wait_for(events, |e| matches!(e, Event::Connected { .. })).await {
        Event::Connected { server, nick, room } => Connected { server, nick, room },
        other => unreachable!("wait_for returned {other:?}"),
    }
}

pub async fn wait_disconnected(events: &Receiver<Event>) -> DisconnectReason {
    loop {
        if let Event::Disconnected { reason } = next_event(events).await {
            return reason;
        }
    }
}

/// The session ended with no reconnect before it: why.
pub async fn wait_ended_for_good(events: &Receiver<Event>) -> DisconnectReason {
    let ended = wait_for(events, |e| {
        matches!(e, Event::Disconnected { .. } | Event::Reconnecting { .. })
    })
    .await;
    match ended {
        Event::Disconnected { reason } => reason,
        other => panic!("the session tries again: {other:?}"),
    }
}

/// The session lost its connection and will try again: why, and which attempt.
pub async fn wait_reconnecting(events: &Receiver<Event>) -> (DisconnectReason, u32) {
    match wait_for(events, |e| matches!(e, Event::Reconnecting { .. })).await {
        Event::Reconnecting {
            reason, attempt, ..
        } => (reason, attempt),
        other => unreachable!("wait_for returned {other:?}"),
    }
}

/// The next member list, sorted.
pub async fn members(events: &Receiver<Event>) -> Vec<String> {
    match wait_for(events, |e| matches!(e, Event::Members { .. })).await {
        Event::Members { mut nicks, .. } => {
            nicks.sort();
            nicks
        }
        other => unreachable!("wait_for returned {other:?}"),
    }
}

/// The next chat event from someone else (message or action), skipping
/// notices and the like.
pub async fn next_chat(events: &Receiver<Event>) -> Event {
    let mut chat = wait_for(events, |e| {
        matches!(
            e,
            Event::Message { own: false, .. } | Event::Action { own: false, .. }
        )
    })
    .await;
    // What was said, not how the server stamped it.
    if let Event::Message { meta, .. } | Event::Action { meta, .. } = &mut chat {
        *meta = LineMeta::default();
    }
    chat
}
