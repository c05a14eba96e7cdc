//! One body of IRC conformance checks with the server as its parameter:
//! run against our host and against ngircd, so our answers are checked
//! against a real server's.

use std::net::SocketAddr;

use tcp_chat::protocol::Message;

use super::RawClient;

/// The server under test and what differs between servers by design.
pub struct Server {
    pub addr: SocketAddr,
    /// The name it uses in prefixes, 312, 351 and 391.
    pub name: String,
}

/// Registers `nick` on any server (ours joins its room, others do not)
/// and reads everything up to a PONG, so the welcome is behind us.
pub async fn register(addr: SocketAddr, nick: &str) -> RawClient {
    let mut client = RawClient::connect(addr, nick).await;
    client.send(&format!("NICK {nick}")).await;
    client.send(&format!("USER {nick} 0 * :Real {nick}")).await;
    client.expect_command("001").await;
    client.sync("registered").await;
    client
}

/// Every message up to and including the first with command `last`.
pub async fn replies_until(client: &mut RawClient, last: &str) -> Vec<Message> {
    let mut replies = Vec::new();
    loop {
        let message = client
            .expect("a message", |l| Message::parse(l).is_ok())
            .await;
        let message = Message::parse(&message).unwrap();
        let done = message.command == last;
        replies.push(message);
        if done {
            return replies;
        }
    }
}

/// The one reply with this numeric among `replies`.
fn one<'a>(replies: &'a [Message], numeric: &str) -> &'a Message {
    let found: Vec<&Message> = replies.iter().filter(|m| m.command == numeric).collect();
    assert_eq!(found.len(), 1, "one {numeric} in {replies:#?}");
    found[0]
}

/// A user name as both servers write it: ngircd marks one no ident
/// server confirmed with `~`.
fn user_name(user: &str) -> &str {
    user.trim_start_matches('~')
}

/// WHOIS, LIST, ISON, USERHOST, PART with a reason and JOIN 0, TIME,
/// VERSION, INFO, LUSERS and an unknown command, as the specs describe them.
pub async fn queries_answer_like_the_specs(server: &Server) {
    let mut alice = register(server.addr, "alice").await;
    let mut bob = register(server.addr, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.send("JOIN #conformance").await;
        client.expect_command("366").await;
    }
    alice.send("TOPIC #conformance :Specs say so").await;
    bob.expect_command("TOPIC").await;
    bob.send("AWAY :lunch").await;
    bob.expect_command("306").await;

    alice.send("WHOIS bob").await;
    let whois = replies_until(&mut alice, "318").await;
    let user = one(&whois, "311");
    assert_eq!(user.params[..2], ["alice", "bob"], "{user}");
    assert_eq!(user_name(&user.params[2]), "bob", "{user}");
    assert_eq!(user.params[3..], ["127.0.0.1", "*", "Real bob"], "{user}");
    let channels = one(&whois, "319");
    assert!(
        channels.params[2]
            .split(' ')
            .any(|c| c.trim_start_matches(['@', '+']) == "#conformance"),
        "{channels}"
    );
    assert_eq!(one(&whois, "312").params[2], server.name);
    assert_eq!(one(&whois, "301").params, ["alice", "bob", "lunch"]);
    let idle = one(&whois, "317");
    assert!(idle.params[2].parse::<u64>().is_ok(), "{idle}");
    assert!(idle.params[3].parse::<u64>().is_ok(), "{idle}");
    assert_eq!(one(&whois, "318").params[1], "bob");
    alice.send("WHOIS nobody").await;
    let unknown = replies_until(&mut alice, "318").await;
    assert_eq!(one(&unknown, "401").params[1], "nobody");

    alice.send("LIST #conformance").await;
    let list = replies_until(&mut alice, "323").await;
    assert_eq!(
        one(&list, "322").params,
        ["alice", "#conformance", "2", "Specs say so"]
    );

    alice.send("ISON bob nobody alice").await;
    let ison = alice.expect_command("303").await;
    let mut here: Vec<&str> = ison.params[1].split_whitespace().collect();
    here.sort_unstable();
    assert_eq!(here, ["alice", "bob"], "{ison}");

    alice.send("USERHOST bob alice nobody").await;
    let userhost = alice.expect_command("302").await;
    let mut answers: Vec<String> = userhost.params[1]
        .split_whitespace()
        .map(|a| a.replace("=+~", "=+").replace("=-~", "=-"))
        .collect();
    answers.sort_unstable();
    // bob is away: `-`.
    assert_eq!(
        answers,
        ["alice=+alice@127.0.0.1", "bob=-bob@127.0.0.1"],
        "{userhost}"
    );

    bob.send("PART #conformance :see you").await;
    let part = alice.expect_command("PART").await;
    assert_eq!(part.params, ["#conformance", "see you"]);
    assert!(part.prefix.is_some_and(|p| p.starts_with("bob!")));
    bob.send("JOIN #second").await;
    bob.expect_command("366").await;
    bob.send("JOIN 0").await;
    let before = bob.sync("parted").await;
    let parted: Vec<Message> = before
        .iter()
        .filter_map(|l| Message::parse(l).ok())
        .filter(|m| m.command == "PART")
        .collect();
    // (ngircd gives a reason of its own.)
    assert!(
        parted.iter().any(|m| m.params[0] == "#second"),
        "{before:#?}"
    );
    bob.send("WHOIS bob").await;
    let alone = replies_until(&mut bob, "318").await;
    assert!(!alone.iter().any(|m| m.command == "319"), "{alone:#?}");

    alice.send("TIME").await;
    assert_eq!(alice.expect_command("391").await.params[1], server.name);
    alice.send("VERSION").await;
    assert_eq!(alice.expect_command("351").await.params[2], server.name);
    alice.send("INFO").await;
    let info = replies_until(&mut alice, "374").await;
    assert!(info.iter().any(|m| m.command == "371"), "{info:#?}");
    alice.send("LUSERS").await;
    let lusers = replies_until(&mut alice, "266").await;
    for numeric in ["251", "254", "255", "265"] {
        one(&lusers, numeric);
    }
    alice.send("FROBNICATE now").await;
    let unknown = alice.expect_command("421").await;
    assert_eq!(unknown.params[1], "FROBNICATE");
}
