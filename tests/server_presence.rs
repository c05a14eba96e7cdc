//! Presence on the host: AWAY (305/306, 301, WHO flags), IRCv3
//! `away-notify`, and TAGMSG typing notifications — from raw IRC clients and
//! a plain-text user on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;

use support::{start_host, test_config, RawClient};
use tcp_chat::protocol::{tags, Message};
use tcp_chat::server::{HistoryConfig, ServerConfig};

fn parse(line: &str) -> Message {
    Message::parse(line).unwrap()
}

/// A plain-text (`nc`) user named `name`, in the room.
async fn plain_user(addr: SocketAddr, name: &str) -> RawClient {
    let mut user = RawClient::connect(addr, name).await;
    user.expect_containing("What's your name?").await;
    user.send(name).await;
    user.expect_containing("Type /help for commands.").await;
    user
}

/// Lines a plain-text user got before the answer to a `/who`: a barrier
/// like [`RawClient::sync`] for someone who cannot send PING.
async fn plain_sync(user: &mut RawClient) -> Vec<String> {
    user.send("/who").await;
    let mut before = Vec::new();
    loop {
        let line = user
            .next_line()
            .await
            .expect("the plain user is still here");
        if line.starts_with("In #chat (") {
            return before;
        }
        before.push(line);
    }
}

/// The commands of `lines`, for asserting what did not come.
fn commands(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| Message::parse(l).ok())
        .map(|m| m.command)
        .collect()
}

#[tokio::test]
async fn away_and_back_are_confirmed_shown_in_who_and_told_to_who_writes() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let isupport = bob
        .seen
        .iter()
        .map(|l| parse(l))
        .find(|m| m.command == "005");
    assert!(
        isupport.is_some_and(|m| m.params.iter().any(|p| p == "AWAYLEN=300")),
        "{:#?}",
        bob.seen
    );

    alice.send("AWAY :out for lunch").await;
    let now_away = alice.expect_command("306").await;
    assert_eq!(
        now_away.params,
        ["alice", "You have been marked as being away"]
    );

    bob.send("WHO #chat").await;
    let who = [
        bob.expect_command("352").await,
        bob.expect_command("352").await,
    ];
    let flags: Vec<(&str, &str)> = who
        .iter()
        .map(|m| (m.params[5].as_str(), m.params[6].as_str()))
        .collect();
    assert_eq!(flags, [("alice", "G"), ("bob", "H")]);
    bob.expect_command("315").await;
    bob.send("WHO alice").await;
    assert_eq!(bob.expect_command("352").await.params[6], "G");

    // Writing to someone away gets their reason back (a NOTICE never does).
    bob.send("PRIVMSG alice :are you there?").await;
    let away = bob.expect_command("301").await;
    assert_eq!(away.params, ["bob", "alice", "out for lunch"]);
    alice.expect_containing("are you there?").await;
    bob.send("NOTICE alice :fyi").await;
    bob.send("PRIVMSG #chat :to the room").await;
    assert!(!commands(&bob.sync("notice").await).contains(&"301".to_owned()));

    alice.send("AWAY").await;
    let back = alice.expect_command("305").await;
    assert_eq!(
        back.params,
        ["alice", "You are no longer marked as being away"]
    );
    bob.send("PRIVMSG alice :back?").await;
    assert!(!commands(&bob.sync("back").await).contains(&"301".to_owned()));
    bob.send("WHO alice").await;
    assert_eq!(bob.expect_command("352").await.params[6], "H");

    // An empty reason means back too; a long one is cut like a topic.
    alice.send("AWAY :").await;
    alice.expect_command("305").await;
    let long = "z".repeat(450);
    alice.send(&format!("AWAY :{long}")).await;
    alice.expect_command("306").await;
    bob.send("PRIVMSG alice :hello").await;
    assert_eq!(bob.expect_command("301").await.params[2], "z".repeat(300));
    host.shutdown().await;
}

