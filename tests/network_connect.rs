//! The network thread driven through its channels, against a fake server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{
    free_loopback_port, next_event, wait_connected, wait_disconnected, within, FakeServer, Peer,
};
use tcp_chat::api::ExpectedIdentity;
use tcp_chat::network::{self, Command, ConnectRequest, DisconnectReason, Event};

fn connect(address: String, nick: &str) -> Command {
    Command::Connect(ConnectRequest {
        address,
        nick: nick.to_owned(),
        room: "room".to_owned(),
        password: None,
        // The fake server speaks plain text and takes every connection
        // for a guest: no TLS attempt first.
        identity: ExpectedIdentity::PlainOnly,
    })
}

/// Connects the network thread to `server` and completes the handshake.
async fn connected(net: &network::NetworkHandle, server: &FakeServer) -> Peer {
    net.commands
        .send(connect(server.address(), "alice"))
        .await
        .unwrap();
    let mut peer = server.accept().await;
    assert_eq!(peer.handshake().await, "#room");
    wait_connected(&net.events).await;
    peer
}

/// Waits until the network thread has ended: it drops its event sender.
async fn wait_until_ended(events: &async_channel::Receiver<Event>) {
    let drained = async { while events.recv().await.is_ok() {} };
    within("end of the network thread", drained).await;
}

#[tokio::test]
async fn connect_chat_leave_and_shut_down() {
    let server = FakeServer::bind().await;
    let (net, _state) = support::spawn_network();
    let mut peer = connected(&net, &server).await;

    peer.send(":bob!b@h PRIVMSG #room :hello alice").await;
    net.commands
        .send(Command::SendMessage {
            text: "hi bob".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(peer.message().await.to_string(), "PRIVMSG #room :hi bob");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        if let event @ Event::Message { .. } = next_event(&net.events).await {
            seen.push(event);
        }
    }
    assert!(seen
        .iter()
        .any(|e| matches!(e, Event::Message { own: false, text, .. } if text == "hello alice")));
    assert!(seen
        .iter()
        .any(|e| matches!(e, Event::Message { own: true, text, .. } if text == "hi bob")));

    net.commands
        .send(Command::Leave { message: None })
        .await
        .unwrap();
    peer.expect("QUIT").await;
    drop(peer);
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);

    net.commands.send(Command::Shutdown).await.unwrap();
    wait_until_ended(&net.events).await;
    assert!(
        net.commands.is_closed(),
        "the thread keeps no command receiver"
    );
}

#[tokio::test]
async fn a_new_connect_leaves_the_old_room_first() {
    let first = FakeServer::bind().await;
    let second = FakeServer::bind().await;
    let (net, _state) = support::spawn_network();
    let mut old = connected(&net, &first).await;

    net.commands
        .send(connect(second.address(), "alice"))
        .await
        .unwrap();
    old.expect("QUIT").await;
    drop(old);
    let mut new = second.accept().await;
    new.handshake().await;
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);
    assert_eq!(wait_connected(&net.events).await.server, second.address());
}

#[tokio::test]
async fn reports_failures_as_events() {
    let refused = format!("127.0.0.1:{}", free_loopback_port());
    let failures = [
        (
            "no such host!".to_owned(),
            DisconnectReason::InvalidAddress {
                address: "no such host!".to_owned(),
            },
        ),
        (
            "gone.invalid".to_owned(),
            DisconnectReason::NotResolved {
                host: "gone.invalid".to_owned(),
            },
        ),
        (refused, DisconnectReason::Refused),
        // A multicast group: the kernel refuses a TCP connection to it as
        // "network unreachable" before any packet leaves the machine.
        ("224.0.0.1:6667".to_owned(), DisconnectReason::Unreachable),
    ];
    // One thread for all: a failure leaves it ready for the next try.
    let (net, _state) = support::spawn_network();
    for (address, reason) in failures {
        net.commands
            .send(connect(address.clone(), "alice"))
            .await
            .unwrap();
        assert_eq!(wait_disconnected(&net.events).await, reason, "{address}");
        // Chat commands without a session are dropped, not fatal.
        net.commands
            .send(Command::SendMessage {
                text: "anyone?".to_owned(),
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn dropping_the_window_ends_the_thread() {
    let server = FakeServer::bind().await;
    let (net, _state) = support::spawn_network();
    let mut peer = connected(&net, &server).await;
    let events = net.events.clone();
    drop(net.commands);
    // The thread leaves the room on its way out.
    peer.expect("QUIT").await;
    drop(peer);
    wait_until_ended(&events).await;
}

#[tokio::test]
async fn a_session_that_ends_by_itself_leaves_the_thread_ready() {
    let server = FakeServer::bind().await;
    let (net, _state) = support::spawn_network();
    let mut peer = connected(&net, &server).await;
    // Kicked: a reconnect would not mend that, so the session ends.
    peer.send(":op!o@h KICK #room alice :bye").await;
    assert_eq!(
        wait_disconnected(&net.events).await,
        DisconnectReason::Kicked {
            by: "op".to_owned(),
            reason: Some("bye".to_owned())
        }
    );
    // Leaving an ended session reports nothing more; connecting again works.
    net.commands
        .send(Command::Leave { message: None })
        .await
        .unwrap();
    let mut again = connected(&net, &server).await;
    net.commands.send(Command::Shutdown).await.unwrap();
    again.expect("QUIT").await;
    drop(again);
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);
    wait_until_ended(&net.events).await;
}
