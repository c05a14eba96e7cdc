//! The client session's presence: away and typing, against a fake IRC
//! server on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::{next_event, session_config, start_session as start, wait_for, FakeServer, Peer};
use tcp_chat::api::{Command, Event, Presence, TypingState};
use tcp_chat::client::{Pacing, Session, SessionConfig};
use tcp_chat::protocol::tags;

fn config(address: &str, nick: &str) -> SessionConfig {
    session_config(address, nick, "#room")
}

/// Registration with capability negotiation against a server offering
/// `offered`; returns what the session asked for.
async fn handshake_offering(peer: &mut Peer, offered: &str) -> String {
    peer.sees_caps = true;
    assert_eq!(peer.message().await.to_string(), "CAP LS 302");
    peer.read_registration().await;
    peer.send(&format!(":irc.test CAP * LS :{offered}")).await;
    let request = peer.expect("CAP").await;
    assert_eq!(request.params[0], "REQ");
    let asked = request.params[1].clone();
    peer.send(&format!(":irc.test CAP * ACK :{asked}")).await;
    assert_eq!(peer.expect("CAP").await.params, ["END"]);
    let nick = peer.nick.clone();
    peer.welcome_and_join(&[&nick, "bob"]).await;
    asked
}

/// A session joined to `#room` on a server with message-tags and
/// away-notify, past the WHO it sends after joining.
async fn joined_with_presence(
    config: impl FnOnce(String) -> SessionConfig,
) -> (FakeServer, Peer, Session, async_channel::Receiver<Event>) {
    let server = FakeServer::bind().await;
    let (session, events) = start(config(server.address()));
    let mut peer = server.accept().await;
    let asked = handshake_offering(&mut peer, "message-tags away-notify sasl").await;
    assert_eq!(asked, "message-tags away-notify");
    assert_eq!(peer.expect("WHO").await.params, ["#room"]);
    wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    (server, peer, session, events)
}

fn away(nick: &str, reason: Option<&str>, own: bool) -> Event {
    Event::Away {
        nick: nick.to_owned(),
        presence: Presence::Away {
            reason: reason.map(str::to_owned),
        },
        own,
    }
}

fn here(nick: &str, own: bool) -> Event {
    Event::Away {
        nick: nick.to_owned(),
        presence: Presence::Here,
        own,
    }
}

fn typing(nick: &str, target: &str, state: TypingState) -> Event {
    Event::Typing {
        nick: nick.to_owned(),
        target: target.to_owned(),
        state,
    }
}

#[tokio::test]
async fn away_lines_who_flags_and_typing_tags_become_events() {
    let (_server, mut peer, _session, events) =
        joined_with_presence(|address| config(&address, "alice")).await;
    let script = [
        ":irc.test 352 alice #room b h irc.test bob G :0 Bob",
        ":irc.test 352 alice #room c h irc.test carol H :0 Carol",
        ":irc.test 352 alice #room a h irc.test alice G :0 Alice",
        ":irc.test 352 alice #room short",
        ":irc.test 315 alice #room :End of WHO list",
        ":bob!b@h AWAY :lunch",
        ":bob!b@h AWAY",
        ":bob!b@h AWAY :",
        "AWAY :from nobody",
        ":irc.test 301 alice bob :lunch",
        "@+typing=active :bob!b@h TAGMSG #room",
        "@+draft/typing=paused :bob!b@h TAGMSG alice",
        "@+typing=active :alice!a@h TAGMSG #room",
        "@+typing=bogus :bob!b@h TAGMSG #room",
        "@+typing :bob!b@h TAGMSG #room",
        "@+react=x :bob!b@h TAGMSG #room",
        "@+typing=done :bob!b@h TAGMSG",
        "@+typing=done;;;=;\\ :bob!b@h TAGMSG #room",
        ":bob!b@h PRIVMSG #room :end",
    ];
    for line in script {
        peer.send(line).await;
    }
    let expected = [
        away("bob", None, false),
        away("bob", Some("lunch"), false),
        here("bob", false),
        here("bob", false),
        away("bob", Some("lunch"), false),
        typing("bob", "#room", TypingState::Active),
        typing("bob", "alice", TypingState::Paused),
        typing("bob", "#room", TypingState::Done),
    ];
    for want in expected {
        assert_eq!(next_event(&events).await, want);
    }
    assert!(matches!(
        next_event(&events).await,
        Event::Message { text, .. } if text == "end"
    ));
}

