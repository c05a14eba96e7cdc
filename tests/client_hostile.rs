//! The client session against a hostile server: floods that once drove the
//! window to gigabytes either end the session with a reason the window
//! words, or are held back by backpressure without losing a chat line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use async_channel::Receiver;
use support::{session_config, wait_disconnected, wait_for, within, FakeServer, Peer};
use tcp_chat::api::{DisconnectReason, Event, Flood};
use tcp_chat::client::{Session, MAX_COLLECTED_NAMES};
use tcp_chat::network::EVENT_QUEUE_CAPACITY;

/// A session reporting into a channel as bounded as the window's, joined to
/// `#room` on a server with small socket buffers.
async fn joined() -> (FakeServer, Peer, Session, Receiver<Event>) {
    let server = FakeServer::bind_small_buffers().await;
    let (sender, events) = async_channel::bounded(EVENT_QUEUE_CAPACITY);
    let session = Session::start(session_config(&server.address(), "alice", "#room"), sender);
    let mut peer = server.accept().await;
    peer.handshake().await;
    wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    (server, peer, session, events)
}

#[tokio::test]
async fn ping_flood_unread_ends_the_session() {
    let (_server, mut peer, _session, events) = joined().await;
    // Long tokens: each PONG we owe is big, as a hostile server would make it.
    let ping = format!("PING :{}\r\n", "x".repeat(400));
    let flood = ping.repeat(100);
    let flooding = async {
        // Never reads: every PONG stays owed. Ends when the client hangs up.
        while peer.try_send_raw(flood.as_bytes()).await.is_ok() {}
    };
    let (reason, ()) = within("the end of a session flooded with PINGs", async {
        tokio::join!(wait_disconnected(&events), flooding)
    })
    .await;
    assert_eq!(
        reason,
        DisconnectReason::HostFlooded {
            flood: Flood::UnreadAnswers
        }
    );
}

/// Floods the session with `noise` (one line per number) between numbered
/// chat lines while nobody takes its events: the server's writes must stall
/// (the session stops reading), and once the events are taken every chat
/// line arrives, in order.
async fn flood_is_held_back(noise: impl Fn(usize) -> String) {
    let (_server, mut peer, _session, events) = joined().await;
    /// Noise lines between two chat lines.
    const NOISE_PER_CHAT: usize = 50;
    /// Far beyond the event channel and every socket buffer on the way.
    const MAX_FLOOD_BYTES: usize = 256 * 1024 * 1024;
    /// A write that takes longer than this has stalled (with backpressure it
    /// never completes until events are taken).
    const STALLED_AFTER: Duration = Duration::from_secs(1);
    let mut chat_lines = 0;
    let mut written = 0;
    let mut line = 0;
    let stalled_chunk = loop {
        assert!(
            written < MAX_FLOOD_BYTES,
            "{written} bytes taken with nobody taking events: no backpressure"
        );
        let mut chunk = String::new();
        for _ in 0..NOISE_PER_CHAT * 20 {
            if line % NOISE_PER_CHAT == 0 {
                chunk.push_str(&format!(
                    ":bob!b@127.0.0.1 PRIVMSG #room :line {chat_lines}\r\n"
                ));
                chat_lines += 1;
            } else {
                chunk.push_str(&noise(line));
                chunk.push_str("\r\n");
            }
            line += 1;
        }
        let write = peer.try_send_raw(chunk.as_bytes());
        match tokio::time::timeout(STALLED_AFTER, write).await {
            Ok(sent) => sent.expect("the session hung up during the flood"),
            // Dropped unfinished: part of it may have gone out.
            Err(_) => break chunk,
        }
        written += chunk.len();
    };
    assert!(events.len() <= EVENT_QUEUE_CAPACITY);
    // The chunk that stalled may have gone out in part: the session may see
    // a line cut short, then the whole chunk; what counts is that no chat
    // line before it is lost. So the stalled chunk's lines are not counted.
    let delivered_before_stall = chat_lines - stalled_chunk.matches("PRIVMSG").count();
    let taking = async {
        let mut said = Vec::new();
        loop {
            match wait_for(&events, |e| matches!(e, Event::Message { .. })).await {
                Event::Message { text, .. } if text == "end" => return said,
                Event::Message { text, .. } => said.push(text),
                other => unreachable!("wait_for returned {other:?}"),
            }
        }
    };
    let finishing = async {
        // A fresh line: the cut one (if any) ends here, harmlessly.
        peer.try_send_raw(b"\r\n").await.unwrap();
        peer.send(":bob!b@127.0.0.1 PRIVMSG #room :end").await;
    };
    let (said, ()) = within("the flood's chat lines", async {
        tokio::join!(taking, finishing)
    })
    .await;
    let expected: Vec<String> = (0..delivered_before_stall)
        .map(|n| format!("line {n}"))
        .collect();
    assert_eq!(said.get(..expected.len()), Some(expected.as_slice()));
}

