//! The real binary's history on disk: it survives `kill -9` with the ids
//! and times the room saw live, and a database that cannot be used is a
//! clear error at start (path and reason), never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tcp_chat::protocol::{tags, Message};

const BINARY: &str = env!("CARGO_BIN_EXE_tcp-chat");
const TIMEOUT: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(port: u16, state_dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args([
            "--serve",
            "--bind",
            "127.0.0.1",
            "--no-flood-control",
            "--port",
        ])
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(state_dir)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Starts the host and waits until it listens.
fn start(port: u16, state_dir: &Path) -> Child {
    let mut child = serve(port, state_dir).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the host exited");
    }
    // Keep draining so the host never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
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
    let mut host = start(port, state.path());
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

    let mut host = start(port, state.path());
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
    let output = serve(port, state.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&database.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The person can still run the room, without history.
    let mut without = serve(port, state.path());
    let mut host = without.arg("--history").arg("0").spawn().unwrap();
    let mut stderr = BufReader::new(host.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the host exited");
    }
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
    let output = serve(free_port(), &not_a_dir).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&not_a_dir.display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