#[tokio::test]
async fn sends_away_and_typing_and_reports_the_servers_answers() {
    let (_server, mut peer, session, events) =
        joined_with_presence(|address| config(&address, "alice")).await;
    session.send(Command::SetAway {
        reason: Some("lunch".to_owned()),
    });
    assert_eq!(peer.expect("AWAY").await.params, ["lunch"]);
    peer.send(":irc.test 306 alice :You have been marked as being away")
        .await;
    assert_eq!(
        next_event(&events).await,
        away("alice", Some("lunch"), true)
    );

    session.send(Command::SetAway { reason: None });
    assert!(peer.expect("AWAY").await.params.is_empty());
    peer.send(":irc.test 305 alice :You are no longer marked as being away")
        .await;
    assert_eq!(next_event(&events).await, here("alice", true));
    session.send(Command::SetAway {
        reason: Some("  ".to_owned()),
    });
    assert!(peer.expect("AWAY").await.params.is_empty());

    for (state, value) in [
        (TypingState::Active, "active"),
        (TypingState::Paused, "paused"),
        (TypingState::Done, "done"),
    ] {
        session.send(Command::SendTyping {
            target: "#room".to_owned(),
            state,
        });
        let sent = peer.expect("TAGMSG").await;
        assert_eq!(sent.params, ["#room"]);
        let raw = sent.tags.as_deref().unwrap();
        assert_eq!(tags::find(raw, "+typing").as_deref(), Some(value));
    }
    // Hostile input from the window's side: lines still fit, odd targets
    // are dropped.
    for junk in ["a b", "#room,bob", "", &"x".repeat(100_000)] {
        session.send(Command::SendTyping {
            target: junk.to_owned(),
            state: TypingState::Active,
        });
    }
    session.send(Command::SendTyping {
        target: "bob".to_owned(),
        state: TypingState::Active,
    });
    assert_eq!(peer.expect("TAGMSG").await.params, ["bob"]);
    session.send(Command::SetAway {
        reason: Some("好".repeat(100_000)),
    });
    let away = peer.raw_line().await.unwrap();
    assert!(away.len() <= 510, "{}", away.len());
    let reason = &tcp_chat::protocol::Message::parse(&away).unwrap().params[0];
    assert!(reason.len() > 490 && reason.chars().all(|c| c == '好'));
}

#[tokio::test]
async fn typing_is_dropped_rather_than_queued_behind_chat() {
    let slow = |address: String| {
        let mut config = config(&address, "alice");
        config.timing.pacing = Pacing {
            interval: Duration::from_millis(300),
            burst: 1,
        };
        config
    };
    let (_server, mut peer, session, _events) = joined_with_presence(slow).await;
    for text in ["one", "two", "three"] {
        session.send(Command::SendMessage {
            text: text.to_owned(),
        });
    }
    // "two" and "three" wait for their turn: no room for news of typing.
    session.send(Command::SendTyping {
        target: "#room".to_owned(),
        state: TypingState::Active,
    });
    session.send(Command::SetAway {
        reason: Some("gone".to_owned()),
    });
    for text in ["one", "two", "three"] {
        assert_eq!(peer.expect("PRIVMSG").await.params[1], text);
    }
    // Only PING/PONG may come between: a TAGMSG here fails the test.
    assert_eq!(peer.expect("AWAY").await.params, ["gone"]);
}

#[tokio::test]
async fn without_message_tags_or_away_notify_no_typing_and_no_who() {
    let server = FakeServer::bind().await;
    let (session, events) = start(config(&server.address(), "alice"));
    let mut peer = server.accept().await;
    peer.handshake().await;
    wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    session.send(Command::SendTyping {
        target: "#room".to_owned(),
        state: TypingState::Active,
    });
    session.send(Command::SetAway {
        reason: Some("brb".to_owned()),
    });
    // The first line after joining is the AWAY: no WHO, no TAGMSG.
    let first = peer.message().await;
    assert_eq!(
        (first.command.as_str(), first.params.clone()),
        ("AWAY", vec!["brb".to_owned()])
    );
}

#[tokio::test]
async fn away_is_said_again_after_a_reconnect() {
    let server = FakeServer::bind().await;
    let (session, events) = start(config(&server.address(), "alice"));
    let mut peer = server.accept().await;
    peer.handshake().await;
    wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    session.send(Command::SetAway {
        reason: Some("asleep".to_owned()),
    });
    assert_eq!(peer.expect("AWAY").await.params, ["asleep"]);
    // Typing while disconnected is forgotten, not sent on the next connection.
    peer.vanish();
    wait_for(&events, |e| matches!(e, Event::Reconnecting { .. })).await;
    session.send(Command::SendTyping {
        target: "#room".to_owned(),
        state: TypingState::Active,
    });
    let mut peer = server.accept().await;
    peer.read_registration().await;
    let nick = peer.nick.clone();
    peer.send(&format!(":irc.test 001 {nick} :Welcome {nick}"))
        .await;
    assert_eq!(peer.expect("AWAY").await.params, ["asleep"]);
    assert_eq!(peer.expect("JOIN").await.params, ["#room"]);
}
