//! The host as IRC clients see it, over real loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use support::{start_host, test_config, RawClient};
use tcp_chat::protocol::Message;
use tcp_chat::server::{self, ServerConfig, StartError};

fn parse(line: &str) -> Message {
    Message::parse(line).unwrap()
}

#[tokio::test]
async fn registration_sends_welcome_isupport_and_joins_the_room() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::connect(addr, "alice").await;
    alice.send("NICK alice").await;
    alice.send("USER alice 0 * :Alice A").await;
    for numeric in ["001", "002", "003", "004"] {
        let reply = alice.expect_command(numeric).await;
        assert_eq!(reply.param(0), Some("alice"));
    }
    let isupport = alice.expect_command("005").await;
    for token in [
        "CASEMAPPING=ascii",
        "CHANTYPES=#&",
        "NICKLEN=30",
        "CHANNELLEN=50",
        "NETWORK=tcp-chat",
    ] {
        assert!(
            isupport.params.iter().any(|p| p == token),
            "005 lacks {token}: {isupport:?}"
        );
    }
    alice.expect_command("422").await;
    let join = alice.expect_command("JOIN").await;
    assert_eq!(join.prefix.as_deref(), Some("alice!alice@127.0.0.1"));
    assert_eq!(join.params, ["#chat"]);
    let names = alice.expect_command("353").await;
    assert_eq!(names.params, ["alice", "=", "#chat", "alice"]);
    alice.expect_command("366").await;
    host.shutdown().await;
}

#[tokio::test]
async fn cap_negotiation_holds_the_welcome_until_cap_end() {
    let (host, addr) = start_host(test_config()).await;
    let mut client = RawClient::connect(addr, "capper").await;
    client.send("CAP LS 302").await;
    client.send("NICK capper").await;
    client.send("USER capper 0 * :Cap").await;
    let ls = client.expect_command("CAP").await;
    // A host without history offers no chathistory.
    assert_eq!(
        ls.params,
        [
            "*",
            "LS",
            "server-time message-tags echo-message batch away-notify multi-prefix"
        ]
    );
    client.send("CAP REQ :multi-prefix sasl").await;
    let nak = client.expect_command("CAP").await;
    assert_eq!(nak.params, ["capper", "NAK", "multi-prefix sasl"]);
    let before = client.sync("held").await;
    assert!(
        !before.iter().any(|l| parse(l).command == "001"),
        "welcome before CAP END: {before:?}"
    );
    client.send("CAP END").await;
    client.expect_command("001").await;
    client.expect_command("366").await;
    host.shutdown().await;
}

#[tokio::test]
async fn password_is_checked() {
    let config = ServerConfig {
        password: Some("sesame".into()),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;

    let mut wrong = RawClient::connect(addr, "wrong").await;
    wrong.send("PASS nope").await;
    wrong.send("NICK wrong").await;
    wrong.send("USER wrong 0 * :W").await;
    wrong.expect_command("464").await;
    wrong.expect_command("ERROR").await;
    assert!(wrong.expect_closed().await.is_empty());

    let mut missing = RawClient::connect(addr, "missing").await;
    missing.send("NICK missing").await;
    missing.send("USER missing 0 * :M").await;
    missing.expect_command("464").await;
    missing.expect_closed().await;

    let mut right = RawClient::connect(addr, "right").await;
    right.send("PASS sesame").await;
    right.send("NICK right").await;
    right.send("USER right 0 * :R").await;
    right.expect_command("001").await;
    host.shutdown().await;
}

#[tokio::test]
async fn messages_are_relayed_and_joins_echoed() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::connect(addr, "bob").await;
    bob.send("NICK bob").await;
    bob.send("USER bob 0 * :Bob").await;
    let names = bob.expect_command("353").await;
    assert_eq!(names.param(3), Some("alice bob"));

    let join = alice.expect_command("JOIN").await;
    assert_eq!(join.source_nick(), Some("bob"));

    bob.send("PRIVMSG #chat :hello everyone").await;
    let relayed = alice.expect_command("PRIVMSG").await;
    assert_eq!(relayed.prefix.as_deref(), Some("bob!bob@127.0.0.1"));
    assert_eq!(relayed.params, ["#chat", "hello everyone"]);
    // The sender does not get its own message back.
    assert!(bob
        .sync("after-privmsg")
        .await
        .iter()
        .all(|l| !l.contains("hello everyone")));

    alice.send("PRIVMSG BOB :just you").await;
    let private = bob.expect_command("PRIVMSG").await;
    assert_eq!(private.params, ["BOB", "just you"]);

    alice.send("NOTICE #chat :heads up").await;
    let notice = bob.expect_command("NOTICE").await;
    assert_eq!(notice.params, ["#chat", "heads up"]);

    // Other channels are created on JOIN and only their members hear them.
    alice.send("JOIN #side").await;
    alice.expect_command("366").await;
    bob.send("PRIVMSG #side :let me in").await;
    assert_eq!(bob.expect_command("404").await.param(1), Some("#side"));
    bob.send("JOIN #side").await;
    bob.expect_command("366").await;
    bob.send("PRIVMSG #side :in now").await;
    assert_eq!(
        alice.expect_command("PRIVMSG").await.params,
        ["#side", "in now"]
    );
    host.shutdown().await;
}

