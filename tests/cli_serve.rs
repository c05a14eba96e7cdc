//! `tcp-chat --serve`: the headless host as a person runs it, with no
//! display, stopped by SIGTERM; its history on disk survives `kill -9` with
//! the ids and times the room saw live, and a database that cannot be used
//! is a clear error at start (path and reason), never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tcp_chat::protocol::{tags, Message};

const BINARY: &str = env!("CARGO_BIN_EXE_tcp-chat");
const TIMEOUT: Duration = Duration::from_secs(20);

/// A free loopback port: bound once by us, then released for the host.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `--serve` with `args`, keeping its state (TLS certificate, history) in
/// `state_dir`, so that a test never writes into the home directory; it
/// never announces its room on the machine's network
/// (`tests/discovery_netns.rs` does, in network namespaces of its own).
fn serve(state_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command.arg("--no-announce");
    command
        .arg("--serve")
        .arg("--state-dir")
        .arg(state_dir)
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads the host's stderr until it says it is listening.
fn wait_until_listening(child: &mut Child) -> BufReader<std::process::ChildStderr> {
    read_until_listening(child).0
}

/// [`wait_until_listening`], returning what the host said until then too.
fn read_until_listening(child: &mut Child) -> (BufReader<std::process::ChildStderr>, String) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(read > 0, "the host exited before listening: {said}");
        said.push_str(&line);
        if line.contains("listening on") {
            return (stderr, said);
        }
    }
}

fn read_until(reader: &mut BufReader<TcpStream>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        assert!(
            read > 0,
            "connection closed before {wanted:?}; saw {seen:?}"
        );
        let found = line.contains(wanted);
        seen.push(line.trim_end().to_owned());
        if found {
            return seen;
        }
    }
}

#[test]
fn serves_without_a_display_and_closes_the_room_on_sigterm() {
    let port = free_port();
    let port_arg = port.to_string();
    let state = tempfile::tempdir().unwrap();
    let args = ["--bind", "127.0.0.1", "--port", &port_arg, "--room", "#lan"];
    let mut host = serve(state.path(), &args).spawn().unwrap();
    let _stderr = wait_until_listening(&mut host);

    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    writer
        .write_all(b"NICK probe\r\nUSER probe 0 * :Probe\r\n")
        .unwrap();
    let lines = read_until(&mut reader, " 366 ");
    assert!(lines.iter().any(|l| l.contains("JOIN #lan")), "{lines:?}");

    let status = Command::new("kill")
        .args(["-TERM", &host.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let goodbye = read_until(&mut reader, "ERROR");
    assert!(goodbye.last().unwrap().contains("closing"), "{goodbye:?}");
    assert!(
        host.wait().unwrap().success(),
        "the host should exit cleanly"
    );
}

#[test]
fn tls_only_logs_the_fingerprint_and_safety_code_and_refuses_plain_text() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let args = ["--bind", "127.0.0.1", "--port", &port, "--tls-only"];
    let mut host = serve(state.path(), &args).spawn().unwrap();
    let (_stderr, said) = read_until_listening(&mut host);

    // The fingerprint logged is the one OpenSSL reads from the certificate file.
    let cert = state.path().join(tcp_chat::server::CERT_FILE);
    let openssl = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .expect("openssl is installed (make deps-test)");
    let openssl = String::from_utf8_lossy(&openssl.stdout);
    let fingerprint = openssl.trim().rsplit('=').next().unwrap();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{openssl}");
    assert!(
        said.contains(&format!("(SHA-256): {fingerprint}")),
        "{said}"
    );
    let code = said
        .lines()
        .find_map(|line| line.split("Safety code: ").nth(1))
        .unwrap_or_else(|| panic!("no safety code in {said}"));
    let groups: Vec<&str> = code.split(' ').collect();
    assert_eq!(groups.len(), 5, "{code}");
    assert!(groups.iter().all(|g| g.len() == 4), "{code}");

    let stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(b"NICK plain\r\nUSER plain 0 * :P\r\n")
        .unwrap();
    let mut refusal = String::new();
    BufReader::new(stream).read_to_string(&mut refusal).unwrap();
    assert!(refusal.starts_with("ERROR :"), "{refusal}");
    assert_eq!(refusal.lines().count(), 1, "{refusal}");
    host.kill().unwrap();
    host.wait().unwrap();
}

#[test]
fn serves_under_its_server_name_with_its_motd() {
    let state = tempfile::tempdir().unwrap();
    let motd = state.path().join("motd.txt");
    std::fs::write(&motd, "Welcome to the lab\nBe kind\n").unwrap();
    let motd = motd.display().to_string();
    let named = [("irc.lan.test", Some(motd.as_str())), ("", None)];
    for (name, motd) in named {
        let port = free_port();
        let port_arg = port.to_string();
        let mut args = vec!["--bind", "127.0.0.1", "--port", &port_arg];
        if !name.is_empty() {
            args.extend(["--server-name", name]);
        }
        if let Some(motd) = motd {
            args.extend(["--motd", motd]);
        }
        let mut host = serve(state.path(), &args).spawn().unwrap();
        let _stderr = wait_until_listening(&mut host);
        let lines = register_with(port, None);
        // Without --server-name, this machine's host name (or the fallback).
        let expected = if name.is_empty() {
            tcp_chat::server::default_server_name()
        } else {
            name.to_owned()
        };
        let welcome = lines.iter().find(|l| l.contains(" 001 ")).unwrap();
        assert!(
            welcome.starts_with(&format!(":{expected} 001 ")),
            "{lines:?}"
        );
        let said: Vec<&String> = lines.iter().filter(|l| l.contains(" 372 ")).collect();
        if motd.is_some() {
            assert_eq!(said.len(), 2, "{lines:?}");
            assert!(said[1].ends_with(":- Be kind"), "{lines:?}");
        } else {
            assert!(said.is_empty() && lines.iter().any(|l| l.contains(" 422 ")));
        }
        host.kill().unwrap();
        host.wait().unwrap();
    }
    for bad in [
        ["--server-name", "my pc"],
        ["--motd", "/nonexistent/motd.txt"],
    ] {
        let output = serve(state.path(), &bad).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(bad[1]), "{stderr}");
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let state = tempfile::tempdir().unwrap();
    let output = serve(state.path(), &["--bind", "127.0.0.1", "--port", &port])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
}

#[test]
fn version_and_help_need_no_display() {
    let output = Command::new(BINARY)
        .arg("--version")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains(env!("CARGO_PKG_VERSION")));

    let output = Command::new(BINARY)
        .arg("--help")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("--serve"));
}

