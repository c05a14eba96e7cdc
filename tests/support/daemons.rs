//! Real IRC servers (ngircd, InspIRCd) as child processes, and one chat
//! scenario every one of them must carry.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use async_channel::Receiver;
use tcp_chat::api::{
    Command as Chat, DisconnectReason, Event, LineMeta, MemberMode, Rank, RoomModeChange, RoomModes,
};
use tcp_chat::client::Session;
use tempfile::TempDir;

use super::programs::{scratch_dir, ChildProcess};
use super::{
    free_loopback_port, members, next_chat, session_config, start_session, wait_connected,
    wait_disconnected, wait_ended_for_good, wait_for,
};

/// The room the scenario chats in.
const ROOM: &str = "#interop";

/// How to run one kind of server.
pub struct DaemonSpec {
    pub program: &'static str,
    pub package: &'static str,
    /// The config file's text for a port and a private directory.
    pub config: fn(port: u16, dir: &Path) -> String,
    /// Command-line arguments, given the config file's path.
    pub args: fn(config: &Path) -> Vec<OsString>,
    /// A line the server prints on stdout once it accepts connections.
    pub ready_marker: &'static str,
}

/// A server child process with its own config and directory, both gone
/// when dropped.
pub struct Daemon {
    // Declared before `_dir`: the process ends before its directory goes.
    process: ChildProcess,
    _dir: TempDir,
    pub port: u16,
}

impl Daemon {
    pub fn start(spec: &DaemonSpec) -> Daemon {
        let port = free_loopback_port();
        Self::start_with(spec, port, |dir| (spec.config)(port, dir))
    }

    /// Like [`Self::start`], with a config that needs more than one port
    /// (linked servers must know each other's): `config` writes it for the
    /// server's directory, and the server takes clients on `port`.
    pub fn start_with(
        spec: &DaemonSpec,
        port: u16,
        config: impl FnOnce(&Path) -> String,
    ) -> Daemon {
        let dir = scratch_dir(spec.program);
        let config_path = dir.path().join(format!("{}.conf", spec.program));
        std::fs::write(&config_path, config(dir.path())).unwrap();
        let process = ChildProcess::spawn(
            Command::new(spec.program).args((spec.args)(&config_path)),
            spec.package,
        );
        process.wait_for_output(spec.ready_marker);
        Daemon {
            process,
            _dir: dir,
            port,
        }
    }

    /// Blocks until the server prints a line containing `marker` (after
    /// those already waited for).
    pub fn wait_for_output(&self, marker: &str) {
        self.process.wait_for_output(marker);
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn session(&self, nick: &str, password: Option<&str>) -> (Session, Receiver<Event>) {
        let mut config = session_config(&self.address(), nick, ROOM);
        config.request.password = password.map(str::to_owned);
        start_session(config)
    }
}

/// Two people (and a third with a taken nick) chatting through a real server:
/// join, members, messages both ways, /me, private, long text, nick, topic, quit.
pub async fn two_sessions_chat(server: &Daemon) {
    let (alice, alice_events) = server.session("alice", None);
    let alice_joined = wait_connected(&alice_events).await;
    assert_eq!(
        (alice_joined.nick.as_str(), alice_joined.room.as_str()),
        ("alice", ROOM)
    );
    assert_eq!(members(&alice_events).await, ["alice"]);

    let (bob, bob_events) = server.session("bob", None);
    wait_connected(&bob_events).await;
    assert_eq!(members(&bob_events).await, ["alice", "bob"]);
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "bob"),
    )
    .await;

    let s = String::from;
    alice.send(Chat::SendMessage {
        text: s("hello bob, 你好"),
    });
    assert_eq!(
        next_chat(&bob_events).await,
        Event::Message {
            from: s("alice"),
            target: s(ROOM),
            text: s("hello bob, 你好"),
            own: false,
            private: false,
            meta: LineMeta::default(),
        }
    );
    bob.send(Chat::SendMessage {
        text: s("hi alice"),
    });
    bob.send(Chat::SendAction {
        to: None,
        text: s("waves"),
    });
    bob.send(Chat::SendPrivate {
        nick: s("alice"),
        text: s("psst"),
    });
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Message {
            from: s("bob"),
            target: s(ROOM),
            text: s("hi alice"),
            own: false,
            private: false,
            meta: LineMeta::default(),
        }
    );
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Action {
            from: s("bob"),
            target: s(ROOM),
            text: s("waves"),
            own: false,
            meta: LineMeta::default(),
        }
    );
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Message {
            from: s("bob"),
            target: s("alice"),
            text: s("psst"),
            own: false,
            private: true,
            meta: LineMeta::default(),
        }
    );

    // Long text: the server relays every piece, which reassemble exactly.
    let long = "Lorem ipsum 长文本 dolor sit amet. "
        .repeat(60)
        .trim_end()
        .to_owned();
    alice.send(Chat::SendMessage { text: long.clone() });
    let mut received = String::new();
    while received.len() < long.len() {
        match next_chat(&bob_events).await {
            Event::Message { text, .. } => received.push_str(&text),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, long);

    alice.send(Chat::ChangeNick { nick: s("alicia") });
    assert_eq!(
        wait_for(&alice_events, |e| matches!(e, Event::NickChanged { .. })).await,
        Event::NickChanged {
            old: s("alice"),
            new: s("alicia"),
            own: true
        }
    );
    assert_eq!(
        wait_for(&bob_events, |e| matches!(e, Event::NickChanged { .. })).await,
        Event::NickChanged {
            old: s("alice"),
            new: s("alicia"),
            own: false
        }
    );

    alice.send(Chat::SetTopic {
        topic: s("interop works"),
    });
    assert_eq!(
        wait_for(&bob_events, |e| matches!(e, Event::Topic { .. })).await,
        Event::Topic {
            room: s(ROOM),
            topic: s("interop works"),
            set_by: Some(s("alicia"))
        }
    );

    // A third person asking for a taken nick gets another one.
    let (carol, carol_events) = server.session("alicia", None);
    assert_eq!(
        wait_for(&carol_events, |e| matches!(e, Event::NickInUse { .. })).await,
        Event::NickInUse {
            requested: s("alicia"),
            using: s("alicia_")
        }
    );
    wait_connected(&carol_events).await;
    assert_eq!(
        wait_for(&carol_events, |e| matches!(e, Event::Topic { .. })).await,
        Event::Topic {
            room: s(ROOM),
            topic: s("interop works"),
            set_by: Some(s("alicia"))
        }
    );
    carol.leave(None).await;

    bob.leave(Some(s("bye now"))).await;
    assert_eq!(wait_disconnected(&bob_events).await, DisconnectReason::Left);
    match wait_for(
        &alice_events,
        |e| matches!(e, Event::Quit { nick, .. } if nick == "bob"),
    )
    .await
    {
        Event::Quit { reason, .. } => assert!(reason.unwrap_or_default().contains("bye now")),
        other => unreachable!("{other:?}"),
    }
    alice.leave(None).await;
    assert_eq!(
        wait_disconnected(&alice_events).await,
        DisconnectReason::Left
    );
}

