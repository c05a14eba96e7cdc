//! The client session against a fake IRC server on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::{
    free_loopback_port, next_event, session_config, start_session as start, wait_connected,
    wait_disconnected, wait_ended_for_good, wait_for, wait_reconnecting, FakeServer, Peer,
};
use tcp_chat::api::{
    Command, DisconnectReason, Event, HistoryKind, LineMeta, Rank, RoomModes, Security,
};
use tcp_chat::client::{Pacing, Session, SessionConfig};

fn config(address: &str, nick: &str) -> SessionConfig {
    session_config(address, nick, "#room")
}

/// A session that has sent its registration to a fresh fake server.
async fn registering(
    nick: &str,
    password: Option<&str>,
) -> (FakeServer, Peer, Session, async_channel::Receiver<Event>) {
    let server = FakeServer::bind().await;
    let mut wanted = config(&server.address(), nick);
    wanted.request.password = password.map(str::to_owned);
    let (session, events) = start(wanted);
    let mut peer = server.accept().await;
    peer.read_registration().await;
    (server, peer, session, events)
}

/// A session registered and joined to `#room` on a fresh fake server.
async fn joined(nick: &str) -> (FakeServer, Peer, Session, async_channel::Receiver<Event>) {
    let server = FakeServer::bind().await;
    let (session, events) = start(config(&server.address(), nick));
    let mut peer = server.accept().await;
    peer.handshake().await;
    wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    (server, peer, session, events)
}

#[tokio::test]
async fn registers_joins_and_reports_connected() {
    let server = FakeServer::bind().await;
    let (_session, events) = start(config(&server.address(), "alice"));
    let mut peer = server.accept().await;
    assert_eq!(peer.message().await.to_string(), "NICK alice");
    // Said before anything else: the fake server speaks plain text.
    assert_eq!(next_event(&events).await, Event::Security(Security::Plain));
    let user = peer.message().await;
    assert_eq!(user.command, "USER");
    assert_eq!(user.params.len(), 4);
    peer.send(":irc.test NOTICE * :*** Looking up your hostname")
        .await;
    peer.send(":irc.test 001 alice :Welcome").await;
    assert_eq!(peer.expect("JOIN").await.params, ["#room"]);
    peer.send(":alice!a@127.0.0.1 JOIN #room").await;
    assert_eq!(
        next_event(&events).await,
        Event::Notice {
            from: None,
            text: "*** Looking up your hostname".to_owned()
        }
    );
    assert_eq!(
        next_event(&events).await,
        Event::Connected {
            server: server.address(),
            nick: "alice".to_owned(),
            room: "#room".to_owned()
        }
    );
    assert_eq!(
        next_event(&events).await,
        Event::Joined {
            nick: "alice".to_owned(),
            room: "#room".to_owned(),
            own: true
        }
    );
}

#[tokio::test]
async fn sends_password_first() {
    let server = FakeServer::bind().await;
    let mut with_password = config(&server.address(), "alice");
    with_password.request.password = Some("s3cret word".to_owned());
    let (_session, _events) = start(with_password);
    let mut peer = server.accept().await;
    assert_eq!(peer.message().await.to_string(), "PASS :s3cret word");
    assert_eq!(peer.message().await.command, "NICK");
}

#[tokio::test]
async fn nick_in_use_retries_with_suffixes() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    assert_eq!(next_event(&events).await, Event::Security(Security::Plain));
    peer.send(":irc.test 433 * alice :Nickname is already in use")
        .await;
    assert_eq!(peer.expect("NICK").await.params, ["alice_"]);
    peer.send(":irc.test 433 * alice_ :Nickname is already in use")
        .await;
    peer.nick = peer.expect("NICK").await.params[0].clone();
    assert_eq!(peer.nick, "alice2");
    peer.welcome_and_join(&["alice2"]).await;
    assert_eq!(
        next_event(&events).await,
        Event::NickInUse {
            requested: "alice".to_owned(),
            using: "alice2".to_owned()
        }
    );
    assert_eq!(wait_connected(&events).await.nick, "alice2");
}