/// Registers on `port` with `pass` (none: no PASS); what the host said
/// until the room's names (366) or the end.
fn register_with(port: u16, pass: Option<&str>) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    if let Some(pass) = pass {
        writer
            .write_all(format!("PASS {pass}\r\n").as_bytes())
            .unwrap();
    }
    writer
        .write_all(b"NICK guest\r\nUSER g 0 * :G\r\n")
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        let done = line.contains(" 366 ");
        seen.push(line);
        if done {
            break;
        }
    }
    seen
}

#[test]
fn the_password_comes_from_a_file_or_the_environment_out_of_sight() {
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("room-password");
    std::fs::write(&file, "sesame\n").unwrap();
    let file = file.display().to_string();
    let from_file = ["--password-file", file.as_str()];
    for (args, env) in [(&from_file[..], None), (&[][..], Some("sesame"))] {
        let port = free_port();
        let port_arg = port.to_string();
        let mut command = serve(state.path(), &["--bind", "127.0.0.1", "--port", &port_arg]);
        command.args(args);
        match env {
            Some(password) => command.env("TCP_CHAT_PASSWORD", password),
            None => command.env_remove("TCP_CHAT_PASSWORD"),
        };
        let mut host = command.spawn().unwrap();
        let _stderr = wait_until_listening(&mut host);
        // Other users of the computer read the command line, not the
        // password.
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", host.id())).unwrap();
        assert!(!String::from_utf8_lossy(&cmdline).contains("sesame"));
        let missing = register_with(port, None);
        assert!(missing.iter().any(|l| l.contains(" 464 ")), "{missing:?}");
        let right = register_with(port, Some("sesame"));
        assert!(right.iter().any(|l| l.contains(" 001 ")), "{right:?}");
        host.kill().unwrap();
        host.wait().unwrap();
    }
    let help = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--password-file"), "{help}");
    assert!(help.contains("TCP_CHAT_PASSWORD"), "{help}");
}

