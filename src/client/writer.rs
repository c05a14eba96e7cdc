//! The writing half of a connection. Chat lines are paced the way servers
//! expect (RFC 1459 §8.10: a short burst, then one line per interval), so
//! pasting a page does not get us killed for flooding; protocol lines such
//! as PONG and QUIT skip the queue. What waits is bounded in bytes, and a
//! host that stops taking what we write ends the connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::protocol::Message;
use crate::transport::WriteHalf;

/// How fast chat lines may leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Steady rate: one chat line per `interval`. Zero turns pacing off.
    pub interval: Duration,
    /// Lines that may leave at once before the steady rate applies.
    pub burst: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        // The RFC 1459 server rule: 2 s per message, up to 10 s ahead.
        Pacing {
            interval: Duration::from_secs(2),
            burst: 5,
        }
    }
}

/// Bytes of protocol lines (PONGs, CAP, JOIN…) that may wait for the
/// socket: far more than a server that reads ever makes us owe, so only one
/// that keeps asking (a PING flood) without reading our answers reaches it.
pub const MAX_UNWRITTEN_URGENT_BYTES: usize = 64 * 1024;
/// Bytes of the person's lines that may wait, paced, for the socket: above
/// what the outbox keeps (256 KiB of text, plus each line's command and tag).
pub const MAX_UNWRITTEN_PACED_BYTES: usize = 1024 * 1024;

/// Where the session puts lines for the writer task. The channels are
/// bounded in bytes (lines vary from a PONG to a 512-byte PRIVMSG): a line
/// beyond the budget is refused and the queue counts as backlogged, which
/// ends the session.
pub struct WriteQueue {
    urgent: mpsc::UnboundedSender<Vec<u8>>,
    paced: mpsc::UnboundedSender<Vec<u8>>,
    unwritten: Arc<Unwritten>,
    backlogged: AtomicBool,
}

/// What the session queued and the writer task has not yet written.
#[derive(Default)]
struct Unwritten {
    /// Lines of either kind.
    lines: AtomicUsize,
    urgent_bytes: AtomicUsize,
    paced_bytes: AtomicUsize,
}

impl WriteQueue {
    /// Protocol lines: sent ahead of any queued chat.
    pub fn urgent(&self, message: &Message) {
        let line = message.to_bytes();
        if self.admit(
            &self.unwritten.urgent_bytes,
            MAX_UNWRITTEN_URGENT_BYTES,
            &line,
        ) {
            // The writer only goes away with the connection, which the read side reports.
            let _ = self.urgent.send(line);
        }
    }

    /// What the person does (messages, nick and topic changes): paced, in order.
    pub fn paced(&self, message: &Message) {
        let line = message.to_bytes();
        if self.admit(
            &self.unwritten.paced_bytes,
            MAX_UNWRITTEN_PACED_BYTES,
            &line,
        ) {
            let _ = self.paced.send(line);
        }
    }

    /// A line worth sending only now (a typing notification): written when
    /// nothing else waits, else dropped, so such lines never pile up behind
    /// chat or a socket that does not drain. Whether it was queued.
    pub fn ephemeral(&self, message: &Message) -> bool {
        let idle = self
            .unwritten
            .lines
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if idle {
            let line = message.to_bytes();
            self.unwritten
                .urgent_bytes
                .fetch_add(line.len(), Ordering::AcqRel);
            let _ = self.urgent.send(line);
        }
        idle
    }

    /// Whether a line was refused because the host is not taking what we
    /// write: the connection is of no more use.
    pub fn is_backlogged(&self) -> bool {
        self.backlogged.load(Ordering::Acquire)
    }

    /// Counts `line` against `budget`, or marks the queue backlogged.
    fn admit(&self, bytes: &AtomicUsize, budget: usize, line: &[u8]) -> bool {
        let queued = bytes.fetch_add(line.len(), Ordering::AcqRel) + line.len();
        if queued > budget {
            bytes.fetch_sub(line.len(), Ordering::AcqRel);
            self.backlogged.store(true, Ordering::Release);
            log::info!("the host does not read what we write; {queued} bytes would wait");
            return false;
        }
        self.unwritten.lines.fetch_add(1, Ordering::AcqRel);
        true
    }
}

/// Starts the writer task. It ends with an error if writing fails or makes
/// no progress for `stall_timeout` (an [`std::io::ErrorKind::TimedOut`]),
/// or cleanly once the [`WriteQueue`] is dropped.
pub fn spawn(
    writer: WriteHalf,
    pacing: Pacing,
    stall_timeout: Duration,
) -> (WriteQueue, JoinHandle<std::io::Result<()>>) {
    let (urgent, urgent_lines) = mpsc::unbounded_channel();
    let (paced, paced_lines) = mpsc::unbounded_channel();
    let unwritten = Arc::new(Unwritten::default());
    let lines = Lines {
        urgent: urgent_lines,
        paced: paced_lines,
        unwritten: Arc::clone(&unwritten),
    };
    let task = tokio::spawn(write_lines(
        Stalling {
            writer,
            stall_timeout,
        },
        lines,
        pacing,
    ));
    let queue = WriteQueue {
        urgent,
        paced,
        unwritten,
        backlogged: AtomicBool::new(false),
    };
    (queue, task)
}

/// Lines taken per wake-up, so a flood is written in few system calls.
const BATCH: usize = 256;

/// The writer task's end of a [`WriteQueue`].
struct Lines {
    urgent: mpsc::UnboundedReceiver<Vec<u8>>,
    paced: mpsc::UnboundedReceiver<Vec<u8>>,
    unwritten: Arc<Unwritten>,
}

/// The socket, and how long a write may make no progress.
struct Stalling {
    writer: WriteHalf,
    stall_timeout: Duration,
}

