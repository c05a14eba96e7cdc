//! The host against the specs (RFC 1459/2812, modern.ircdocs.horse): its
//! name, MOTD, registration, and the queries ngircd answers the same way
//! (`interop_ngircd` runs the same body against ngircd).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::conformance::{
    channel_operators_work_like_the_specs, multi_prefix_shows_every_prefix,
    queries_answer_like_the_specs, register, replies_until, Server,
};
use support::{start_host, test_config, RawClient};
use tcp_chat::server::ServerConfig;

/// Our host with the test settings, as the shared bodies take a server.
async fn our_host() -> (tcp_chat::server::RunningHost, Server) {
    let config = test_config();
    let name = config.server_name.clone();
    let (host, addr) = start_host(config).await;
    (host, Server { addr, name })
}

#[tokio::test]
async fn queries_answer_like_the_specs_on_our_host() {
    let (host, server) = our_host().await;
    queries_answer_like_the_specs(&server).await;
    host.shutdown().await;
}

#[tokio::test]
async fn channel_operators_work_like_the_specs_on_our_host() {
    let (host, server) = our_host().await;
    channel_operators_work_like_the_specs(&server).await;
    host.shutdown().await;
}

#[tokio::test]
async fn multi_prefix_shows_every_prefix_on_our_host() {
    let (host, server) = our_host().await;
    multi_prefix_shows_every_prefix(&server).await;
    host.shutdown().await;
}

