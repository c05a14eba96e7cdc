//! A real IRC client from Debian, `ii`, joins our host and chats with a raw
//! IRC client and with our own client (through the network thread).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::ii::Ii;
use support::{
    members, next_chat, start_host, test_config, wait_connected, wait_disconnected, wait_for,
    RawClient,
};
use tcp_chat::api::LineMeta;
use tcp_chat::network::{Command, ConnectRequest, DisconnectReason, Event};

/// The host's room (the default of [`test_config`]).
const ROOM: &str = "#chat";

#[tokio::test]
async fn ii_chats_with_a_raw_irc_client() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut ii = Ii::start(addr, "iibot");
    let join = alice.expect_command("JOIN").await;
    assert_eq!(join.source_nick(), Some("iibot"));

    ii.join(ROOM).await;
    ii.say(ROOM, "hello from ii").await;
    let said = alice.expect_command("PRIVMSG").await;
    assert_eq!(
        (said.source_nick(), said.params.clone()),
        (Some("iibot"), vec![ROOM.into(), "hello from ii".into()])
    );

    alice.send("PRIVMSG #chat :hello ii, from alice").await;
    ii.wait_for_output(ROOM, "alice's message", |text| {
        text.contains("<alice> hello ii, from alice")
    })
    .await;
    host.shutdown().await;
}

#[tokio::test]
async fn ii_and_our_client_chat_through_our_host() {
    let (host, addr) = start_host(test_config()).await;
    let mut ii = Ii::start(addr, "iibot");
    ii.join(ROOM).await;
    // ii's own JOIN coming back proves the host has it in the room.
    ii.wait_for_output(ROOM, "its own join", |text| {
        text.contains("iibot") && text.contains("has joined")
    })
    .await;

    let (net, _state) = support::spawn_network();
    net.commands
        .send(Command::Connect(ConnectRequest {
            address: addr.to_string(),
            nick: "alice".to_owned(),
            room: ROOM.to_owned(),
            password: None,
            ..ConnectRequest::default()
        }))
        .await
        .unwrap();
    let us = wait_connected(&net.events).await;
    assert_eq!((us.nick.as_str(), us.room.as_str()), ("alice", ROOM));
    assert_eq!(members(&net.events).await, ["alice", "iibot"]);

    let s = String::from;
    ii.say(ROOM, "hello from ii, 你好").await;
    assert_eq!(
        next_chat(&net.events).await,
        Event::Message {
            from: s("iibot"),
            target: s(ROOM),
            text: s("hello from ii, 你好"),
            own: false,
            private: false,
            meta: LineMeta::default(),
        }
    );
    net.commands
        .send(Command::SendMessage {
            text: s("hello ii, from alice"),
        })
        .await
        .unwrap();
    ii.wait_for_output(ROOM, "alice's message", |text| {
        text.contains("<alice> hello ii, from alice")
    })
    .await;

    // Private messages, both ways (`/j nick text` is ii's query).
    ii.command("/j alice psst").await;
    assert_eq!(
        next_chat(&net.events).await,
        Event::Message {
            from: s("iibot"),
            target: s("alice"),
            text: s("psst"),
            own: false,
            private: true,
            meta: LineMeta::default(),
        }
    );
    net.commands
        .send(Command::SendPrivate {
            nick: s("iibot"),
            text: s("psst back"),
        })
        .await
        .unwrap();
    ii.wait_for_output("alice", "alice's private message", |text| {
        text.contains("<alice> psst back")
    })
    .await;

    ii.command("/q gone fishing").await;
    match wait_for(
        &net.events,
        |e| matches!(e, Event::Quit { nick, .. } if nick == "iibot"),
    )
    .await
    {
        Event::Quit { reason, .. } => {
            let reason = reason.unwrap_or_default();
            assert!(reason.contains("gone fishing"), "{reason:?}");
        }
        other => unreachable!("wait_for returned {other:?}"),
    }

    net.commands
        .send(Command::Leave { message: None })
        .await
        .unwrap();
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);
    host.shutdown().await;
}