#[tokio::test]
async fn nicknames_are_unique_ignoring_case() {
    let (host, addr) = start_host(test_config()).await;
    let _alice = RawClient::register(addr, "Alice").await;
    let mut other = RawClient::connect(addr, "other").await;
    other.send("NICK aLiCe").await;
    let taken = other.expect_command("433").await;
    assert_eq!(taken.params[..2], ["*", "aLiCe"]);
    other.send("NICK alice2").await;
    other.send("USER a 0 * :A").await;
    other.expect_command("001").await;
    other.send("NICK ALICE").await;
    assert_eq!(other.expect_command("433").await.param(1), Some("ALICE"));
    host.shutdown().await;
}

#[tokio::test]
async fn nick_change_reaches_each_neighbour_once() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.send("JOIN #second").await;
        client.expect_command("366").await;
    }
    alice.sync("joined").await;
    alice.send("NICK ally").await;
    let own = alice.expect_command("NICK").await;
    assert_eq!(
        (own.source_nick(), own.params.as_slice()),
        (Some("alice"), &["ally".to_owned()][..])
    );
    let seen = bob.sync("after-nick").await;
    let nicks: Vec<&String> = seen.iter().filter(|l| parse(l).command == "NICK").collect();
    assert_eq!(nicks.len(), 1, "{seen:?}");
    assert_eq!(
        parse(nicks[0]).prefix.as_deref(),
        Some("alice!alice@127.0.0.1")
    );
    // A change of case only is allowed.
    alice.send("NICK ALLY").await;
    assert_eq!(alice.expect_command("NICK").await.params, ["ALLY"]);
    host.shutdown().await;
}

#[tokio::test]
async fn topics_are_queried_set_and_shown_on_join() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    alice.send("TOPIC #chat").await;
    alice.expect_command("331").await;
    let mut bob = RawClient::register(addr, "bob").await;
    alice.send("TOPIC #chat :Lunch at noon").await;
    for client in [&mut alice, &mut bob] {
        let topic = client.expect_command("TOPIC").await;
        assert_eq!(topic.source_nick(), Some("alice"));
        assert_eq!(topic.params, ["#chat", "Lunch at noon"]);
    }
    let mut carol = RawClient::connect(addr, "carol").await;
    carol.send("NICK carol").await;
    carol.send("USER carol 0 * :C").await;
    assert_eq!(
        carol.expect_command("332").await.params,
        ["carol", "#chat", "Lunch at noon"]
    );
    // Who set it, as a full mask (irssi shows `[]` for a bare nick's host).
    let set_by = carol.expect_command("333").await.params[2].clone();
    assert_eq!(set_by, "alice!alice@127.0.0.1");
    carol.send("TOPIC #chat").await;
    carol.expect_command("332").await;
    carol.send("TOPIC #nowhere").await;
    carol.expect_command("403").await;
    host.shutdown().await;
}

#[tokio::test]
async fn part_and_quit_are_broadcast() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    bob.send("PART #chat :brb").await;
    let part = alice.expect_command("PART").await;
    assert_eq!(
        (part.source_nick(), part.params.clone()),
        (Some("bob"), vec!["#chat".into(), "brb".into()])
    );
    assert_eq!(bob.expect_command("PART").await.params, ["#chat", "brb"]);
    bob.send("PART #chat").await;
    bob.expect_command("442").await;
    bob.send("JOIN #chat").await;
    bob.expect_command("366").await;
    alice.expect_command("JOIN").await;
    bob.send("QUIT :off home").await;
    let quit = alice.expect_command("QUIT").await;
    assert_eq!(
        (quit.source_nick(), quit.params.clone()),
        (Some("bob"), vec!["Quit: off home".into()])
    );
    assert_eq!(bob.expect_command("ERROR").await.command, "ERROR");
    bob.expect_closed().await;
    host.shutdown().await;
}

