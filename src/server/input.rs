//! Reading a client's lines while watching the clock: registration deadline,
//! keep-alive PINGs, flood delays, queue overflow and host shutdown.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::flood::TokenBucket;
use super::send_queue::{Dropped, SendQueue};
use crate::protocol::{Line, LineCodec, Message};
use crate::transport::ReadHalf;

/// Read size; the buffer starts empty and grows only while a line needs it.
const READ_CHUNK_BYTES: usize = 512;

/// Why a connection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ending {
    /// The peer closed the connection or it broke.
    PeerClosed,
    /// QUIT, `exit` or `/quit`, with the client's reason.
    Quit(Option<String>),
    HostClosing,
    /// The client stopped reading and its send queue filled up.
    Overflow,
    /// The client stopped reading: a write made no progress for the ping
    /// timeout, its queue not yet full.
    Stalled,
    RegistrationTimeout,
    PingTimeout,
    BadPassword,
    /// Too many wrong passwords from the client's address lately.
    Banned,
}

pub(super) enum Next {
    Line(Line),
    End(Ending),
}

pub(super) struct Input {
    lines: LineReader,
    queue: SendQueue,
    shutdown: CancellationToken,
    registration_deadline: Option<Instant>,
    /// `(interval, timeout, server name)` once PINGs should be sent.
    keepalive: Option<(Duration, Duration, String)>,
    flood: Option<TokenBucket>,
}

impl Input {
    pub fn new(
        socket: ReadHalf,
        queue: SendQueue,
        shutdown: CancellationToken,
        registration_deadline: Instant,
        flood_control: bool,
    ) -> Self {
        Input {
            lines: LineReader {
                socket,
                codec: LineCodec::new(),
                buffer: BytesMut::new(),
            },
            queue,
            shutdown,
            registration_deadline: Some(registration_deadline),
            keepalive: None,
            // From the first line: registering is no way round it.
            flood: flood_control.then(|| TokenBucket::new(std::time::Instant::now())),
        }
    }

    /// Called once the client has a name: no more deadline; keep-alive PINGs
    /// (IRC clients only) from now on. Flood control went on with the
    /// connection: its bucket carries on as it is, never refilled here.
    pub fn registered(
        &mut self,
        keepalive: Option<(Duration, Duration, String)>,
        flood_control: bool,
    ) {
        self.registration_deadline = None;
        self.keepalive = keepalive;
        if flood_control && self.flood.is_none() {
            self.flood = Some(TokenBucket::new(std::time::Instant::now()));
        }
    }

    /// Queues one of the client's own replies, waiting for room in its
    /// queue but not past shutdown, an overflow, the registration deadline
    /// or (registered) as long as an unanswered keep-alive PING would take:
    /// a client that stopped reading must time out here as when reading.
    pub async fn deliver(&mut self, line: &[u8]) -> Result<(), Ending> {
        let (deadline, ending) = match (&self.registration_deadline, &self.keepalive) {
            (Some(deadline), _) => (Some(*deadline), Ending::RegistrationTimeout),
            (None, Some((interval, timeout, _))) => (
                Some(Instant::now() + *interval + *timeout),
                Ending::PingTimeout,
            ),
            (None, None) => (None, Ending::Overflow),
        };
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => Err(Ending::HostClosing),
            why = self.queue.dropped() => Err(dropped(why)),
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)),
                if deadline.is_some() => Err(ending),
            sent = self.queue.send(line) => sent.map_err(|_| Ending::PeerClosed),
        }
    }

    /// The first line, if one comes before `deadline`; `Ok(None)` on silence.
    pub async fn first(&mut self, deadline: Instant) -> Result<Option<Line>, Ending> {
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => Err(Ending::HostClosing),
            () = tokio::time::sleep_until(deadline) => Ok(None),
            line = self.lines.next_line() => line.map(Some),
        }
    }

    pub async fn next(&mut self) -> Next {
        if let Some(deadline) = self.registration_deadline {
            // Not in yet: wait while the host is still announcing others.
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Next::End(Ending::HostClosing),
                () = tokio::time::sleep_until(deadline) => {
                    return Next::End(Ending::RegistrationTimeout);
                }
                () = self.queue.backlog().admit() => {}
            }
        }
        let mut awaiting_pong = false;
        let line = loop {
            // One timer for both: the registration deadline goes when
            // keep-alive starts. (Each timer in the select is room in every
            // idle connection's task.)
            let alarm = match (self.registration_deadline, &self.keepalive) {
                (Some(deadline), _) => Some(deadline),
                (None, Some((interval, timeout, _))) => {
                    Some(Instant::now() + if awaiting_pong { *timeout } else { *interval })
                }
                (None, None) => None,
            };
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return Next::End(Ending::HostClosing),
                why = self.queue.dropped() => return Next::End(dropped(why)),
                () = tokio::time::sleep_until(alarm.unwrap_or_else(Instant::now)), if alarm.is_some() => {
                    if self.registration_deadline.is_some() {
                        return Next::End(Ending::RegistrationTimeout);
                    }
                    if awaiting_pong {
                        return Next::End(Ending::PingTimeout);
                    }
                    if let Some((_, _, server)) = &self.keepalive {
                        self.queue.push(&Message::new("PING", [server.as_str()]).to_bytes());
                    }
                    awaiting_pong = true;
                }
                line = self.lines.next_line() => match line {
                    Ok(line) => break line,
                    Err(ending) => return Next::End(ending),
                },
            }
        };
        if let Some(bucket) = &mut self.flood {
            let delay = bucket.delay(std::time::Instant::now());
            if !delay.is_zero() {
                tokio::select! {
                    () = self.shutdown.cancelled() => return Next::End(Ending::HostClosing),
                    why = self.queue.dropped() => return Next::End(dropped(why)),
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
        Next::Line(line)
    }
}

/// Lines from the socket through [`LineCodec`]; the buffer grows only as a
/// line needs it, and (plain text) is let go while nothing is half-read and
/// the socket is quiet. Cancel-safe: bytes are only ever added by a finished
/// read.
struct LineReader {
    socket: ReadHalf,
    codec: LineCodec,
    buffer: BytesMut,
}

impl LineReader {
    async fn next_line(&mut self) -> Result<Line, Ending> {
        loop {
            match self.codec.decode(&mut self.buffer) {
                Ok(Some(line)) => return Ok(line),
                Ok(None) => {}
                Err(err) => return Err(read_failed(&err)),
            }
            // Plain text: no buffer while the client is quiet (most of a
            // crowd is), one the size of what came when it speaks.
            let read = match self
                .socket
                .read_when_ready::<READ_CHUNK_BYTES>(&mut self.buffer)
                .await
            {
                Some(read) => read,
                None => {
                    if self.buffer.capacity() - self.buffer.len() < READ_CHUNK_BYTES / 4 {
                        self.buffer.reserve(READ_CHUNK_BYTES);
                    }
                    self.socket.read_buf(&mut self.buffer).await
                }
            };
            match read {
                Ok(0) => {
                    return match self.codec.decode_eof(&mut self.buffer) {
                        Ok(Some(line)) => Ok(line),
                        _ => Err(Ending::PeerClosed),
                    }
                }
                Ok(_) => {}
                Err(err) => return Err(read_failed(&err)),
            }
        }
    }
}

/// Why the send queue dropped the client, as the connection's end.
fn dropped(why: Dropped) -> Ending {
    match why {
        Dropped::Overflow => Ending::Overflow,
        Dropped::Stalled => Ending::Stalled,
    }
}

fn read_failed(err: &std::io::Error) -> Ending {
    log::debug!("read failed: {err}");
    Ending::PeerClosed
}
