//! A client's bounded send queue and the task that drains it into the socket.
//!
//! The queue is one byte buffer. A broadcast copies its line in: copying a
//! hundred bytes is cheaper than sharing one reference-counted line whose
//! count every recipient's writer then bumps from another core. The writer
//! swaps the whole buffer out and writes it with one call, so a busy client
//! costs one system call per batch, and two buffers take turns without
//! allocating. A client that has been quiet for a moment holds no buffer.
//!
//! Senders never wait: a full queue means the client stopped reading, so it
//! is marked for dropping instead of slowing whoever is broadcasting. The
//! queue is bounded in bytes (what is queued plus what the writer is still
//! writing), like InspIRCd's sendq: counting lines would let long lines
//! take many times the memory.

use std::future::poll_fn;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::transport::WriteHalf;

/// A first line into an empty queue reserves this much, so the next few
/// lines of a burst do not each grow the buffer.
const FIRST_RESERVE_BYTES: usize = 1024;
/// A buffer grown past this by a burst is freed rather than kept for reuse.
/// Smaller ones are kept while lines keep coming: with 4 KiB, clients sent
/// more than they read freed and regrew theirs for every batch, and as
/// jemalloc hands out blocks over 16 KiB as runs of pages, the fan-out to
/// 1,000 members cost a sixth more CPU per line (`make bench`). The price
/// is memory while busy: a 10,000-client join storm peaks at about 240 MiB
/// instead of 134.
const KEEP_BYTES: usize = 16 * 1024;
/// A client quiet this long gives its buffers back.
const KEEP_FOR: Duration = Duration::from_millis(250);
/// Above this many bytes queued for all clients together, clients still
/// registering wait: a crowd joining a big room at once is announced to
/// every member, and unchecked those announcements pile up in memory
/// faster than they can be written.
const BACKLOG_ADMIT_BYTES: isize = 16 * 1024 * 1024;
/// A write that takes nothing for this long means the peer is not reading
/// right now: its queue stops counting in the [`Backlog`], so clients that
/// stopped reading never hold newcomers back (only queues being drained say
/// how busy the host is).
const STUCK_AFTER: Duration = Duration::from_millis(500);

/// Bytes queued for all clients together that their writers have not
/// taken yet, and newcomers waiting for it to fall.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    /// Signed: a broadcast adds its total after its lines are queued, so a
    /// quick writer may take them first.
    bytes: AtomicIsize,
    eased: Notify,
}

impl Backlog {
    pub(super) fn add(&self, bytes: usize) {
        if bytes > 0 {
            self.bytes.fetch_add(signed(bytes), Ordering::Relaxed);
        }
    }

    fn remove(&self, bytes: usize) {
        let before = self.bytes.fetch_sub(signed(bytes), Ordering::AcqRel);
        if before >= BACKLOG_ADMIT_BYTES && before - signed(bytes) < BACKLOG_ADMIT_BYTES {
            self.eased.notify_waiters();
        }
    }

    /// Resolves once the backlog is small enough to take on a newcomer.
    pub(super) async fn admit(&self) {
        loop {
            let mut eased = pin!(self.eased.notified());
            eased.as_mut().enable();
            if self.bytes.load(Ordering::Acquire) < BACKLOG_ADMIT_BYTES {
                return;
            }
            eased.await;
        }
    }
}

fn signed(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

/// The sending side of one client's queue; cheap to clone. The writer
/// flushes and closes the socket once every clone is gone.
#[derive(Debug)]
pub(super) struct SendQueue {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Bytes the queue (and the write under way) may hold before the client
    /// counts as not reading.
    capacity: usize,
    /// Live `SendQueue` clones.
    senders: AtomicUsize,
    /// Woken when the writer has written some of the queue, for `send`.
    room: Notify,
    backlog: Arc<Backlog>,
    /// Set for good once the client is dropped, so the writer, whose waker
    /// stays registered, looks without taking the lock on every wake.
    gone: AtomicBool,
}

#[derive(Debug, Default)]
struct Queue {
    bytes: Vec<u8>,
    /// Bytes the writer has taken and not yet written.
    in_flight: usize,
    /// The writer's write has taken nothing for [`STUCK_AFTER`]: `bytes`
    /// is not counted in the [`Backlog`] meanwhile.
    stuck: bool,
    /// Every `SendQueue` is gone: write what is left, then close.
    closed: bool,
    /// The writer task has ended: nothing queued will ever be sent.
    writer_gone: bool,
    /// Someone waits in `send` for the queue to empty.
    sender_waiting: bool,
    /// The writer, asleep on an empty queue.
    writer: Option<Waker>,
    /// Set once the client must go at once, and why. Kept here with two
    /// waker slots, rather than as a cancellation token, because every idle
    /// connection's tasks wait on it: a token costs an allocation per client
    /// and a waiter in each task.
    dropped: Option<Dropped>,
    /// The connection's task, waiting in [`SendQueue::dropped`].
    reader_watching: Option<Waker>,
    /// The writer, in the middle of a write that the drop must cut short.
    writer_watching: Option<Waker>,
}

/// Which of a connection's two tasks watches for its drop.
#[derive(Clone, Copy)]
enum Watcher {
    Reader,
    Writer,
}

/// Why a client was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dropped {
    Overflow,
    Stalled,
}

