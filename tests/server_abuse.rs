//! Holding up: clients that stop reading, vanish, send junk or idle; the
//! connection cap; timeouts; and a clean shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::{start_host, test_config, test_config_with, within, RawClient};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_others_keep_getting_messages() {
    let config = test_config_with(|limits| {
        limits.send_queue_bytes = 4096;
    });
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let mut idle = RawClient::connect_small_buffer(addr, "idle").await;
    idle.send("NICK idle").await;
    idle.send("USER idle 0 * :I").await;
    // From here on `idle` never reads. Bob reads each line before alice
    // sends the next, so only idle's queue can fill.
    let filler = "x".repeat(400);
    let mut sent = 0;
    let quit = loop {
        sent += 1;
        assert!(sent < 1_000_000, "idle was never dropped");
        alice.send(&format!("PRIVMSG #chat :{sent} {filler}")).await;
        let line = bob
            .expect("message or QUIT", |l| {
                l.contains(" PRIVMSG ") || l.contains(" QUIT ")
            })
            .await;
        if line.contains(" QUIT ") {
            break line;
        }
        assert!(
            line.contains(&format!(":{sent} x")),
            "bob missed message {sent}: {line}"
        );
    };
    assert!(quit.starts_with(":idle!"), "{quit}");
    assert!(quit.ends_with("Send queue full"), "{quit}");
    alice.send("PRIVMSG #chat :still here").await;
    bob.expect_containing("still here").await;
    host.shutdown().await;
}

/// Connects with a tiny receive buffer, sends `PASS x`, then floods PINGs
/// without ever reading or registering: the PONGs fill the host's socket
/// buffers and the client's queue, and its replies wait for room. Returns
/// once a write fails, i.e. once the host has closed the connection.
async fn flood_pings_without_reading(addr: std::net::SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let ping = format!("PING :{}\r\n", "x".repeat(500));
    let mut burst = b"PASS x\r\n".to_vec();
    burst.extend(ping.repeat(64).into_bytes());
    while stream.write_all(&burst).await.is_ok() {
        burst = ping.repeat(64).into_bytes();
    }
}

/// A client that stops reading while its own replies wait for room must
/// still be closed, and must not lock newcomers out.
async fn a_stuck_unregistered_client_is_closed(change: impl FnOnce(&mut tcp_chat::server::Limits)) {
    let config = test_config_with(|limits| {
        limits.send_queue_bytes = 4096;
        change(limits);
    });
    let (host, addr) = start_host(config).await;
    within(
        "the host closing the stuck connection",
        flood_pings_without_reading(addr),
    )
    .await;
    let mut newcomer = RawClient::register(addr, "newcomer").await;
    newcomer.sync("in").await;
    host.shutdown().await;
}

#[tokio::test]
async fn a_client_whose_writes_stall_is_dropped() {
    // Only the writer's stall timeout can close it within the test's time.
    a_stuck_unregistered_client_is_closed(|limits| {
        limits.ping_timeout = Duration::from_secs(1);
        limits.registration_timeout = Duration::from_secs(600);
    })
    .await;
}

#[tokio::test]
async fn a_stuck_client_still_times_out_registering() {
    // Only the registration deadline can close it within the test's time.
    a_stuck_unregistered_client_is_closed(|limits| {
        limits.ping_timeout = Duration::from_secs(600);
        limits.registration_timeout = Duration::from_secs(1);
    })
    .await;
}

#[tokio::test]
async fn a_client_vanishing_mid_line_sends_nothing_and_is_seen_leaving() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut ghost = RawClient::register(addr, "ghost").await;
    alice.expect_command("JOIN").await;
    ghost.send_raw(b"PRIVMSG #chat :half a line").await;
    drop(ghost);
    let quit = alice.expect_command("QUIT").await;
    assert_eq!(quit.source_nick(), Some("ghost"));
    assert!(!alice.seen.iter().any(|l| l.contains("half a line")));
    host.shutdown().await;
}