#[tokio::test]
async fn hostile_away_and_tagmsg_lines_get_errors_not_crashes() {
    let (host, addr) = start_host(test_config()).await;
    let mut eve = RawClient::register_with_caps(addr, "eve", "message-tags").await;
    let mut bob = RawClient::register_with_caps(addr, "bob", "message-tags away-notify").await;
    // 100 KB of reason is an over-long line: 417, and nothing changes.
    eve.send(&format!("AWAY :{}", "x".repeat(100_000))).await;
    eve.expect_command("417").await;
    eve.send("TAGMSG").await;
    assert_eq!(eve.expect_command("461").await.params[1], "TAGMSG");
    eve.send("@+typing=active TAGMSG :").await;
    assert_eq!(eve.expect_command("461").await.params[1], "TAGMSG");
    eve.send("@+typing=active TAGMSG #nowhere").await;
    assert_eq!(eve.expect_command("403").await.params[1], "#nowhere");
    eve.send("@+typing=active TAGMSG nobody").await;
    assert_eq!(eve.expect_command("401").await.params[1], "nobody");
    eve.send("@+typing=active TAGMSG a,b,c,d,e").await;
    assert_eq!(eve.expect_command("407").await.params[1], "e");
    // Junk tags: nothing client-only, nothing relayed.
    for junk in [
        "@=;;+;;x TAGMSG #chat",
        "@ TAGMSG #chat",
        "@;;;= TAGMSG bob",
    ] {
        eve.send(junk).await;
    }
    eve.sync("junk").await;
    let got = bob.sync("junk").await;
    assert!(!commands(&got).contains(&"TAGMSG".to_owned()), "{got:#?}");
    assert!(!commands(&got).contains(&"AWAY".to_owned()), "{got:#?}");
    host.shutdown().await;
}

#[tokio::test]
async fn away_notify_reaches_only_those_who_took_it_and_follows_a_join() {
    let (host, addr) = start_host(test_config()).await;
    let mut watcher = RawClient::register_with_caps(addr, "watcher", "away-notify").await;
    let mut oldie = RawClient::register(addr, "oldie").await;
    let mut pat = plain_user(addr, "pat").await;
    let mut alice = RawClient::register(addr, "alice").await;

    alice.send("AWAY :brb").await;
    alice.expect_command("306").await;
    let away = watcher.expect_command("AWAY").await;
    assert_eq!(away.prefix.as_deref(), Some("alice!alice@127.0.0.1"));
    assert_eq!(away.params, ["brb"]);
    // Saying it again tells nobody anything new.
    alice.send("AWAY :brb").await;
    alice.expect_command("306").await;
    alice.sync("again").await;
    assert!(!commands(&watcher.sync("again").await).contains(&"AWAY".to_owned()));

    // The room learns an away user's state right after its JOIN.
    watcher.send("JOIN #side").await;
    watcher.expect_command("366").await;
    alice.send("JOIN #side").await;
    alice.expect_command("366").await;
    let join = watcher.expect_command("JOIN").await;
    assert_eq!(join.params, ["#side"]);
    let next = parse(&watcher.next_line().await.unwrap());
    assert_eq!(
        (next.command.as_str(), next.params.clone()),
        ("AWAY", vec!["brb".to_owned()])
    );

    alice.send("AWAY").await;
    alice.expect_command("305").await;
    let back = watcher.expect_command("AWAY").await;
    assert_eq!(back.source_nick(), Some("alice"));
    assert!(back.params.is_empty(), "{back}");
    // Only once, though alice and watcher share two channels.
    assert!(!commands(&watcher.sync("once").await).contains(&"AWAY".to_owned()));

    let seen_by_oldie = oldie.sync("oldie").await;
    assert!(
        !commands(&seen_by_oldie).contains(&"AWAY".to_owned()),
        "{seen_by_oldie:#?}"
    );
    let seen_by_pat = plain_sync(&mut pat).await;
    assert!(
        seen_by_pat
            .iter()
            .all(|l| !l.contains("AWAY") && !l.contains("brb")),
        "{seen_by_pat:#?}"
    );

    // A plain-text user's /away: IRC users see it like anyone's.
    pat.send("/away making tea").await;
    pat.expect_containing("You are marked as away.").await;
    let away = watcher.expect_command("AWAY").await;
    assert_eq!(
        (away.source_nick(), away.params.clone()),
        (Some("pat"), vec!["making tea".to_owned()])
    );
    pat.send("/who").await;
    pat.expect_containing("pat (away)").await;
    pat.send("/away").await;
    pat.expect_containing("You are back.").await;
    assert!(watcher.expect_command("AWAY").await.params.is_empty());
    host.shutdown().await;
}

