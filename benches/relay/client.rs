//! One load-generator connection: registration, a cheap line reader and the
//! benchmark message format.
//!
//! Control lines (numerics, JOIN, PING, ERROR) go through
//! `tcp_chat::protocol::Message`. The data plane (hundreds of thousands of
//! relayed lines a second) is scanned in place without allocating, so the
//! generator leaves the shared CPU to the server under test.
//!
//! A connection is plain TCP or TLS ([`Target::tls`]); over TLS the client
//! trusts exactly the host's certificate, by fingerprint (the tests' own
//! pinning verifier, `tests/support/tls.rs`).

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use tcp_chat::protocol::trust::Fingerprint;
use tcp_chat::protocol::{fold_case, numeric, Message};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;

use crate::pinned_tls;

/// Enough for a burst of relayed lines; 10,000 idle clients cost 160 MiB.
const READ_BUFFER_BYTES: usize = 16 * 1024;
/// Makes a benchmark line about as long as a typical chat message.
const PADDING: &str = "lorem ipsum dolor sit amet consectetur adipiscing";

/// What a line handler wants the reader to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop after this line; the rest stays buffered for the next read.
    Stop,
}

/// Microseconds since a shared start, so every client's timestamps compare.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            base: Instant::now(),
        }
    }

    pub fn now_us(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// A relayed benchmark message: `~b SENDER SEQ SENT_US padding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchMessage {
    pub sender: usize,
    pub seq: u64,
    pub sent_us: u64,
}

/// Appends one benchmark PRIVMSG to `out` (no allocation).
pub fn write_bench_privmsg(out: &mut Vec<u8>, room: &str, message: BenchMessage) {
    let BenchMessage {
        sender,
        seq,
        sent_us,
    } = message;
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "PRIVMSG {room} :~b {sender} {seq} {sent_us} {PADDING}\r\n"
    );
}

/// Finds a benchmark message in a relayed line, if it is one. The payload
/// holds no `:`, so the trailing parameter starts after the last one.
pub fn bench_message(line: &[u8]) -> Option<BenchMessage> {
    let colon = memchr::memrchr(b':', line)?;
    let mut words = line[colon + 1..]
        .strip_prefix(b"~b ")?
        .split(|b| *b == b' ');
    let mut number = || parse_decimal(words.next()?);
    Some(BenchMessage {
        sender: usize::try_from(number()?).ok()?,
        seq: number()?,
        sent_us: number()?,
    })
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, digit| {
        let digit = digit.checked_sub(b'0').filter(|d| *d < 10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The command word of a raw line, skipping tags and prefix, borrowed.
pub fn command_of(line: &[u8]) -> &[u8] {
    let mut rest = line;
    for marker in [b'@', b':'] {
        if rest.first() == Some(&marker) {
            rest = match memchr::memchr(b' ', rest) {
                Some(space) => &rest[space + 1..],
                None => &[],
            };
        }
    }
    match memchr::memchr(b' ', rest) {
        Some(space) => &rest[..space],
        None => rest,
    }
}

/// When registration and the join completed.
#[derive(Debug, Clone, Copy)]
pub struct JoinTimes {
    pub connect_started: Instant,
    pub join_sent: Instant,
    pub joined: Instant,
}

/// Where a client connects, and whether over TLS.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub addr: SocketAddr,
    /// `Some`: TLS, trusting only the certificate with this fingerprint.
    pub tls: Option<Fingerprint>,
}

impl Target {
    pub fn plain(addr: SocketAddr) -> Self {
        Target { addr, tls: None }
    }
}

/// The socket under a connection. TLS is boxed: its session state is a
/// few KiB, and a plain crowd should not pay for it.
enum Transport {
    Plain(TcpStream),
    Tls(Box<pinned_tls::TlsStream>, Arc<WokenFlag>),
}

/// Remembers a wake-up: a non-blocking TLS read that comes back pending
/// without the socket being drained (rustls asking to be polled again)
/// wakes its waker at once, and must then be retried rather than waiting
/// for the socket.
#[derive(Default)]
struct WokenFlag(AtomicBool);

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Transport {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(stream) => stream.read(buf).await,
            Transport::Tls(stream, _) => stream.read(buf).await,
        }
    }

    /// One read that never waits.
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<TryRead> {
        let read = match self {
            Transport::Plain(stream) => match stream.try_read(buf) {
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(TryRead::NotReady)
                }
                Err(err) => return Err(err),
            },
            Transport::Tls(stream, woken) => {
                woken.0.store(false, Ordering::Relaxed);
                let waker = Waker::from(Arc::clone(woken));
                let mut read_buf = ReadBuf::new(buf);
                let mut cx = Context::from_waker(&waker);
                match Pin::new(&mut **stream).poll_read(&mut cx, &mut read_buf) {
                    Poll::Ready(Ok(())) => read_buf.filled().len(),
                    Poll::Ready(Err(err)) => return Err(err),
                    // Woken at once or not: `readable` knows which.
                    Poll::Pending => return Ok(TryRead::NotReady),
                }
            }
        };
        Ok(if read == 0 {
            TryRead::Closed
        } else {
            TryRead::Read(read)
        })
    }

    /// Resolves when the socket may have input (cancel-safe), after
    /// [`Transport::try_read`] found nothing.
    async fn readable(&self) -> io::Result<()> {
        match self {
            Transport::Plain(stream) => stream.readable().await,
            // rustls asked to be polled again: more may come without the
            // socket becoming readable. Others run first, so that cannot spin.
            Transport::Tls(_, woken) if woken.0.load(Ordering::Relaxed) => {
                tokio::task::yield_now().await;
                Ok(())
            }
            Transport::Tls(stream, _) => stream.get_ref().0.readable().await,
        }
    }

    /// Writes everything; over TLS also flushes, so no record is left in
    /// rustls's buffer waiting for the next write.
    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Transport::Plain(stream) => stream.write_all(bytes).await,
            Transport::Tls(stream, _) => {
                stream.write_all(bytes).await?;
                stream.flush().await
            }
        }
    }
}

