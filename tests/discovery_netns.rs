//! Rooms found across a network: two network namespaces joined by a veth
//! pair that each test makes (and removes, also when it fails). A host runs
//! in namespace A: the real `tcp-chat --serve`, or the window's network
//! thread hosting a room (this test binary run again as `host_child`); in
//! namespace B this test binary runs again as a browser (`browse_child`)
//! and prints one line per event, which the test reads with a deadline
//! (or, for `_ircs._tcp`, a plain mDNS browse as any Zeroconf client does:
//! `ircs_browse_child`; one mDNS responder per namespace, as two on one
//! port share unicast replies between them).
//! The children are selected by environment variables. Nothing is sent on the machine's own interfaces:
//! host and browser run only inside the namespaces, on 192.0.2.0/24
//! (TEST-NET-1, never routed). Needs root and `ip`; without them it says it
//! skipped and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tcp_chat::discovery::{BrowseEvent, Browser, TLS_SERVICE_TYPE};

/// Set (to anything) in the browser's environment: `browse_child` browses.
const CHILD_ENV: &str = "TCP_CHAT_BROWSE_CHILD";
/// Set in the `_ircs._tcp` browser's environment: `ircs_browse_child` browses.
const IRCS_CHILD_ENV: &str = "TCP_CHAT_IRCS_BROWSE_CHILD";
/// Set in the window host's environment: `host_child` hosts.
const HOST_CHILD_ENV: &str = "TCP_CHAT_HOST_CHILD";
/// Only a bug should ever reach it.
const DEADLINE: Duration = Duration::from_secs(60);
const HOST_IP: &str = "192.0.2.1";
const BROWSER_IP: &str = "192.0.2.2";
const PORT: u16 = 6667;

