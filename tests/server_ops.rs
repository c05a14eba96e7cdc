//! The host's channel operators where only our host is checked: the
//! hosted room run by the host's own person (its owner key), the replies
//! InspIRCd or ngircd give differently (see `support::conformance` for the
//! checks all three pass), bounded lists, and plain-text users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::conformance::{names, replies_until};
use support::{start_host, test_config, RawClient};
use tcp_chat::server::ServerConfig;

/// Registers `nick` with `pass` first; returns once in the room.
async fn register_with_pass(addr: std::net::SocketAddr, nick: &str, pass: &str) -> RawClient {
    let mut client = RawClient::connect(addr, nick).await;
    client.send(&format!("PASS {pass}")).await;
    client.send(&format!("NICK {nick}")).await;
    client.send(&format!("USER {nick} 0 * :{nick}")).await;
    client.expect_command("366").await;
    client
}

#[tokio::test]
async fn the_host_person_runs_the_hosted_room_and_a_guest_first_in_it_does_not() {
    let config = ServerConfig {
        password: Some("letmein".to_owned()),
        ..test_config()
    };
    let (host, addr) = start_host(config).await;
    let key = host.owner_key().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    // A guest in the empty room first is not its operator…
    let mut guest = register_with_pass(addr, "guest", "letmein").await;
    assert_eq!(names(&mut guest, "#chat").await, ["guest"]);
    guest.send("MODE #chat +t").await;
    assert_eq!(guest.expect_command("482").await.params[1], "#chat");
    // …and the room is -t: anyone in it sets the topic, as before operators.
    guest.send("MODE #chat").await;
    assert_eq!(guest.expect_command("324").await.params[2], "+n");
    guest.send("TOPIC #chat :guests may").await;
    guest.expect_command("TOPIC").await;

    // The host's own session gives the owner key (it stands for the
    // password too) and is made operator, which the guest is told.
    let mut owner = register_with_pass(addr, "hoster", &key).await;
    let op = guest.expect_command("MODE").await;
    assert_eq!(op.prefix.as_deref(), Some("tcp-chat"));
    assert_eq!(op.params, ["#chat", "+o", "hoster"]);
    assert_eq!(names(&mut owner, "#chat").await, ["@hoster", "guest"]);
    owner.send("MODE #chat +t").await;
    guest.expect_command("MODE").await;
    guest.send("TOPIC #chat :not any more").await;
    guest.expect_command("482").await;

    // The key is one connection's PASS, not a password anyone can try
    // twice: a guest guessing it is just a wrong password.
    let mut mallory = RawClient::connect(addr, "mallory").await;
    mallory.send("PASS 0123456789abcdef0123456789abcdef").await;
    mallory.send("NICK mallory").await;
    mallory.send("USER mallory 0 * :m").await;
    mallory.expect_command("464").await;

    // Back after a lost connection, the host's person is operator again,
    // even in a room made invite-only by an operator it made.
    owner.send("MODE #chat +oi guest").await;
    guest.expect_command("MODE").await;
    owner.send("QUIT").await;
    owner.expect_closed().await;
    let mut owner = register_with_pass(addr, "hoster", &key).await;
    assert_eq!(names(&mut owner, "#chat").await, ["@guest", "@hoster"]);
    host.shutdown().await;
}

/// An operator the host made cannot kick or deop the host's own person
/// in the hosted room: its window leaving would close the room for all.
/// Found by hand: a WeeChat operator's KICK of the host ended the room.
#[tokio::test]
async fn the_host_person_cannot_be_kicked_or_deopped_by_another_operator() {
    let (host, addr) = start_host(test_config()).await;
    let key = host.owner_key().unwrap().to_owned();
    let mut owner = register_with_pass(addr, "hoster", &key).await;
    let mut guest = RawClient::register(addr, "guest").await;
    owner.send("MODE #chat +o guest").await;
    guest.expect_command("MODE").await;

    guest.send("KICK #chat hoster :bye").await;
    let refused = guest.expect_command("482").await;
    assert_eq!(refused.params[1], "#chat");
    guest.send("MODE #chat -o+m hoster").await;
    // The rest of the line is made (announced first): only the host's
    // status is kept.
    assert_eq!(guest.expect_command("MODE").await.params, ["#chat", "+m"]);
    assert_eq!(guest.expect_command("482").await.params[1], "#chat");
    assert_eq!(names(&mut guest, "#chat").await, ["@guest", "@hoster"]);

    // The host's person may still step down itself, and in any other
    // channel it is a member like everyone else.
    owner.send("JOIN #side").await;
    owner.expect_command("366").await;
    guest.send("JOIN #side").await;
    guest.expect_command("366").await;
    owner.send("MODE #side +o guest").await;
    guest.expect_command("MODE").await;
    guest.send("KICK #side hoster :your turn").await;
    let kick = owner.expect_command("KICK").await;
    assert_eq!(kick.params, ["#side", "hoster", "your turn"]);
    owner.send("MODE #chat -o hoster").await;
    let deop = guest.expect_command("MODE").await;
    assert_eq!(deop.params, ["#chat", "-o", "hoster"]);
    host.shutdown().await;
}

