//! Two client sessions chatting through a real InspIRCd on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::daemons::{two_sessions_chat, Daemon, DaemonSpec};
use support::inspircd::{self, INSPIRCD};
use support::{members, wait_connected, wait_disconnected, wait_for};
use tcp_chat::api::{
    Command, DisconnectReason, Event, MemberMode, Presence, Rank, RoomModeChange, RoomModes,
    TypingState,
};

#[tokio::test]
async fn two_sessions_chat_through_inspircd() {
    two_sessions_chat(&Daemon::start(&INSPIRCD)).await;
}

/// The same server with its IRCv3 modules: CAP, away-notify and
/// message-tags (TAGMSG).
fn inspircd_ircv3_config(port: u16, dir: &Path) -> String {
    let mut config = inspircd::config(port, dir);
    for module in ["cap", "ircv3", "ircv3_ctctags"] {
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

/// A channel operator's controls against a real server: the first to join
/// is operator there (and marked so), +o reaches the others, room modes,
/// WHOIS in one event, a kick that ends the other session for good, and a
/// ban that refuses the way back in.
#[tokio::test]
async fn operators_through_inspircd() {
    let server = Daemon::start(&INSPIRCD_IRCV3);
    let (alice, alice_events) = server.session("alice", None);
    let room = wait_connected(&alice_events).await.room;
    let own_list = wait_for(&alice_events, |e| matches!(e, Event::Members { .. })).await;
    let Event::Members { ranks, .. } = own_list else {
        unreachable!()
    };
    assert_eq!(ranks, [("alice".to_owned(), Rank::Operator)]);
    // The room's modes come on joining (InspIRCd's default +nt).
    let modes = wait_for(&alice_events, |e| matches!(e, Event::RoomModes { .. })).await;
    assert!(matches!(
        modes,
        Event::RoomModes {
            modes: RoomModes {
                topic_locked: true,
                ..
            },
            by: None,
            ..
        }
    ));

    let (_bob, bob_events) = server.session("bob", None);
    wait_connected(&bob_events).await;
    let bob_list = wait_for(&bob_events, |e| matches!(e, Event::Members { .. })).await;
    assert!(
        matches!(&bob_list, Event::Members { ranks, .. } if ranks == &[("alice".to_owned(), Rank::Operator)])
    );
    alice.send(Command::SetMemberMode {
        nick: "bob".to_owned(),
        mode: MemberMode::Operator,
        on: true,
    });
    let made = wait_for(&bob_events, |e| matches!(e, Event::MemberRank { .. })).await;
    assert_eq!(
        made,
        Event::MemberRank {
            room: room.clone(),
            nick: "bob".to_owned(),
            rank: Rank::Operator,
            by: Some("alice".to_owned()),
        }
    );
    alice.send(Command::SetRoomMode(RoomModeChange::Limit(Some(20))));
    let limited = wait_for(&bob_events, |e| {
        matches!(e, Event::RoomModes { by: Some(_), .. })
    })
    .await;
    assert!(matches!(
        limited,
        Event::RoomModes {
            modes: RoomModes {
                limit: Some(20),
                topic_locked: true,
                ..
            },
            ..
        }
    ));

    alice.send(Command::Whois {
        nick: "bob".to_owned(),
    });
    let Event::Whois(whois) = wait_for(&alice_events, |e| matches!(e, Event::Whois(_))).await
    else {
        unreachable!()
    };
    assert_eq!(whois.nick, "bob");
    assert_eq!(whois.channels, [format!("@{room}")]);
    assert!(whois.address.is_some_and(|a| a.ends_with("@127.0.0.1")));
    assert!(whois.server.is_some() && whois.idle_secs.is_some() && !whois.unknown);
    alice.send(Command::Whois {
        nick: "nobody".to_owned(),
    });
    let nobody = wait_for(&alice_events, |e| matches!(e, Event::Whois(_))).await;
    assert!(matches!(nobody, Event::Whois(info) if info.unknown && info.nick == "nobody"));

    // Kicked: the session ends for good, with who and why.
    let (_carol, carol_events) = server.session("carol", None);
    wait_connected(&carol_events).await;
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, .. } if nick == "carol"),
    )
    .await;
    alice.send(Command::Kick {
        nick: "carol".to_owned(),
        reason: Some("spam".to_owned()),
    });
    let ended = wait_for(&carol_events, |e| {
        matches!(e, Event::Disconnected { .. } | Event::Reconnecting { .. })
    })
    .await;
    assert_eq!(
        ended,
        Event::Disconnected {
            reason: DisconnectReason::Kicked {
                by: "alice".to_owned(),
                reason: Some("spam".to_owned())
            }
        }
    );
    let seen = wait_for(&bob_events, |e| matches!(e, Event::Kicked { .. })).await;
    assert!(matches!(seen, Event::Kicked { nick, by, .. } if nick == "carol" && by == "alice"));

    // Banned: removed, and refused when coming back.
    let (_dave, dave_events) = server.session("dave", None);
    wait_connected(&dave_events).await;
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, .. } if nick == "dave"),
    )
    .await;
    alice.send(Command::Ban {
        nick: "dave".to_owned(),
    });
    assert!(matches!(
        wait_disconnected(&dave_events).await,
        DisconnectReason::Kicked { .. }
    ));
    let (_dave_again, dave_again_events) = server.session("dave", None);
    assert_eq!(
        wait_disconnected(&dave_again_events).await,
        DisconnectReason::Banned
    );
}
