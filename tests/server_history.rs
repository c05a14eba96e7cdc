//! The host's IRCv3 side: capability negotiation, server-time, msgid,
//! echo-message, client-only tags, and `draft/chathistory` over a real
//! SQLite history — each from raw IRC clients on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;

use support::{start_host, test_config, RawClient};
use tcp_chat::protocol::{tags, time, Message};
use tcp_chat::server::{HistoryConfig, RunningHost, ServerConfig};

const ALL_CAPS: &str = "server-time message-tags echo-message batch draft/chathistory";

fn with_history(dir: &tempfile::TempDir, keep_per_room: usize) -> ServerConfig {
    ServerConfig {
        history: Some(HistoryConfig {
            path: dir.path().join("history.sqlite3"),
            keep_per_room,
        }),
        ..test_config()
    }
}

async fn history_host() -> (RunningHost, SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(with_history(&dir, 1000)).await;
    (host, addr, dir)
}

/// The next PRIVMSG (or TOPIC) a client gets, parsed.
async fn next_chat(client: &mut RawClient) -> Message {
    let line = client
        .expect("a chat line", |line| {
            Message::parse(line).is_ok_and(|m| matches!(m.command.as_str(), "PRIVMSG" | "TOPIC"))
        })
        .await;
    Message::parse(&line).unwrap()
}

fn tag(message: &Message, key: &str) -> Option<String> {
    message.tags.as_deref().and_then(|raw| tags::find(raw, key))
}

/// Everything a CHATHISTORY request answers: the lines inside its batch.
async fn chathistory(client: &mut RawClient, request: &str) -> Vec<Message> {
    client.send(&format!("CHATHISTORY {request}")).await;
    let start = client.expect_command("BATCH").await;
    let reference = start.params[0].strip_prefix('+').unwrap().to_owned();
    assert_eq!(start.params[1], "chathistory", "{start}");
    let mut lines = Vec::new();
    loop {
        let line = client.next_line().await.expect("the batch ends");
        let message = Message::parse(&line).unwrap();
        if message.command == "BATCH" {
            assert_eq!(message.params[0], format!("-{reference}"));
            return lines;
        }
        assert_eq!(tag(&message, "batch").as_deref(), Some(reference.as_str()));
        lines.push(message);
    }
}

fn texts(lines: &[Message]) -> Vec<&str> {
    lines.iter().map(|m| m.params[1].as_str()).collect()
}

#[tokio::test]
async fn capabilities_are_listed_and_taken_whole() {
    let (_host, addr, _dir) = history_host().await;
    let mut client = RawClient::connect(addr, "cap").await;
    client.send("CAP LS 302").await;
    let listed = client.expect_command("CAP").await;
    assert_eq!(listed.params[1], "LS");
    for cap in ALL_CAPS.split(' ') {
        assert!(listed.params[2].split(' ').any(|c| c == cap), "{listed}");
    }
    client.send("CAP REQ :server-time sasl").await;
    let refused = client.expect_command("CAP").await;
    assert_eq!(refused.params[1..], ["NAK", "server-time sasl"]);
    client.send("CAP REQ :server-time").await;
    assert_eq!(client.expect_command("CAP").await.params[1], "ACK");
    client.send("CAP LIST").await;
    assert_eq!(
        client.expect_command("CAP").await.params[1..],
        ["LIST", "server-time"]
    );
    client.send("NICK cap").await;
    client.send("USER cap 0 * :cap").await;
    client.send("CAP END").await;
    let isupport = client.expect_command("005").await;
    assert!(isupport.params.iter().any(|p| p == "CHATHISTORY=1000"));
    assert!(isupport
        .params
        .iter()
        .any(|p| p == "MSGREFTYPES=msgid,timestamp"));
}

#[tokio::test]
async fn a_host_without_history_offers_no_chathistory() {
    let (_host, addr) = start_host(test_config()).await;
    let mut client = RawClient::connect(addr, "nohist").await;
    client.send("CAP LS 302").await;
    let listed = client.expect_command("CAP").await;
    assert!(!listed.params[2].contains("chathistory"), "{listed}");
    client.send("CAP END").await;
    client.send("NICK nohist").await;
    client.send("USER nohist 0 * :x").await;
    client.expect_command("366").await;
    client.send("CHATHISTORY LATEST #chat * 10").await;
    assert_eq!(client.expect_command("421").await.params[1], "CHATHISTORY");
}

