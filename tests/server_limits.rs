//! One machine must not take the room: connections per address (another
//! address still gets in), reconnections throttled, flood control from the
//! first line, clients that stop reading beside flooders while a newcomer
//! registers, QUIT reasons of young connections, and newcomers past the
//! open-file limit told so instead of left waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{start_host, test_config_with, within, RawClient};
use tokio::net::TcpSocket;

/// A connection from `from` (any 127/8 address: Linux loopback takes them all).
async fn connect_from(from: &str, addr: SocketAddr, name: &str) -> RawClient {
    let socket = TcpSocket::new_v4().unwrap();
    let from: IpAddr = from.parse().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let stream = within("connection", socket.connect(addr)).await.unwrap();
    RawClient::from_stream(stream, name)
}

async fn register(mut client: RawClient, nick: &str) -> RawClient {
    client.send(&format!("NICK {nick}")).await;
    client.send(&format!("USER {nick} 0 * :{nick}")).await;
    client.expect_command("366").await;
    client
}

#[tokio::test]
async fn one_address_cannot_take_every_place_and_another_still_gets_in() {
    let config = test_config_with(|limits| {
        limits.max_clients = 4;
        limits.max_per_address = 3;
    });
    let (host, addr) = start_host(config).await;
    let mut first = Vec::new();
    for n in 0..3 {
        let client = connect_from("127.0.0.1", addr, &format!("one{n}")).await;
        first.push(register(client, &format!("one{n}")).await);
    }
    let mut fourth = connect_from("127.0.0.1", addr, "one3").await;
    assert_eq!(
        fourth.expect_closed().await,
        ["ERROR :Too many connections from your address (at most 3)"]
    );
    // The last place is still there for someone else.
    let other = connect_from("127.0.0.2", addr, "two").await;
    let mut other = register(other, "two").await;
    other.sync("in").await;
    // A place given back is a place the first address may take again.
    drop(first.pop());
    first[0].expect_command("QUIT").await;
    let again = connect_from("127.0.0.1", addr, "one3").await;
    register(again, "one3").await;
    host.shutdown().await;
}

#[tokio::test]
async fn reconnecting_over_and_over_is_refused_but_not_another_address() {
    let config = test_config_with(|limits| {
        limits.flood_control = true;
        limits.connect_burst = 3;
        // Nothing refills while the test runs.
        limits.connect_every = Duration::from_secs(3600);
    });
    let (host, addr) = start_host(config).await;
    let mut watcher = register(connect_from("127.0.0.2", addr, "w").await, "watcher").await;
    for n in 0..3 {
        let nick = format!("again{n}");
        let mut client = register(connect_from("127.0.0.1", addr, &nick).await, &nick).await;
        client.send("QUIT :buy now").await;
        client.expect_closed().await;
        watcher.expect_command("QUIT").await;
    }
    let mut refused = connect_from("127.0.0.1", addr, "again3").await;
    let said = refused.expect_closed().await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("ERROR :Connecting too often from your address: try again in "),
        "{said:?}"
    );
    register(connect_from("127.0.0.3", addr, "x").await, "other").await;
    watcher.sync("still").await;
    host.shutdown().await;
}

#[tokio::test]
async fn flood_control_counts_lines_sent_before_registering() {
    let config = test_config_with(|limits| {
        limits.flood_control = true;
        limits.registration_timeout = Duration::from_secs(3);
    });
    let (host, addr) = start_host(config).await;
    // Forty lines take the bucket (10 at once, then 2 a second) about
    // fifteen seconds: the registration deadline comes first. Without flood
    // control before registering, all of it is read at once and it registers.
    let mut flood = RawClient::connect(addr, "flood").await;
    let mut burst = "NICK flood\r\n".to_owned();
    burst.push_str(&"PING :x\r\n".repeat(40));
    burst.push_str("USER flood 0 * :f\r\n");
    flood.send_raw(burst.as_bytes()).await;
    let said = flood.expect_closed().await;
    assert_eq!(
        said.last().map(String::as_str),
        Some("ERROR :Closing link: registration timed out"),
        "{said:?}"
    );
    assert!(!said.iter().any(|l| l.contains(" 001 ")), "{said:?}");
    host.shutdown().await;
}

#[tokio::test]
async fn a_young_connection_quits_without_its_reason_reaching_anyone() {
    let config = test_config_with(|limits| {
        limits.quit_reason_after = Duration::from_secs(3600);
    });
    let (host, addr) = start_host(config).await;
    let mut alice = RawClient::register(addr, "alice").await;
    let mut spam = RawClient::register(addr, "spam").await;
    alice.expect_command("JOIN").await;
    spam.send("QUIT :visit example.com for cheap stuff").await;
    spam.expect_closed().await;
    let quit = alice.expect_command("QUIT").await;
    assert_eq!(quit.source_nick(), Some("spam"));
    assert_eq!(quit.params, ["Quit"]);
    host.shutdown().await;
}

/// Relayed chat lines this long (about 470 bytes with the prefix).
const FILLER: usize = 430;