#[tokio::test]
async fn erroneous_nick_is_cleaned_up() {
    let (_server, mut peer, _session, _events) = registering("张三 x", None).await;
    peer.send(":irc.test 432 * :Erroneous nickname").await;
    assert_eq!(peer.expect("NICK").await.params, ["x"]);
}

#[tokio::test]
async fn too_long_nick_is_shortened_to_the_rfc_limit() {
    let (_server, mut peer, _session, events) = registering("alexander_the_great", None).await;
    peer.send(":irc.test 432 * alexander_the_great :Nickname too long")
        .await;
    peer.nick = peer.expect("NICK").await.params[0].clone();
    assert_eq!(peer.nick, "alexander");
    peer.send(":irc.test 433 * alexander :Nickname is already in use")
        .await;
    peer.nick = peer.expect("NICK").await.params[0].clone();
    assert_eq!(peer.nick, "alexande_");
    peer.welcome_and_join(&[]).await;
    assert_eq!(wait_connected(&events).await.nick, "alexande_");
}

#[tokio::test]
async fn wrong_password() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 464 alice :Password incorrect").await;
    assert_eq!(
        wait_disconnected(&events).await,
        DisconnectReason::WrongPassword
    );
}

#[tokio::test]
async fn password_refused_with_a_bare_error() {
    let (_server, mut peer, _session, events) = registering("alice", Some("guess")).await;
    peer.send("ERROR :Access denied: Bad password?").await;
    assert_eq!(
        wait_disconnected(&events).await,
        DisconnectReason::WrongPassword
    );
}

#[tokio::test]
async fn a_closing_host_is_tried_again() {
    let (server, mut peer, session, events) = joined("alice").await;
    peer.send("ERROR :Closing Link: the host is shutting down")
        .await;
    assert_eq!(
        wait_reconnecting(&events).await,
        (
            DisconnectReason::HostClosed {
                message: Some("Closing Link: the host is shutting down".to_owned())
            },
            1
        )
    );
    // The host is back: the session registers and rejoins by itself.
    let mut again = server.accept().await;
    again.handshake().await;
    assert_eq!(wait_connected(&events).await.room, "#room");
    session.leave(None).await;
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Left);
}

#[tokio::test]
async fn vanishing_server_means_connection_lost() {
    let (_server, peer, _session, events) = joined("alice").await;
    peer.vanish();
    assert!(matches!(
        wait_reconnecting(&events).await,
        (DisconnectReason::ConnectionLost { .. }, 1)
    ));
}

#[tokio::test]
async fn attempts_count_up_while_the_host_stays_away() {
    let (server, peer, session, events) = joined("alice").await;
    drop(peer);
    assert!(matches!(
        wait_reconnecting(&events).await,
        (DisconnectReason::ConnectionLost { .. }, 1)
    ));
    drop(server); // nobody listens any more
    assert_eq!(
        wait_reconnecting(&events).await,
        (DisconnectReason::Refused, 2)
    );
    assert_eq!(
        wait_reconnecting(&events).await,
        (DisconnectReason::Refused, 3)
    );
    session.send(Command::ReconnectNow);
    assert_eq!(wait_reconnecting(&events).await.1, 4);
    session.leave(None).await;
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Left);
}

#[tokio::test]
async fn a_first_connection_that_never_got_in_is_not_retried() {
    let server = FakeServer::bind().await;
    let (_session, events) = start(config(&server.address(), "alice"));
    let mut peer = server.accept().await;
    peer.read_registration().await;
    drop(peer);
    assert!(matches!(
        wait_disconnected(&events).await,
        DisconnectReason::ConnectionLost { .. }
    ));
}

#[tokio::test]
async fn answers_ping_before_and_after_registration() {
    let (_server, mut peer, _session, _events) = registering("alice", None).await;
    peer.send("PING :12345").await;
    assert_eq!(peer.message().await.to_string(), "PONG 12345");
    peer.welcome_and_join(&[]).await;
    peer.send(":irc.test PING :irc.test").await;
    assert_eq!(peer.message().await.to_string(), "PONG irc.test");
}