enum Enqueued {
    /// `counted`: the line counts in the [`Backlog`] (the writer is not stuck).
    Queued {
        counted: bool,
    },
    Full,
    /// The connection is closing; the line goes nowhere.
    WriterGone,
}

/// The queue is full: the client is not reading.
#[derive(Debug)]
pub(super) struct Full;

/// The writer task is gone.
#[derive(Debug)]
pub(super) struct Closed;

impl SendQueue {
    /// Queues one line; a full queue drops the client (it is not reading).
    pub(super) fn push(&self, line: &[u8]) {
        if self.relay(line) {
            self.shared.backlog.add(line.len());
        }
    }

    /// [`push`](Self::push) for a broadcast, which adds up what it queued
    /// and tells the [`Backlog`] once: `true` if `line` was queued.
    pub(super) fn relay(&self, line: &[u8]) -> bool {
        match self.enqueue(line, false) {
            Enqueued::Queued { counted } => counted,
            Enqueued::WriterGone => false,
            Enqueued::Full => {
                self.shared.drop_client(Dropped::Overflow);
                false
            }
        }
    }

    /// Queues a line if there is room.
    pub(super) fn try_push(&self, line: &[u8]) -> Result<(), Full> {
        match self.enqueue(line, false) {
            Enqueued::Queued { counted } => {
                if counted {
                    self.shared.backlog.add(line.len());
                }
                Ok(())
            }
            Enqueued::WriterGone => Ok(()),
            Enqueued::Full => Err(Full),
        }
    }

    /// Queues one of the client's own replies, waiting for room: a client
    /// may slow itself down, never anyone else.
    pub(super) async fn send(&self, line: &[u8]) -> Result<(), Closed> {
        loop {
            // Registered before looking, so the writer's wake-up cannot slip
            // between the look and the wait.
            let mut emptied = pin!(self.shared.room.notified());
            emptied.as_mut().enable();
            match self.enqueue(line, true) {
                Enqueued::Queued { counted } => {
                    if counted {
                        self.shared.backlog.add(line.len());
                    }
                    return Ok(());
                }
                Enqueued::WriterGone => return Err(Closed),
                Enqueued::Full => emptied.await,
            }
        }
    }

    /// Appends `line` unless the queue is full (then, if `will_wait`, asks
    /// the writer to say when it has emptied it).
    fn enqueue(&self, line: &[u8], will_wait: bool) -> Enqueued {
        let mut queue = self.shared.lock();
        if queue.writer_gone {
            return Enqueued::WriterGone;
        }
        // One line always fits an empty queue, however long.
        let unsent = queue.bytes.len() + queue.in_flight;
        if unsent > 0 && unsent + line.len() > self.shared.capacity {
            queue.sender_waiting |= will_wait;
            return Enqueued::Full;
        }
        if queue.bytes.capacity() == 0 {
            queue.bytes.reserve(FIRST_RESERVE_BYTES.max(line.len()));
        }
        queue.bytes.extend_from_slice(line);
        let counted = !queue.stuck;
        let writer = queue.writer.take();
        drop(queue);
        if let Some(writer) = writer {
            writer.wake();
        }
        Enqueued::Queued { counted }
    }

    /// Resolves once the client must go, with why: its queue overflowed,
    /// or a write made no progress for the stall time (the queue may be far
    /// from full). For the connection's own task only (one waker slot).
    pub(super) fn dropped(&self) -> impl Future<Output = Dropped> + '_ {
        poll_fn(|cx| self.shared.poll_dropped(cx, Watcher::Reader))
    }

    /// The host-wide backlog this queue counts into.
    pub(super) fn backlog(&self) -> &Backlog {
        &self.shared.backlog
    }
}

