//! `Command::Host` through the network thread: our host plus our own
//! session in it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{Ipv4Addr, SocketAddr};

use support::{next_event, wait_connected, wait_disconnected, wait_for, RawClient};
use tcp_chat::api::{MemberMode, Rank};
use tcp_chat::network::{Command, DisconnectReason, Event, HostError, HostRequest};

fn host(port: u16, password: Option<&str>) -> Command {
    Command::Host(HostRequest {
        nick: "hostess".to_owned(),
        port,
        room: "#lan".to_owned(),
        password: password.map(str::to_owned),
        encrypted_only: false,
    })
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

async fn hosting_port(events: &async_channel::Receiver<Event>) -> u16 {
    match next_event(events).await {
        Event::Hosting {
            port,
            addresses,
            fingerprint,
        } => {
            assert_ne!(port, 0);
            // The window's host always speaks TLS beside plain text.
            assert!(fingerprint.is_some(), "hosting without a certificate");
            assert!(addresses
                .iter()
                .all(|a| a.port() == port && !a.ip().is_loopback()));
            port
        }
        other => panic!("expected Hosting, got {other:?}"),
    }
}

#[tokio::test]
async fn hosts_joins_and_chats_with_a_guest() {
    let (net, _state) = support::spawn_network();
    net.commands.send(host(0, None)).await.unwrap();
    let port = hosting_port(&net.events).await;
    let us = wait_connected(&net.events).await;
    assert_eq!((us.nick.as_str(), us.room.as_str()), ("hostess", "#lan"));
    // Joining our own room draws no error (the host may auto-join us too).
    loop {
        match next_event(&net.events).await {
            Event::Members { nicks, ranks, .. } => {
                assert_eq!(nicks, ["hostess"]);
                // The host's person runs the room it hosts.
                assert_eq!(ranks, [("hostess".to_owned(), Rank::Operator)]);
                break;
            }
            Event::ServerError { text } => panic!("error while joining: {text}"),
            _ => {}
        }
    }

    let mut guest = RawClient::connect(loopback(port), "guest").await;
    guest.send("NICK guest").await;
    guest.send("USER guest 0 * :Guest").await;
    guest.send("JOIN #lan").await;
    wait_for(
        &net.events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "guest"),
    )
    .await;

    guest.send("PRIVMSG #lan :hello host").await;
    wait_for(
        &net.events,
        |e| matches!(e, Event::Message { text, own: false, .. } if text == "hello host"),
    )
    .await;
    net.commands
        .send(Command::SendMessage {
            text: "welcome guest".to_owned(),
        })
        .await
        .unwrap();
    let welcome = guest.expect_command("PRIVMSG").await;
    assert_eq!(welcome.source_nick(), Some("hostess"));
    assert_eq!(welcome.params, ["#lan", "welcome guest"]);
    // As the room's operator, the host gives voice and removes.
    net.commands
        .send(Command::SetMemberMode {
            nick: "guest".to_owned(),
            mode: MemberMode::Voice,
            on: true,
        })
        .await
        .unwrap();
    let voiced = wait_for(&net.events, |e| matches!(e, Event::MemberRank { .. })).await;
    assert!(
        matches!(&voiced, Event::MemberRank { nick, rank: Rank::Voiced, .. } if nick == "guest"),
        "{voiced:?}"
    );
    net.commands
        .send(Command::Kick {
            nick: "guest".to_owned(),
            reason: Some("closing time".to_owned()),
        })
        .await
        .unwrap();
    let kick = guest.expect_command("KICK").await;
    assert_eq!(kick.params, ["#lan", "guest", "closing time"]);

    net.commands
        .send(Command::Leave { message: None })
        .await
        .unwrap();
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);
    // The host is gone with the room: the guest's connection ends.
    guest.expect_closed().await;
    assert!(RawClient::try_connect(loopback(port)).await.is_err());
}

#[tokio::test]
async fn hosting_on_a_busy_port_fails_cleanly() {
    let busy = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let (net, _state) = support::spawn_network();
    net.commands.send(host(port, None)).await.unwrap();
    assert_eq!(
        next_event(&net.events).await,
        Event::HostFailed(HostError::PortInUse { port })
    );
    // The failure leaves the thread ready for another try.
    net.commands.send(host(0, None)).await.unwrap();
    hosting_port(&net.events).await;
    wait_connected(&net.events).await;
}

#[tokio::test]
async fn hosting_with_a_password_lets_us_in() {
    let (net, _state) = support::spawn_network();
    net.commands.send(host(0, Some("letmein"))).await.unwrap();
    let port = hosting_port(&net.events).await;
    wait_connected(&net.events).await;

    let mut stranger = RawClient::connect(loopback(port), "stranger").await;
    stranger.send("PASS wrong").await;
    stranger.send("NICK stranger").await;
    stranger.send("USER stranger 0 * :S").await;
    stranger
        .expect("a refusal", |line| {
            line.contains(" 464 ") || line.starts_with("ERROR ")
        })
        .await;
}

#[tokio::test]
async fn hosting_again_replaces_the_old_room() {
    let (net, _state) = support::spawn_network();
    net.commands.send(host(0, None)).await.unwrap();
    let first = hosting_port(&net.events).await;
    wait_connected(&net.events).await;
    net.commands.send(host(0, None)).await.unwrap();
    assert_eq!(wait_disconnected(&net.events).await, DisconnectReason::Left);
    let second = hosting_port(&net.events).await;
    wait_connected(&net.events).await;
    assert!(RawClient::try_connect(loopback(first)).await.is_err() || first == second);
}

#[tokio::test]
async fn the_hosted_room_keeps_history_until_cleared() {
    let (net, state) = support::spawn_network();
    net.commands.send(host(0, None)).await.unwrap();
    let port = hosting_port(&net.events).await;
    wait_connected(&net.events).await;
    net.commands
        .send(Command::SendMessage {
            text: "remember me".to_owned(),
        })
        .await
        .unwrap();
    wait_for(&net.events, |e| matches!(e, Event::Delivered { .. })).await;
    // Named after the port asked for (0 here: any free port).
    assert!(state.path().join("history-0.sqlite3").exists());

    let mut guest = RawClient::connect(loopback(port), "guest").await;
    guest
        .send("CAP REQ :batch message-tags draft/chathistory")
        .await;
    guest.send("NICK guest").await;
    guest.send("USER guest 0 * :Guest").await;
    guest.send("CAP END").await;
    guest.expect_command("366").await;
    guest.send("CHATHISTORY LATEST #lan * 10").await;
    guest.expect_containing("remember me").await;
    guest.expect_command("BATCH").await;

    net.commands.send(Command::ClearHistory).await.unwrap();
    assert_eq!(
        wait_for(&net.events, |e| matches!(e, Event::HistoryCleared { .. })).await,
        Event::HistoryCleared { error: None }
    );
    guest.send("CHATHISTORY LATEST #lan * 10").await;
    guest.expect_command("BATCH").await;
    let after = guest.expect_command("BATCH").await;
    assert!(after.params[0].starts_with('-'), "history left: {after}");
}