/// What a read that never waits found.
enum TryRead {
    Read(usize),
    Closed,
    /// Nothing now: wait for [`Transport::readable`].
    NotReady,
}

/// A registered (or registering) client connection.
pub struct Conn {
    stream: Transport,
    buf: Box<[u8]>,
    filled: usize,
    /// Replies (PONG) waiting to be written by [`Conn::flush`].
    outbox: Vec<u8>,
    nick: String,
}

impl Conn {
    pub async fn connect(target: Target, nick: String) -> Result<Conn> {
        let addr = target.addr;
        let stream = match target.tls {
            None => {
                let stream = TcpStream::connect(addr)
                    .await
                    .with_context(|| format!("connecting to {addr}"))?;
                stream.set_nodelay(true).context("setting TCP_NODELAY")?;
                Transport::Plain(stream)
            }
            Some(fingerprint) => {
                let stream = pinned_tls::connect(addr, &fingerprint)
                    .await
                    .with_context(|| format!("connecting to {addr} over TLS"))?;
                stream
                    .get_ref()
                    .0
                    .set_nodelay(true)
                    .context("setting TCP_NODELAY")?;
                Transport::Tls(Box::new(stream), Arc::default())
            }
        };
        Ok(Conn {
            stream,
            buf: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
            filled: 0,
            outbox: Vec::new(),
            nick,
        })
    }

    /// Connects, registers, sends `setup` lines (e.g. OPER), joins `room`
    /// and waits for our own JOIN echo.
    pub async fn join(
        target: Target,
        nick: String,
        room: &str,
        setup: &[u8],
    ) -> Result<(Conn, JoinTimes)> {
        let connect_started = Instant::now();
        let mut conn = Conn::connect(target, nick).await?;
        conn.register().await?;
        conn.send(setup).await?;
        let join_sent = Instant::now();
        conn.send(format!("JOIN {room}\r\n").as_bytes()).await?;
        conn.await_own_join(room).await?;
        let times = JoinTimes {
            connect_started,
            join_sent,
            joined: Instant::now(),
        };
        Ok((conn, times))
    }