#[tokio::test]
async fn other_channels_start_nt_with_their_first_member_as_operator() {
    let (host, addr) = start_host(test_config()).await;
    let mut ann = RawClient::register(addr, "ann").await;
    let mut bob = RawClient::register(addr, "bob").await;
    ann.send("JOIN #new").await;
    ann.expect_command("366").await;
    bob.send("JOIN #new").await;
    bob.expect_command("366").await;
    bob.send("MODE #new").await;
    let modes = bob.expect_command("324").await;
    assert_eq!(modes.params[1..], ["#new", "+nt"]);
    bob.expect_command("329").await;
    assert_eq!(names(&mut bob, "#new").await, ["@ann", "bob"]);
    // The key and limit are shown to members only.
    ann.send("MODE #new +kl sesame 5").await;
    let set = bob.expect_command("MODE").await;
    assert_eq!(set.params, ["#new", "+kl", "sesame", "5"]);
    let mut carol = RawClient::register(addr, "carol").await;
    carol.send("MODE #new").await;
    assert_eq!(
        carol.expect_command("324").await.params[1..],
        ["#new", "+ntkl", "*"]
    );
    bob.send("MODE #new").await;
    assert_eq!(
        bob.expect_command("324").await.params[1..],
        ["#new", "+ntkl", "sesame", "5"]
    );
    // Ops leave with the operator; an emptied channel is forgotten, so the
    // next to make it runs it.
    ann.send("PART #new").await;
    bob.expect_command("PART").await;
    assert_eq!(names(&mut bob, "#new").await, ["bob"]);
    bob.send("PART #new").await;
    bob.expect_command("PART").await;
    carol.send("JOIN #new").await;
    carol.expect_command("366").await;
    assert_eq!(names(&mut carol, "#new").await, ["@carol"]);
    host.shutdown().await;
}

/// What InspIRCd leaves unanswered, and what only our host bounds.
#[tokio::test]
async fn mode_errors_are_answered_and_lists_are_bounded() {
    let (host, addr) = start_host(test_config()).await;
    let mut ann = RawClient::register(addr, "ann").await;
    let mut bob = RawClient::register(addr, "bob").await;
    ann.send("JOIN #ops").await;
    ann.expect_command("366").await;
    ann.send("MODE #ops +o bob").await;
    assert_eq!(
        ann.expect_command("441").await.params[1..3],
        ["bob", "#ops"]
    );
    // A banned member stays but is quiet, unless voiced.
    bob.send("JOIN #ops").await;
    bob.expect_command("366").await;
    ann.send("MODE #ops +b *!*@127.0.0.1").await;
    bob.expect_command("MODE").await;
    bob.send("PRIVMSG #ops :hello?").await;
    assert_eq!(bob.expect_command("404").await.params[1], "#ops");
    ann.send("MODE #ops +v bob").await;
    bob.expect_command("MODE").await;
    bob.send("PRIVMSG #ops :voiced").await;
    assert_eq!(ann.expect_command("PRIVMSG").await.params[1], "voiced");
    ann.send("MODE #ops -b *!*@127.0.0.1").await;
    bob.expect_command("MODE").await;
    bob.send("PART #ops").await;
    bob.expect_command("PART").await;
    ann.send("MODE #ops +v nobody").await;
    assert_eq!(ann.expect_command("401").await.params[1], "nobody");
    ann.send("MODE #ops +k").await;
    assert_eq!(ann.expect_command("461").await.params[1], "MODE");
    ann.send("MODE #nowhere +m").await;
    assert_eq!(ann.expect_command("403").await.params[1], "#nowhere");
    ann.send("KICK #ops").await;
    assert_eq!(ann.expect_command("461").await.params[1], "KICK");
    ann.send("INVITE bob").await;
    assert_eq!(ann.expect_command("461").await.params[1], "INVITE");
    // Four changes a line (MODES=4): the fifth is not made.
    ann.send("MODE #ops +imkl key 3 +b x!*@*").await;
    let made = ann.expect_command("MODE").await;
    assert_eq!(made.params, ["#ops", "+imkl", "key", "3"]);
    // The ban list holds 100 masks; then 478.
    for first in (0..100).step_by(4) {
        let masks: Vec<String> = (first..first + 4).map(|i| format!("n{i}")).collect();
        ann.send(&format!("MODE #ops +bbbb {}", masks.join(" ")))
            .await;
        ann.expect_command("MODE").await;
    }
    ann.send("MODE #ops +b onemore").await;
    let full = ann.expect_command("478").await;
    assert_eq!(full.params[1..3], ["#ops", "onemore!*@*"]);
    ann.send("MODE #ops b").await;
    let bans = replies_until(&mut ann, "368").await;
    assert_eq!(bans.iter().filter(|m| m.command == "367").count(), 100);
    host.shutdown().await;
}

