//! One body of IRC conformance checks with the server as its parameter:
//! run against our host and against ngircd, so our answers are checked
//! against a real server's.

use std::net::SocketAddr;

use tcp_chat::protocol::Message;

use super::daemons::Daemon;
use super::RawClient;

/// The server under test and what differs between servers by design.
pub struct Server {
    pub addr: SocketAddr,
    /// The name it uses in prefixes, 312, 351 and 391.
    pub name: String,
}

impl Server {
    /// A test daemon (ngircd, InspIRCd): its configs name it `irc.test`.
    pub fn daemon(daemon: &Daemon) -> Server {
        Server {
            addr: daemon.address().parse().expect("a daemon's address"),
            name: "irc.test".to_owned(),
        }
    }
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

/// Registers `nick` having asked for the IRCv3 `caps` (all granted).
pub async fn register_with_caps(addr: SocketAddr, nick: &str, caps: &str) -> RawClient {
    let mut client = RawClient::connect(addr, nick).await;
    client.send("CAP LS 302").await;
    client.send(&format!("NICK {nick}")).await;
    client.send(&format!("USER {nick} 0 * :Real {nick}")).await;
    client.expect_command("CAP").await;
    client.send(&format!("CAP REQ :{caps}")).await;
    let ack = client.expect_command("CAP").await;
    assert_eq!(ack.params[1], "ACK", "{ack}");
    client.send("CAP END").await;
    client.expect_command("001").await;
    client.sync("registered").await;
    client
}

/// The nicks of one channel's NAMES reply as written (prefixes kept), sorted.
pub async fn names(client: &mut RawClient, channel: &str) -> Vec<String> {
    client.send(&format!("NAMES {channel}")).await;
    let replies = replies_until(client, "366").await;
    let mut entries: Vec<String> = replies
        .iter()
        .filter(|m| m.command == "353")
        .flat_map(|m| m.params[3].split_whitespace().map(str::to_owned))
        .collect();
    entries.sort_unstable();
    entries
}

/// Expects `numeric` as the next reply of its kind, with these parameters
/// after the client's nick.
async fn expect_numeric(client: &mut RawClient, numeric: &str, params: &[&str]) -> Message {
    let reply = client.expect_command(numeric).await;
    assert_eq!(reply.params[1..1 + params.len()], *params, "{reply}");
    reply
}

/// Channel operators as RFC 2811/2812 describe them: the first to join a
/// channel is its operator and the channel is `+nt`; MODE +o/+v/+t/+m/+k/
/// +l/+i/+b and their errors, KICK, INVITE, NAMES and WHO prefixes, WHOWAS.
pub async fn channel_operators_work_like_the_specs(server: &Server) {
    let (addr, channel) = (server.addr, "#ops");
    let mut alice = register(addr, "alice").await;
    let mut bob = register(addr, "bob").await;
    let mut carol = register(addr, "carol").await;
    alice.send(&format!("JOIN {channel}")).await;
    alice.expect_command("366").await;
    assert_eq!(names(&mut alice, channel).await, ["@alice"]);
    // (Ours and InspIRCd make new channels +nt; ngircd 26 makes them +.)
    alice.send(&format!("MODE {channel} +nt")).await;
    alice.send(&format!("MODE {channel}")).await;
    let modes = alice.expect_command("324").await;
    assert_eq!(modes.params[1], channel);
    for flag in ['n', 't'] {
        assert!(modes.params[2].contains(flag), "{modes}");
    }
    let created = alice.expect_command("329").await;
    assert!(created.params[2].parse::<u64>().is_ok(), "{created}");
    bob.send(&format!("JOIN {channel}")).await;
    bob.expect_command("366").await;
    alice.expect_command("JOIN").await;

    // Only operators change modes, the locked topic, or kick.
    bob.send(&format!("TOPIC {channel} :mine")).await;
    expect_numeric(&mut bob, "482", &[channel]).await;
    bob.send(&format!("MODE {channel} +m")).await;
    expect_numeric(&mut bob, "482", &[channel]).await;
    bob.send(&format!("KICK {channel} alice")).await;
    expect_numeric(&mut bob, "482", &[channel]).await;

    // +o and -o, told to every member as the operator's MODE line.
    alice.send(&format!("MODE {channel} +o bob")).await;
    for client in [&mut alice, &mut bob] {
        let mode = client.expect_command("MODE").await;
        assert!(mode
            .prefix
            .as_deref()
            .is_some_and(|p| p.starts_with("alice!")));
        assert_eq!(mode.params, [channel, "+o", "bob"]);
    }
    assert_eq!(names(&mut carol, channel).await, ["@alice", "@bob"]);
    alice.send(&format!("MODE {channel} -o bob")).await;
    assert_eq!(
        bob.expect_command("MODE").await.params,
        [channel, "-o", "bob"]
    );
    alice.send(&format!("MODE {channel} +v bob")).await;
    assert_eq!(
        bob.expect_command("MODE").await.params,
        [channel, "+v", "bob"]
    );
    alice.send(&format!("WHO {channel}")).await;
    let who = replies_until(&mut alice, "315").await;
    let flags: Vec<(&str, &str)> = who
        .iter()
        .filter(|m| m.command == "352")
        .map(|m| (m.params[5].as_str(), m.params[6].as_str()))
        .collect();
    assert!(flags.contains(&("alice", "H@")), "{who:#?}");
    assert!(flags.contains(&("bob", "H+")), "{who:#?}");

    // +m: only operators and voiced members speak.
    alice.send(&format!("MODE {channel} +m")).await;
    bob.expect_command("MODE").await;
    bob.send(&format!("PRIVMSG {channel} :voiced")).await;
    assert_eq!(alice.expect_command("PRIVMSG").await.params[1], "voiced");
    alice.send(&format!("MODE {channel} -v bob")).await;
    bob.expect_command("MODE").await;
    bob.send(&format!("PRIVMSG {channel} :quiet")).await;
    expect_numeric(&mut bob, "404", &[channel]).await;
    alice.send(&format!("MODE {channel} -m")).await;
    bob.expect_command("MODE").await;
    // +n: outsiders cannot send.
    carol
        .send(&format!("PRIVMSG {channel} :from outside"))
        .await;
    expect_numeric(&mut carol, "404", &[channel]).await;

    // Errors about the member acted on (InspIRCd is silent about MODE +o
    // for a non-member or nobody: `server_ops` checks ours answer 441/401).
    alice.send(&format!("KICK {channel} carol")).await;
    expect_numeric(&mut alice, "441", &["carol", channel]).await;
    carol.send(&format!("KICK {channel} bob")).await;
    expect_numeric(&mut carol, "442", &[channel]).await;
    alice.send(&format!("MODE {channel} +Z")).await;
    expect_numeric(&mut alice, "472", &["Z"]).await;

    // +k: the key is needed, and members see it.
    alice.send(&format!("MODE {channel} +k sesame")).await;
    let keyed = bob.expect_command("MODE").await;
    assert_eq!(keyed.params, [channel, "+k", "sesame"]);
    carol.send(&format!("JOIN {channel}")).await;
    expect_numeric(&mut carol, "475", &[channel]).await;
    carol.send(&format!("JOIN {channel} wrong")).await;
    expect_numeric(&mut carol, "475", &[channel]).await;
    alice.send(&format!("MODE {channel}")).await;
    let modes = alice.expect_command("324").await;
    assert!(modes.params[2].contains('k'), "{modes}");
    assert_eq!(modes.params.last().map(String::as_str), Some("sesame"));
    carol.send(&format!("JOIN {channel} sesame")).await;
    carol.expect_command("366").await;
    carol.send(&format!("PART {channel}")).await;
    carol.expect_command("PART").await;
    alice.send(&format!("MODE {channel} -k sesame")).await;
    bob.expect_command("MODE").await;

    // +l: full is full.
    alice.send(&format!("MODE {channel} +l 2")).await;
    assert_eq!(
        bob.expect_command("MODE").await.params,
        [channel, "+l", "2"]
    );
    carol.send(&format!("JOIN {channel}")).await;
    expect_numeric(&mut carol, "471", &[channel]).await;
    alice.send(&format!("MODE {channel} -l")).await;
    bob.expect_command("MODE").await;

    // +i: only the invited come in, once each invitation.
    alice.send(&format!("MODE {channel} +i")).await;
    bob.expect_command("MODE").await;
    carol.send(&format!("JOIN {channel}")).await;
    expect_numeric(&mut carol, "473", &[channel]).await;
    bob.send(&format!("INVITE carol {channel}")).await;
    expect_numeric(&mut bob, "482", &[channel]).await;
    carol.send(&format!("INVITE bob {channel}")).await;
    expect_numeric(&mut carol, "442", &[channel]).await;
    alice.send(&format!("INVITE bob {channel}")).await;
    expect_numeric(&mut alice, "443", &["bob", channel]).await;
    alice.send(&format!("INVITE nobody {channel}")).await;
    expect_numeric(&mut alice, "401", &["nobody"]).await;
    alice.send(&format!("INVITE carol {channel}")).await;
    expect_numeric(&mut alice, "341", &["carol", channel]).await;
    let invited = carol.expect_command("INVITE").await;
    assert!(invited
        .prefix
        .as_deref()
        .is_some_and(|p| p.starts_with("alice!")));
    assert_eq!(invited.params, ["carol", channel]);
    carol.send(&format!("JOIN {channel}")).await;
    carol.expect_command("366").await;
    alice.send(&format!("MODE {channel} -i")).await;
    bob.expect_command("MODE").await;

    // KICK, with a reason and without (the kicker's nick then).
    alice.send(&format!("KICK {channel} carol :Behave")).await;
    for client in [&mut alice, &mut bob, &mut carol] {
        let kick = client.expect_command("KICK").await;
        assert!(kick
            .prefix
            .as_deref()
            .is_some_and(|p| p.starts_with("alice!")));
        assert_eq!(kick.params, [channel, "carol", "Behave"]);
    }
    carol.send(&format!("PRIVMSG {channel} :still here?")).await;
    expect_numeric(&mut carol, "404", &[channel]).await;

    // +b: listed, and keeps the banned out.
    alice.send(&format!("MODE {channel} +b carol!*@*")).await;
    assert_eq!(
        bob.expect_command("MODE").await.params,
        [channel, "+b", "carol!*@*"]
    );
    alice.send(&format!("MODE {channel} +b")).await;
    let bans = replies_until(&mut alice, "368").await;
    let listed: Vec<&str> = bans
        .iter()
        .filter(|m| m.command == "367")
        .map(|m| m.params[2].as_str())
        .collect();
    assert_eq!(listed, ["carol!*@*"], "{bans:#?}");
    carol.send(&format!("JOIN {channel}")).await;
    expect_numeric(&mut carol, "474", &[channel]).await;
    alice.send(&format!("MODE {channel} -b carol!*@*")).await;
    bob.expect_command("MODE").await;
    carol.send(&format!("JOIN {channel}")).await;
    carol.expect_command("366").await;
    alice.send(&format!("KICK {channel} carol")).await;
    let kick = carol.expect_command("KICK").await;
    assert_eq!(kick.params, [channel, "carol", "alice"]);

    // WHOWAS remembers who left.
    carol.send("QUIT :bye").await;
    carol.expect_closed().await;
    alice.sync("carol-gone").await;
    alice.send("WHOWAS carol").await;
    let whowas = replies_until(&mut alice, "369").await;
    let user = one(&whowas, "314");
    assert_eq!(user.params[1], "carol");
    assert_eq!(user_name(&user.params[2]), "carol");
    assert_eq!(user.params[3..], ["127.0.0.1", "*", "Real carol"], "{user}");
    alice.send("WHOWAS nobody").await;
    let unknown = replies_until(&mut alice, "369").await;
    assert_eq!(one(&unknown, "406").params[1], "nobody");
}

/// `multi-prefix`: NAMES and WHO show every prefix a member has.
pub async fn multi_prefix_shows_every_prefix(server: &Server) {
    let channel = "#prefixes";
    let mut alice = register_with_caps(server.addr, "alice", "multi-prefix").await;
    let mut plain = register(server.addr, "plain").await;
    alice.send(&format!("JOIN {channel}")).await;
    alice.expect_command("366").await;
    alice.send(&format!("MODE {channel} +v alice")).await;
    alice.expect_command("MODE").await;
    assert_eq!(names(&mut alice, channel).await, ["@+alice"]);
    assert_eq!(names(&mut plain, channel).await, ["@alice"]);
    alice.send(&format!("WHO {channel}")).await;
    assert_eq!(alice.expect_command("352").await.params[6], "H@+");
}
