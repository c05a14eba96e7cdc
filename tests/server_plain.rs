//! `nc`/`telnet` users: greeted, named, chatting with IRC users both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{start_host, test_config, RawClient};
use tcp_chat::server::ServerConfig;

/// Every line a plain user reads is a sentence, never IRC syntax.
fn assert_human(lines: &[String]) {
    for line in lines {
        assert!(
            !line.starts_with(':'),
            "raw IRC shown to a plain user: {line:?}"
        );
        assert!(
            !line.contains("PRIVMSG"),
            "raw IRC shown to a plain user: {line:?}"
        );
    }
}

#[tokio::test]
async fn a_silent_client_is_greeted_named_and_chats_with_irc_users() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut carol = RawClient::connect(addr, "carol").await;
    let greeting = carol.expect_containing("What's your name?").await;
    assert!(
        greeting.starts_with("Welcome to #chat on tcp-chat!"),
        "{greeting}"
    );
    carol.send("carol").await;
    carol.expect_containing("* carol joined").await;
    carol.expect_containing("In #chat (2): alice, carol.").await;
    let join = alice.expect_command("JOIN").await;
    assert_eq!(join.prefix.as_deref(), Some("carol!carol@127.0.0.1"));

    // IRC → plain
    alice.send("PRIVMSG #chat :hi carol").await;
    carol.expect_containing("<alice> hi carol").await;
    alice.send("PRIVMSG #chat :\u{1}ACTION waves\u{1}").await;
    carol.expect_containing("* alice waves").await;
    alice.send("PRIVMSG carol :psst").await;
    carol.expect_containing("*alice* psst").await;
    alice.send("TOPIC #chat :plans").await;
    carol
        .expect_containing("* alice changed the topic to: plans")
        .await;

    // plain → IRC
    carol.send("hello alice").await;
    let said = alice.expect_command("PRIVMSG").await;
    assert_eq!(
        (said.source_nick(), said.params.clone()),
        (Some("carol"), vec!["#chat".into(), "hello alice".into()])
    );
    carol.send("/me dances").await;
    assert_eq!(
        alice.expect_command("PRIVMSG").await.param(1),
        Some("\u{1}ACTION dances\u{1}")
    );
    carol.send("//not a command").await;
    assert_eq!(
        alice.expect_command("PRIVMSG").await.param(1),
        Some("/not a command")
    );

    carol.send("/who").await;
    carol.expect_containing("In #chat (2): alice, carol.").await;
    carol.send("/help").await;
    carol.expect_containing("/nick NAME").await;
    carol.send("/bogus").await;
    carol.expect_containing("Unknown command /bogus").await;

    alice.send("NICK ally").await;
    carol
        .expect_containing("* alice is now known as ally")
        .await;
    carol.send("/nick caz").await;
    carol.expect_containing("* carol is now known as caz").await;
    alice
        .expect_containing(":carol!carol@127.0.0.1 NICK caz")
        .await;
    carol.send("/nick ally").await;
    carol.expect_containing("already called ally").await;

    alice.send("JOIN #elsewhere").await;
    alice.expect_command("366").await;
    alice.send("PRIVMSG #elsewhere :not for carol").await;
    alice.send("PART #chat :later").await;
    carol.expect_containing("* ally left (later)").await;

    carol.send("exit").await;
    assert_eq!(carol.expect_closed().await, ["Bye!"]);
    assert_human(&carol.seen);
    host.shutdown().await;
}

#[tokio::test]
async fn a_quit_plain_user_is_seen_leaving_by_irc_users() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut dave = RawClient::connect(addr, "dave").await;
    // A name typed before being asked is used when it is free and valid.
    dave.send("dave").await;
    let greeting = dave.next_line().await.unwrap();
    assert_eq!(greeting, "Welcome to #chat on tcp-chat!");
    dave.expect_containing("In #chat (2): alice, dave.").await;
    alice.expect_command("JOIN").await;
    dave.send("/quit going home").await;
    let quit = alice.expect_command("QUIT").await;
    assert_eq!(
        (quit.source_nick(), quit.param(0)),
        (Some("dave"), Some("Quit: going home"))
    );
    dave.expect_closed().await;
    host.shutdown().await;
}