#[tokio::test]
async fn ping_gets_pong_with_the_token_last() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    alice.send("PING :a token with spaces").await;
    let pong = alice.expect_command("PONG").await;
    assert_eq!(
        pong.params.last().map(String::as_str),
        Some("a token with spaces")
    );
    // Before registration too.
    let mut early = RawClient::connect(addr, "early").await;
    early.send("NICK early").await;
    early.send("PING 123").await;
    assert_eq!(
        early
            .expect_command("PONG")
            .await
            .params
            .last()
            .map(String::as_str),
        Some("123")
    );
    host.shutdown().await;
}

#[tokio::test]
async fn commands_before_registration_get_451_and_unknown_ones_421() {
    let (host, addr) = start_host(test_config()).await;
    let mut early = RawClient::connect(addr, "early").await;
    early.send("NICK early").await;
    early.send("JOIN #chat").await;
    assert_eq!(early.expect_command("451").await.param(0), Some("early"));
    early.send("USER early 0 * :E").await;
    early.expect_command("001").await;
    early.send("FROBNICATE now").await;
    assert_eq!(
        early.expect_command("421").await.param(1),
        Some("FROBNICATE")
    );
    host.shutdown().await;
}

#[tokio::test]
async fn errors_name_the_problem() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let cases = [
        ("PRIVMSG nobody :hi", "401"),
        ("PRIVMSG #nowhere :hi", "403"),
        ("PRIVMSG", "411"),
        ("PRIVMSG #chat", "412"),
        ("PRIVMSG #chat :", "412"),
        ("JOIN", "461"),
        ("JOIN nochannel", "403"),
        ("NICK", "431"),
        ("NICK 9lives", "432"),
        ("NICK :a b", "432"),
        ("USER a 0 * :again", "462"),
        ("PASS again", "462"),
        ("PART #nowhere", "403"),
    ];
    for (line, numeric) in cases {
        alice.send(line).await;
        let before = alice.sync(numeric).await;
        assert!(
            before.iter().any(|l| parse(l).command == numeric),
            "{line} should get {numeric}: {before:?}"
        );
    }
    // NOTICE is never answered with an error.
    alice.send("NOTICE nobody :hi").await;
    assert!(alice.sync("notice").await.is_empty());
    host.shutdown().await;
}

#[tokio::test]
async fn mode_who_and_names_answer_what_clients_ask() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let _bob = RawClient::register(addr, "bob").await;
    alice.send("MODE #chat").await;
    assert_eq!(alice.expect_command("324").await.param(1), Some("#chat"));
    alice.send("MODE #chat b").await;
    alice.expect_command("368").await;
    alice.send("MODE alice +i").await;
    let echoed = alice.expect_command("MODE").await;
    assert_eq!(echoed.params, ["alice", "+i"]);
    alice.send("MODE alice").await;
    assert_eq!(alice.expect_command("221").await.param(1), Some("+i"));
    alice.send("MODE bob +i").await;
    alice.expect_command("502").await;
    alice.send("WHO #chat").await;
    let first = alice.expect_command("352").await;
    assert_eq!(
        first.params[1..6],
        ["#chat", "alice", "127.0.0.1", "tcp-chat", "alice"]
    );
    let second = alice.expect_command("352").await;
    assert_eq!(second.param(5), Some("bob"));
    alice.expect_command("315").await;
    alice.send("NAMES #chat").await;
    assert_eq!(
        alice.expect_command("353").await.param(3),
        Some("alice bob")
    );
    alice.expect_command("366").await;
    host.shutdown().await;
}

#[tokio::test]
async fn an_over_long_line_gets_417_and_the_connection_lives_on() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let long = format!("PRIVMSG #chat :{}", "x".repeat(2000));
    alice.send(&long).await;
    alice.expect_command("417").await;
    alice.send("PRIVMSG #chat :short").await;
    let relayed = bob.expect_command("PRIVMSG").await;
    assert_eq!(
        relayed.param(1),
        Some("short"),
        "the long line must not be relayed"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn invalid_utf8_is_relayed_lossily() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    alice
        .send_raw(b"PRIVMSG #chat :caf\xe9 \xff\xfe ok\r\n")
        .await;
    let raw = bob.next_raw_line_matching(b"PRIVMSG").await;
    let text = String::from_utf8(raw).expect("relayed as valid UTF-8");
    assert!(
        text.ends_with(":caf\u{fffd} \u{fffd}\u{fffd} ok\r\n"),
        "{text:?}"
    );
    alice.sync("still-alive").await;
    host.shutdown().await;
}