#[tokio::test]
async fn pings_a_silent_server_then_gives_up() {
    let server = FakeServer::bind().await;
    let mut quick = config(&server.address(), "alice");
    quick.timing.ping_interval = Duration::from_millis(200);
    quick.timing.ping_timeout = Duration::from_millis(200);
    let (_session, events) = start(quick);
    let mut peer = server.accept().await;
    peer.handshake().await;
    let ping = loop {
        let message = peer.message().await;
        if message.command == "PING" {
            break message;
        }
    };
    assert_eq!(ping.params.len(), 1);
    assert_eq!(
        wait_reconnecting(&events).await.0,
        DisconnectReason::TimedOut
    );
}

#[tokio::test]
async fn collects_members_until_end_of_names() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 001 alice :Welcome").await;
    peer.expect("JOIN").await;
    peer.send(":alice!a@h JOIN :#room").await;
    peer.send(":irc.test 353 alice = #room :@alice +bob").await;
    peer.send(":irc.test 353 alice = #room :@+carol dave!d@host")
        .await;
    peer.send(":irc.test 366 alice #room :End of NAMES list")
        .await;
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::Members { .. })).await,
        Event::Members {
            room: "#room".to_owned(),
            ranks: vec![
                ("alice".into(), Rank::Operator),
                ("bob".into(), Rank::Voiced),
                ("carol".into(), Rank::Operator)
            ],
            nicks: ["alice", "bob", "carol", "dave"].map(String::from).to_vec()
        }
    );
}