/// Makes `flooder` say `count` lines and `watch` read them all (and any
/// QUITs among them): when it returns, every line is in every member's queue.
async fn flood(
    flooder: &tokio::sync::mpsc::Sender<usize>,
    watch: &mut RawClient,
    count: usize,
) -> Vec<String> {
    flooder.send(count).await.unwrap();
    let mut quits = Vec::new();
    let mut said = 0;
    while said < count {
        let line = watch
            .expect("PRIVMSG or QUIT", |l| {
                l.contains(" PRIVMSG ") || l.contains(" QUIT ")
            })
            .await;
        if line.contains(" QUIT ") {
            quits.push(line);
        } else {
            said += 1;
        }
    }
    watch.seen.clear();
    quits
}

#[tokio::test]
async fn stalled_readers_beside_flooders_never_hold_a_newcomer_back() {
    const STALLED: usize = 20;
    let config = test_config_with(|limits| {
        // Room for what makes the host's backlog far larger than the
        // 16 MiB that holds newcomers back.
        limits.send_queue_bytes = 2 * 1024 * 1024;
    });
    let (host, addr) = start_host(config).await;
    let mut watch = RawClient::register(addr, "watch").await;
    let mut stalled = Vec::new();
    for n in 0..STALLED {
        let mut client = RawClient::connect_small_buffer(addr, "stalled").await;
        client.send(&format!("NICK stalled{n}")).await;
        client.send(&format!("USER s 0 * :s{n}")).await;
        // They never read from here on.
        stalled.push(client);
        watch.expect_containing(&format!(":stalled{n}!")).await;
    }
    let mut flooder = RawClient::register(addr, "flooder").await;
    let (orders, mut to_say) = tokio::sync::mpsc::channel::<usize>(1);
    let flooding = tokio::spawn(async move {
        let text = "x".repeat(FILLER);
        let mut n = 0;
        while let Some(count) = to_say.recv().await {
            for _ in 0..count {
                n += 1;
                flooder.send(&format!("PRIVMSG #chat :{n} {text}")).await;
            }
        }
    });
    // About 1.5 MiB queued for each stalled reader, 30 MiB in all.
    let quits = flood(&orders, &mut watch, 3400).await;
    assert!(quits.is_empty(), "{quits:?}");
    // A newcomer registers while they are all still here.
    let mut newcomer = RawClient::register(addr, "newcomer").await;
    let names: Vec<&String> = newcomer
        .seen
        .iter()
        .filter(|l| l.contains(" 353 "))
        .collect();
    for n in 0..STALLED {
        let nick = format!("stalled{n}");
        assert!(
            names
                .iter()
                .any(|l| l.split([' ', ':']).any(|word| word == nick)),
            "{nick} was gone before the newcomer got in: {names:?}"
        );
    }
    // More of the flood overflows each stalled reader's queue: each is
    // dropped as soon as its queue is full.
    let mut quits = Vec::new();
    for _ in 0..20 {
        quits.extend(flood(&orders, &mut watch, 500).await);
        if quits.len() == STALLED {
            break;
        }
    }
    assert_eq!(quits.len(), STALLED, "{quits:?}");
    assert!(
        quits.iter().all(|q| q.ends_with(" :Send queue full")),
        "{quits:?}"
    );
    drop(orders);
    flooding.await.unwrap();
    newcomer.sync("still here").await;
    host.shutdown().await;
}

/// A host process, killed however the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tcp-chat --serve` under `prlimit`, with the open-file limit at `soft`
/// (and `hard`): its port and the process.
fn serve_with_nofile(state: &std::path::Path, soft: u64, hard: u64) -> (u16, Killed) {
    support::require_program("prlimit", "util-linux");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("prlimit")
        .arg(format!("--nofile={soft}:{hard}"))
        .arg(env!("CARGO_BIN_EXE_tcp-chat"))
        .args(["--serve", "--no-announce", "--bind", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args([
            "--history",
            "0",
            "--max-per-address",
            "0",
            "--no-flood-control",
        ])
        .arg("--state-dir")
        .arg(state)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "the host exited before listening");
        if line.contains("listening on") {
            break;
        }
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (port, child)
}

#[tokio::test]
async fn past_the_open_file_limit_newcomers_are_told_the_host_is_full() {
    const CONNECTIONS: usize = 400;
    rlimit::increase_nofile_limit(4096).unwrap();
    let state = tempfile::tempdir().unwrap();
    // A soft limit of 64 is raised to the hard 256 at start, then more
    // connections come than that leaves room for.
    let (port, _host) = serve_with_nofile(state.path(), 64, 256);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut clients = Vec::new();
    for n in 0..CONNECTIONS {
        clients.push(RawClient::connect(addr, &format!("c{n}")).await);
    }
    // Every one hears something: the plain-text greeting, or the refusal.
    let mut full = 0;
    for client in &mut clients {
        let first = client.next_line().await;
        let first = first.unwrap_or_else(|| panic!("{} closed unanswered", client.name));
        if first == "ERROR :Server full" {
            full += 1;
        }
    }
    // More than a soft limit of 64 would have let in, fewer than 256.
    let taken = CONNECTIONS - full;
    assert!((64..256).contains(&taken), "{taken} taken, {full} refused");
}