    /// NICK/USER until RPL_WELCOME, picking another nick if it is taken.
    pub async fn register(&mut self) -> Result<()> {
        let hello = format!("NICK {0}\r\nUSER {0} 0 * :bench\r\n", self.nick);
        self.send(hello.as_bytes()).await?;
        let mut outcome: Option<Result<()>> = None;
        let mut retry_nick: Option<String> = None;
        while outcome.is_none() {
            let nick = &mut self.nick;
            let open = read_and_process(
                &mut self.stream,
                &mut self.buf,
                &mut self.filled,
                &mut self.outbox,
                |line| {
                    let Some(message) = parse(line) else {
                        return Flow::Continue;
                    };
                    match message.command.as_str() {
                        numeric::RPL_WELCOME => {
                            if let Some(given) = message.param(0) {
                                given.clone_into(nick);
                            }
                            outcome = Some(Ok(()));
                            Flow::Stop
                        }
                        numeric::ERR_NICKNAMEINUSE => {
                            nick.push('_');
                            retry_nick = Some(nick.clone());
                            Flow::Stop
                        }
                        "ERROR" | numeric::ERR_ERRONEUSNICKNAME | numeric::ERR_PASSWDMISMATCH => {
                            outcome = Some(Err(anyhow::anyhow!("registration refused: {message}")));
                            Flow::Stop
                        }
                        _ => Flow::Continue,
                    }
                },
            )
            .await?;
            self.flush().await?;
            if let Some(nick) = retry_nick.take() {
                self.send(format!("NICK {nick}\r\n").as_bytes()).await?;
            }
            if !open && outcome.is_none() {
                bail!("server closed the connection during registration");
            }
        }
        outcome.unwrap_or(Ok(()))
    }

    async fn await_own_join(&mut self, room: &str) -> Result<()> {
        let own_nick = fold_case(&self.nick);
        let room_folded = fold_case(room);
        let mut outcome: Option<Result<()>> = None;
        while outcome.is_none() {
            let open = self
                .read_lines(|line| {
                    let command = command_of(line);
                    // Other members' JOINs and chatter are the bulk: skip them cheaply.
                    if !(command == b"JOIN"
                        || command == b"ERROR"
                        || command.first() == Some(&b'4'))
                    {
                        return Flow::Continue;
                    }
                    let Some(message) = parse(line) else {
                        return Flow::Continue;
                    };
                    let ours = message.source_nick().map(fold_case) == Some(own_nick.clone());
                    if message.command == "JOIN"
                        && ours
                        && message.param(0).map(fold_case) == Some(room_folded.clone())
                    {
                        outcome = Some(Ok(()));
                        return Flow::Stop;
                    }
                    if message.command == "ERROR" || is_join_refusal(&message.command) {
                        outcome = Some(Err(anyhow::anyhow!("join refused: {message}")));
                        return Flow::Stop;
                    }
                    Flow::Continue
                })
                .await?;
            self.flush().await?;
            if !open && outcome.is_none() {
                bail!("server closed the connection while joining");
            }
        }
        outcome.unwrap_or(Ok(()))
    }

    /// Awaits input once, then hands each complete line (without its line
    /// ending) to `on_line`; PINGs are answered into the outbox. Returns
    /// `Ok(false)` at end of stream. Cancel-safe: nothing is consumed until
    /// the read completes, and nothing is written.
    pub async fn read_lines(&mut self, on_line: impl FnMut(&[u8]) -> Flow) -> io::Result<bool> {
        read_and_process(
            &mut self.stream,
            &mut self.buf,
            &mut self.filled,
            &mut self.outbox,
            on_line,
        )
        .await
    }

