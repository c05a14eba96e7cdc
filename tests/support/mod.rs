//! Shared helpers for the integration tests: a host on an ephemeral loopback
//! port, and a raw line-based client that awaits lines with an overall
//! timeout, so a bug fails a test instead of hanging it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcp_chat::protocol::Message;
use tcp_chat::server::{self, Limits, RunningHost, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Loopback, a free port, no flood control (tests send bursts), and a short
/// wait before a silent client counts as a plain-text user.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        bind: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: 0,
        limits: Limits {
            flood_control: false,
            plain_text_wait: Duration::from_millis(200),
            ..Limits::default()
        },
        ..ServerConfig::default()
    }
}

/// [`test_config`] with some limits changed.
pub fn test_config_with(change: impl FnOnce(&mut Limits)) -> ServerConfig {
    let mut config = test_config();
    change(&mut config.limits);
    config
}

pub async fn start_host(config: ServerConfig) -> (RunningHost, SocketAddr) {
    let _ = env_logger::builder().is_test(true).try_init();
    let host = server::start(config).await.expect("host starts");
    let addr = host.local_addrs()[0];
    (host, addr)
}

/// A raw client: sends lines, awaits lines.
pub struct TestClient {
    pub name: String,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// Every line received so far, for failure messages.
    pub seen: Vec<String>,
}

impl TestClient {
    pub async fn connect(addr: SocketAddr, name: &str) -> Self {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        Self::from_stream(stream, name)
    }

    /// A client whose socket takes little before the host's writes block:
    /// for tests of clients that stop reading.
    pub async fn connect_small_buffer(addr: SocketAddr, name: &str) -> Self {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.expect("connect");
        Self::from_stream(stream, name)
    }

    fn from_stream(stream: TcpStream, name: &str) -> Self {
        let (read, write) = stream.into_split();
        TestClient {
            name: name.to_owned(),
            reader: BufReader::new(read),
            writer: write,
            seen: Vec::new(),
        }
    }

    /// Connects and registers as `nick`, returning once the room's names
    /// list (366) has arrived.
    pub async fn register(addr: SocketAddr, nick: &str) -> Self {
        let mut client = Self::connect(addr, nick).await;
        client.send(&format!("NICK {nick}")).await;
        client.send(&format!("USER {nick} 0 * :Test {nick}")).await;
        client.expect_command("366").await;
        client
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// The next line (without CRLF, invalid UTF-8 replaced), `None` at EOF.
    pub async fn next_line(&mut self) -> Option<String> {
        let mut raw = Vec::new();
        let read = tokio::time::timeout(TIMEOUT, self.reader.read_until(b'\n', &mut raw))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{}: no line within {TIMEOUT:?}; seen: {:#?}",
                    self.name, self.seen
                )
            });
        match read {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let line = String::from_utf8_lossy(&raw)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
                self.seen.push(line.clone());
                Some(line)
            }
        }
    }

    /// The raw bytes of the next line, CRLF included.
    pub async fn next_raw_line(&mut self) -> Vec<u8> {
        let mut raw = Vec::new();
        tokio::time::timeout(TIMEOUT, self.reader.read_until(b'\n', &mut raw))
            .await
            .expect("no line in time")
            .expect("read");
        raw
    }

    /// Skips lines until one satisfies `wanted`; panics at EOF or timeout.
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.next_line().await {
                Some(line) if wanted(&line) => return line,
                Some(_) => {}
                None => panic!(
                    "{}: closed while waiting for {what}; seen: {:#?}",
                    self.name, self.seen
                ),
            }
        }
    }

    pub async fn expect_containing(&mut self, needle: &str) -> String {
        self.expect(needle, |line| line.contains(needle)).await
    }

    /// Skips to the next message with this command (or numeric).
    pub async fn expect_command(&mut self, command: &str) -> Message {
        let line = self
            .expect(command, |line| {
                Message::parse(line).is_ok_and(|m| m.command == command)
            })
            .await;
        Message::parse(&line).unwrap()
    }

    /// Sends a PING and returns every line received before its PONG: a
    /// barrier proving the host handled everything sent earlier.
    pub async fn sync(&mut self, token: &str) -> Vec<String> {
        self.send(&format!("PING :{token}")).await;
        let mut before = Vec::new();
        loop {
            let line = self.next_line().await.unwrap_or_else(|| {
                panic!("{}: closed before PONG; seen: {:#?}", self.name, self.seen)
            });
            let message = Message::parse(&line).ok();
            if message.is_some_and(|m| {
                m.command == "PONG" && m.params.last().map(String::as_str) == Some(token)
            }) {
                return before;
            }
            before.push(line);
        }
    }

    /// Reads until the host closes the connection, checking the last line.
    pub async fn expect_closed_after(&mut self, last: &str) {
        let rest = self.expect_closed().await;
        assert_eq!(
            rest.last().map(String::as_str),
            Some(last),
            "{}: {rest:?}",
            self.name
        );
    }

    /// Reads until the host closes the connection; returns what came.
    pub async fn expect_closed(&mut self) -> Vec<String> {
        let mut rest = Vec::new();
        while let Some(line) = self.next_line().await {
            rest.push(line);
        }
        rest
    }
}

/// Fails with a clear message when a program the test drives is missing.
pub fn require_program(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is not installed: run `make deps-test` (or `apt-get install {package}`)"
    );
}

impl TestClient {
    /// The raw bytes (CRLF included) of the next line containing `needle`.
    pub async fn next_raw_line_matching(&mut self, needle: &[u8]) -> Vec<u8> {
        loop {
            let raw = self.next_raw_line().await;
            assert!(
                !raw.is_empty(),
                "{}: closed while waiting for raw line",
                self.name
            );
            if raw.windows(needle.len()).any(|w| w == needle) {
                return raw;
            }
        }
    }
}

impl TestClient {
    /// A bare connection attempt, for checking nothing listens any more.
    pub async fn try_connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }
}