#[tokio::test]
async fn numeric_flood_waits_for_the_window() {
    flood_is_held_back(|n| format!(":irc.test 401 alice nobody{n} :No such nick/channel")).await;
}

#[tokio::test]
async fn nick_storm_waits_for_the_window() {
    flood_is_held_back(|n| format!(":n{n}!u@127.0.0.1 NICK n{}", n + 1)).await;
}

#[tokio::test]
async fn names_beyond_the_cap_end_the_session() {
    let server = FakeServer::bind().await;
    let (sender, events) = async_channel::bounded(EVENT_QUEUE_CAPACITY);
    let _session = Session::start(session_config(&server.address(), "alice", "#room"), sender);
    let mut peer = server.accept().await;
    peer.read_registration().await;
    peer.send(":irc.test 001 alice :Welcome alice").await;
    let room = peer.expect("JOIN").await.params[0].clone();
    peer.send(&format!(":alice!u@127.0.0.1 JOIN {room}")).await;
    let mut names = 0;
    let mut replies = String::new();
    while names <= MAX_COLLECTED_NAMES {
        // 50 names keep each reply within IRC's 512 bytes.
        let line: Vec<String> = (names..names + 50).map(|n| format!("m{n}")).collect();
        names += line.len();
        replies.push_str(&format!(
            ":irc.test 353 alice = {room} :{}\r\n",
            line.join(" ")
        ));
    }
    replies.push_str(&format!(
        ":irc.test 366 alice {room} :End of NAMES list\r\n"
    ));
    peer.send_raw(replies.as_bytes()).await;
    assert_eq!(
        wait_disconnected(&events).await,
        DisconnectReason::HostFlooded {
            flood: Flood::Members {
                limit: MAX_COLLECTED_NAMES
            }
        }
    );
    // Asked for the room's modes on joining, then said goodbye, as to any host.
    peer.expect("MODE").await;
    peer.expect("QUIT").await;
}

#[tokio::test]
async fn member_lists_nobody_asked_for_are_ignored() {
    let (_server, mut peer, _session, events) = joined().await;
    // Each of these could carry up to the cap: only our JOIN's list is taken.
    for _ in 0..3 {
        peer.send(":alice!u@127.0.0.1 JOIN #room").await;
        peer.send(":irc.test 353 alice = #room :alice mallory")
            .await;
        peer.send(":irc.test 366 alice #room :End of NAMES list")
            .await;
    }
    peer.send(":bob!b@127.0.0.1 PRIVMSG #room :after the lists")
        .await;
    loop {
        match within("the line after the lists", events.recv())
            .await
            .unwrap()
        {
            Event::Message { text, .. } => break assert_eq!(text, "after the lists"),
            Event::Members { nicks, .. } => panic!("an unasked-for member list: {nicks:?}"),
            _ => {}
        }
    }
}