#[tokio::test]
async fn a_missing_motd_is_no_error() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 001 alice :Welcome").await;
    // Our own host, and many servers, answer "no MOTD" with numeric 422.
    peer.send(":irc.test 422 alice :MOTD File is missing").await;
    peer.expect("JOIN").await;
    peer.send(":alice!a@h JOIN #room").await;
    peer.send(":irc.test 353 alice = #room :alice").await;
    peer.send(":irc.test 366 alice #room :End of NAMES list")
        .await;
    loop {
        match next_event(&events).await {
            Event::Members { .. } => break,
            Event::ServerError { text } => panic!("reported as an error: {text}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn turns_traffic_into_events() {
    let (_server, mut peer, _session, events) = joined("alice").await;
    let script = [
        ":bob!b@h PRIVMSG #room :hello there",
        ":bob!b@h PRIVMSG alice :psst",
        ":bob!b@h PRIVMSG #room :\u{1}ACTION waves\u{1}",
        ":bob!b@h PRIVMSG alice :\u{1}VERSION\u{1}",
        ":bob!b@h NOTICE #room :a notice",
        ":irc.test NOTICE alice :server says",
        ":bob!b@h TOPIC #room :new topic",
        ":irc.test 332 alice #room :old topic",
        ":irc.test 333 alice #room carol!c@h 1700000000",
        ":irc.test 332 alice #room :lonely topic",
        ":carol!c@h JOIN #room",
        ":carol!c@h PART #room :bye",
        ":dave!d@h QUIT :gone",
        ":bob!b@h NICK robert",
        ":alice!a@h NICK :alicia",
        ":irc.test 401 alicia nobody :No such nick/channel",
        ":irc.test 421 alicia FOO :Unknown command",
    ];
    for line in script {
        peer.send(line).await;
    }
    let s = String::from;
    let expected = [
        Event::Message {
            from: s("bob"),
            target: s("#room"),
            text: s("hello there"),
            own: false,
            private: false,
            meta: LineMeta::default(),
        },
        Event::Message {
            from: s("bob"),
            target: s("alice"),
            text: s("psst"),
            own: false,
            private: true,
            meta: LineMeta::default(),
        },
        Event::Action {
            from: s("bob"),
            target: s("#room"),
            text: s("waves"),
            own: false,
            meta: LineMeta::default(),
        },
        Event::Notice {
            from: Some(s("bob")),
            text: s("a notice"),
        },
        Event::Notice {
            from: None,
            text: s("server says"),
        },
        Event::Topic {
            room: s("#room"),
            topic: s("new topic"),
            set_by: Some(s("bob")),
        },
        Event::Topic {
            room: s("#room"),
            topic: s("old topic"),
            set_by: Some(s("carol")),
        },
        Event::Topic {
            room: s("#room"),
            topic: s("lonely topic"),
            set_by: None,
        },
        Event::Joined {
            nick: s("carol"),
            room: s("#room"),
            own: false,
        },
        Event::Parted {
            nick: s("carol"),
            room: s("#room"),
            reason: Some(s("bye")),
        },
        Event::Quit {
            nick: s("dave"),
            reason: Some(s("gone")),
        },
        Event::NickChanged {
            old: s("bob"),
            new: s("robert"),
            own: false,
        },
        Event::NickChanged {
            old: s("alice"),
            new: s("alicia"),
            own: true,
        },
        Event::ServerError {
            text: s("nobody: No such nick/channel"),
        },
        Event::ServerError {
            text: s("FOO: Unknown command"),
        },
    ];
    for want in expected {
        assert_eq!(next_event(&events).await, want);
    }
}

#[tokio::test]
async fn sends_chat_commands_and_echoes_own_messages() {
    let (_server, mut peer, session, events) = joined("alice").await;
    session.send(Command::SendMessage {
        text: "hi all".to_owned(),
    });
    session.send(Command::SendMessage {
        text: "two\nlines\r\n\r\n".to_owned(),
    });
    session.send(Command::SendAction {
        to: None,
        text: "dances".to_owned(),
    });
    session.send(Command::SendPrivate {
        nick: "bob".to_owned(),
        text: "secret".to_owned(),
    });
    session.send(Command::SetTopic {
        topic: "fresh topic".to_owned(),
    });
    session.send(Command::ChangeNick {
        nick: "alicia".to_owned(),
    });
    for want in [
        "PRIVMSG #room :hi all",
        "PRIVMSG #room two",
        "PRIVMSG #room lines",
        "PRIVMSG #room :\u{1}ACTION dances\u{1}",
        "PRIVMSG bob secret",
        "TOPIC #room :fresh topic",
        "NICK alicia",
    ] {
        assert_eq!(peer.message().await.to_string(), want);
    }
    let s = String::from;
    for want in [
        Event::Message {
            from: s("alice"),
            target: s("#room"),
            text: s("hi all"),
            own: true,
            private: false,
            meta: pending(1),
        },
        Event::Message {
            from: s("alice"),
            target: s("#room"),
            text: s("two"),
            own: true,
            private: false,
            meta: pending(2),
        },
        Event::Message {
            from: s("alice"),
            target: s("#room"),
            text: s("lines"),
            own: true,
            private: false,
            meta: pending(3),
        },
        Event::Action {
            from: s("alice"),
            target: s("#room"),
            text: s("dances"),
            own: true,
            meta: pending(4),
        },
        Event::Message {
            from: s("alice"),
            target: s("bob"),
            text: s("secret"),
            own: true,
            private: true,
            meta: pending(5),
        },
    ] {
        assert_eq!(
            wait_for(&events, |e| !matches!(e, Event::Delivered { .. })).await,
            want
        );
    }
}

#[tokio::test]
async fn own_lines_count_as_delivered_once_written_to_a_server_that_does_not_echo() {
    let (_server, mut peer, session, events) = joined("alice").await;
    session.send(Command::SendMessage {
        text: "one\ntwo".to_owned(),
    });
    peer.expect("PRIVMSG").await;
    peer.expect("PRIVMSG").await;
    let mut delivered = Vec::new();
    while delivered.len() < 2 {
        if let Event::Delivered { outbox_id } = next_event(&events).await {
            delivered.push(outbox_id);
        }
    }
    assert_eq!(delivered, [1, 2]);
}

/// Stamps of one of our lines still on its way.
fn pending(outbox_id: u64) -> LineMeta {
    LineMeta {
        outbox_id: Some(outbox_id),
        ..LineMeta::default()
    }
}

/// The bytes the server would relay: our line with a worst-case
/// `:nick!~user@host ` prefix (USERLEN 10 plus `~`, a 63-byte host).
fn relayed_len(line: &str, nick: &str) -> usize {
    1 + nick.len() + 1 + 11 + 1 + 63 + 1 + line.len() + 2
}

#[tokio::test]
async fn long_messages_are_split_to_fit_and_reassemble() {
    let server = FakeServer::bind().await;
    let mut unpaced = config(&server.address(), "alice");
    unpaced.timing.pacing.interval = Duration::ZERO;
    let (session, _events) = start(unpaced);
    let mut peer = server.accept().await;
    peer.handshake().await;
    let first = "The quick brown fox 你好世界 jumps over the lazy dog. "
        .repeat(40)
        .trim_end()
        .to_owned();
    let second = "x".repeat(1500) + "ü".repeat(700).as_str();
    session.send(Command::SendMessage {
        text: format!("{first}\n{second}"),
    });
    session.send(Command::SendAction {
        to: None,
        text: second.clone(),
    });
    session.send(Command::SendMessage {
        text: "done".to_owned(),
    });
    let mut room_text = Vec::new();
    let mut action_text = String::new();
    loop {
        let line = peer.raw_line().await.unwrap();
        assert!(
            relayed_len(&line, "alice") <= 512,
            "too long once relayed: {}",
            line.len()
        );
        let message = tcp_chat::protocol::Message::parse(&line).unwrap();
        assert_eq!(message.command, "PRIVMSG");
        assert_eq!(message.params[0], "#room");
        let text = message.params[1].clone();
        if text == "done" {
            break;
        }
        match text.strip_prefix("\u{1}ACTION ") {
            Some(action) => action_text.push_str(action.strip_suffix('\u{1}').unwrap()),
            None => room_text.push(text),
        }
    }
    let joined = room_text.concat();
    assert_eq!(joined, format!("{first}{second}"));
    // The first line's chunks end exactly where the second line starts.
    let mut consumed = 0;
    let boundary = room_text
        .iter()
        .position(|chunk| {
            consumed += chunk.len();
            consumed == first.len()
        })
        .expect("a chunk boundary between the two lines");
    assert!(boundary + 1 < room_text.len());
    assert_eq!(action_text, second);
}

#[tokio::test]
async fn chat_is_paced_but_protocol_lines_skip_the_queue() {
    let server = FakeServer::bind().await;
    let mut slow = config(&server.address(), "alice");
    // So slow that only the burst leaves while the test runs.
    slow.timing.pacing = Pacing {
        interval: Duration::from_secs(3600),
        burst: 2,
    };
    let (session, _events) = start(slow);
    let mut peer = server.accept().await;
    peer.handshake().await;
    for n in 1..=5 {
        session.send(Command::SendMessage {
            text: format!("line {n}"),
        });
    }
    assert_eq!(peer.message().await.to_string(), "PRIVMSG #room :line 1");
    assert_eq!(peer.message().await.to_string(), "PRIVMSG #room :line 2");
    peer.send("PING :waiting").await;
    assert_eq!(peer.message().await.to_string(), "PONG waiting");
    session.send(Command::Leave {
        message: Some("bye".to_owned()),
    });
    assert_eq!(peer.message().await.to_string(), "QUIT bye");
}

#[tokio::test]
async fn commands_typed_before_joining_wait_for_the_room() {
    let server = FakeServer::bind().await;
    let (session, _events) = start(config(&server.address(), "alice"));
    session.send(Command::SendMessage {
        text: "early bird".to_owned(),
    });
    let mut peer = server.accept().await;
    peer.handshake().await;
    assert_eq!(
        peer.message().await.to_string(),
        "PRIVMSG #room :early bird"
    );
}

#[tokio::test]
async fn url_room_wins() {
    let server = FakeServer::bind().await;
    let url = format!("irc://127.0.0.1:{}/%23elsewhere", server.addr.port());
    let (_session, events) = start(config(&url, "alice"));
    let mut peer = server.accept().await;
    assert_eq!(peer.handshake().await, "#elsewhere");
    assert_eq!(wait_connected(&events).await.room, "#elsewhere");
}

#[tokio::test]
async fn join_refused_ends_the_session() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 001 alice :Welcome").await;
    peer.expect("JOIN").await;
    peer.send(":irc.test 471 alice #room :Cannot join channel (+l)")
        .await;
    assert_eq!(
        wait_disconnected(&events).await,
        DisconnectReason::HostClosed {
            message: Some("#room: Cannot join channel (+l)".to_owned())
        }
    );
}

#[tokio::test]
async fn leaving_sends_quit_and_reports_left() {
    let (_server, mut peer, session, events) = joined("alice").await;
    let leaving = tokio::spawn(session.leave(Some("see you".to_owned())));
    assert_eq!(peer.expect("QUIT").await.params, ["see you"]);
    peer.send("ERROR :Closing Link: alice (Quit: see you)")
        .await;
    drop(peer);
    leaving.await.unwrap();
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Left);
}