#[tokio::test]
async fn kicks_of_several_and_whowas_after_a_rename() {
    let (host, addr) = start_host(test_config()).await;
    let mut ann = RawClient::register(addr, "ann").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let mut cy = RawClient::register(addr, "cy").await;
    for client in [&mut ann, &mut bob, &mut cy] {
        client.send("JOIN #k").await;
        client.expect_command("366").await;
    }
    ann.send("KICK #k bob,cy,nobody :out").await;
    let kicks: Vec<_> = replies_until(&mut ann, "401").await;
    let kicked: Vec<&str> = kicks
        .iter()
        .filter(|m| m.command == "KICK")
        .map(|m| m.params[1].as_str())
        .collect();
    assert_eq!(kicked, ["bob", "cy"]);
    assert_eq!(names(&mut ann, "#k").await, ["@ann"]);
    bob.send("NICK robert").await;
    bob.expect_command("NICK").await;
    ann.send("WHOWAS bob").await;
    let whowas = replies_until(&mut ann, "369").await;
    let user = whowas.iter().find(|m| m.command == "314").unwrap();
    assert_eq!(user.params[1..4], ["bob", "bob", "127.0.0.1"]);
    // WHOIS shows the prefix in 319.
    ann.send("WHOIS ann").await;
    let whois = replies_until(&mut ann, "318").await;
    let channels = whois.iter().find(|m| m.command == "319").unwrap();
    let mut listed: Vec<&str> = channels.params[2].split(' ').collect();
    listed.sort_unstable();
    assert_eq!(listed, ["#chat", "@#k"]);
    host.shutdown().await;
}

#[tokio::test]
async fn plain_text_users_read_kicks_and_mode_changes_as_sentences() {
    let (host, addr) = start_host(test_config()).await;
    let key = host.owner_key().unwrap().to_owned();
    let mut owner = register_with_pass(addr, "hoster", &key).await;
    let mut carol = RawClient::connect(addr, "carol").await;
    carol.expect_containing("What's your name?").await;
    carol.send("carol").await;
    carol.expect_containing("Type /help").await;
    let mut dave = RawClient::connect(addr, "dave").await;
    dave.expect_containing("What's your name?").await;
    dave.send("dave").await;
    dave.expect_containing("Type /help").await;
    owner.send("MODE #chat +m").await;
    carol
        .expect_containing("*** hoster changed the room's modes: +m")
        .await;
    carol.send("anyone?").await;
    carol
        .expect_containing("You cannot talk in the room now.")
        .await;
    owner.send("MODE #chat -m+b dave").await;
    carol
        .expect_containing("*** hoster changed the room's modes: -m+b dave!*@*")
        .await;
    owner.send("KICK #chat dave :Too loud").await;
    carol
        .expect_containing("*** hoster removed dave from the room (Too loud)")
        .await;
    dave.expect_containing("*** hoster removed dave from the room (Too loud)")
        .await;
    dave.send("let me back").await;
    dave.expect_containing("You cannot talk in the room now.")
        .await;
    // A banned plain-text user is told so and let go.
    dave.send("/quit").await;
    dave.expect_closed().await;
    let mut again = RawClient::connect(addr, "dave").await;
    again.expect_containing("What's your name?").await;
    again.send("dave").await;
    again
        .expect_containing("You are banned from this room. Bye!")
        .await;
    again.expect_closed().await;
    host.shutdown().await;
}

/// NAMES of `channel` as `client` reads it: the entries of its 353s in
/// order, after checking that each 353 fits in 512 bytes with its CRLF.
async fn names_in_order(client: &mut RawClient, channel: &str) -> Vec<String> {
    client.send(&format!("NAMES {channel}")).await;
    names_until_366(client).await
}

/// The entries of the 353s up to the next 366, each line checked to fit.
async fn names_until_366(client: &mut RawClient) -> Vec<String> {
    let lines = name_lines_until_366(client).await;
    lines
        .iter()
        .flat_map(|line| line.split(' ').map(str::to_owned))
        .collect()
}

/// The names of each 353 up to the next 366, each line checked to fit.
async fn name_lines_until_366(client: &mut RawClient) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = client.next_line().await.expect("NAMES before the close");
        let mut message = tcp_chat::protocol::Message::parse(&line).unwrap();
        match message.command.as_str() {
            "353" => {
                assert!(line.len() + 2 <= 512, "{} bytes: {line}", line.len() + 2);
                lines.push(message.params.swap_remove(3));
            }
            "366" => return lines,
            _ => {}
        }
    }
}