#[tokio::test]
async fn taken_and_invalid_names_are_explained_and_asked_again() {
    let (host, addr) = start_host(test_config()).await;
    let _alice = RawClient::register(addr, "alice").await;
    let mut erin = RawClient::connect(addr, "erin").await;
    erin.send("hello there").await;
    erin.expect_containing("What's your name?").await;
    erin.send("ALICE").await;
    erin.expect_containing("already called ALICE. What's your name?")
        .await;
    erin.send("1erin").await;
    erin.expect_containing("starting with a letter. What's your name?")
        .await;
    erin.send("").await;
    erin.expect_containing("What's your name?").await;
    erin.send("erin").await;
    erin.expect_containing("In #chat (2): alice, erin.").await;
    assert_human(&erin.seen);
    host.shutdown().await;
}

#[tokio::test]
async fn plain_users_are_asked_for_the_password_first() {
    let config = ServerConfig {
        password: Some("sesame".into()),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let mut wrong = RawClient::connect(addr, "wrong").await;
    wrong.expect_containing("Password?").await;
    wrong.send("open up").await;
    assert_eq!(wrong.expect_closed().await, ["Wrong password. Bye!"]);

    let mut right = RawClient::connect(addr, "right").await;
    right.expect_containing("Password?").await;
    right.send("sesame").await;
    right.expect_containing("What's your name?").await;
    right.send("frank").await;
    right.expect_containing("In #chat (1): frank.").await;
    host.shutdown().await;
}

#[tokio::test]
async fn two_plain_users_talk_to_each_other() {
    let (host, addr) = start_host(test_config()).await;
    let mut gus = RawClient::connect(addr, "gus").await;
    gus.send("gus").await;
    gus.expect_containing("In #chat (1): gus.").await;
    let mut hal = RawClient::connect(addr, "hal").await;
    hal.send("hal").await;
    hal.expect_containing("In #chat (2): gus, hal.").await;
    gus.expect_containing("* hal joined").await;
    hal.send("hi gus, 你好").await;
    gus.expect_containing("<hal> hi gus, 你好").await;
    hal.send(&"z".repeat(3000)).await;
    hal.expect_containing("too long").await;
    hal.send("exit").await;
    gus.expect_containing("* hal left").await;
    assert_human(&gus.seen);
    host.shutdown().await;
}

#[tokio::test]
async fn a_plain_user_is_shown_the_last_lines_with_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        history: Some(tcp_chat::server::HistoryConfig {
            path: dir.path().join("history.sqlite3"),
            keep_per_room: 1000,
        }),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::register(addr, "alice").await;
    for n in 1..=24 {
        alice.send(&format!("PRIVMSG #chat :line {n}")).await;
    }
    alice.send("PRIVMSG #chat :\u{1}ACTION waves\u{1}").await;
    alice.sync("said").await;

    let mut carol = RawClient::connect(addr, "carol").await;
    carol.expect_containing("What's your name?").await;
    carol.send("carol").await;
    carol.expect_containing("Earlier in the room:").await;
    let mut earlier = Vec::new();
    for _ in 0..20 {
        earlier.push(carol.next_line().await.unwrap());
    }
    // "[HH:MM] <alice> line 6" … "[HH:MM] * alice waves": the last 20.
    for (line, n) in earlier.iter().zip(6..) {
        let (clock, said) = line.split_once("] ").unwrap();
        assert!(clock.starts_with('[') && clock.len() == 6, "{line}");
        if n <= 24 {
            assert_eq!(said, format!("<alice> line {n}"));
        } else {
            assert_eq!(said, "* alice waves");
        }
    }
    carol.expect_containing("* carol joined").await;
    assert_human(&carol.seen);
    host.shutdown().await;
}