impl Clone for SendQueue {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        SendQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for SendQueue {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut queue = self.shared.lock();
            queue.closed = true;
            let writer = queue.writer.take();
            drop(queue);
            if let Some(writer) = writer {
                writer.wake();
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic elsewhere must not take the connection down with it.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until there is something to write (`true`) or the queue is
    /// empty and closed (`false`).
    async fn lines_waiting(&self) -> bool {
        poll_fn(|cx| {
            let mut queue = self.lock();
            if !queue.bytes.is_empty() {
                return Poll::Ready(true);
            }
            if queue.closed {
                return Poll::Ready(false);
            }
            if !queue
                .writer
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                queue.writer = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Swaps the queued bytes into `batch`, which must be empty. (Never
    /// stuck here: that only lasts while a write is under way.)
    fn take(&self, batch: &mut Vec<u8>) {
        let mut queue = self.lock();
        std::mem::swap(&mut queue.bytes, batch);
        queue.in_flight = batch.len();
        drop(queue);
        self.backlog.remove(batch.len());
    }

    /// `bytes` of the batch reached the socket: room for as many more.
    fn written(&self, bytes: usize) {
        let mut queue = self.lock();
        queue.in_flight = queue.in_flight.saturating_sub(bytes);
        let waiting = std::mem::take(&mut queue.sender_waiting);
        drop(queue);
        if waiting {
            self.room.notify_waiters();
        }
    }

    /// The writer is stuck (`true`) or moving again: what is queued stops
    /// or starts counting in the backlog.
    fn set_stuck(&self, stuck: bool) {
        let mut queue = self.lock();
        if queue.stuck == stuck {
            return;
        }
        queue.stuck = stuck;
        let queued = queue.bytes.len();
        drop(queue);
        if stuck {
            self.backlog.remove(queued);
        } else {
            self.backlog.add(queued);
        }
    }

    /// The client must go at once (the first reason given stands): wakes
    /// whichever of its tasks watch for it.
    fn drop_client(&self, why: Dropped) {
        let mut queue = self.lock();
        if queue.dropped.is_some() {
            return;
        }
        queue.dropped = Some(why);
        self.gone.store(true, Ordering::Release);
        let watchers = [queue.reader_watching.take(), queue.writer_watching.take()];
        drop(queue);
        for waker in watchers.into_iter().flatten() {
            waker.wake();
        }
    }

    fn poll_dropped(&self, cx: &mut Context<'_>, watcher: Watcher) -> Poll<Dropped> {
        let mut queue = self.lock();
        if let Some(why) = queue.dropped {
            return Poll::Ready(why);
        }
        let slot = match watcher {
            Watcher::Reader => &mut queue.reader_watching,
            Watcher::Writer => &mut queue.writer_watching,
        };
        if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *slot = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Frees both buffers of a client that has gone quiet.
    fn release(&self, batch: &mut Vec<u8>) {
        *batch = Vec::new();
        let mut queue = self.lock();
        if queue.bytes.is_empty() {
            queue.bytes = Vec::new();
        }
    }
}

/// The writer task of one connection.
pub(super) struct Writer {
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl Writer {
    /// Waits for the queue to drain (every `SendQueue` must be gone by then) for
    /// at most `grace`, then abandons whatever the peer did not take.
    pub(super) async fn finish(mut self, grace: Duration) {
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            // The peer did not take its last lines in time.
            self.shared.drop_client(Dropped::Stalled);
            let _ = self.task.await;
        }
    }
}

/// Creates the queue of `capacity` bytes, counting into `backlog`, and
/// spawns its writer task, which drops the client if a write makes no
/// progress for `stall`.
pub(super) fn spawn(
    socket: WriteHalf,
    capacity: usize,
    backlog: Arc<Backlog>,
    stall: Duration,
) -> (SendQueue, Writer) {
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
        room: Notify::new(),
        backlog,
        gone: AtomicBool::new(false),
    });
    let task = tokio::spawn(drain(socket, Arc::clone(&shared), stall));
    let writer = Writer {
        task,
        shared: Arc::clone(&shared),
    };
    (SendQueue { shared }, writer)
}

/// The writer task's body. A function returning a block, not an `async
/// fn`, whose arguments would be held twice through the task's life.
#[allow(clippy::manual_async_fn)] // An `async fn` would hold its arguments twice.
fn drain(
    socket: WriteHalf,
    shared: Arc<Shared>,
    stall: Duration,
) -> impl Future<Output = ()> + Send {
    async move {
        let mut written = pin!(write_until_closed(socket, &shared, stall));
        // The write is cut short as soon as the client is dropped.
        let mut watching = false;
        let result = poll_fn(|cx| {
            // The task's waker stays the same: registered once, it is
            // woken by the drop, which sets `gone` first.
            if !watching || shared.gone.load(Ordering::Acquire) {
                if shared.poll_dropped(cx, Watcher::Writer).is_ready() {
                    return Poll::Ready(Ok(()));
                }
                watching = true;
            }
            written.as_mut().poll(cx)
        })
        .await;
        if let Err(err) = result {
            log::debug!("write failed: {err}");
            // A stalled peer is dropped like one that overflowed its
            // queue: its reader, or a reply waiting for room, must not
            // wait for a writer that has given up.
            if err.kind() == std::io::ErrorKind::TimedOut {
                shared.drop_client(Dropped::Stalled);
            }
        }
        let mut queue = shared.lock();
        queue.writer_gone = true;
        let abandoned = std::mem::take(&mut queue.bytes);
        // A stuck queue's bytes were taken out of the backlog already.
        let counted = if std::mem::take(&mut queue.stuck) {
            0
        } else {
            abandoned.len()
        };
        queue.in_flight = 0;
        drop(queue);
        shared.backlog.remove(counted);
        shared.room.notify_waiters();
    }
}

/// Writes whatever is queued until every `SendQueue` is gone, then closes
/// the socket. A quiet client's writer spends its life in the first wait,
/// so that is kept small: the burst's buffer, timers and write in flight
/// live in a boxed future that exists only while lines come.
#[allow(clippy::manual_async_fn)] // An `async fn` would hold its arguments twice.
fn write_until_closed(
    mut socket: WriteHalf,
    shared: &Shared,
    stall: Duration,
) -> impl Future<Output = std::io::Result<()>> + Send + '_ {
    async move {
        while shared.lines_waiting().await {
            Box::pin(write_burst(&mut socket, shared, stall)).await?;
        }
        socket.shutdown().await
    }
}

/// Writes batch after batch while lines keep coming; returns once the
/// client has been quiet for [`KEEP_FOR`] (its buffers given back) or the
/// queue is empty and closed. Buffers are kept while lines keep coming: a
/// busy client allocates nothing per batch.
async fn write_burst(
    socket: &mut WriteHalf,
    shared: &Shared,
    stall: Duration,
) -> std::io::Result<()> {
    let mut batch = Vec::new();
    loop {
        // Woken by the first line of a burst: let the other tasks run
        // first, so more of the burst joins this write.
        tokio::task::yield_now().await;
        shared.take(&mut batch);
        write_unless_stalled(socket, &batch, stall, shared).await?;
        batch.clear();
        if batch.capacity() > KEEP_BYTES {
            batch = Vec::new();
        }
        match tokio::time::timeout(KEEP_FOR, shared.lines_waiting()).await {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(_) => {
                shared.release(&mut batch);
                return Ok(());
            }
        }
    }
}

/// `write_all`, except that a peer which takes nothing for `stall` (it has
/// stopped reading and the socket buffers are full) is an error: else the
/// writer, and everyone waiting on it, would wait forever.
async fn write_unless_stalled(
    socket: &mut WriteHalf,
    mut bytes: &[u8],
    stall: Duration,
    shared: &Shared,
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let mut write = pin!(socket.write(bytes));
        let first = STUCK_AFTER.min(stall);
        let result = match tokio::time::timeout(first, &mut write).await {
            Ok(result) => Ok(result),
            Err(_) => {
                shared.set_stuck(true);
                let rest = stall.saturating_sub(first);
                let result = tokio::time::timeout(rest, &mut write).await;
                shared.set_stuck(false);
                result
            }
        };
        match result {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Ok(written)) => {
                bytes = &bytes[written..];
                shared.written(written);
            }
            Ok(Err(err)) => return Err(err),
            Err(_) => return Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
    // Over TLS a write may return with records still in rustls's buffer
    // (the socket was full): flushed now, not with the next batch, which
    // may never come. A no-op for plain TCP.
    match tokio::time::timeout(stall, socket.flush()).await {
        Ok(flushed) => flushed,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Waker};

    use super::*;

    fn is_ready(future: std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
        future
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    /// A peer that never reads: the writes stop making progress long
    /// before the queue is full, and that is what the drop says.
    #[tokio::test]
    async fn a_writer_that_makes_no_progress_is_told_apart_from_an_overflow() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (host_side, _) = listener.accept().await.unwrap();
        let (_read, write) = crate::transport::plain(host_side);
        let capacity = 64 << 20;
        let (queue, _writer) = spawn(
            write,
            capacity,
            Arc::new(Backlog::default()),
            Duration::from_millis(50),
        );
        let line = vec![b'x'; 1024];
        // 16 MiB: more than the socket buffers take, a quarter of the queue.
        for _ in 0..16 * 1024 {
            queue.push(&line);
        }
        assert_eq!(queue.dropped().await, Dropped::Stalled);
        drop(peer);
    }

    #[test]
    fn newcomers_wait_while_the_backlog_is_high() {
        let backlog = Backlog::default();
        let limit = BACKLOG_ADMIT_BYTES.unsigned_abs();
        backlog.add(limit - 1);
        assert!(is_ready(pin!(backlog.admit())));
        backlog.add(1);
        let mut waiting = pin!(backlog.admit());
        assert!(!is_ready(waiting.as_mut()));
        backlog.remove(1);
        assert!(is_ready(waiting));
    }
}