#[tokio::test]
async fn binary_junk_hurts_nobody() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    junk.extend_from_slice(b"\r\n\0\0\n\r\r\n");
    // As a registered IRC client…
    let mut bad = RawClient::register(addr, "bad").await;
    bad.send_raw(&junk).await;
    bad.sync("survived").await;
    // …and as the very first bytes of a connection.
    let mut raw = RawClient::connect(addr, "raw").await;
    raw.send_raw(&junk).await;
    drop(raw);
    alice.sync("alice-ok").await;
    let mut late = RawClient::register(addr, "late").await;
    late.send("PRIVMSG #chat :after the junk").await;
    alice.expect_containing("after the junk").await;
    host.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_turned_away() {
    let config = test_config_with(|limits| {
        limits.max_clients = 2;
    });
    let (host, addr) = start_host(config).await;
    let _alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let mut third = RawClient::connect(addr, "third").await;
    assert_eq!(third.expect_closed().await, ["ERROR :Server full"]);
    // A place freed is a place taken.
    bob.send("QUIT").await;
    bob.expect_closed().await;
    // The slot is given back just after bob's socket closes: retry until
    // the host lets a new client in (the overall timeout catches a leak).
    within("the freed place", async {
        loop {
            let mut next = RawClient::connect(addr, "next").await;
            next.send("NICK next").await;
            next.send("USER next 0 * :N").await;
            match next.next_line().await.as_deref() {
                Some("ERROR :Server full") => tokio::task::yield_now().await,
                Some(line) => break assert!(line.contains(" 001 next "), "{line}"),
                None => panic!("closed without a word"),
            }
        }
    })
    .await;
    host.shutdown().await;
}

#[tokio::test]
async fn shutdown_says_goodbye_to_every_client() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut carol = RawClient::connect(addr, "carol").await;
    carol.send("carol").await;
    carol.expect_containing("In #chat").await;
    let mut unregistered = RawClient::connect(addr, "unregistered").await;
    unregistered.send("NICK half").await;
    unregistered.sync("seen").await;
    within("end of the shutdown", host.shutdown()).await;
    // Everyone is closed, so nobody is told of the others leaving: with
    // thousands in a room, that would be millions of lines.
    let rest = alice.expect_closed().await;
    assert_eq!(
        rest.last().map(String::as_str),
        Some("ERROR :Closing link: host is closing the room"),
        "alice: {rest:?}"
    );
    assert!(
        !rest.iter().any(|l| l.contains(" QUIT ")),
        "alice: {rest:?}"
    );
    let rest = carol.expect_closed().await;
    assert_eq!(rest, ["The host is closing the room. Bye!"], "carol");
    unregistered
        .expect_closed_after("ERROR :Closing link: host is closing the room")
        .await;
    assert!(
        RawClient::try_connect(addr).await.is_err(),
        "still listening after shutdown"
    );
}

#[tokio::test]
async fn silent_clients_are_pinged_and_dropped_when_they_do_not_answer() {
    let config = test_config_with(|limits| {
        limits.ping_interval = Duration::from_millis(100);
        limits.ping_timeout = Duration::from_millis(100);
    });
    let (host, addr) = start_host(config).await;
    let mut awake = RawClient::register(addr, "awake").await;
    let mut asleep = RawClient::register(addr, "asleep").await;
    // Awake answers every PING until it sees asleep leave, then a few more.
    let mut pongs_after_quit = 0;
    let mut quit = None;
    while pongs_after_quit < 3 {
        let line = awake
            .expect("PING or QUIT", |l| {
                l.starts_with("PING") || l.contains(" QUIT ")
            })
            .await;
        let message = tcp_chat::protocol::Message::parse(&line).unwrap();
        if message.command == "QUIT" {
            quit = Some(message);
        } else {
            awake
                .send(&format!("PONG :{}", message.param(0).unwrap()))
                .await;
            pongs_after_quit += usize::from(quit.is_some());
        }
    }
    let quit = quit.unwrap();
    assert_eq!(
        (quit.source_nick(), quit.param(0)),
        (Some("asleep"), Some("Ping timeout"))
    );
    asleep.expect_command("PING").await;
    asleep
        .expect_closed_after("ERROR :Closing link: ping timeout")
        .await;
    host.shutdown().await;
}

#[tokio::test]
async fn clients_that_never_finish_registering_are_dropped() {
    let config = test_config_with(|limits| {
        limits.registration_timeout = Duration::from_millis(300);
    });
    let (host, addr) = start_host(config).await;
    let mut slow = RawClient::connect(addr, "slow").await;
    slow.send("NICK slow").await;
    slow.expect_closed_after("ERROR :Closing link: registration timed out")
        .await;
    host.shutdown().await;
}