/// The browser, when run by the test below inside namespace B; otherwise
/// it does nothing.
#[test]
fn browse_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let browser = Browser::start().expect("browsing starts");
    let mut out = std::io::stdout();
    writeln!(out, "READY").expect("stdout");
    while let Ok(event) = browser.events().recv_blocking() {
        let line = match event {
            BrowseEvent::Found(room) => format!(
                "FOUND\t{}\t{}\t{}\t{}\t{}\t{}",
                room.instance,
                room.room,
                room.nick.as_deref().unwrap_or("-"),
                room.tls,
                room.fingerprint.as_deref().unwrap_or("-"),
                room.addresses
                    .iter()
                    .map(SocketAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            BrowseEvent::Lost(instance) => format!("LOST\t{instance}"),
        };
        writeln!(out, "{line}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// A browser of `_ircs._tcp` alone, when run by the TLS test below inside
/// namespace B: `FOUND\tFULLNAME\tFINGERPRINT` and `LOST\tFULLNAME` lines.
#[test]
fn ircs_browse_child() {
    if std::env::var_os(IRCS_CHILD_ENV).is_none() {
        return;
    }
    let daemon = mdns_sd::ServiceDaemon::new().expect("an mDNS daemon");
    let heard = daemon.browse(TLS_SERVICE_TYPE).expect("browsing starts");
    let mut out = std::io::stdout();
    writeln!(out, "READY").expect("stdout");
    while let Ok(event) = heard.recv() {
        let line = match event {
            mdns_sd::ServiceEvent::ServiceResolved(service) => format!(
                "FOUND\t{}\t{}",
                service.get_fullname(),
                service.get_property_val_str("fp").unwrap_or("-")
            ),
            mdns_sd::ServiceEvent::ServiceRemoved(_, fullname) => format!("LOST\t{fullname}"),
            _ => continue,
        };
        writeln!(out, "{line}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// The window's side of hosting, when run by the test below inside
/// namespace A: the network thread hosts `#lab` as `li` (announcing it, as
/// the application's default settings do) until a line on stdin says
/// `leave`; then it leaves, which stops the host.
#[test]
fn host_child() {
    if std::env::var_os(HOST_CHILD_ENV).is_none() {
        return;
    }
    use tcp_chat::network::{Command, Event, HostRequest, Settings};
    let state = tempfile::tempdir().expect("a scratch directory");
    let network = tcp_chat::network::spawn_with(Settings {
        state_dir: state.path().to_path_buf(),
        announce: true,
        browse: false,
    })
    .expect("the network thread starts");
    network
        .commands
        .send_blocking(Command::Host(HostRequest {
            nick: "li".to_owned(),
            port: PORT,
            room: "#lab".to_owned(),
            password: None,
            encrypted_only: false,
        }))
        .expect("the network thread listens");
    loop {
        match network.events.recv_blocking().expect("events") {
            Event::Hosting { .. } => break,
            Event::HostFailed(err) => panic!("cannot host: {err:?}"),
            _ => {}
        }
    }
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).expect("stdin") > 0 {
        if line.trim() == "leave" {
            network
                .commands
                .send_blocking(Command::Leave { message: None })
                .expect("the network thread listens");
        }
        line.clear();
    }
    let _ = network.commands.send_blocking(Command::Shutdown);
}

#[test]
fn the_windows_room_is_found_and_lost_when_it_leaves() {
    let Some((net, browser, lines)) = namespaces_with_a_browser() else {
        return;
    };
    let mut host = Killed(
        Command::new("ip")
            .args(["netns", "exec", &net.a])
            .arg(std::env::current_exe().expect("the test binary"))
            .args(["host_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(HOST_CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the window's host starts"),
    );
    let found = next_found(&lines, "#lab");
    let [_, instance, _, nick, tls, fingerprint, addresses] = found.fields();
    assert!(instance.starts_with("#lab by li on "), "{instance}");
    // The window's host speaks TLS too, and says which certificate.
    assert_eq!((nick, tls), ("li", "true"));
    assert_is_fingerprint(fingerprint);
    assert!(
        addresses.contains(&format!("{HOST_IP}:{PORT}")),
        "{addresses}"
    );

    let mut stdin = host.0.stdin.take().expect("piped stdin");
    writeln!(stdin, "leave").expect("the host reads");
    let lost = next_line(&lines, "LOST", |line| line.starts_with("LOST\t"));
    println!("{lost}");
    assert_eq!(lost, format!("LOST\t{instance}"));
    drop(stdin);
    let exit = host.0.wait().expect("the host is waited for");
    assert!(exit.success(), "{exit}");
    drop(browser);
}

/// Two namespaces joined by a veth pair, with the browser running in B;
/// `None` (after saying so) where this test cannot make namespaces.
fn namespaces_with_a_browser() -> Option<(Veth, Killed, mpsc::Receiver<String>)> {
    namespaces_with("browse_child", CHILD_ENV)
}

/// [`namespaces_with_a_browser`], the browser being the test `child`
/// selected by `env`.
fn namespaces_with(child: &str, env: &str) -> Option<(Veth, Killed, mpsc::Receiver<String>)> {
    if let Some(why) = missing_privileges() {
        println!("skipped: needs root for network namespaces ({why})");
        return None;
    }
    let net = Veth::create();
    let mut browser = Killed(
        Command::new("ip")
            .args(["netns", "exec", &net.b])
            .arg(std::env::current_exe().expect("the test binary"))
            .args([child, "--exact", "--nocapture", "--test-threads=1"])
            .env(env, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the browser starts"),
    );
    let lines = read_lines(browser.0.stdout.take().expect("piped stdout"));
    next_line(&lines, "READY", |line| line == "READY");
    Some((net, browser, lines))
}

/// `tcp-chat --serve` hosting `#chat` as `mei` in namespace A, logging to
/// `log_path`.
fn serve_in_a(net: &Veth, state: &Path, log_path: &Path) -> Killed {
    Killed(
        Command::new("ip")
            .args(["netns", "exec", &net.a, env!("CARGO_BIN_EXE_tcp-chat")])
            .args(["--serve", "--port", &PORT.to_string(), "--room", "#chat"])
            .args(["--nick", "mei", "--state-dir"])
            .arg(state)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log_path).expect("the host's log"))
            .spawn()
            .expect("the host starts"),
    )
}

/// Stops a host with SIGTERM: it closes the room and says goodbye on mDNS.
fn terminate(host: &Killed) {
    let status = Command::new("kill")
        .args(["-TERM", &host.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn a_tls_room_is_announced_as_ircs_too_and_withdrawn() {
    let Some((net, browser, lines)) = namespaces_with("ircs_browse_child", IRCS_CHILD_ENV) else {
        return;
    };
    let state = tempfile::tempdir().expect("a scratch directory");
    let log_path = state.path().join("host.log");
    let mut host = serve_in_a(&net, state.path(), &log_path);

    let suffix = format!(".{TLS_SERVICE_TYPE}");
    let found = next_line(&lines, "FOUND of _ircs._tcp", |line| {
        line.starts_with("FOUND\t") && line.contains(&suffix)
    });
    println!("{found}");
    let fields: Vec<&str> = found.split('\t').collect();
    let [_, fullname, fingerprint] = fields[..] else {
        panic!("three fields: {found}");
    };
    // The instance name and TXT `_irc._tcp` has (the next test).
    assert!(fullname.starts_with("#chat by mei on "), "{fullname}");
    assert_is_fingerprint(fingerprint);

    terminate(&host);
    let lost = next_line(&lines, "LOST", |line| line.starts_with("LOST\t"));
    println!("{lost}");
    assert_eq!(lost, format!("LOST\t{fullname}"));
    let exit = host.0.wait().expect("the host is waited for");
    assert!(exit.success(), "{exit}\nhost log:\n{}", host_log(&log_path));
    drop(browser);
}

#[test]
fn a_served_room_is_found_in_another_namespace_and_lost_when_its_host_stops() {
    let Some((net, browser, lines)) = namespaces_with_a_browser() else {
        return;
    };
    let state = tempfile::tempdir().expect("a scratch directory");

    let log_path = state.path().join("host.log");
    let mut host = serve_in_a(&net, state.path(), &log_path);

    let found = next_found(&lines, "#chat");
    let [_, instance, room, nick, tls, fingerprint, addresses] = found.fields();
    assert!(instance.starts_with("#chat by mei on "), "{instance}");
    assert_eq!((room, nick, tls), ("#chat", "mei", "true"));
    assert_is_fingerprint(fingerprint);
    let wanted: SocketAddr = format!("{HOST_IP}:{PORT}").parse().expect("an address");
    assert!(
        addresses
            .split(',')
            .filter_map(|text| text.parse::<SocketAddr>().ok())
            .any(|addr| addr == wanted),
        "{wanted} among {addresses}\nhost log:\n{}",
        host_log(&log_path)
    );

    // SIGTERM: the host closes the room and says goodbye on mDNS.
    terminate(&host);
    let lost = next_line(&lines, "LOST", |line| line.starts_with("LOST\t"));
    println!("{lost}");
    assert_eq!(lost, format!("LOST\t{instance}"));
    let exit = host.0.wait().expect("the host is waited for");
    assert!(exit.success(), "{exit}\nhost log:\n{}", host_log(&log_path));
    let log = host_log(&log_path);
    assert!(log.contains("announcing “#chat by mei on "), "{log}");
    drop(browser);
}

/// A FOUND line for `room` that lists the host's IPv4 address. The
/// first FOUND may come with its IPv6 link-local address alone: the same
/// room is found again (updated) once its IPv4 address is heard.
/// A FOUND line the browser printed.
struct Found(String);

impl Found {
    /// FOUND, instance, room, nick, tls, fingerprint, addresses.
    fn fields(&self) -> [&str; 7] {
        let fields: Vec<&str> = self.0.split('\t').collect();
        fields
            .try_into()
            .unwrap_or_else(|_| panic!("a FOUND line has seven fields: {}", self.0))
    }
}

/// Waits for `room` to be found at A's address.
fn next_found(lines: &mpsc::Receiver<String>, room: &str) -> Found {
    let found = next_line(lines, &format!("FOUND for {room} at A's address"), |line| {
        found_at(line, room)
    });
    println!("{found}");
    Found(found)
}

fn found_at(line: &str, room: &str) -> bool {
    let fields: Vec<&str> = line.split('\t').collect();
    let wanted = format!("{HOST_IP}:{PORT}");
    fields.first() == Some(&"FOUND")
        && fields.get(2) == Some(&room)
        && fields
            .get(6)
            .is_some_and(|addresses| addresses.split(',').any(|addr| addr == wanted))
}

/// Why this test cannot make namespaces here, if it cannot.
fn missing_privileges() -> Option<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return Some("not root");
    }
    // Root in a container may still lack them: CAP_NET_ADMIN (12) for the
    // veth pair, CAP_SYS_ADMIN (21) for the namespaces.
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|bits| u64::from_str_radix(bits.trim(), 16).ok())
        .unwrap_or(0);
    if effective & (1 << 12) == 0 || effective & (1 << 21) == 0 {
        return Some("root without CAP_NET_ADMIN and CAP_SYS_ADMIN");
    }
    let ip = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !ip.is_ok_and(|status| status.success()) {
        return Some("`ip` (iproute2) is missing");
    }
    None
}

/// Namespaces `a` and `b`, joined by a veth pair with HOST_IP in `a` and
/// BROWSER_IP in `b`. Dropping it deletes both namespaces (and with them
/// the pair). Names are unique per process and per call.
struct Veth {
    a: String,
    b: String,
}

impl Veth {
    fn create() -> Veth {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "{}-{}",
            std::process::id(),
            CALLS.fetch_add(1, Ordering::Relaxed)
        );
        let net = Veth {
            a: format!("tcpchat-{unique}-a"),
            b: format!("tcpchat-{unique}-b"),
        };
        // Interface names have 15 bytes at most: `tc` + pid (≤ 7) + call.
        let (link_a, link_b) = (format!("tc{unique}a"), format!("tc{unique}b"));
        ip(&["netns", "add", &net.a]);
        ip(&["netns", "add", &net.b]);
        ip(&[
            "link", "add", &link_a, "netns", &net.a, "type", "veth", "peer", "name", &link_b,
            "netns", &net.b,
        ]);
        for (ns, link, addr) in [(&net.a, &link_a, HOST_IP), (&net.b, &link_b, BROWSER_IP)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", link]);
            ip(&["-n", ns, "link", "set", link, "multicast", "on", "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        net
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let deleted = Command::new("ip").args(["netns", "del", ns]).status();
            if !deleted.is_ok_and(|status| status.success()) {
                eprintln!("could not delete network namespace {ns}");
            }
        }
    }
}

/// Runs `ip ARGS`, panicking (and so cleaning up through the guards) if it fails.
fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("ip runs");
    assert!(status.success(), "ip {} failed: {status}", args.join(" "));
}

/// A child process killed (and reaped) when the test is done with it.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines of `stdout`, read on a thread of their own.
fn read_lines(stdout: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// The first of the browser's lines that `wanted` accepts, skipping the
/// test harness's own (which may also start the browser's first line:
/// `test browse_child ... READY`); panics at the deadline.
fn next_line(lines: &mpsc::Receiver<String>, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let ours = ["READY", "FOUND\t", "LOST\t"]
                    .iter()
                    .filter_map(|tag| line.find(tag))
                    .min()
                    .map(|start| &line[start..]);
                if let Some(ours) = ours.filter(|ours| wanted(ours)) {
                    return ours.to_owned();
                }
            }
            Err(err) => panic!("no {what} line from the browser: {err}"),
        }
    }
}

fn host_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A SHA-256 fingerprint as announced: 32 hex pairs joined by colons.
fn assert_is_fingerprint(fingerprint: &str) {
    let pairs: Vec<&str> = fingerprint.split(':').collect();
    assert!(
        pairs.len() == 32
            && pairs
                .iter()
                .all(|pair| pair.len() == 2 && pair.chars().all(|c| c.is_ascii_hexdigit())),
        "a SHA-256 fingerprint: {fingerprint}"
    );
}