#[tokio::test]
async fn tagged_clients_get_time_msgid_echo_and_client_tags() {
    let (_host, addr, _dir) = history_host().await;
    let mut plain = RawClient::register(addr, "plain").await;
    let mut timed = RawClient::register_with_caps(addr, "timed", "server-time").await;
    let mut tagged = RawClient::register_with_caps(addr, "tagged", ALL_CAPS).await;
    let mut sender = RawClient::register_with_caps(addr, "sender", ALL_CAPS).await;

    let before = time::now_ms();
    sender
        .send("@+tcpchat.github.io/outbox=abc;+typing=done PRIVMSG #chat :tagged hello")
        .await;
    let echo = next_chat(&mut sender).await;
    let seen = next_chat(&mut tagged).await;
    let timed_seen = next_chat(&mut timed).await;
    let plain_seen = next_chat(&mut plain).await;

    // The same line for everyone; tags only for those who asked.
    for message in [&echo, &seen, &timed_seen, &plain_seen] {
        assert_eq!(
            message.prefix.as_deref().unwrap().split('!').next(),
            Some("sender")
        );
        assert_eq!(message.params, ["#chat", "tagged hello"]);
    }
    assert_eq!(plain_seen.tags, None);
    let msgid = tag(&seen, "msgid").expect("a msgid");
    assert_eq!(tag(&echo, "msgid").as_deref(), Some(msgid.as_str()));
    assert_eq!(
        tag(&echo, "+tcpchat.github.io/outbox").as_deref(),
        Some("abc")
    );
    assert_eq!(tag(&seen, "+typing").as_deref(), Some("done"));
    assert_eq!(
        tag(&timed_seen, "msgid"),
        None,
        "server-time alone carries no msgid"
    );
    assert_eq!(tag(&timed_seen, "+typing"), None);
    let at = time::parse_ms(&tag(&timed_seen, "time").unwrap()).unwrap();
    assert!(at >= before - 1000 && at <= time::now_ms() + 1000);

    // Without echo-message the sender hears nothing back; msgids grow.
    plain.send("PRIVMSG #chat :from plain").await;
    let next = next_chat(&mut tagged).await;
    let next_id: u64 = tag(&next, "msgid").unwrap().parse().unwrap();
    assert!(next_id > msgid.parse::<u64>().unwrap());
    assert!(plain
        .sync("no-echo")
        .await
        .iter()
        .all(|l| !l.contains("from plain")));
}

#[tokio::test]
async fn a_client_without_caps_sees_no_change() {
    let (_host, addr, _dir) = history_host().await;
    let mut old = RawClient::register(addr, "old").await;
    let mut other = RawClient::register(addr, "other").await;
    other.send("PRIVMSG #chat :hi old").await;
    let line = old.expect_containing("hi old").await;
    assert_eq!(line, ":other!other@127.0.0.1 PRIVMSG #chat :hi old");
    // Nothing is pushed at it when it joins another room either.
    old.send("JOIN #second").await;
    let joined = old.sync("joined").await;
    assert!(
        joined
            .iter()
            .all(|l| !l.starts_with('@') && !l.contains("BATCH")),
        "{joined:?}"
    );
}