#[tokio::test]
async fn the_configured_name_is_in_every_prefix_004_pong_and_who() {
    let config = ServerConfig {
        server_name: "irc.example.test".to_owned(),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::connect(addr, "alice").await;
    alice.send("NICK alice").await;
    alice.send("USER alice 0 * :Alice").await;
    let welcome = replies_until(&mut alice, "366").await;
    for reply in welcome.iter().filter(|m| m.command.len() == 3) {
        assert_eq!(reply.prefix.as_deref(), Some("irc.example.test"), "{reply}");
    }
    let myinfo = welcome.iter().find(|m| m.command == "004").unwrap();
    assert_eq!(myinfo.params[1], "irc.example.test");
    alice.send("PING :token").await;
    let pong = alice.expect_command("PONG").await;
    assert_eq!(pong.prefix.as_deref(), Some("irc.example.test"));
    assert_eq!(pong.params, ["irc.example.test", "token"]);
    alice.send("WHO #chat").await;
    let who = alice.expect_command("352").await;
    assert_eq!(who.params[4], "irc.example.test");
    alice.send("TIME elsewhere.test").await;
    assert_eq!(
        alice.expect_command("402").await.params[1],
        "elsewhere.test"
    );
    alice.send("TIME irc.example.test").await;
    alice.expect_command("391").await;
    host.shutdown().await;
}

#[tokio::test]
async fn the_motd_is_sent_on_arrival_and_asked_for() {
    let config = ServerConfig {
        motd: vec!["Welcome to the lab".to_owned(), "Be kind".to_owned()],
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::connect(addr, "alice").await;
    alice.send("NICK alice").await;
    alice.send("USER alice 0 * :Alice").await;
    for _ in 0..2 {
        let motd = replies_until(&mut alice, "376").await;
        assert!(motd.iter().any(|m| m.command == "375"), "{motd:#?}");
        let lines: Vec<&str> = motd
            .iter()
            .filter(|m| m.command == "372")
            .map(|m| m.params[1].as_str())
            .collect();
        assert_eq!(lines, ["- Welcome to the lab", "- Be kind"]);
        assert!(!motd.iter().any(|m| m.command == "422"), "{motd:#?}");
        alice.send("MOTD").await;
    }
    host.shutdown().await;
    // Without one, 422 (at registration and when asked).
    let (host, addr) = start_host(test_config()).await;
    let mut bob = register(addr, "bob").await;
    bob.send("MOTD").await;
    bob.expect_command("422").await;
    host.shutdown().await;
}

#[tokio::test]
async fn user_with_too_few_parameters_does_not_register() {
    let (host, addr) = start_host(test_config()).await;
    let mut client = RawClient::connect(addr, "short").await;
    client.send("NICK short").await;
    client.send("USER short 0 *").await;
    let reply = client.expect_command("461").await;
    assert_eq!(reply.params, ["short", "USER", "Not enough parameters"]);
    let before = client.sync("still-waiting").await;
    assert!(
        !before.iter().any(|l| l.contains(" 001 ")),
        "registered: {before:?}"
    );
    // An empty real name is a real name.
    client.send("USER short 0 * :").await;
    client.expect_command("001").await;
    client.send("WHOIS short").await;
    let whois = replies_until(&mut client, "318").await;
    let user = whois.iter().find(|m| m.command == "311").unwrap();
    assert_eq!(user.params[5], "");
    host.shutdown().await;
}

#[tokio::test]
async fn failed_nick_changes_leave_the_nick_as_it_was() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    alice.send("NICK BOB").await;
    alice.expect_command("433").await;
    alice.send("NICK 9lives").await;
    alice.expect_command("432").await;
    alice.send("NICK").await;
    alice.expect_command("431").await;
    alice.send("PRIVMSG bob :still alice?").await;
    let said = bob.expect_command("PRIVMSG").await;
    assert_eq!(said.prefix.as_deref(), Some("alice!alice@127.0.0.1"));
    // A change of case only is a change, not a clash with oneself.
    alice.send("NICK Alice").await;
    let renamed = bob.expect_command("NICK").await;
    assert_eq!(renamed.params, ["Alice"]);
    host.shutdown().await;
}

#[tokio::test]
async fn casemapping_is_the_folding_the_host_uses() {
    let (host, addr) = start_host(test_config()).await;
    let mut first = RawClient::connect(addr, "first").await;
    first.send("NICK nick[a]").await;
    first.send("USER a 0 * :A").await;
    let isupport = first.expect_command("005").await;
    assert!(isupport.params.iter().any(|p| p == "CASEMAPPING=ascii"));
    first.expect_command("366").await;
    // Under ascii, `[` and `{` differ (under rfc1459 they would be one).
    let mut second = RawClient::connect(addr, "second").await;
    second.send("NICK nick{a}").await;
    second.send("USER b 0 * :B").await;
    second.expect_command("001").await;
    // And letters fold.
    let mut third = RawClient::connect(addr, "third").await;
    third.send("NICK NICK[A]").await;
    third.expect_command("433").await;
    host.shutdown().await;
}

#[tokio::test]
async fn lusers_count_users_channels_and_unregistered_connections() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = register(addr, "alice").await;
    let _bob = register(addr, "bob").await;
    let mut waiting = RawClient::connect(addr, "waiting").await;
    waiting.send("NICK waiting").await;
    waiting.sync("connected").await;
    alice.send("LUSERS").await;
    let lusers = replies_until(&mut alice, "266").await;
    let find = |numeric: &str| lusers.iter().find(|m| m.command == numeric).unwrap();
    assert_eq!(find("253").params[1], "1");
    assert_eq!(find("254").params[1], "1");
    assert_eq!(find("265").params[1..3], ["2", "2"]);
    assert_eq!(find("266").params[1..3], ["2", "2"]);
    assert!(!lusers.iter().any(|m| m.command == "252"), "{lusers:#?}");
    host.shutdown().await;
}

#[tokio::test]
async fn list_shows_every_channel_with_its_members_and_topic() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    alice.send("TOPIC #chat :Lunch at noon").await;
    alice.expect_command("TOPIC").await;
    alice.send("JOIN #quiet").await;
    alice.expect_command("366").await;
    alice.send("LIST").await;
    let list = replies_until(&mut alice, "323").await;
    let rows: Vec<&[String]> = list
        .iter()
        .filter(|m| m.command == "322")
        .map(|m| &m.params[1..])
        .collect();
    assert_eq!(
        rows,
        [
            ["#chat", "1", "Lunch at noon"].map(String::from),
            ["#quiet", "1", ""].map(String::from)
        ]
    );
    host.shutdown().await;
}
