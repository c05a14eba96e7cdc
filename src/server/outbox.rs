//! A client's bounded send queue and the task that drains it into the socket.
//!
//! Senders never wait: a full queue means the client stopped reading, so it
//! is marked for dropping instead of slowing whoever is broadcasting.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Most bytes gathered into one write when many lines are queued.
const BATCH_BYTES: usize = 16 * 1024;

/// The sending side of one client's queue; cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Outbox {
    queue: mpsc::Sender<Bytes>,
    /// Cancelled when the client must go at once (queue overflow).
    dropped: CancellationToken,
}

impl Outbox {
    /// Queues one line; a full queue drops the client (it is not reading).
    pub(super) fn push(&self, line: Bytes) {
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.dropped.is_cancelled() {
                    self.dropped.cancel();
                }
            }
            // The connection is already closing.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Queues a line if there is room, handing it back if not.
    pub(super) fn try_push(&self, line: Bytes) -> Result<(), Bytes> {
        match self.queue.try_send(line) {
            Err(mpsc::error::TrySendError::Full(line)) => Err(line),
            _ => Ok(()),
        }
    }

    /// Queues one of the client's own replies, waiting for room: a client
    /// may slow itself down, never anyone else.
    pub(super) async fn send(&self, line: Bytes) -> Result<(), Closed> {
        self.queue.send(line).await.map_err(|_| Closed)
    }

    pub(super) fn push_vec(&self, line: Vec<u8>) {
        self.push(Bytes::from(line));
    }

    /// Resolves once the client has overflowed its queue.
    pub(super) fn dropped(&self) -> &CancellationToken {
        &self.dropped
    }
}

/// The writer task is gone.
#[derive(Debug)]
pub(super) struct Closed;

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
    let (queue, lines) = mpsc::channel(capacity.max(1));
    let dropped = CancellationToken::new();
    let task = tokio::spawn(drain(socket, lines, dropped.clone()));
    let outbox = Outbox {
        queue,
        dropped: dropped.clone(),
    };
    (outbox, Writer { task, dropped })
}

async fn drain(
    mut socket: OwnedWriteHalf,
    mut lines: mpsc::Receiver<Bytes>,
    dropped: CancellationToken,
) {
    let written = async {
        while let Some(first) = lines.recv().await {
            let batch = gather(first, &mut lines);
            socket.write_all(&batch).await?;
        }
        socket.shutdown().await
    };
    tokio::select! {
        result = written => {
            if let Err(err) = result {
                log::debug!("write failed: {err}");
            }
        }
        () = dropped.cancelled() => {}
    }
}

/// Joins whatever is already queued after `first` into one buffer, so a busy
/// client costs one system call per batch rather than per line.
fn gather(first: Bytes, lines: &mut mpsc::Receiver<Bytes>) -> Bytes {
    let Ok(second) = lines.try_recv() else {
        return first;
    };
    let mut batch = BytesMut::with_capacity(BATCH_BYTES.max(first.len() + second.len()));
    batch.extend_from_slice(&first);
    batch.extend_from_slice(&second);
    while batch.len() < BATCH_BYTES {
        match lines.try_recv() {
            Ok(line) => batch.extend_from_slice(&line),
            Err(_) => break,
        }
    }
    batch.freeze()
}
