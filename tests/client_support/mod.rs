//! A fake IRC server speaking just enough for the client tests, and helpers
//! to await events with an overall timeout so a bug fails instead of hanging.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod daemon;

use std::net::SocketAddr;
use std::time::Duration;

use tcp_chat::network::Event;
use tcp_chat::protocol::Message;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// Generous: only a bug should ever reach it.
pub const PATIENCE: Duration = Duration::from_secs(20);

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

    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub async fn accept(&self) -> Peer {
        let (stream, _) = tokio::time::timeout(PATIENCE, self.listener.accept())
            .await
            .expect("the client never connected")
            .unwrap();
        Peer::new(stream)
    }
}

/// The server's side of one client connection.
pub struct Peer {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The nick the client registered with.
    pub nick: String,
}

impl Peer {
    pub fn new(stream: TcpStream) -> Peer {
        let (reader, writer) = stream.into_split();
        Peer {
            reader: BufReader::new(reader),
            writer,
            nick: String::new(),
        }
    }

    /// The next raw line (without CRLF); `None` at EOF.
    pub async fn raw_line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = tokio::time::timeout(PATIENCE, self.reader.read_line(&mut line))
            .await
            .expect("no line from the client")
            .unwrap();
        if read == 0 {
            return None;
        }
        assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        Some(line)
    }

    pub async fn message(&mut self) -> Message {
        let line = self.raw_line().await.expect("the client closed");
        Message::parse(&line).unwrap()
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
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
    }

    pub async fn writer_write_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
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
                matches!(message.command.as_str(), "QUIT" | "PONG" | "PING"),
                "unexpected {line} before closing"
            );
        }
    }

    /// Drops the connection with a reset, like a host that vanished.
    pub fn vanish(self) {
        let stream = self.reader.into_inner().reunite(self.writer).unwrap();
        // A zero linger resets at once instead of blocking the drop.
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
    }
}

pub async fn next_event(events: &async_channel::Receiver<Event>) -> Event {
    tokio::time::timeout(PATIENCE, events.recv())
        .await
        .expect("no event came")
        .expect("the event channel closed")
}

/// Skips events until one matches, returning it.
pub async fn wait_for(
    events: &async_channel::Receiver<Event>,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    loop {
        let event = next_event(events).await;
        if wanted(&event) {
            return event;
        }
        assert!(
            !matches!(event, Event::Disconnected { .. }),
            "disconnected while waiting: {event:?}"
        );
    }
}

/// Who we are once connected: `Event::Connected`'s server, nick and room.
#[derive(Debug)]
pub struct Connected {
    pub server: String,
    pub nick: String,
    pub room: String,
}

pub async fn wait_connected(events: &async_channel::Receiver<Event>) -> Connected {
    match wait_for(events, |e| matches!(e, Event::Connected { .. })).await {
        Event::Connected { server, nick, room } => Connected { server, nick, room },
        _ => unreachable!("wait_for returns what it waited for"),
    }
}

pub async fn wait_disconnected(
    events: &async_channel::Receiver<Event>,
) -> tcp_chat::network::DisconnectReason {
    loop {
        if let Event::Disconnected { reason } = next_event(events).await {
            return reason;
        }
    }
}
