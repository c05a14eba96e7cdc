//! A password-protected room against guessing: one guess per connection,
//! wrong guesses answered late, an address banned after a few, and
//! nothing about who is in the room told before the password is right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use support::{start_host, test_config_with, RawClient};
use tcp_chat::server::{Limits, ServerConfig};

const OTHER_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A room with the password `sesame` and these limits.
fn protected(change: impl FnOnce(&mut Limits)) -> ServerConfig {
    ServerConfig {
        password: Some("sesame".into()),
        ..test_config_with(change)
    }
}

/// Registers with the right password from `source`.
async fn register_with_password(
    addr: std::net::SocketAddr,
    source: IpAddr,
    nick: &str,
) -> RawClient {
    let mut client = RawClient::connect_from(addr, source, nick).await;
    client.send("PASS sesame").await;
    client.send(&format!("NICK {nick}")).await;
    client.send(&format!("USER {nick} 0 * :{nick}")).await;
    client.expect_command("366").await;
    client
}

#[tokio::test]
async fn a_wrong_password_is_answered_after_a_right_one_given_later() {
    // Much longer than a registration takes; the test never waits on it
    // except for the wrong guess's own answer.
    let (host, addr) = start_host(protected(|l| l.password_delay = Duration::from_secs(3))).await;
    let mut wrong = RawClient::connect(addr, "wrong").await;
    wrong.send("PASS guess").await;
    wrong.send("NICK wrong").await;
    wrong.send("USER wrong 0 * :W").await;
    // The right password, sent after the wrong one, gets in and talks…
    let mut right = register_with_password(addr, OTHER_ADDRESS, "right").await;
    right.send("PRIVMSG #chat :in").await;
    right.sync("talked").await;
    // …while the wrong guess has not been answered yet.
    assert!(
        !wrong.has_unread_input().await,
        "the wrong guess was answered at once: {:?}",
        wrong.next_line().await
    );
    let answer = wrong.expect_command("464").await;
    assert_eq!(answer.param(1), Some("Password incorrect"));
    wrong.expect_command("ERROR").await;
    assert!(wrong.expect_closed().await.is_empty());
    host.shutdown().await;
}

#[tokio::test]
async fn each_connection_has_one_guess() {
    let (host, addr) = start_host(protected(|l| l.password_delay = Duration::ZERO)).await;
    // IRC: the first PASS counts, a second one is not a second guess.
    let mut irc = RawClient::connect(addr, "irc").await;
    irc.send("PASS guess").await;
    irc.send("PASS sesame").await;
    irc.send("NICK irc").await;
    irc.send("USER irc 0 * :I").await;
    let rest = irc.expect_closed().await;
    assert!(rest.iter().any(|l| l.contains(" 464 ")), "{rest:?}");
    assert!(!rest.iter().any(|l| l.contains(" 001 ")), "{rest:?}");
    // nc: a line typed before the question is the guess.
    let mut nc = RawClient::connect(addr, "nc").await;
    nc.send("guess").await;
    nc.expect_containing("Password?").await;
    nc.send("sesame").await;
    assert_eq!(nc.expect_closed().await, ["Wrong password. Bye!"]);
    host.shutdown().await;
}

#[tokio::test]
async fn an_address_with_too_many_wrong_passwords_is_banned_and_others_are_not() {
    let (host, addr) = start_host(protected(|l| {
        l.password_delay = Duration::ZERO;
        l.password_failures = 2;
    }))
    .await;
    let mut alice = register_with_password(addr, OTHER_ADDRESS, "alice").await;
    // 127.0.0.1: one wrong guess over IRC, one in plain text.
    let mut irc = RawClient::connect(addr, "irc").await;
    irc.send("PASS guess1").await;
    irc.expect_command("464").await;
    irc.expect_closed().await;
    let mut nc = RawClient::connect(addr, "nc").await;
    nc.expect_containing("Password?").await;
    nc.send("guess2").await;
    assert_eq!(nc.expect_closed().await, ["Wrong password. Bye!"]);
    // Now even the right password from 127.0.0.1 is refused…
    let mut banned = RawClient::connect(addr, "banned").await;
    banned.send("PASS sesame").await;
    banned.send("NICK banned").await;
    banned.send("USER banned 0 * :B").await;
    let told = banned.expect_command("465").await;
    assert!(told.param(1).unwrap().contains("Too many wrong passwords"));
    let rest = banned.expect_closed().await;
    assert!(!rest.iter().any(|l| l.contains(" 001 ")), "{rest:?}");
    // …and an nc user there is told so before being asked.
    let mut nc = RawClient::connect(addr, "nc banned").await;
    let told = nc.expect_closed().await;
    assert_eq!(
        told,
        ["Too many wrong passwords from your address. Try again later. Bye!"]
    );
    // 127.0.0.2 is not banned: bob gets in, and alice saw none of it.
    let mut bob = register_with_password(addr, OTHER_ADDRESS, "bob").await;
    bob.send("PRIVMSG #chat :hi").await;
    let seen = alice.sync("after").await;
    assert!(
        seen.iter().all(|l| l.contains("bob")),
        "alice saw more than bob: {seen:?}"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn nick_before_pass_tells_nothing_about_who_is_in_the_room() {
    let (host, addr) = start_host(protected(|l| l.password_delay = Duration::ZERO)).await;
    let _alice = register_with_password(addr, OTHER_ADDRESS, "alice").await;
    let mut probe = RawClient::connect(addr, "probe").await;
    probe.send("NICK alice").await;
    let before_password = probe.sync("probe").await;
    assert!(
        before_password.is_empty(),
        "a NICK before PASS was answered: {before_password:?}"
    );
    // With the password right, the taken nick is answered, and another
    // one registers.
    probe.send("PASS sesame").await;
    probe.send("USER probe 0 * :P").await;
    let taken = probe.expect_command("433").await;
    assert_eq!(taken.param(1), Some("alice"));
    probe.send("NICK probe").await;
    probe.expect_command("001").await;
    // A wrong password with a taken nick: only the 464.
    let mut wrong = RawClient::connect(addr, "wrong").await;
    wrong.send("NICK alice").await;
    wrong.send("PASS guess").await;
    wrong.send("USER wrong 0 * :W").await;
    let rest = wrong.expect_closed().await;
    assert!(rest.iter().any(|l| l.contains(" 464 ")), "{rest:?}");
    assert!(!rest.iter().any(|l| l.contains(" 433 ")), "{rest:?}");
    host.shutdown().await;
}
