//! A client's bounded send queue and the task that drains it into the socket.
//!
//! The queue is one byte buffer. A broadcast copies its line in: copying a
//! hundred bytes is cheaper than sharing one reference-counted line whose
//! count every recipient's writer then bumps from another core. The writer
//! swaps the whole buffer out and writes it with one call, so a busy client
//! costs one system call per batch, and two buffers take turns without
//! allocating. A client that has gone quiet holds no buffer at all.
//!
//! Senders never wait: a full queue means the client stopped reading, so it
//! is marked for dropping instead of slowing whoever is broadcasting.

use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A first line into an empty queue reserves this much, so the next few
/// lines of a burst do not each grow the buffer.
const FIRST_RESERVE_BYTES: usize = 1024;
/// A buffer grown past this by a burst is freed rather than kept for reuse.
const KEEP_BYTES: usize = 64 * 1024;

/// The sending side of one client's queue; cheap to clone. The writer
/// flushes and closes the socket once every clone is gone.
#[derive(Debug)]
pub(super) struct Outbox {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Lines the queue may hold before the client counts as not reading.
    capacity: usize,
    /// Live `Outbox` clones.
    senders: AtomicUsize,
    /// Cancelled when the client must go at once (queue overflow).
    dropped: CancellationToken,
    /// Woken when the writer empties the queue, for `send`.
    room: Notify,
}

#[derive(Debug, Default)]
struct Queue {
    bytes: Vec<u8>,
    /// Lines in `bytes`.
    lines: usize,
    /// Every `Outbox` is gone: write what is left, then close.
    closed: bool,
    /// The writer task has ended: nothing queued will ever be sent.
    writer_gone: bool,
    /// Someone waits in `send` for the queue to empty.
    sender_waiting: bool,
    /// The writer, asleep on an empty queue.
    writer: Option<Waker>,
}

enum Enqueued {
    Queued,
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

impl Outbox {
    /// Queues one line; a full queue drops the client (it is not reading).
    pub(super) fn push(&self, line: &[u8]) {
        if self.try_push(line).is_err() && !self.shared.dropped.is_cancelled() {
            self.shared.dropped.cancel();
        }
    }

    /// Queues a line if there is room.
    pub(super) fn try_push(&self, line: &[u8]) -> Result<(), Full> {
        match self.enqueue(line, false) {
            Enqueued::Queued | Enqueued::WriterGone => Ok(()),
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
                Enqueued::Queued => return Ok(()),
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
        if queue.lines >= self.shared.capacity {
            queue.sender_waiting |= will_wait;
            return Enqueued::Full;
        }
        if queue.bytes.capacity() == 0 {
            queue.bytes.reserve(FIRST_RESERVE_BYTES.max(line.len()));
        }
        queue.bytes.extend_from_slice(line);
        queue.lines += 1;
        let writer = queue.writer.take();
        drop(queue);
        if let Some(writer) = writer {
            writer.wake();
        }
        Enqueued::Queued
    }

    /// Resolves once the client has overflowed its queue.
    pub(super) fn dropped(&self) -> &CancellationToken {
        &self.shared.dropped
    }
}

impl Clone for Outbox {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Outbox {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Outbox {
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

    /// Swaps the queued bytes into `batch`, which must be empty.
    fn take(&self, batch: &mut Vec<u8>) {
        let mut queue = self.lock();
        std::mem::swap(&mut queue.bytes, batch);
        queue.lines = 0;
        let waiting = std::mem::take(&mut queue.sender_waiting);
        drop(queue);
        if waiting {
            self.room.notify_waiters();
        }
    }

    /// After a write: keep the spent buffer for the next batch while lines
    /// keep coming; free both buffers once the client has gone quiet.
    fn recycle(&self, batch: &mut Vec<u8>) {
        batch.clear();
        let mut queue = self.lock();
        if queue.bytes.is_empty() {
            queue.bytes = Vec::new();
            *batch = Vec::new();
        } else if batch.capacity() > KEEP_BYTES {
            *batch = Vec::new();
        }
    }
}

/// The writer task of one connection.
pub(super) struct Writer {
    task: JoinHandle<()>,
    dropped: CancellationToken,
}

impl Writer {
    /// Waits for the queue to drain (every `Outbox` must be gone by then) for
    /// at most `grace`, then abandons whatever the peer did not take.
    pub(super) async fn finish(mut self, grace: Duration) {
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            self.dropped.cancel();
            let _ = self.task.await;
        }
    }
}

/// Creates the queue of `capacity` lines and spawns its writer task.
pub(super) fn spawn(socket: OwnedWriteHalf, capacity: usize) -> (Outbox, Writer) {
    let dropped = CancellationToken::new();
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
        dropped: dropped.clone(),
        room: Notify::new(),
    });
    let task = tokio::spawn(drain(socket, Arc::clone(&shared)));
    (Outbox { shared }, Writer { task, dropped })
}

async fn drain(mut socket: OwnedWriteHalf, shared: Arc<Shared>) {
    let written = async {
        let mut batch = Vec::new();
        while shared.lines_waiting().await {
            // Woken by the first line of a burst: let the other tasks run
            // first, so more of the burst joins this write.
            tokio::task::yield_now().await;
            shared.take(&mut batch);
            socket.write_all(&batch).await?;
            shared.recycle(&mut batch);
        }
        socket.shutdown().await
    };
    tokio::select! {
        result = written => {
            if let Err(err) = result {
                log::debug!("write failed: {err}");
            }
        }
        () = shared.dropped.cancelled() => {}
    }
    let mut queue = shared.lock();
    queue.writer_gone = true;
    queue.bytes = Vec::new();
    drop(queue);
    shared.room.notify_waiters();
}