    /// Like [`Conn::read_lines`] but never waits: `Ok(None)` when nothing
    /// was ready, else the bytes read (0: end of stream).
    pub fn try_read_lines(
        &mut self,
        on_line: impl FnMut(&[u8]) -> Flow,
    ) -> io::Result<Option<usize>> {
        let read = self.try_read()?;
        if let Some(read @ 1..) = read {
            self.filled += read;
            process_lines(&mut self.buf, &mut self.filled, &mut self.outbox, on_line);
        }
        Ok(read)
    }

    /// [`Conn::try_read_lines`] for a member that needs none of its lines
    /// (no benchmark messages are sent): only PINGs are looked for and
    /// answered. A join storm is millions of lines, and splitting every
    /// one took a quarter of the generator's CPU.
    pub fn try_skim(&mut self) -> io::Result<Option<usize>> {
        let read = self.try_read()?;
        if let Some(read @ 1..) = read {
            self.filled += read;
            skim_lines(&mut self.buf, &mut self.filled, &mut self.outbox);
        }
        Ok(read)
    }

    /// One read into the free end of the buffer, never waiting.
    fn try_read(&mut self) -> io::Result<Option<usize>> {
        Ok(match self.stream.try_read(&mut self.buf[self.filled..])? {
            TryRead::NotReady => None,
            TryRead::Closed => Some(0),
            TryRead::Read(read) => Some(read),
        })
    }

    /// Resolves when the socket may have input (cancel-safe).
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    /// Writes pending PONGs.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.outbox.is_empty() {
            self.stream.write_all(&self.outbox).await?;
            self.outbox.clear();
        }
        Ok(())
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Quits and waits (bounded) for the server to close the connection, so
    /// the nick is free and the server, not us, holds the TIME_WAIT.
    pub async fn quit(mut self, wait: Duration) {
        if self.send(b"QUIT :bench\r\n").await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(wait, async {
            while let Ok(true) = self.read_lines(|_| Flow::Continue).await {}
        })
        .await;
    }
}

fn is_join_refusal(command: &str) -> bool {
    matches!(
        command,
        numeric::ERR_NOSUCHCHANNEL
            | numeric::ERR_CHANNELISFULL
            | numeric::ERR_BANNEDFROMCHAN
            | numeric::ERR_BADCHANNELKEY
            | numeric::ERR_NOTREGISTERED
            | "405" // ERR_TOOMANYCHANNELS
            | "473" // ERR_INVITEONLYCHAN
    )
}

fn parse(line: &[u8]) -> Option<Message> {
    Message::parse(&String::from_utf8_lossy(line)).ok()
}

/// One read, then every complete line. A free function so the borrows of
/// the buffer and the stream stay disjoint.
async fn read_and_process(
    stream: &mut Transport,
    buf: &mut [u8],
    filled: &mut usize,
    outbox: &mut Vec<u8>,
    mut on_line: impl FnMut(&[u8]) -> Flow,
) -> io::Result<bool> {
    // Lines left over from a handler that stopped early come first.
    if process_lines(buf, filled, outbox, &mut on_line) == Flow::Stop {
        return Ok(true);
    }
    let read = stream.read(&mut buf[*filled..]).await?;
    if read == 0 {
        return Ok(false);
    }
    *filled += read;
    process_lines(buf, filled, outbox, on_line);
    Ok(true)
}