#[tokio::test]
async fn leaving_does_not_wait_forever_for_the_server() {
    let (_server, mut peer, session, events) = joined("alice").await;
    let leaving = tokio::spawn(session.leave(None));
    assert_eq!(peer.expect("QUIT").await.params, Vec::<String>::new());
    // The server keeps the connection open; the session must still end.
    leaving.await.unwrap();
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Left);
    drop(peer);
}

#[tokio::test]
async fn dropping_the_handle_quits() {
    let (_server, mut peer, session, _events) = joined("alice").await;
    drop(session);
    peer.expect("QUIT").await;
}

#[tokio::test]
async fn bad_input_does_not_break_the_session() {
    let (_server, mut peer, _session, events) = joined("alice").await;
    for line in [
        "",
        "   ",
        ":only-a-prefix",
        "@tags-only",
        ":x 353",
        ":x 366",
        ":x 332",
        ":x 001",
        "PRIVMSG",
        "JOIN",
        "NICK",
        "KICK",
        "ERROR_NOT",
        ":x 999 alice :weird",
        &"A".repeat(5000),
    ] {
        peer.send(line).await;
    }
    peer.send_raw(b":bob!b@h PRIVMSG #room :\xff\xfe bytes\r\n")
        .await;
    peer.send("PING :still-there").await;
    assert_eq!(peer.expect("PONG").await.params, ["still-there"]);
    let message = wait_for(&events, |e| matches!(e, Event::Message { .. })).await;
    assert!(matches!(message, Event::Message { text, .. } if text == "\u{fffd}\u{fffd} bytes"));
}