/// Joins `channel` and returns the NAMES the join is answered with.
async fn join_names(client: &mut RawClient, channel: &str) -> Vec<String> {
    client.send(&format!("JOIN {channel}")).await;
    names_until_366(client).await
}

#[tokio::test]
async fn names_tell_the_truth_after_each_join_rank_rename_and_departure() {
    let (host, addr) = start_host(test_config()).await;
    // ann reads every prefix (multi-prefix), cy the highest only.
    let mut ann = RawClient::register_with_caps(addr, "ann", "multi-prefix").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let mut cy = RawClient::register(addr, "cy").await;
    let mut dee = RawClient::register(addr, "dee").await;
    assert_eq!(join_names(&mut ann, "#n").await, ["@ann"]);
    assert_eq!(join_names(&mut bob, "#n").await, ["@ann", "bob"]);
    assert_eq!(join_names(&mut cy, "#n").await, ["@ann", "bob", "cy"]);
    assert_eq!(names_in_order(&mut ann, "#n").await, ["@ann", "bob", "cy"]);

    // Each change is relayed under the same lock that makes it: once the
    // line is in, NAMES must show it.
    let both = |highest: &[&str], all: &[&str]| {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        (owned(highest), owned(all))
    };
    for (mode, highest, all) in [
        ("+v bob", ["@ann", "+bob", "cy"], ["@ann", "+bob", "cy"]),
        ("+o bob", ["@ann", "@bob", "cy"], ["@ann", "@+bob", "cy"]),
        ("-o bob", ["@ann", "+bob", "cy"], ["@ann", "+bob", "cy"]),
    ] {
        ann.send(&format!("MODE #n {mode}")).await;
        cy.expect_command("MODE").await;
        ann.expect_command("MODE").await;
        let shown = (
            names_in_order(&mut cy, "#n").await,
            names_in_order(&mut ann, "#n").await,
        );
        assert_eq!(shown, both(&highest, &all), "after {mode}");
    }

    cy.send("NICK cyrus").await;
    ann.expect_command("NICK").await;
    let renamed = ["@ann", "+bob", "cyrus"];
    assert_eq!(names_in_order(&mut ann, "#n").await, renamed);
    assert_eq!(names_in_order(&mut cy, "#n").await, renamed);
    assert_eq!(
        join_names(&mut dee, "#n").await,
        ["@ann", "+bob", "cyrus", "dee"]
    );

    bob.send("PART #n :later").await;
    ann.expect_command("PART").await;
    assert_eq!(
        names_in_order(&mut ann, "#n").await,
        ["@ann", "cyrus", "dee"]
    );
    ann.send("KICK #n dee :out").await;
    ann.expect_command("KICK").await;
    assert_eq!(names_in_order(&mut cy, "#n").await, ["@ann", "cyrus"]);
    cy.send("QUIT :gone").await;
    ann.expect_command("QUIT").await;
    assert_eq!(names_in_order(&mut ann, "#n").await, ["@ann"]);
    // Back in after being kicked: at the end, as anyone joining.
    assert_eq!(join_names(&mut dee, "#n").await, ["@ann", "dee"]);
    assert_eq!(names_in_order(&mut ann, "#n").await, ["@ann", "dee"]);
    host.shutdown().await;
}

#[tokio::test]
async fn a_crowded_channels_names_come_in_several_lines_that_fit() {
    let (host, addr) = start_host(test_config()).await;
    // The longest channel name and nicks there are: the most per entry
    // and the least room per line.
    let channel = format!("#{}", "c".repeat(49));
    let nicks: Vec<String> = (0..60)
        .map(|n| format!("n{n:02}{}", "x".repeat(27)))
        .collect();
    let mut clients = Vec::new();
    for nick in &nicks {
        let mut client = RawClient::register(addr, nick).await;
        let shown = join_names(&mut client, &channel).await;
        assert_eq!(shown.len(), clients.len() + 1, "{shown:?}");
        clients.push(client);
    }
    let mut op = nicks.clone();
    op[0] = format!("@{}", nicks[0]);
    for client in &mut clients[..2] {
        assert_eq!(names_in_order(client, &channel).await, op);
    }
    let mut newcomer = RawClient::register_with_caps(addr, "newcomer", "multi-prefix").await;
    op.push("newcomer".to_owned());
    assert_eq!(join_names(&mut newcomer, &channel).await, op);
    newcomer.send(&format!("NAMES {channel}")).await;
    let lines = name_lines_until_366(&mut newcomer).await;
    assert!(lines.len() >= 3, "{lines:?}");
    // The room lists everyone too, each once.
    let mut in_room = nicks.clone();
    in_room.push("newcomer".to_owned());
    assert_eq!(names_in_order(&mut newcomer, "#chat").await, in_room);
    host.shutdown().await;
}