/// A channel operator's controls against a real server: the first to join
/// is operator there (and marked so), +o reaches the others, room modes,
/// WHOIS in one event, a kick that ends the other session for good, and a
/// ban that refuses the way back in.
pub async fn operator_controls(server: &Daemon) {
    let (alice, alice_events) = server.session("alice", None);
    let room = wait_connected(&alice_events).await.room;
    let own_list = wait_for(&alice_events, |e| matches!(e, Event::Members { .. })).await;
    let Event::Members { ranks, .. } = own_list else {
        unreachable!()
    };
    assert_eq!(ranks, [("alice".to_owned(), Rank::Operator)]);
    // The room's modes come on joining.
    let modes = wait_for(&alice_events, |e| matches!(e, Event::RoomModes { .. })).await;
    assert!(
        matches!(modes, Event::RoomModes { by: None, .. }),
        "{modes:?}"
    );

    let (_bob, bob_events) = server.session("bob", None);
    wait_connected(&bob_events).await;
    let bob_list = wait_for(&bob_events, |e| matches!(e, Event::Members { .. })).await;
    assert!(
        matches!(&bob_list, Event::Members { ranks, .. } if ranks == &[("alice".to_owned(), Rank::Operator)])
    );
    alice.send(Chat::SetMemberMode {
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
    alice.send(Chat::SetRoomMode(RoomModeChange::Limit(Some(20))));
    let limited = wait_for(&bob_events, |e| {
        matches!(e, Event::RoomModes { by: Some(_), .. })
    })
    .await;
    assert!(matches!(
        limited,
        Event::RoomModes {
            modes: RoomModes {
                limit: Some(20),
                ..
            },
            ..
        }
    ));

    alice.send(Chat::Whois {
        nick: "bob".to_owned(),
    });
    let Event::Whois(whois) = wait_for(&alice_events, |e| matches!(e, Event::Whois(_))).await
    else {
        unreachable!()
    };
    assert_eq!(whois.nick, "bob");
    assert_eq!(whois.channels, [format!("@{room}")]);
    assert!(whois.address.is_some_and(|a| a.contains('@')));
    assert!(whois.server.is_some() && whois.idle_secs.is_some() && !whois.unknown);
    alice.send(Chat::Whois {
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
    alice.send(Chat::Kick {
        nick: "carol".to_owned(),
        reason: Some("spam".to_owned()),
    });
    assert_eq!(
        wait_ended_for_good(&carol_events).await,
        DisconnectReason::Kicked {
            by: "alice".to_owned(),
            reason: Some("spam".to_owned())
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
    alice.send(Chat::Ban {
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