#[tokio::test]
async fn connects_over_ipv6_loopback() {
    let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback on this machine; skipping");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    for address in [format!("[::1]:{port}"), format!("irc://[::1]:{port}/room")] {
        let (_session, events) = start(config(&address, "alice"));
        let (stream, _) = listener.accept().await.unwrap();
        let mut peer = Peer::new(stream);
        peer.handshake().await;
        assert_eq!(
            wait_connected(&events).await.server,
            format!("[::1]:{port}")
        );
    }
}

#[tokio::test]
async fn refused_when_nobody_listens() {
    let port = free_loopback_port();
    let (_session, events) = start(config(&format!("127.0.0.1:{port}"), "alice"));
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Refused);
}

#[tokio::test]
async fn names_under_invalid_do_not_resolve() {
    let (_session, events) = start(config("nothing.invalid:6667", "alice"));
    assert_eq!(
        wait_disconnected(&events).await,
        DisconnectReason::NotResolved {
            host: "nothing.invalid".to_owned()
        }
    );
}

#[tokio::test]
async fn nonsense_addresses_are_invalid() {
    for address in ["", "bad host", "host:99999", "https://secure.test"] {
        let (_session, events) = start(config(address, "alice"));
        assert_eq!(
            wait_disconnected(&events).await,
            DisconnectReason::InvalidAddress {
                address: address.to_owned()
            }
        );
    }
}

#[tokio::test]
async fn leaving_during_registration_ends_the_session() {
    let (_server, _peer, session, events) = registering("alice", None).await;
    session.leave(None).await;
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Left);
}

