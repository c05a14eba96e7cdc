//! A room on two linked InspIRCd servers (the sample configs under
//! `data/inspircd-two-servers/`): one of our sessions on each, and what one
//! does reaches the other across the link, both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use async_channel::Receiver;
use support::inspircd::LinkedPair;
use support::{members, next_chat, wait_connected, wait_disconnected, wait_for};
use tcp_chat::api::{Command, DisconnectReason, Event, LineMeta};
use tcp_chat::client::Session;

fn message(from: &str, room: &str, text: &str) -> Event {
    Event::Message {
        from: from.to_owned(),
        target: room.to_owned(),
        text: text.to_owned(),
        own: false,
        private: false,
        meta: LineMeta::default(),
    }
}

fn topic(room: &str, text: &str, by: &str) -> Event {
    Event::Topic {
        room: room.to_owned(),
        topic: text.to_owned(),
        set_by: Some(by.to_owned()),
    }
}

/// Sets the topic, again each time the server refuses: a linked InspIRCd
/// turns down a change within the second of the last one (its peers would
/// drop it) with 482 "Retry topic change later". Our writer's pacing spaces
/// the tries, so one soon lands in the next second.
async fn set_topic(session: &Session, events: &Receiver<Event>, text: &str) {
    loop {
        session.send(Command::SetTopic {
            topic: text.to_owned(),
        });
        match wait_for(events, |e| {
            matches!(e, Event::Topic { .. } | Event::ServerError { .. })
        })
        .await
        {
            Event::Topic { topic, .. } if topic == text => return,
            Event::ServerError { text } if text.contains("Retry topic change later") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_room_spans_two_linked_inspircd_servers() {
    let servers = LinkedPair::start();

    let (alice, alice_events) = servers.hub.session("alice", None);
    let room = wait_connected(&alice_events).await.room;
    assert_eq!(members(&alice_events).await, ["alice"]);

    // Alice's JOIN went over the link before the hub answered her with the
    // member list, so the leaf knows her before bob has even registered.
    let (bob, bob_events) = servers.leaf.session("bob", None);
    wait_connected(&bob_events).await;
    assert_eq!(members(&bob_events).await, ["alice", "bob"]);
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "bob"),
    )
    .await;

    alice.send(Command::SendMessage {
        text: "hello from the hub, 你好".to_owned(),
    });
    assert_eq!(
        next_chat(&bob_events).await,
        message("alice", &room, "hello from the hub, 你好")
    );
    bob.send(Command::SendMessage {
        text: "hello from the leaf".to_owned(),
    });
    assert_eq!(
        next_chat(&alice_events).await,
        message("bob", &room, "hello from the leaf")
    );

    // The sample leaves channels without +t, so anyone may set the topic,
    // on either server.
    alice.send(Command::SetTopic {
        topic: "set on the hub".to_owned(),
    });
    for events in [&alice_events, &bob_events] {
        assert_eq!(
            wait_for(events, |e| matches!(e, Event::Topic { .. })).await,
            topic(&room, "set on the hub", "alice")
        );
    }
    set_topic(&bob, &bob_events, "set on the leaf").await;
    assert_eq!(
        wait_for(&alice_events, |e| matches!(e, Event::Topic { .. })).await,
        topic(&room, "set on the leaf", "bob")
    );

    // Someone joining the hub later finds the leaf's topic and members.
    let (carol, carol_events) = servers.hub.session("carol", None);
    wait_connected(&carol_events).await;
    assert_eq!(
        wait_for(&carol_events, |e| matches!(e, Event::Topic { .. })).await,
        topic(&room, "set on the leaf", "bob")
    );
    assert_eq!(members(&carol_events).await, ["alice", "bob", "carol"]);
    wait_for(
        &bob_events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "carol"),
    )
    .await;
    carol.leave(None).await;

    // Leaving crosses too.
    bob.leave(Some("bye from the leaf".to_owned())).await;
    assert_eq!(wait_disconnected(&bob_events).await, DisconnectReason::Left);
    match wait_for(
        &alice_events,
        |e| matches!(e, Event::Quit { nick, .. } if nick == "bob"),
    )
    .await
    {
        Event::Quit { reason, .. } => {
            assert!(reason.unwrap_or_default().contains("bye from the leaf"))
        }
        other => unreachable!("{other:?}"),
    }
    alice.leave(None).await;
    assert_eq!(
        wait_disconnected(&alice_events).await,
        DisconnectReason::Left
    );
}
