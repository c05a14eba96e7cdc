//! Nothing said is lost: our client session through a relay the test cuts
//! and restores, against our host keeping history. The session rejoins by
//! itself, shows what it missed once, and every line typed reaches the room
//! exactly once — also one written just before the cut, whose echo never
//! came back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use async_channel::Receiver;
use support::{
    next_event, session_config, start_host, start_session, test_config, wait_connected, wait_for,
    wait_reconnecting, RawClient, Relay,
};
use tcp_chat::api::{Command, DisconnectReason, Event, HistoryKind};
use tcp_chat::client::Session;
use tcp_chat::server::{HistoryConfig, RunningHost, ServerConfig};

struct Room {
    _host: RunningHost,
    _dir: tempfile::TempDir,
    relay: Relay,
    /// Someone on the host directly, never cut off.
    li: RawClient,
    mei: Session,
    events: Receiver<Event>,
}

/// Our host with history, `li` in the room, and `mei` (our session) joined
/// through the relay.
async fn room() -> Room {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        history: Some(HistoryConfig {
            path: dir.path().join("history.sqlite3"),
            keep_per_room: 1000,
        }),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let relay = Relay::start(addr).await;
    let li = RawClient::register(addr, "li").await;
    let (mei, events) = start_session(session_config(&relay.addr.to_string(), "mei", "#chat"));
    wait_connected(&events).await;
    Room {
        _host: host,
        _dir: dir,
        relay,
        li,
        mei,
        events,
    }
}

fn say(session: &Session, text: &str) {
    session.send(Command::SendMessage {
        text: text.to_owned(),
    });
}

/// Our own line, shown as on its way: its outbox id.
async fn pending_line(events: &Receiver<Event>, text: &str) -> u64 {
    let shown = wait_for(
        events,
        |e| matches!(e, Event::Message { own: true, text: t, .. } if t == text),
    )
    .await;
    match shown {
        Event::Message { meta, .. } => meta.outbox_id.expect("pending until delivered"),
        other => unreachable!("{other:?}"),
    }
}

/// How often `li` has seen `text` said, up to a barrier.
async fn times_seen(li: &mut RawClient, text: &str) -> usize {
    let seen = li.sync("count").await;
    seen.iter()
        .filter(|line| line.ends_with(&format!(":{text}")))
        .count()
}

#[tokio::test]
async fn rejoins_by_itself_and_fills_the_gap_once() {
    let mut room = room().await;
    room.li.send("PRIVMSG #chat :before the cut").await;
    wait_for(
        &room.events,
        |e| matches!(e, Event::Message { text, .. } if text == "before the cut"),
    )
    .await;

    room.relay.cut();
    let (reason, attempt) = wait_reconnecting(&room.events).await;
    assert!(
        matches!(reason, DisconnectReason::ConnectionLost { .. }),
        "{reason:?}"
    );
    assert_eq!(attempt, 1);
    room.li.expect_containing("QUIT").await;
    room.li.send("PRIVMSG #chat :while you were away").await;
    room.li.send("PRIVMSG #chat :\u{1}ACTION waves\u{1}").await;
    say(&room.mei, "typed while away");
    let queued = pending_line(&room.events, "typed while away").await;
    room.li.sync("said").await;

    room.relay.restore();
    let rejoined = wait_connected(&room.events).await;
    assert_eq!(
        (rejoined.nick.as_str(), rejoined.room.as_str()),
        ("mei", "#chat")
    );
    let missed = wait_for(&room.events, |e| matches!(e, Event::History { .. })).await;
    let Event::History { kind, lines, .. } = missed else {
        unreachable!()
    };
    assert_eq!(kind, HistoryKind::Missed);
    let said: Vec<&str> = lines
        .iter()
        .filter_map(|line| match line {
            Event::Message { text, .. } | Event::Action { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(said, ["while you were away", "waves"], "{lines:?}");
    assert!(lines.iter().all(|line| matches!(
        line,
        Event::Message { meta, .. } | Event::Action { meta, .. } if meta.msgid.is_some() && meta.time_ms.is_some()
    )));
    assert_eq!(
        wait_for(&room.events, |e| matches!(e, Event::Delivered { .. })).await,
        Event::Delivered { outbox_id: queued }
    );
    room.li.expect_containing("typed while away").await;
    assert_eq!(
        times_seen(&mut room.li, "typed while away").await,
        0,
        "sent twice"
    );

    // Live again: a new line is confirmed by the host's echo.
    say(&room.mei, "back for good");
    let id = pending_line(&room.events, "back for good").await;
    assert_eq!(
        wait_for(&room.events, |e| matches!(e, Event::Delivered { .. })).await,
        Event::Delivered { outbox_id: id }
    );
    room.li.expect_containing("back for good").await;
}

#[tokio::test]
async fn a_line_cut_off_before_its_echo_is_not_sent_twice() {
    let mut room = room().await;
    room.relay.hold_downstream();
    say(&room.mei, "in doubt");
    let id = pending_line(&room.events, "in doubt").await;
    // It reached the room; only the echo is lost on the way back.
    room.li.expect_containing("in doubt").await;
    room.relay.cut();
    wait_reconnecting(&room.events).await;
    room.relay.restore();
    wait_connected(&room.events).await;
    assert_eq!(
        wait_for(&room.events, |e| matches!(e, Event::Delivered { .. })).await,
        Event::Delivered { outbox_id: id }
    );
    assert_eq!(times_seen(&mut room.li, "in doubt").await, 0, "sent twice");
}

#[tokio::test]
async fn the_nick_is_taken_back_when_its_ghost_leaves() {
    let mut room = room().await;
    room.relay.cut_leaving_ghosts();
    wait_reconnecting(&room.events).await;
    room.relay.restore();
    // The host still sees the old connection: our nick is taken by it.
    let renamed = wait_for(&room.events, |e| matches!(e, Event::NickInUse { .. })).await;
    assert!(matches!(renamed, Event::NickInUse { requested, .. } if requested == "mei"));
    wait_connected(&room.events).await;
    room.relay.drop_ghosts();
    let back = wait_for(&room.events, |e| {
        matches!(e, Event::NickChanged { own: true, .. })
    })
    .await;
    assert!(matches!(back, Event::NickChanged { new, .. } if new == "mei"));
    room.li.expect_containing("NICK").await;
    let _ = next_event;
}

#[tokio::test]
async fn leave_while_reconnecting_ends_the_session() {
    let room = room().await;
    room.relay.cut();
    wait_reconnecting(&room.events).await;
    say(&room.mei, "never sent");
    room.mei.leave(None).await;
    assert_eq!(
        support::wait_disconnected(&room.events).await,
        DisconnectReason::Left
    );
}

#[tokio::test]
async fn a_nick_change_typed_while_away_is_made_after_rejoining() {
    let mut room = room().await;
    room.relay.cut();
    wait_reconnecting(&room.events).await;
    room.mei.send(Command::ChangeNick {
        nick: "meimei".to_owned(),
    });
    room.relay.restore();
    wait_connected(&room.events).await;
    let renamed = wait_for(&room.events, |e| {
        matches!(e, Event::NickChanged { own: true, .. })
    })
    .await;
    assert!(matches!(renamed, Event::NickChanged { new, .. } if new == "meimei"));
    room.li.expect_containing("NICK meimei").await;
}