/// Registration on a fake server that offers the history capabilities.
async fn handshake_with_history(peer: &mut Peer) {
    peer.sees_caps = true;
    assert_eq!(peer.message().await.to_string(), "CAP LS 302");
    peer.read_registration().await;
    peer.send(":irc.test CAP * LS :server-time message-tags echo-message batch draft/chathistory")
        .await;
    let request = peer.expect("CAP").await;
    assert_eq!(request.params[0], "REQ");
    peer.send(&format!(":irc.test CAP * ACK :{}", request.params[1]))
        .await;
    assert_eq!(peer.expect("CAP").await.params, ["END"]);
    let nick = peer.nick.clone();
    peer.welcome_and_join(&[&nick]).await;
}

#[tokio::test]
async fn asks_for_earlier_lines_and_shows_them() {
    let server = FakeServer::bind().await;
    let (_session, events) = start(config(&server.address(), "alice"));
    let mut peer = server.accept().await;
    handshake_with_history(&mut peer).await;
    let ask = peer.expect("CHATHISTORY").await;
    assert_eq!(ask.params, ["LATEST", "#room", "*", "100"]);
    peer.send(":irc.test BATCH +h1 chathistory #room").await;
    peer.send("@batch=h1;msgid=a1;time=2026-11-29T01:00:00.000Z :bob!b@h PRIVMSG #room :earlier")
        .await;
    peer.send("@batch=h1;msgid=a2;time=2026-11-29T01:00:01.000Z :bob!b@h PRIVMSG #room :\u{1}ACTION nods\u{1}")
        .await;
    peer.send(":irc.test BATCH -h1").await;
    let history = wait_for(&events, |e| matches!(e, Event::History { .. })).await;
    let Event::History { kind, lines, room } = history else {
        unreachable!()
    };
    assert_eq!((kind, room.as_str()), (HistoryKind::Earlier, "#room"));
    assert_eq!(lines.len(), 2);
    assert!(matches!(
        &lines[0],
        Event::Message { text, meta, own: false, .. }
            if text == "earlier" && meta.msgid.as_deref() == Some("a1") && meta.time_ms.is_some()
    ));
    assert!(matches!(&lines[1], Event::Action { text, .. } if text == "nods"));
}

#[tokio::test]
async fn a_server_that_never_answers_the_catch_up_still_gets_our_lines() {
    let server = FakeServer::bind().await;
    let mut patient = config(&server.address(), "alice");
    patient.timing.catch_up_wait = Duration::from_millis(300);
    let (session, events) = start(patient);
    let mut peer = server.accept().await;
    handshake_with_history(&mut peer).await;
    peer.expect("CHATHISTORY").await;
    peer.send("@msgid=m7 :bob!b@h PRIVMSG #room :last seen")
        .await;
    wait_for(
        &events,
        |e| matches!(e, Event::Message { text, .. } if text == "last seen"),
    )
    .await;
    drop(peer);
    wait_reconnecting(&events).await;
    session.send(Command::SendMessage {
        text: "typed while away".to_owned(),
    });
    let mut again = server.accept().await;
    handshake_with_history(&mut again).await;
    // It asks for what came after the last line it saw…
    let ask = again.expect("CHATHISTORY").await;
    assert_eq!(ask.params[..3], ["AFTER", "#room", "msgid=m7"]);
    // …and, with no answer, sends the waiting line once its patience ends.
    let sent = again.expect("PRIVMSG").await;
    assert_eq!(sent.params, ["#room", "typed while away"]);
    assert!(sent
        .tags
        .as_deref()
        .is_some_and(|t| t.starts_with("+tcpchat.github.io/id=")));
}

