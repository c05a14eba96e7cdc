//! Two client sessions chatting through a real InspIRCd on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::conformance::{
    channel_operators_work_like_the_specs, multi_prefix_shows_every_prefix, Server,
};
use support::daemons::{operator_controls, two_sessions_chat, Daemon, DaemonSpec};
use support::inspircd::{self, INSPIRCD};
use support::{members, wait_connected, wait_for};
use tcp_chat::api::{Command, Event, Presence, TypingState};

#[tokio::test]
async fn two_sessions_chat_through_inspircd() {
    two_sessions_chat(&Daemon::start(&INSPIRCD)).await;
}

/// The same server with its IRCv3 modules: CAP, away-notify and
/// message-tags (TAGMSG).
fn inspircd_ircv3_config(port: u16, dir: &Path) -> String {
    let mut config = inspircd::config(port, dir);
    for module in ["cap", "ircv3", "ircv3_ctctags", "namesx"] {
        config.push_str(&format!("<module name=\"{module}\">\n"));
    }
    config
}

const INSPIRCD_IRCV3: DaemonSpec = DaemonSpec {
    config: inspircd_ircv3_config,
    ..INSPIRCD
};

/// Away and typing between our sessions, as a real server relays them:
/// away-notify, 305/306, 301, the WHO flag after joining, and TAGMSG.
#[tokio::test]
async fn away_and_typing_through_inspircd() {
    let server = Daemon::start(&INSPIRCD_IRCV3);
    let (alice, alice_events) = server.session("alice", None);
    let room = wait_connected(&alice_events).await.room;
    let (bob, bob_events) = server.session("bob", None);
    wait_connected(&bob_events).await;
    assert_eq!(members(&bob_events).await, ["alice", "bob"]);
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "bob"),
    )
    .await;

    let lunch = || Presence::Away {
        reason: Some("lunch".to_owned()),
    };
    alice.send(Command::SetAway {
        reason: Some("lunch".to_owned()),
    });
    let own = wait_for(&alice_events, |e| matches!(e, Event::Away { .. })).await;
    assert_eq!(
        own,
        Event::Away {
            nick: "alice".to_owned(),
            presence: lunch(),
            own: true
        }
    );
    let notified = wait_for(&bob_events, |e| matches!(e, Event::Away { .. })).await;
    assert_eq!(
        notified,
        Event::Away {
            nick: "alice".to_owned(),
            presence: lunch(),
            own: false
        }
    );

    // Someone joining later learns it from WHO.
    let (_carol, carol_events) = server.session("carol", None);
    wait_connected(&carol_events).await;
    let seen = wait_for(&carol_events, |e| matches!(e, Event::Away { .. })).await;
    assert_eq!(
        seen,
        Event::Away {
            nick: "alice".to_owned(),
            presence: Presence::Away { reason: None },
            own: false
        }
    );

    // Writing to her gets 301.
    bob.send(Command::SendPrivate {
        nick: "alice".to_owned(),
        text: "there?".to_owned(),
    });
    let told = wait_for(&bob_events, |e| matches!(e, Event::Away { .. })).await;
    assert_eq!(
        told,
        Event::Away {
            nick: "alice".to_owned(),
            presence: lunch(),
            own: false
        }
    );

    bob.send(Command::SendTyping {
        target: room.clone(),
        state: TypingState::Active,
    });
    let typing = wait_for(&alice_events, |e| matches!(e, Event::Typing { .. })).await;
    assert_eq!(
        typing,
        Event::Typing {
            nick: "bob".to_owned(),
            target: room,
            state: TypingState::Active
        }
    );
}

/// Our client sessions as operator and operated on (`tests/support/daemons.rs`).
#[tokio::test]
async fn client_operator_controls_through_inspircd() {
    operator_controls(&Daemon::start(&INSPIRCD_IRCV3)).await;
}

/// The channel operator checks `server_conformance` runs against our host.
#[tokio::test]
async fn inspircd_runs_channel_operators_like_the_specs() {
    let daemon = Daemon::start(&INSPIRCD);
    channel_operators_work_like_the_specs(&Server::daemon(&daemon)).await;
}

/// `multi-prefix` (InspIRCd's namesx module).
#[tokio::test]
async fn inspircd_shows_every_prefix_with_multi_prefix() {
    let daemon = Daemon::start(&INSPIRCD_IRCV3);
    multi_prefix_shows_every_prefix(&Server::daemon(&daemon)).await;
}