impl Stalling {
    /// Writes all of `bytes`; gives up once the host has taken nothing for
    /// the stall timeout (it stopped reading, or the network is gone).
    async fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let written = tokio::time::timeout(self.stall_timeout, self.writer.write(bytes))
                .await
                .map_err(|_| stalled())??;
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[written..];
        }
        Ok(())
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        tokio::time::timeout(self.stall_timeout, self.writer.shutdown())
            .await
            .map_err(|_| stalled())?
    }
}

fn stalled() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the host took nothing we wrote for too long",
    )
}

async fn write_lines(mut writer: Stalling, lines: Lines, pacing: Pacing) -> std::io::Result<()> {
    let Lines {
        mut urgent,
        mut paced,
        unwritten,
    } = lines;
    let mut pacer = Pacer::new(pacing);
    let mut urgent_batch = Vec::with_capacity(BATCH);
    let mut paced_batch = Vec::with_capacity(BATCH);
    let mut bytes = Vec::with_capacity(16 * 1024);
    loop {
        let allowed = pacer.allowed_now();
        tokio::select! {
            biased;
            taken = urgent.recv_many(&mut urgent_batch, BATCH) => {
                if taken == 0 {
                    break;
                }
            }
            taken = paced.recv_many(&mut paced_batch, allowed), if allowed > 0 => {
                if taken == 0 {
                    break;
                }
                pacer.sent(taken);
            }
            () = tokio::time::sleep_until(pacer.next_allowed()), if allowed == 0 => continue,
        }
        bytes.clear();
        let count = urgent_batch.len() + paced_batch.len();
        let urgent_bytes: usize = urgent_batch.iter().map(Vec::len).sum();
        for line in urgent_batch.drain(..).chain(paced_batch.drain(..)) {
            bytes.extend_from_slice(&line);
        }
        writer.write_all(&bytes).await?;
        unwritten.lines.fetch_sub(count, Ordering::AcqRel);
        unwritten
            .urgent_bytes
            .fetch_sub(urgent_bytes, Ordering::AcqRel);
        unwritten
            .paced_bytes
            .fetch_sub(bytes.len() - urgent_bytes, Ordering::AcqRel);
    }
    writer.shutdown().await
}

/// The RFC 1459 §8.10 message timer, seen from the sender's side.
struct Pacer {
    pacing: Pacing,
    /// Runs ahead of the clock by one interval per line sent.
    timer: Instant,
}

impl Pacer {
    fn new(pacing: Pacing) -> Self {
        Pacer {
            pacing,
            timer: Instant::now(),
        }
    }

    fn window(&self) -> Duration {
        self.pacing.interval * self.pacing.burst.max(1)
    }

    /// How many chat lines may go right now.
    fn allowed_now(&self) -> usize {
        if self.pacing.interval.is_zero() {
            return BATCH;
        }
        let ahead = self.timer.saturating_duration_since(Instant::now());
        let room = self.window().saturating_sub(ahead);
        let lines = room.as_nanos() / self.pacing.interval.as_nanos();
        usize::try_from(lines).map_or(BATCH, |lines| lines.min(BATCH))
    }

    /// When the next chat line may go, once none may now.
    fn next_allowed(&self) -> Instant {
        let wait = self.window().saturating_sub(self.pacing.interval);
        self.timer.checked_sub(wait).unwrap_or(self.timer)
    }

    fn sent(&mut self, lines: usize) {
        let now = Instant::now();
        let lines = u32::try_from(lines).unwrap_or(u32::MAX);
        self.timer = self.timer.max(now) + self.pacing.interval * lines;
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::{TcpSocket, TcpStream};

    use super::*;

    /// Our end of a connection whose other end never reads (returned, to
    /// keep it open), with small buffers both ways so writes block soon.
    async fn unread_connection() -> (WriteHalf, TcpStream) {
        let listening = TcpSocket::new_v4().unwrap();
        listening.set_recv_buffer_size(4096).unwrap();
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listening.listen(1).unwrap();
        let ours = TcpSocket::new_v4().unwrap();
        ours.set_send_buffer_size(4096).unwrap();
        let (ours, theirs) = tokio::join!(
            ours.connect(listener.local_addr().unwrap()),
            listener.accept()
        );
        let (_read, write) = crate::transport::plain(ours.unwrap());
        (write, theirs.unwrap().0)
    }

    #[tokio::test]
    async fn a_host_that_takes_nothing_ends_the_writer() {
        let (write, _never_read) = unread_connection().await;
        let (queue, task) = spawn(write, Pacing::default(), Duration::from_millis(100));
        let line = Message::new("PRIVMSG", ["#room", &"x".repeat(400)]);
        // Within the budget (the queue takes them all), beyond the buffers.
        for _ in 0..100 {
            queue.urgent(&line);
        }
        assert!(!queue.is_backlogged());
        let ended = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("the writer gave up")
            .expect("the writer task ran");
        assert_eq!(
            ended.map_err(|err| err.kind()),
            Err(std::io::ErrorKind::TimedOut)
        );
    }

    #[tokio::test]
    async fn lines_beyond_the_budget_mark_the_queue_backlogged() {
        let (write, _never_read) = unread_connection().await;
        let (queue, _task) = spawn(write, Pacing::default(), Duration::from_secs(60));
        let pong = Message::new("PONG", [&"x".repeat(400)]);
        let fits = MAX_UNWRITTEN_URGENT_BYTES / pong.to_bytes().len();
        for _ in 0..fits {
            queue.urgent(&pong);
        }
        // The socket took some: the budget counts only what waits.
        let filling = async {
            while !queue.is_backlogged() {
                queue.urgent(&pong);
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), filling)
            .await
            .expect("the queue took everything");
    }
}