#[tokio::test]
async fn with_flood_control_a_burst_arrives_whole_and_in_order() {
    let config = test_config_with(|limits| {
        limits.flood_control = true;
    });
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    for n in 0..13 {
        alice.send(&format!("PRIVMSG #chat :line {n}")).await;
    }
    for n in 0..13 {
        let said = bob.expect_command("PRIVMSG").await;
        assert_eq!(said.param(1), Some(format!("line {n}").as_str()));
    }
    host.shutdown().await;
}

#[tokio::test]
async fn a_line_break_or_nul_in_a_message_does_not_cut_it_short() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    for (sent, relayed) in [
        (&b"left\rright"[..], "left right"),
        (b"left\0right", "left right"),
    ] {
        let mut line = b"PRIVMSG #chat :".to_vec();
        line.extend_from_slice(sent);
        line.extend_from_slice(b"\r\n");
        alice.send_raw(&line).await;
        let got = bob.expect_command("PRIVMSG").await;
        assert_eq!(got.params, ["#chat", relayed], "{got}");
    }
    host.shutdown().await;
}

#[tokio::test]
async fn target_lists_of_commas_alone_are_answered() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    for (line, numeric) in [
        ("JOIN ,,,", "461"),
        ("PART ,,,", "461"),
        ("NAMES ,,,", "461"),
        ("PRIVMSG ,,, :x", "411"),
    ] {
        alice.send(line).await;
        let answers = alice.sync(line).await;
        assert!(
            answers.len() == 1 && answers[0].contains(&format!(" {numeric} alice ")),
            "{line}: {answers:?}"
        );
    }
    host.shutdown().await;
}

/// A plain-text user, named `name`, in the room.
async fn plain_user(addr: std::net::SocketAddr, name: &str) -> RawClient {
    let mut user = RawClient::connect(addr, name).await;
    user.expect_containing("What's your name?").await;
    user.send(name).await;
    user.expect_containing("Type /help").await;
    user
}

#[tokio::test]
async fn plain_users_can_tell_actions_from_the_host() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut bob = RawClient::register(addr, "bob").await;
    let mut carol = plain_user(addr, "carol").await;
    alice
        .send("PRIVMSG #chat :\u{1}ACTION left (Ping timeout)\u{1}")
        .await;
    let acted = carol.expect_containing("alice").await;
    bob.send("QUIT :Ping timeout").await;
    let left = carol.expect_containing("bob").await;
    assert_ne!(
        acted,
        left.replace("bob", "alice"),
        "an action reads like a real leave"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn plain_users_never_see_text_reordered() {
    let (host, addr) = start_host(test_config()).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut carol = plain_user(addr, "carol").await;
    alice
        .send("PRIVMSG #chat :abc\u{202E}def\u{2066}ghi\u{2069}\u{200F}!")
        .await;
    let said = carol.expect_containing("abc").await;
    assert_eq!(said, "<alice> abcdefghi!");
    host.shutdown().await;
}

/// The timer `/proc/net/tcp` shows for the host's end of `client`'s
/// connection (`tr`: 0 none, 1 retransmit, 2 keep-alive, …).
fn host_side_timer(host: std::net::SocketAddr, client: std::net::SocketAddr) -> u8 {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = |field: &str| u16::from_str_radix(field.rsplit(':').next().unwrap(), 16).unwrap();
    let row = table
        .lines()
        .skip(1)
        .map(|row| row.split_whitespace().collect::<Vec<_>>())
        .find(|f| port(f[1]) == host.port() && port(f[2]) == client.port())
        .expect("the host's socket in /proc/net/tcp");
    u8::from_str_radix(row[5].split(':').next().unwrap(), 16).unwrap()
}

#[tokio::test]
async fn registered_plain_users_are_kept_alive_by_tcp_keepalive() {
    let (host, addr) = start_host(test_config()).await;
    let mut carol = plain_user(addr, "carol").await;
    // An empty line (which the host ignores) carries the ACK of all the
    // host sent, so its retransmit timer (1) stops; loopback delivers it
    // before the write returns, but should the kernel defer that, look
    // again until the ACK is in.
    carol.send("").await;
    let timer = within("the host's retransmit timer to stop", async {
        loop {
            match host_side_timer(addr, carol.local_addr()) {
                1 => tokio::task::yield_now().await,
                timer => return timer,
            }
        }
    })
    .await;
    // The kernel's keep-alive timer runs on the host's end of the idle
    // connection (no PING is ever sent to a plain-text user).
    assert_eq!(timer, 2);
    host.shutdown().await;
}
