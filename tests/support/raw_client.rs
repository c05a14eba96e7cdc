//! A raw line-by-line TCP connection: the test's client of our host, and
//! the fake server's end of a client session's connection. Over TLS too
//! ([`TlsRawClient`]), trusting exactly one certificate fingerprint.

use std::net::SocketAddr;
use std::time::Duration;

use tcp_chat::protocol::Message;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

use super::tls::{self, TlsStream};
use super::{within, TIMEOUT};

/// Sends lines, awaits lines (each within [`TIMEOUT`]).
pub struct RawClient<R = OwnedReadHalf, W = OwnedWriteHalf> {
    /// Who this is, in failure messages.
    pub name: String,
    reader: BufReader<R>,
    writer: W,
    /// Every line received so far, for failure messages.
    pub seen: Vec<String>,
}

/// A [`RawClient`] over TLS.
pub type TlsRawClient = RawClient<tokio::io::ReadHalf<TlsStream>, tokio::io::WriteHalf<TlsStream>>;

impl TlsRawClient {
    /// Connects over TLS, trusting only the certificate with `fingerprint`.
    pub async fn connect_tls(
        addr: SocketAddr,
        name: &str,
        fingerprint: &tcp_chat::protocol::trust::Fingerprint,
    ) -> Self {
        let stream = within("TLS handshake", tls::connect(addr, fingerprint))
            .await
            .expect("TLS handshake");
        let (read, write) = tokio::io::split(stream);
        RawClient {
            name: name.to_owned(),
            reader: BufReader::new(read),
            writer: write,
            seen: Vec::new(),
        }
    }

    /// Connects over TLS and registers as `nick`, returning once in the room.
    pub async fn register_tls(
        addr: SocketAddr,
        nick: &str,
        fingerprint: &tcp_chat::protocol::trust::Fingerprint,
    ) -> Self {
        let mut client = Self::connect_tls(addr, nick, fingerprint).await;
        client.send(&format!("NICK {nick}")).await;
        client.send(&format!("USER {nick} 0 * :Test {nick}")).await;
        client.expect_command("366").await;
        client
    }
}

impl RawClient {
    pub async fn connect(addr: SocketAddr, name: &str) -> Self {
        let stream = within("connection", TcpStream::connect(addr))
            .await
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
        let stream = within("connection", socket.connect(addr))
            .await
            .expect("connect");
        Self::from_stream(stream, name)
    }

    /// Connects from `source` (another loopback address such as
    /// 127.0.0.2: on Linux the whole 127.0.0.0/8 is loopback), for what
    /// the host counts per address.
    pub async fn connect_from(addr: SocketAddr, source: std::net::IpAddr, name: &str) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(source, 0)).unwrap();
        let stream = within("connection", socket.connect(addr))
            .await
            .expect("connect");
        Self::from_stream(stream, name)
    }

    /// The local address of this end (to find its socket in `/proc/net/tcp`).
    pub fn local_addr(&self) -> SocketAddr {
        self.writer.local_addr().unwrap()
    }

    /// A bare connection attempt, for checking nothing listens any more.
    pub async fn try_connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    pub fn from_stream(stream: TcpStream, name: &str) -> Self {
        let (read, write) = stream.into_split();
        RawClient {
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

    /// Registers as `nick` after asking for the IRCv3 `caps` (which must
    /// all be granted); returns once in the room.
    pub async fn register_with_caps(addr: SocketAddr, nick: &str, caps: &str) -> Self {
        let mut client = RawClient::connect(addr, nick).await;
        client.send("CAP LS 302").await;
        client.send(&format!("NICK {nick}")).await;
        client.send(&format!("USER {nick} 0 * :{nick}")).await;
        client.expect_command("CAP").await;
        client.send(&format!("CAP REQ :{caps}")).await;
        let ack = client.expect_command("CAP").await;
        assert_eq!(ack.params[1], "ACK", "{ack}");
        client.send("CAP END").await;
        client.expect_command("366").await;
        client
    }

    /// Drops the connection with a reset, like a peer that vanished.
    pub fn vanish(self) {
        let stream = self.reader.into_inner().reunite(self.writer).unwrap();
        // A zero linger resets at once instead of blocking the drop.
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> RawClient<R, W> {
    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// Writes `bytes`, or says why not: for floods that the other end may
    /// end by hanging up.
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await
    }

    /// The raw bytes of the next line, line ending included; empty at EOF.
    pub async fn next_raw_line(&mut self) -> Vec<u8> {
        let mut raw = Vec::new();
        let read = tokio::time::timeout(TIMEOUT, self.reader.read_until(b'\n', &mut raw))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{}: no line within {TIMEOUT:?}; seen: {:#?}",
                    self.name, self.seen
                )
            });
        if read.is_err() {
            // A reset connection ends the conversation like a close does.
            raw.clear();
        }
        if !raw.is_empty() {
            self.seen.push(lossy_line(&raw));
        }
        raw
    }

    /// The next line (without CRLF, invalid UTF-8 replaced), `None` at EOF.
    pub async fn next_line(&mut self) -> Option<String> {
        let raw = self.next_raw_line().await;
        (!raw.is_empty()).then(|| lossy_line(&raw))
    }

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

    /// Whether anything (a line, or the end) has arrived and not been read
    /// yet: looks without waiting.
    pub async fn has_unread_input(&mut self) -> bool {
        use tokio::io::AsyncBufRead;
        let mut reader = std::pin::Pin::new(&mut self.reader);
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(reader.as_mut().poll_fill_buf(cx).is_ready())
        })
        .await
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
    /// barrier proving the other end handled everything sent earlier.
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

    /// Reads until the other end closes the connection, checking the last line.
    pub async fn expect_closed_after(&mut self, last: &str) {
        let rest = self.expect_closed().await;
        assert_eq!(
            rest.last().map(String::as_str),
            Some(last),
            "{}: {rest:?}",
            self.name
        );
    }

    /// Reads until the other end closes the connection; returns what came.
    pub async fn expect_closed(&mut self) -> Vec<String> {
        let mut rest = Vec::new();
        while let Some(line) = self.next_line().await {
            rest.push(line);
        }
        rest
    }
}

/// A received line as text: line ending dropped, invalid UTF-8 replaced.
fn lossy_line(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}
