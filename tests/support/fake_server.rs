//! A fake IRC server speaking just enough for the client-side tests.

use std::net::SocketAddr;

use tcp_chat::protocol::Message;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::{within, RawClient};

pub struct FakeServer {
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl FakeServer {
    pub async fn bind() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        FakeServer { listener, addr }
    }

    /// A server whose connections take little before the client's writes
    /// (small receive buffer) or ours (small send buffer) block: for
    /// floods, where a test must see either end stall soon.
    pub async fn bind_small_buffers() -> FakeServer {
        let socket = TcpSocket::new_v4().unwrap();
        // Accepted connections inherit both.
        socket.set_recv_buffer_size(4096).unwrap();
        socket.set_send_buffer_size(4096).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        FakeServer { listener, addr }
    }

    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub async fn accept(&self) -> Peer {
        let (stream, _) = within("connection from the client", self.listener.accept())
            .await
            .unwrap();
        Peer::new(stream)
    }
}

/// The server's side of one client connection. Stricter than a
/// [`RawClient`]: the client must send CRLF-terminated UTF-8, and only
/// PING/PONG may come between the lines a test expects.
pub struct Peer {
    connection: RawClient,
    /// The nick the client registered with.
    pub nick: String,
    /// Whether CAP lines reach the test; by default the fake is a server
    /// from before IRCv3 that ignores them.
    pub sees_caps: bool,
}

impl Peer {
    pub fn new(stream: TcpStream) -> Peer {
        Peer {
            connection: RawClient::from_stream(stream, "fake server"),
            nick: String::new(),
            sees_caps: false,
        }
    }

    /// The next line (without CRLF); `None` at EOF.
    pub async fn raw_line(&mut self) -> Option<String> {
        let raw = self.connection.next_raw_line().await;
        if raw.is_empty() {
            return None;
        }
        let line = String::from_utf8(raw).expect("the client sent invalid UTF-8");
        let line = line.strip_suffix("\r\n").unwrap_or_else(|| {
            panic!("line without CRLF: {line:?}");
        });
        Some(line.to_owned())
    }

    pub async fn message(&mut self) -> Message {
        loop {
            let line = self.raw_line().await.expect("the client closed");
            let message = Message::parse(&line).unwrap();
            if self.sees_caps || message.command != "CAP" {
                return message;
            }
        }
    }

    /// Reads until a message with `command` arrives, returning it.
    pub async fn expect(&mut self, command: &str) -> Message {
        loop {
            let message = self.message().await;
            if message.command == command {
                return message;
            }
            assert!(
                matches!(message.command.as_str(), "PING" | "PONG"),
                "expected {command}, got {message}"
            );
        }
    }

    pub async fn send(&mut self, line: &str) {
        self.connection.send(line).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.connection.send_raw(bytes).await;
    }

    /// Writes `bytes`, or says why not (the client hung up).
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.connection.try_send_raw(bytes).await
    }

    /// Reads NICK and USER (and PASS if sent); returns the password.
    pub async fn read_registration(&mut self) -> Option<String> {
        let mut password = None;
        loop {
            let message = self.message().await;
            match message.command.as_str() {
                "PASS" => password = message.params.first().cloned(),
                "NICK" => self.nick = message.params[0].clone(),
                "USER" => return password,
                other => panic!("unexpected {other} while registering"),
            }
        }
    }

    /// Welcomes the client and answers its JOIN like a server would.
    pub async fn welcome_and_join(&mut self, members: &[&str]) -> String {
        let nick = self.nick.clone();
        self.send(&format!(":irc.test 001 {nick} :Welcome {nick}"))
            .await;
        let join = self.expect("JOIN").await;
        let room = join.params[0].clone();
        self.send(&format!(":{nick}!u@127.0.0.1 JOIN {room}")).await;
        let names = members.join(" ");
        self.send(&format!(":irc.test 353 {nick} = {room} :{names}"))
            .await;
        self.send(&format!(":irc.test 366 {nick} {room} :End of NAMES list"))
            .await;
        // Every client asks the room's modes on joining; this server has none to tell.
        self.expect("MODE").await;
        room
    }

    /// The full handshake: registration, welcome, join.
    pub async fn handshake(&mut self) -> String {
        self.read_registration().await;
        let nick = self.nick.clone();
        self.welcome_and_join(&[&format!("@{nick}")]).await
    }

    /// Waits for the client to close its side.
    pub async fn expect_closed(&mut self) {
        while let Some(line) = self.raw_line().await {
            let message = Message::parse(&line).unwrap();
            assert!(
                matches!(message.command.as_str(), "QUIT" | "PONG" | "PING" | "CAP"),
                "unexpected {line} before closing"
            );
        }
    }

    /// Drops the connection with a reset, like a host that vanished.
    pub fn vanish(self) {
        self.connection.vanish();
    }
}
