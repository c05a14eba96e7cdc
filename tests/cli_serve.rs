//! `tcp-chat --serve`: the headless host as a person runs it, with no
//! display, stopped by SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// `--serve` with `args`, keeping no history so that a test never writes
/// into the home directory (`tests/history_on_disk.rs` tests history).
fn serve(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(["--serve", "--history", "0"])
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
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(read > 0, "the host exited before listening");
        if line.contains("listening on") {
            return stderr;
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
    let mut host = serve(&["--bind", "127.0.0.1", "--port", &port_arg, "--room", "#lan"])
        .spawn()
        .unwrap();
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
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = serve(&["--bind", "127.0.0.1", "--port", &port])
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