#[tokio::test]
async fn chathistory_answers_every_subcommand() {
    let (_host, addr, _dir) = history_host().await;
    let mut talker = RawClient::register_with_caps(addr, "talker", ALL_CAPS).await;
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for n in 1..=10 {
        talker.send(&format!("PRIVMSG #chat :line {n}")).await;
        let echo = next_chat(&mut talker).await;
        ids.push(tag(&echo, "msgid").unwrap());
        times.push(tag(&echo, "time").unwrap());
    }
    talker.send("TOPIC #chat :the topic").await;
    let topic = next_chat(&mut talker).await;
    assert!(tag(&topic, "msgid").is_some());

    let mut reader = RawClient::register_with_caps(addr, "reader", ALL_CAPS).await;
    let latest = chathistory(&mut reader, "LATEST #chat * 3").await;
    assert_eq!(texts(&latest), ["line 9", "line 10", "the topic"]);
    assert_eq!(latest[2].command, "TOPIC");
    // Replayed lines carry the msgid and time the room saw live.
    assert_eq!(tag(&latest[0], "msgid").as_ref(), Some(&ids[8]));
    assert_eq!(tag(&latest[0], "time").as_ref(), Some(&times[8]));

    let since = chathistory(&mut reader, &format!("LATEST #chat msgid={} 100", ids[7])).await;
    assert_eq!(texts(&since), ["line 9", "line 10", "the topic"]);
    let before = chathistory(&mut reader, &format!("BEFORE #chat msgid={} 2", ids[4])).await;
    assert_eq!(texts(&before), ["line 3", "line 4"]);
    let after = chathistory(&mut reader, &format!("AFTER #CHAT msgid={} 2", ids[4])).await;
    assert_eq!(texts(&after), ["line 6", "line 7"]);
    let around = chathistory(&mut reader, &format!("AROUND #chat msgid={} 3", ids[4])).await;
    assert!(texts(&around).contains(&"line 5"), "{:?}", texts(&around));
    assert_eq!(around.len(), 3);
    let between = format!("BETWEEN #chat msgid={} msgid={} 100", ids[1], ids[5]);
    let between = chathistory(&mut reader, &between).await;
    assert_eq!(texts(&between), ["line 3", "line 4", "line 5"]);
    let first = chathistory(
        &mut reader,
        "AFTER #chat timestamp=2000-01-01T00:00:00.000Z 2",
    )
    .await;
    assert_eq!(texts(&first), ["line 1", "line 2"]);
    let last = chathistory(
        &mut reader,
        "BEFORE #chat timestamp=2100-01-01T00:00:00.000Z 1",
    )
    .await;
    assert_eq!(texts(&last), ["the topic"]);
    reader.send("JOIN #empty-room").await;
    let empty = chathistory(&mut reader, "LATEST #empty-room * 10").await;
    assert!(empty.is_empty());

    reader
        .send(
            "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00Z timestamp=2100-01-01T00:00:00Z 10",
        )
        .await;
    let start = reader.expect_command("BATCH").await;
    assert_eq!(start.params[1], "draft/chathistory-targets");
    let target = reader.expect_command("CHATHISTORY").await;
    assert_eq!(target.params[..2], ["TARGETS", "#chat"]);
    assert!(time::parse_ms(&target.params[2]).is_some());
    assert!(reader.expect_command("BATCH").await.params[0].starts_with('-'));
}

#[tokio::test]
async fn chathistory_errors_follow_the_spec() {
    let (_host, addr, _dir) = history_host().await;
    let mut client = RawClient::register_with_caps(addr, "asker", ALL_CAPS).await;
    let mut fail = async |request: &str| {
        client.send(&format!("CHATHISTORY {request}")).await;
        let fail = client.expect_command("FAIL").await;
        assert_eq!(fail.params[0], "CHATHISTORY");
        fail.params[1].clone()
    };
    assert_eq!(fail("").await, "NEED_MORE_PARAMS");
    assert_eq!(fail("LATEST #chat *").await, "NEED_MORE_PARAMS");
    assert_eq!(fail("SIDEWAYS #chat * 1").await, "INVALID_PARAMS");
    assert_eq!(fail("BEFORE #chat msgid=x 1").await, "INVALID_PARAMS");
    assert_eq!(fail("LATEST #chat * lots").await, "INVALID_PARAMS");
    assert_eq!(fail("LATEST #elsewhere * 10").await, "INVALID_TARGET");
}

#[tokio::test]
async fn history_outlives_the_host_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(with_history(&dir, 100)).await;
    let mut talker = RawClient::register_with_caps(addr, "talker", ALL_CAPS).await;
    let mut live = Vec::new();
    for n in 1..=8 {
        talker.send(&format!("PRIVMSG #chat :kept {n}")).await;
        let echo = next_chat(&mut talker).await;
        live.push((tag(&echo, "msgid").unwrap(), tag(&echo, "time").unwrap()));
    }
    drop(talker);
    host.shutdown().await;

    let (_host, addr) = start_host(with_history(&dir, 100)).await;
    let mut reader = RawClient::register_with_caps(addr, "reader", ALL_CAPS).await;
    let kept = chathistory(&mut reader, "LATEST #chat * 5").await;
    assert_eq!(
        texts(&kept),
        ["kept 4", "kept 5", "kept 6", "kept 7", "kept 8"]
    );
    for (message, (msgid, time)) in kept.iter().zip(&live[3..]) {
        assert_eq!(tag(message, "msgid").as_ref(), Some(msgid));
        assert_eq!(tag(message, "time").as_ref(), Some(time));
    }
    // New lines continue above the stored ids.
    reader.send("PRIVMSG #chat :after restart").await;
    let echo = next_chat(&mut reader).await;
    let new_id: u64 = tag(&echo, "msgid").unwrap().parse().unwrap();
    assert!(new_id > live[7].0.parse::<u64>().unwrap());
}