/// Our host on loopback `port` with its history in `state_dir`, listening.
fn start_with_history(port: u16, state_dir: &Path) -> Child {
    let mut child = history_host(port, state_dir).spawn().unwrap();
    let mut stderr = wait_until_listening(&mut child);
    // Keep draining so the host never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

fn history_host(port: u16, state_dir: &Path) -> Command {
    let port = port.to_string();
    serve(
        state_dir,
        &["--bind", "127.0.0.1", "--no-flood-control", "--port", &port],
    )
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Registers with every history capability.
    fn join(port: u16, nick: &str) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let writer = stream.try_clone().unwrap();
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
        };
        client.send("CAP REQ :server-time message-tags echo-message batch draft/chathistory");
        client.send(&format!("NICK {nick}"));
        client.send(&format!("USER {nick} 0 * :{nick}"));
        client.send("CAP END");
        client.until(|m| m.command == "366");
        client
    }

    fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    fn until(&mut self, wanted: impl Fn(&Message) -> bool) -> Message {
        loop {
            let mut line = String::new();
            assert!(self.reader.read_line(&mut line).unwrap() > 0, "closed");
            let message = Message::parse(line.trim_end()).unwrap();
            if wanted(&message) {
                return message;
            }
        }
    }
}

fn tag(message: &Message, key: &str) -> String {
    tags::find(message.tags.as_deref().unwrap_or_default(), key).unwrap()
}

/// Waits until the database holds `count` lines: the writer commits in
/// the background, and the guarantee is about what it has committed.
fn wait_for_lines(database: &Path, count: i64) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let stored = rusqlite::Connection::open_with_flags(database, flags)
            .and_then(|db| {
                db.query_row("SELECT count(*) FROM lines", [], |row| row.get::<_, i64>(0))
            })
            .unwrap_or(0);
        if stored >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {stored} of {count} lines stored"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn history_survives_kill_9_with_its_ids_and_times() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut host = start_with_history(port, state.path());
    let mut talker = Client::join(port, "talker");
    let mut live = Vec::new();
    for n in 0..30 {
        talker.send(&format!("PRIVMSG #chat :line {n}"));
        let echo = talker.until(|m| m.command == "PRIVMSG");
        live.push((
            echo.params[1].clone(),
            tag(&echo, "msgid"),
            tag(&echo, "time"),
        ));
    }
    wait_for_lines(&state.path().join(format!("history-{port}.sqlite3")), 30);
    host.kill().unwrap(); // SIGKILL
    host.wait().unwrap();

    let mut host = start_with_history(port, state.path());
    let mut reader = Client::join(port, "reader");
    reader.send("CHATHISTORY LATEST #chat * 100");
    reader.until(|m| m.command == "BATCH");
    let mut replayed = Vec::new();
    loop {
        let message = reader.until(|m| matches!(m.command.as_str(), "PRIVMSG" | "BATCH"));
        if message.command == "BATCH" {
            break;
        }
        replayed.push((
            message.params[1].clone(),
            tag(&message, "msgid"),
            tag(&message, "time"),
        ));
    }
    assert_eq!(replayed, live);
    host.kill().unwrap();
    host.wait().unwrap();
}

#[test]
fn a_corrupt_database_is_a_clear_error() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let database = state.path().join(format!("history-{port}.sqlite3"));
    std::fs::write(
        &database,
        b"this is not a database, just some words\n".repeat(200),
    )
    .unwrap();
    let output = history_host(port, state.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&database.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The person can still run the room, without history.
    let mut without = history_host(port, state.path());
    let mut host = without.args(["--history", "0"]).spawn().unwrap();
    let _stderr = wait_until_listening(&mut host);
    host.kill().unwrap();
    host.wait().unwrap();
}

#[test]
fn an_unusable_state_directory_is_a_clear_error() {
    let scratch = tempfile::tempdir().unwrap();
    // A file where the directory should be: no one (not even root) can
    // create the database below it.
    let not_a_dir = scratch.path().join("state");
    std::fs::write(&not_a_dir, "a file").unwrap();
    let output = history_host(free_port(), &not_a_dir).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&not_a_dir.display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_corrupt_tls_key_is_a_clear_error() {
    let state = tempfile::tempdir().unwrap();
    let key = state.path().join(tcp_chat::server::KEY_FILE);
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nbroken\n").unwrap();
    let port = free_port().to_string();
    let output = serve(state.path(), &["--bind", "127.0.0.1", "--port", &port])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&key.display().to_string()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
