//! The writing half of a connection. Chat lines are paced the way servers
//! expect (RFC 1459 §8.10: a short burst, then one line per interval), so
//! pasting a page does not get us killed for flooding; protocol lines such
//! as PONG and QUIT skip the queue.

use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Where the session puts lines for the writer task.
pub struct WriteQueue {
    urgent: mpsc::UnboundedSender<Vec<u8>>,
    paced: mpsc::UnboundedSender<Vec<u8>>,
    /// Lines queued and not yet written to the socket, of either kind.
    unwritten: Arc<AtomicUsize>,
}

impl WriteQueue {
    /// Protocol lines: sent ahead of any queued chat.
    pub fn urgent(&self, message: &Message) {
        self.unwritten.fetch_add(1, Ordering::AcqRel);
        // The writer only goes away with the connection, which the read side reports.
        let _ = self.urgent.send(message.to_bytes());
    }

    /// What the person does (messages, nick and topic changes): paced, in order.
    pub fn paced(&self, message: &Message) {
        self.unwritten.fetch_add(1, Ordering::AcqRel);
        let _ = self.paced.send(message.to_bytes());
    }

    /// A line worth sending only now (a typing notification): written when
    /// nothing else waits, else dropped, so such lines never pile up behind
    /// chat or a socket that does not drain. Whether it was queued.
    pub fn ephemeral(&self, message: &Message) -> bool {
        let idle = self
            .unwritten
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if idle {
            let _ = self.urgent.send(message.to_bytes());
        }
        idle
    }
}

/// Starts the writer task. It ends with an error if writing fails, or
/// cleanly once the [`WriteQueue`] is dropped.
pub fn spawn(writer: WriteHalf, pacing: Pacing) -> (WriteQueue, JoinHandle<std::io::Result<()>>) {
    let (urgent, urgent_lines) = mpsc::unbounded_channel();
    let (paced, paced_lines) = mpsc::unbounded_channel();
    let unwritten = Arc::new(AtomicUsize::new(0));
    let lines = Lines {
        urgent: urgent_lines,
        paced: paced_lines,
        unwritten: Arc::clone(&unwritten),
    };
    let task = tokio::spawn(write_lines(writer, lines, pacing));
    let queue = WriteQueue {
        urgent,
        paced,
        unwritten,
    };
    (queue, task)
}

/// Lines taken per wake-up, so a flood is written in few system calls.
const BATCH: usize = 256;

/// The writer task's end of a [`WriteQueue`].
struct Lines {
    urgent: mpsc::UnboundedReceiver<Vec<u8>>,
    paced: mpsc::UnboundedReceiver<Vec<u8>>,
    unwritten: Arc<AtomicUsize>,
}

async fn write_lines(mut writer: WriteHalf, lines: Lines, pacing: Pacing) -> std::io::Result<()> {
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
        for line in urgent_batch.drain(..).chain(paced_batch.drain(..)) {
            bytes.extend_from_slice(&line);
        }
        writer.write_all(&bytes).await?;
        unwritten.fetch_sub(count, Ordering::AcqRel);
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