#[tokio::test]
async fn relayed_lines_fit_in_512_bytes_without_splitting_characters() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice_with_a_long_nickname").await;
    let mut bob = RawClient::register(addr, "bob").await;
    // 165 × 3 bytes: the line alice sends is within 512, the relayed one
    // (with her prefix) would not be.
    let text = "你".repeat(165);
    alice.send(&format!("PRIVMSG #chat :{text}")).await;
    let raw = bob.next_raw_line_matching(b"PRIVMSG").await;
    assert!(raw.len() <= 512, "{} bytes", raw.len());
    let line = String::from_utf8(raw).expect("cut on a character boundary");
    let relayed = Message::parse(line.trim_end()).unwrap();
    let body = relayed.param(1).unwrap();
    assert!(!body.is_empty() && text.starts_with(body) && body.len() < text.len());
    host.shutdown().await;
}

#[tokio::test]
async fn every_interface_means_ipv4_and_ipv6_with_plain_ipv4_hosts() {
    let config = ServerConfig {
        bind: None,
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let port = addr.port();
    let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let mut alice = RawClient::register(v4, "alice").await;
    alice.send("WHO alice").await;
    // Reached through the dual-stack socket, yet shown as IPv4.
    assert_eq!(
        alice.expect_command("352").await.param(3),
        Some("127.0.0.1")
    );
    if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok() {
        assert!(
            addr.is_ipv6(),
            "IPv6 works here, so the listener should be [::]: {addr}"
        );
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
        let mut bob = RawClient::register(v6, "bob").await;
        bob.send("WHO bob").await;
        assert_eq!(bob.expect_command("352").await.param(3), Some("0::1"));
    }
    host.shutdown().await;
}

#[tokio::test]
async fn a_port_in_use_is_reported_as_such() {
    let (host, addr) = start_host(test_config()).await;
    let again = ServerConfig {
        port: addr.port(),
        ..test_config()
    };
    match server::start(again).await {
        Err(StartError::AddrInUse(at)) => assert_eq!(at.port(), addr.port()),
        Err(other) => panic!("expected AddrInUse, got {other}"),
        Ok(_) => panic!("a second host bound the same port"),
    }
    host.shutdown().await;
}

#[tokio::test]
async fn repeated_targets_are_relayed_once_and_too_many_are_refused() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    alice.send("PRIVMSG #chat,#CHAT,#chat :once").await;
    alice.send("PRIVMSG #chat,#a,#b,#c,#d :five").await;
    let refusal = alice.expect_command("407").await;
    assert_eq!(refusal.param(1), Some("#d"));
    alice.sync("alice-done").await;
    let relayed: Vec<String> = bob
        .sync("bob-done")
        .await
        .into_iter()
        .filter(|line| line.contains("PRIVMSG"))
        .collect();
    assert_eq!(relayed.len(), 1, "{relayed:?}");
    assert!(relayed[0].ends_with("once"), "{relayed:?}");
    host.shutdown().await;
}

#[tokio::test]
async fn joining_too_many_channels_is_refused() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    // Already in #chat; these are 20 more, one past the limit.
    for batch in 0..5 {
        let names: Vec<String> = (1..=4).map(|i| format!("#c{}", batch * 4 + i)).collect();
        alice.send(&format!("JOIN {}", names.join(","))).await;
    }
    let refusal = alice.expect_command("405").await;
    assert_eq!(refusal.param(1), Some("#c20"));
    alice.send("JOIN #chat").await;
    let after = alice.sync("rejoin").await;
    assert!(
        !after.iter().any(|line| line.contains(" 405 ")),
        "{after:?}"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn long_topics_and_reasons_are_cut_so_relayed_lines_fit() {
    let (host, addr) = start_host(test_config()).await;
    let long_nick = "a_rather_long_nickname_here_xy";
    let mut alice = RawClient::register(addr, long_nick).await;
    let mut carol = RawClient::register(addr, "carol").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let long = "话".repeat(160);
    alice.send(&format!("TOPIC #chat :{long}")).await;
    carol.send(&format!("PART #chat :{long}")).await;
    alice.send(&format!("QUIT :{long}")).await;
    for command in [b"TOPIC".as_slice(), b"PART", b"QUIT"] {
        let raw = bob.next_raw_line_matching(command).await;
        assert!(raw.len() <= 512, "{} bytes", raw.len());
        let line = String::from_utf8(raw).expect("cut on a character boundary");
        let relayed = Message::parse(line.trim_end()).unwrap();
        let text = relayed.params.last().unwrap();
        assert!(long.contains(text.trim_start_matches("Quit: ")), "{line}");
    }
    host.shutdown().await;
}