/// Ranks from NAMES prefixes (as ISUPPORT PREFIX says, several at once with
/// multi-prefix) and MODE lines, the room's modes from 324, and a KICK of
/// us that ends the session for good.
#[tokio::test]
async fn ranks_room_modes_and_a_kick() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 001 alice :Welcome alice").await;
    peer.send(":irc.test 005 alice PREFIX=(qov)~@+ CHANMODES=b,k,l,imnt :are supported")
        .await;
    let room = peer.expect("JOIN").await.params[0].clone();
    peer.send(&format!(":alice!u@127.0.0.1 JOIN {room}")).await;
    peer.send(&format!(
        ":irc.test 353 alice = {room} :~bob @+carol alice!u@h"
    ))
    .await;
    peer.send(&format!(":irc.test 366 alice {room} :End of NAMES list"))
        .await;
    assert_eq!(
        peer.expect("MODE").await.params,
        std::slice::from_ref(&room)
    );
    peer.send(&format!(":irc.test 324 alice {room} +tkl secret 10"))
        .await;
    let members = wait_for(&events, |e| matches!(e, Event::Members { .. })).await;
    assert_eq!(
        members,
        Event::Members {
            room: room.clone(),
            nicks: ["bob", "carol", "alice"].map(String::from).to_vec(),
            ranks: vec![
                ("bob".into(), Rank::Operator),
                ("carol".into(), Rank::Operator)
            ],
        }
    );
    let modes = wait_for(&events, |e| matches!(e, Event::RoomModes { .. })).await;
    assert_eq!(
        modes,
        Event::RoomModes {
            room: room.clone(),
            modes: RoomModes {
                topic_locked: true,
                key: Some("secret".into()),
                limit: Some(10),
                ..RoomModes::default()
            },
            by: None,
        }
    );
    peer.send(&format!(":bob!b@h MODE {room} +v-o+m alice carol"))
        .await;
    let rank = |nick: &str, rank: Rank| Event::MemberRank {
        room: room.clone(),
        nick: nick.into(),
        rank,
        by: Some("bob".into()),
    };
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::MemberRank { .. })).await,
        rank("alice", Rank::Voiced)
    );
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::MemberRank { .. })).await,
        rank("carol", Rank::Voiced),
        "still voiced after -o"
    );
    let moderated = wait_for(&events, |e| matches!(e, Event::RoomModes { .. })).await;
    assert!(matches!(
        moderated,
        Event::RoomModes {
            modes: RoomModes {
                moderated: true,
                ..
            },
            ..
        }
    ));
    // Bans are news for the log, set and lifted; a ban list query is not.
    peer.send(&format!(":bob!b@h MODE {room} +b-b *!*@10.0.0.* ann!*@*"))
        .await;
    let ban = |mask: &str, banned: bool| Event::Ban {
        room: room.clone(),
        mask: mask.into(),
        banned,
        by: Some("bob".into()),
    };
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::Ban { .. })).await,
        ban("*!*@10.0.0.*", true)
    );
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::Ban { .. })).await,
        ban("ann!*@*", false)
    );
    peer.send(&format!(":bob!b@h KICK {room} alice :enough"))
        .await;
    assert_eq!(
        wait_ended_for_good(&events).await,
        DisconnectReason::Kicked {
            by: "bob".into(),
            reason: Some("enough".into())
        }
    );
    peer.expect("QUIT").await;
}

/// A room that bans us answers our JOIN with 474: over, not retried.
#[tokio::test]
async fn banned_on_joining() {
    let (_server, mut peer, _session, events) = registering("alice", None).await;
    peer.send(":irc.test 001 alice :Welcome alice").await;
    let room = peer.expect("JOIN").await.params[0].clone();
    peer.send(&format!(
        ":irc.test 474 alice {room} :Cannot join channel (you're banned)"
    ))
    .await;
    assert_eq!(wait_disconnected(&events).await, DisconnectReason::Banned);
}

#[tokio::test]
async fn an_invitation_is_reported_once_the_server_passed_it_on() {
    let (_server, mut peer, session, events) = joined("alice").await;
    session.send(Command::Invite {
        nick: "bob".to_owned(),
    });
    let invite = peer.expect("INVITE").await;
    assert_eq!(invite.params[0], "bob");
    let room = invite.params[1].clone();
    peer.send(&format!(":irc.test 341 alice bob {room}")).await;
    assert_eq!(
        wait_for(&events, |e| matches!(e, Event::Invited { .. })).await,
        Event::Invited {
            nick: "bob".to_owned(),
            room
        }
    );
}