#[tokio::test]
async fn typing_goes_only_to_message_tags_clients_and_never_into_history() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        history: Some(HistoryConfig {
            path: dir.path().join("history.sqlite3"),
            keep_per_room: 100,
        }),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let mut typist =
        RawClient::register_with_caps(addr, "typist", "message-tags echo-message").await;
    let mut reader =
        RawClient::register_with_caps(addr, "reader", "message-tags batch draft/chathistory").await;
    let mut oldie = RawClient::register(addr, "oldie").await;
    let mut pat = plain_user(addr, "pat").await;

    typist
        .send("@+typing=active;msgid=forged;+x=1 TAGMSG #chat")
        .await;
    let typing = reader.expect_command("TAGMSG").await;
    assert_eq!(typing.prefix.as_deref(), Some("typist!typist@127.0.0.1"));
    assert_eq!(typing.params, ["#chat"]);
    let raw = typing.tags.as_deref().unwrap();
    assert_eq!(tags::find(raw, "+typing").as_deref(), Some("active"));
    assert_eq!(tags::find(raw, "+x").as_deref(), Some("1"));
    assert_eq!(tags::find(raw, "msgid"), None, "{raw}");
    // echo-message echoes TAGMSG too.
    let echo = typist.expect_command("TAGMSG").await;
    assert_eq!(echo.source_nick(), Some("typist"));

    typist.send("@+typing=paused TAGMSG READER").await;
    let private = reader.expect_command("TAGMSG").await;
    assert_eq!(private.params, ["READER"]);
    assert_eq!(
        tags::find(private.tags.as_deref().unwrap(), "+typing").as_deref(),
        Some("paused")
    );
    // To someone without message-tags: nothing arrives, and no error.
    typist.send("@+typing=active TAGMSG oldie").await;
    typist.send("@+typing=done TAGMSG pat").await;
    typist.send("PRIVMSG #chat :said at last").await;
    let typist_saw = typist.sync("typist").await;
    assert!(
        commands(&typist_saw).iter().all(|c| !c.starts_with('4')),
        "{typist_saw:#?}"
    );

    let oldie_saw = oldie.sync("oldie").await;
    assert!(
        !commands(&oldie_saw).contains(&"TAGMSG".to_owned()),
        "{oldie_saw:#?}"
    );
    assert!(
        oldie_saw.iter().any(|l| l.ends_with("said at last")),
        "{oldie_saw:#?}"
    );
    let pat_saw = plain_sync(&mut pat).await;
    assert_eq!(pat_saw, ["<typist> said at last"]);

    // The history holds the chat line and nothing typed.
    reader.expect_containing("said at last").await;
    reader.send("CHATHISTORY LATEST #chat * 10").await;
    let mut batch = Vec::new();
    reader.expect_command("BATCH").await;
    loop {
        let line = parse(&reader.next_line().await.unwrap());
        if line.command == "BATCH" {
            break;
        }
        batch.push(line);
    }
    let replayed: Vec<(&str, &str)> = batch
        .iter()
        .map(|m| (m.command.as_str(), m.params[1].as_str()))
        .collect();
    assert_eq!(replayed, [("PRIVMSG", "said at last")]);
    host.shutdown().await;
}