fn process_lines(
    buf: &mut [u8],
    filled: &mut usize,
    outbox: &mut Vec<u8>,
    mut on_line: impl FnMut(&[u8]) -> Flow,
) -> Flow {
    let mut start = 0;
    let mut flow = Flow::Continue;
    while let Some(offset) = memchr::memchr(b'\n', &buf[start..*filled]) {
        let end = start + offset;
        let line = &buf[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start = end + 1;
        if command_of(line) == b"PING" {
            answer_ping(line, outbox);
        } else if on_line(line) == Flow::Stop {
            flow = Flow::Stop;
            break;
        }
    }
    buf.copy_within(start..*filled, 0);
    *filled -= start;
    if *filled == buf.len() {
        // A line longer than the buffer is not IRC: drop it rather than stall.
        *filled = 0;
    }
    flow
}

fn answer_ping(line: &[u8], outbox: &mut Vec<u8>) {
    if let Some(ping) = parse(line) {
        Message::new("PONG", [ping.param(0).unwrap_or("bench")]).write_to(outbox);
    }
}

/// Answers the PINGs among the complete lines buffered and drops those
/// lines, keeping a partial last line; no other line is looked at.
fn skim_lines(buf: &mut [u8], filled: &mut usize, outbox: &mut Vec<u8>) {
    let Some(last_newline) = memchr::memrchr(b'\n', &buf[..*filled]) else {
        if *filled == buf.len() {
            // A line longer than the buffer is not IRC: drop it rather than stall.
            *filled = 0;
        }
        return;
    };
    let complete = &buf[..=last_newline];
    let mut answered_up_to = 0;
    // A PING may come with a prefix or tags: each hit is checked as a line.
    for hit in memchr::memmem::find_iter(complete, b"PING") {
        if hit < answered_up_to {
            continue;
        }
        let start = memchr::memrchr(b'\n', &complete[..hit]).map_or(0, |at| at + 1);
        let end = hit + memchr::memchr(b'\n', &complete[hit..]).unwrap_or(complete.len() - hit);
        let line = &complete[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if command_of(line) == b"PING" {
            answer_ping(line, outbox);
        }
        answered_up_to = end;
    }
    buf.copy_within(last_newline + 1..*filled, 0);
    *filled -= last_newline + 1;
}

/// Checks of the line helpers, run by `cargo test --benches` (a
/// `harness = false` target has no `#[test]` functions).
pub fn self_check() -> Result<()> {
    let message = BenchMessage {
        sender: 7,
        seq: 42,
        sent_us: 123_456,
    };
    let mut out = b":s7!~s7@127.0.0.1 ".to_vec();
    write_bench_privmsg(&mut out, "#chat", message);
    let line = out.strip_suffix(b"\r\n").context("CRLF")?;
    anyhow::ensure!(
        bench_message(line) == Some(message),
        "bench message round trip"
    );
    anyhow::ensure!(command_of(line) == b"PRIVMSG", "command of a relayed line");
    anyhow::ensure!(
        bench_message(b":a!b@c PRIVMSG #chat :hello").is_none(),
        "plain text"
    );
    anyhow::ensure!(
        bench_message(b":a PRIVMSG #c :~b 1 x 3").is_none(),
        "bad number"
    );
    anyhow::ensure!(
        command_of(b"@t=1 :srv 001 me :hi") == b"001",
        "tags and prefix"
    );
    anyhow::ensure!(command_of(b"PING :x") == b"PING", "bare command");
    anyhow::ensure!(command_of(b":only-prefix").is_empty(), "prefix only");
    let mut buf = *b"PING :a\r\n:x 001 me :hi\nhalf";
    let mut filled = buf.len();
    let mut outbox = Vec::new();
    let mut seen = Vec::new();
    process_lines(&mut buf, &mut filled, &mut outbox, |line| {
        seen.push(line.to_vec());
        Flow::Continue
    });
    anyhow::ensure!(
        seen == [b":x 001 me :hi".to_vec()],
        "line splitting: {seen:?}"
    );
    anyhow::ensure!(outbox == b"PONG a\r\n", "PING answered");
    anyhow::ensure!(&buf[..filled] == b"half", "partial line kept");
    let mut buf = *b":a JOIN #c\r\nPING :a\r\n:s PING b\r\n:PING JOIN #c\r\nPI";
    let mut filled = buf.len();
    let mut outbox = Vec::new();
    skim_lines(&mut buf, &mut filled, &mut outbox);
    anyhow::ensure!(
        outbox == b"PONG a\r\nPONG b\r\n",
        "skimming answers PINGs only: {:?}",
        String::from_utf8_lossy(&outbox)
    );
    anyhow::ensure!(&buf[..filled] == b"PI", "skimming keeps a partial line");
    Ok(())
}
