//! The host's persistent room history.
//!
//! Every PRIVMSG, NOTICE and TOPIC relayed in a room is kept in an SQLite
//! database, so that clients can fetch it with IRCv3 `draft/chathistory` and
//! the host keeps it across restarts, `kill -9` included.
//!
//! The relay must never wait for the disk: [`History::record`] only pushes onto
//! a bounded queue, and one writer thread commits whatever is queued in one
//! transaction at a time. Reads use connections of their own; in WAL mode they
//! never wait for the writer. Nothing is kept in memory per stored line, so the
//! host's memory does not grow with its history.
//!
//! This file uses only std, `rusqlite` and `log`, so it also compiles on its own
//! (the benchmark includes it by path).

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::types::Type;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, ToSql, TransactionBehavior};

/// The schema this code writes (`PRAGMA user_version`); newer files are refused.
const SCHEMA_VERSION: i64 = 1;
/// The queue holds at most this many lines...
const MAX_QUEUED_LINES: usize = 32 * 1024;
/// ...and at most this many bytes of them, whichever comes first.
const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;
/// One transaction takes at most this many queued operations, so that a flood
/// still commits every few milliseconds instead of in one huge transaction.
const MAX_BATCH: usize = 4096;
/// After the first line of a quiet spell, the writer waits this long for
/// more before committing: at chat rates one transaction per line would cost
/// far more than the line. Well inside the 100 ms the host promises.
const LINGER: Duration = Duration::from_millis(10);
/// How long a batch that failed to commit (disk full) waits before its one retry.
const RETRY_DELAY: Duration = if cfg!(test) {
    Duration::from_millis(20)
} else {
    Duration::from_secs(1)
};
/// How long a statement waits for a lock held by another connection (a
/// checkpoint, or another process that opened the same file) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_KIB: i64 = 8000;
/// Page cache of each reader connection, in KiB.
const READER_CACHE_KIB: i64 = 2000;
/// Reader connections kept open between queries; more are opened when needed.
const MAX_IDLE_READERS: usize = 4;
/// A room is pruned once it holds max(10% of the limit, this) lines past the limit.
const MIN_PRUNE_SLACK: usize = 100;
/// The WAL file is truncated back to this size after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// Every column of `lines`, in the order [`read_line`] reads them.
const COLUMNS: &str = "id, time_ms, room_key, room, prefix, command, text, client_tags";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lines (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    room_key TEXT NOT NULL,
    room TEXT NOT NULL,
    prefix TEXT NOT NULL,
    command TEXT NOT NULL,
    text TEXT NOT NULL,
    client_tags TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lines_room_id ON lines (room_key, id);
CREATE INDEX IF NOT EXISTS lines_room_time ON lines (room_key, time_ms);
-- key 'last_id': the highest id ever stored, kept when lines are cleared so
-- that ids are never reused.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 1;
";

/// One chat line of a room, as stored and as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    /// Assigned by the host, strictly increasing in relay order (also across
    /// restarts); its decimal form is the IRCv3 `msgid`.
    pub id: u64,
    /// Server time, milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Case-folded room name, the lookup key (`#chat`).
    pub room_key: String,
    /// Room name as displayed (`#Chat`).
    pub room: String,
    /// `nick!user@host` of the sender.
    pub prefix: String,
    /// What kind of line it is.
    pub command: LineCommand,
    /// The text (a CTCP ACTION is a PRIVMSG text like any other).
    pub text: String,
    /// Client-only message tags exactly as sent on the wire (`+a=b;+c`), `""` if none.
    pub client_tags: String,
}

/// The commands whose lines are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCommand {
    Privmsg,
    Notice,
    Topic,
}

impl LineCommand {
    /// The IRC command, which is also how it is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            LineCommand::Privmsg => "PRIVMSG",
            LineCommand::Notice => "NOTICE",
            LineCommand::Topic => "TOPIC",
        }
    }

    fn parse(stored: &str) -> Option<LineCommand> {
        match stored {
            "PRIVMSG" => Some(LineCommand::Privmsg),
            "NOTICE" => Some(LineCommand::Notice),
            "TOPIC" => Some(LineCommand::Topic),
            _ => None,
        }
    }
}

/// A chathistory reference point: `msgid=…` or `timestamp=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Compares by id; works even when that line is no longer stored.
    MsgId(u64),
    /// Compares by server time (ms since the epoch).
    Time(i64),
}

/// Which lines a chathistory request wants. Every bound is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// The newest lines, or the newest lines after the anchor.
    Latest(Option<Anchor>),
    /// The lines just before the anchor.
    Before(Anchor),
    /// The lines just after the anchor.
    After(Anchor),
    /// Lines centred on the anchor (a msgid anchor's own line included).
    Around(Anchor),
    /// Lines strictly between the two, taken from the first one's side.
    Between(Anchor, Anchor),
}

/// The history database cannot be used; its text names the file and the reason.
#[derive(Debug, Clone)]
pub struct HistoryError {
    action: &'static str,
    path: PathBuf,
    reason: String,
}

impl HistoryError {
    fn new(action: &'static str, path: &Path, reason: impl fmt::Display) -> Self {
        HistoryError {
            action,
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} the history database {}: {}",
            self.action,
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for HistoryError {}

/// Handle on the history store; clones share one database and one writer thread.
#[derive(Clone)]
pub struct History {
    inner: Arc<Inner>,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// What the handles share; dropping it stops the writer.
struct Inner {
    path: PathBuf,
    shared: Arc<Shared>,
    /// Idle reader connections, so a query does not pay for opening one.
    readers: Mutex<Vec<Connection>>,
    writer: Option<JoinHandle<()>>,
}

/// What the handles share with the writer thread.
struct Shared {
    queue: Mutex<Queue>,
    /// The writer waits here for work (or shutdown).
    work: Condvar,
    /// `flush` waits here for the writer to finish operations.
    done: Condvar,
    dropped: AtomicU64,
    last_id: AtomicU64,
    /// Test hook: this many next transactions fail as if the disk were full.
    #[cfg(test)]
    fail_writes: std::sync::atomic::AtomicU32,
}

struct Queue {
    ops: VecDeque<Op>,
    /// Bytes of the queued lines (see [`line_size`]).
    bytes: usize,
    /// Operations ever queued; `flush` waits until `finished` reaches it.
    pushed: u64,
    /// Operations the writer is done with (committed, or given up on).
    finished: u64,
    writer_running: bool,
    shutdown: bool,
    /// Lines are being dropped (warned once; reset when the writer catches up).
    dropping: bool,
    /// Someone waits in `flush` (or a clear): commit without lingering.
    hurry: bool,
    /// Test hook: the writer leaves the queue alone (shutdown overrides it).
    #[cfg(test)]
    paused: bool,
}

/// One thing for the writer to do, in order.
enum Op {
    Line(StoredLine),
    Clear {
        room_key: Option<String>,
        reply: mpsc::SyncSender<Result<(), String>>,
    },
}

/// A poisoned lock only means another thread panicked while holding it; the
/// queue's state stays consistent, so carry on rather than take the host down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a queued line counts against [`MAX_QUEUED_BYTES`].
fn line_size(line: &StoredLine) -> usize {
    std::mem::size_of::<Op>()
        + line.room_key.len()
        + line.room.len()
        + line.prefix.len()
        + line.text.len()
        + line.client_tags.len()
}

impl History {
    /// Opens or creates the database file at `path` (creating parent directories), keeping at most
    /// `keep_per_room` lines per room (oldest pruned, once a room has grown ~10% past it).
    /// Spawns the writer thread.
    pub fn open(path: &Path, keep_per_room: usize) -> Result<History, HistoryError> {
        let fail = |reason: String| HistoryError::new("open", path, reason);
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|err| fail(format!("cannot create {}: {err}", dir.display())))?;
        }
        let (conn, last_id) = open_writer(path).map_err(fail)?;
        // One reader now, so that a file only the writer could open fails here.
        let reader = open_reader(path).map_err(|err| fail(describe(err, path)))?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                ops: VecDeque::new(),
                bytes: 0,
                pushed: 0,
                finished: 0,
                writer_running: true,
                shutdown: false,
                dropping: false,
                hurry: false,
                #[cfg(test)]
                paused: false,
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            dropped: AtomicU64::new(0),
            last_id: AtomicU64::new(last_id),
            #[cfg(test)]
            fail_writes: std::sync::atomic::AtomicU32::new(0),
        });
        let writer = Writer {
            conn,
            path: path.to_owned(),
            shared: Arc::clone(&shared),
            keep: i64::try_from(keep_per_room).unwrap_or(i64::MAX),
            slack: i64::try_from((keep_per_room / 10).max(MIN_PRUNE_SLACK)).unwrap_or(i64::MAX),
            rooms: HashMap::new(),
            retry: None,
            spare: VecDeque::new(),
        };
        let thread = std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || writer.run())
            .map_err(|err| fail(format!("cannot start the writer thread: {err}")))?;
        Ok(History {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                shared,
                readers: Mutex::new(vec![reader]),
                writer: Some(thread),
            }),
        })
    }

    /// The highest id stored (0 when empty; still counted after `clear`), so the host
    /// continues above it after a restart. Lines still queued are not counted yet.
    pub fn last_id(&self) -> u64 {
        self.inner.shared.last_id.load(Ordering::Acquire)
    }

    /// Queues a line for the writer thread. Never blocks: the queue is bounded (32k lines or
    /// 16 MiB, whichever first); when full the line is dropped and counted, with a warning
    /// logged at most once per burst. (Should the writer thread ever have stopped, lines are
    /// dropped and counted the same way.)
    pub fn record(&self, line: StoredLine) {
        let shared = &self.inner.shared;
        let size = line_size(&line);
        let mut queue = lock(&shared.queue);
        let full = queue.ops.len() >= MAX_QUEUED_LINES || queue.bytes + size > MAX_QUEUED_BYTES;
        if full || !queue.writer_running {
            let first = !queue.dropping;
            queue.dropping = true;
            drop(queue);
            let total = shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if first {
                log::warn!(
                    "history: the write queue is full, dropping lines until the writer catches up \
                     ({total} dropped since start)"
                );
            }
            return;
        }
        queue.bytes += size;
        queue.pushed += 1;
        queue.ops.push_back(Op::Line(line));
        // Only a writer that found the queue empty sleeps without a deadline;
        // waking it for every line would cost a system call per line.
        let wake = queue.ops.len() == 1;
        drop(queue);
        if wake {
            shared.work.notify_one();
        }
    }

    /// Oldest first, at most `limit` lines of the room `room_key` (case-folded). Blocking
    /// (call it from `spawn_blocking`); reads go through their own connections and never
    /// wait for the writer (WAL).
    pub fn query(
        &self,
        room_key: &str,
        selector: &Selector,
        limit: usize,
    ) -> Result<Vec<StoredLine>, HistoryError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(|conn| {
            // One read transaction, so that the several statements of AROUND and
            // BETWEEN see one snapshot.
            let tx = conn.unchecked_transaction()?;
            let lines = select(&tx, room_key, *selector, limit)?;
            tx.commit()?;
            Ok(lines)
        })
    }

    /// CHATHISTORY TARGETS: rooms with lines whose time is strictly between the two times
    /// (in either order), each with its display name and its latest such line's time,
    /// ordered by that time ascending, at most `limit`.
    pub fn targets(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, HistoryError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (low, high) = (from_ms.min(to_ms), from_ms.max(to_ms));
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            // Walks the distinct rooms through the index (one seek each) rather
            // than scanning lines: there are few rooms and many lines.
            let mut first = tx.prepare_cached(
                "SELECT room_key FROM lines INDEXED BY lines_room_id ORDER BY room_key LIMIT 1",
            )?;
            let mut next = tx.prepare_cached(
                "SELECT room_key FROM lines INDEXED BY lines_room_id WHERE room_key > ?1 \
                 ORDER BY room_key LIMIT 1",
            )?;
            let mut latest = tx.prepare_cached(&format!(
                "SELECT room, time_ms FROM lines INDEXED BY lines_room_time \
                 WHERE room_key = ?1 AND time_ms > ?2 AND time_ms < ?3 ORDER BY {} LIMIT 1",
                Col::Time.order(true)
            ))?;
            let mut found: Vec<(String, i64)> = Vec::new();
            let mut key: Option<String> = first.query_row([], |row| row.get(0)).optional()?;
            while let Some(room_key) = key {
                let hit = latest
                    .query_row(params![room_key, low, high], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                found.extend(hit);
                key = next.query_row([&room_key], |row| row.get(0)).optional()?;
            }
            found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            found.truncate(limit);
            drop((first, next, latest));
            tx.commit()?;
            Ok(found)
        })
    }

    /// Forgets one room's lines (`Some(room_key)`) or all; ordered after everything recorded
    /// before it (goes through the writer, and waits for it). Ids are never reused afterwards.
    pub fn clear(&self, room_key: Option<&str>) -> Result<(), HistoryError> {
        let path = &self.inner.path;
        let fail = |reason: &str| HistoryError::new("clear", path, reason);
        let shared = &self.inner.shared;
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let mut queue = lock(&shared.queue);
            if !queue.writer_running {
                return Err(fail("the writer thread has stopped"));
            }
            // Not subject to the queue's bounds: the host asks for it rarely and waits.
            queue.pushed += 1;
            queue.ops.push_back(Op::Clear {
                room_key: room_key.map(str::to_owned),
                reply,
            });
            queue.hurry = true;
        }
        shared.work.notify_one();
        match answer.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(fail(&reason)),
            Err(_) => Err(fail("the writer thread has stopped")),
        }
    }

    /// Blocks until everything recorded so far is committed (or given up on after a write
    /// error). For tests and shutdown.
    pub fn flush(&self) {
        let shared = &self.inner.shared;
        let mut queue = lock(&shared.queue);
        let ticket = queue.pushed;
        if queue.finished < ticket {
            queue.hurry = true;
            shared.work.notify_one();
        }
        while queue.finished < ticket && queue.writer_running {
            queue = shared
                .done
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Lines dropped because the queue was full, since open.
    pub fn dropped(&self) -> u64 {
        self.inner.shared.dropped.load(Ordering::Relaxed)
    }

    /// Runs `read` on an idle reader connection (or a new one), then keeps it for the next.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, HistoryError> {
        let path = &self.inner.path;
        let fail = |err: rusqlite::Error| HistoryError::new("read", path, describe(err, path));
        let idle = lock(&self.inner.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.inner.path).map_err(fail)?,
        };
        let result = read(&conn);
        let mut readers = lock(&self.inner.readers);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        drop(readers);
        result.map_err(fail)
    }
}

impl Drop for Inner {
    /// The last handle is gone: let the writer commit what is queued, then join it.
    fn drop(&mut self) {
        // Readers first: the writer's connection, closing last, then checkpoints
        // the WAL into the database and removes it.
        lock(&self.readers).clear();
        {
            let mut queue = lock(&self.shared.queue);
            queue.shutdown = true;
            #[cfg(test)]
            {
                queue.paused = false;
            }
        }
        self.shared.work.notify_all();
        if let Some(thread) = self.writer.take() {
            if thread.join().is_err() {
                log::error!("history: the writer thread panicked");
            }
        }
    }
}

/// Opens the file for writing, checks that it is a history database we can use (creating
/// the schema in a new one), and returns the highest id ever stored. Stays fast on a big
/// file: it reads the header, the schema and two b-tree edges, nothing more.
fn open_writer(path: &Path) -> Result<(Connection, u64), String> {
    let sql = |err: rusqlite::Error| describe(err, path);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    // The first read of the header is what tells a database from any other file.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql)?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "it was written by a newer TCP Chat (schema version {version}, this one knows up to \
             {SCHEMA_VERSION})"
        ));
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(sql)?;
        if tables > 0 {
            return Err("it is an SQLite database of something else, not a room history".into());
        }
    }
    // WAL: readers never wait for the writer, and with synchronous=NORMAL a commit
    // is a write() without fsync, yet survives the process being killed.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!(
            "history: {} cannot use WAL (journal mode {mode}); reads may wait for writes",
            path.display()
        );
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql)?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
        .map_err(sql)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
        .map_err(sql)?;
    if version == 0 {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute_batch(SCHEMA).map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    // Preparing these checks the columns and both indexes exist.
    for index in ["lines_room_id", "lines_room_time"] {
        conn.prepare(&format!(
            "SELECT {COLUMNS} FROM lines INDEXED BY {index} WHERE room_key = '' LIMIT 0"
        ))
        .map_err(|err| format!("its table of lines is not as expected: {err}"))?;
    }
    let stored: Option<i64> = conn
        .query_row("SELECT max(id) FROM lines", [], |row| row.get(0))
        .map_err(sql)?;
    let cleared: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'last_id'", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(sql)?;
    let last = stored.unwrap_or(0).max(cleared.unwrap_or(0));
    Ok((conn, u64::try_from(last).unwrap_or(0)))
}

/// The reason in an SQLite error, without the path that rusqlite adds to open
/// errors (the [`HistoryError`] names it already).
fn describe(err: rusqlite::Error, path: &Path) -> String {
    let text = err.to_string();
    match text.strip_suffix(&format!(": {}", path.display())) {
        Some(reason) => reason.to_owned(),
        None => text,
    }
}

/// A connection for queries; read-only, so a bug here cannot write.
fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    // A couple of dozen distinct statements exist (selector × anchor kinds).
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// The column an anchor compares by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Id,
    Time,
}

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Id => "id",
            Col::Time => "time_ms",
        }
    }

    /// The index whose order this column reads in (the rowid `id` ends both).
    fn index(self) -> &'static str {
        match self {
            Col::Id => "lines_room_id",
            Col::Time => "lines_room_time",
        }
    }

    fn order(self, newest_first: bool) -> &'static str {
        match (self, newest_first) {
            (Col::Id, false) => "id",
            (Col::Id, true) => "id DESC",
            (Col::Time, false) => "time_ms, id",
            (Col::Time, true) => "time_ms DESC, id DESC",
        }
    }
}

/// The column and value an anchor compares by. Ids past `i64::MAX` cannot be
/// stored, so such an anchor lies after every line.
fn anchor_key(anchor: Anchor) -> (Col, i64) {
    match anchor {
        Anchor::MsgId(id) => (Col::Id, i64::try_from(id).unwrap_or(i64::MAX)),
        Anchor::Time(ms) => (Col::Time, ms),
    }
}

/// `column op value`, one condition of a query.
#[derive(Debug, Clone, Copy)]
struct Bound {
    col: Col,
    op: &'static str,
    value: i64,
}

impl Bound {
    fn new(key: (Col, i64), op: &'static str) -> Self {
        Bound {
            col: key.0,
            op,
            value: key.1,
        }
    }
}

/// The statement of [`fetch`]: an index range scan of one room, in `order`'s index.
fn fetch_sql(bounds: &[Bound], order: Col, newest_first: bool) -> String {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM lines INDEXED BY {} WHERE room_key = ?1",
        order.index()
    );
    for (i, bound) in bounds.iter().enumerate() {
        let _ = write!(sql, " AND {} {} ?{}", bound.col.name(), bound.op, i + 3);
    }
    let _ = write!(sql, " ORDER BY {} LIMIT ?2", order.order(newest_first));
    sql
}

/// Up to `limit` lines of a room within `bounds`, taken from the oldest (or the newest)
/// end in `order`, returned oldest first.
fn fetch(
    conn: &Connection,
    room_key: &str,
    bounds: &[Bound],
    order: Col,
    newest_first: bool,
    limit: usize,
) -> rusqlite::Result<Vec<StoredLine>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&fetch_sql(bounds, order, newest_first))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values: Vec<&dyn ToSql> = vec![&room_key, &limit];
    values.extend(bounds.iter().map(|bound| &bound.value as &dyn ToSql));
    let mut lines = stmt
        .query_map(values.as_slice(), read_line)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if newest_first {
        lines.reverse();
    }
    Ok(lines)
}

/// The lines a selector picks, oldest first (IRCv3 chathistory, exclusive bounds).
fn select(
    conn: &Connection,
    room_key: &str,
    selector: Selector,
    limit: usize,
) -> rusqlite::Result<Vec<StoredLine>> {
    let scan = |bounds: &[Bound], order: Col, newest_first: bool, limit: usize| {
        fetch(conn, room_key, bounds, order, newest_first, limit)
    };
    match selector {
        Selector::Latest(None) => scan(&[], Col::Id, true, limit),
        Selector::Latest(Some(anchor)) => {
            let key = anchor_key(anchor);
            scan(&[Bound::new(key, ">")], key.0, true, limit)
        }
        Selector::Before(anchor) => {
            let key = anchor_key(anchor);
            scan(&[Bound::new(key, "<")], key.0, true, limit)
        }
        Selector::After(anchor) => {
            let key = anchor_key(anchor);
            scan(&[Bound::new(key, ">")], key.0, false, limit)
        }
        Selector::Around(anchor) => {
            let key = anchor_key(anchor);
            let (older, newer) = ([Bound::new(key, "<")], [Bound::new(key, ">=")]);
            let half = limit / 2;
            let mut lines = scan(&older, key.0, true, half)?;
            let mut after = scan(&newer, key.0, false, limit - lines.len())?;
            if after.len() < limit - lines.len() && lines.len() == half {
                // Near the newest line: fill the page with older lines instead.
                lines = scan(&older, key.0, true, limit - after.len())?;
            }
            lines.append(&mut after);
            Ok(lines)
        }
        Selector::Between(from, to) => {
            let (a, b) = (anchor_key(from), anchor_key(to));
            let forward = if a.0 == b.0 {
                a.1 <= b.1
            } else {
                position(conn, room_key, from)? <= position(conn, room_key, to)?
            };
            if forward {
                scan(&[Bound::new(a, ">"), Bound::new(b, "<")], a.0, false, limit)
            } else {
                scan(&[Bound::new(a, "<"), Bound::new(b, ">")], a.0, true, limit)
            }
        }
    }
}

/// An anchor's place in time, to order a msgid against a timestamp: a msgid sits at
/// the time of the nearest stored line at or before it (before every line if none).
fn position(conn: &Connection, room_key: &str, anchor: Anchor) -> rusqlite::Result<i64> {
    match anchor_key(anchor) {
        (Col::Time, ms) => Ok(ms),
        (Col::Id, id) => {
            let mut stmt = conn.prepare_cached(
                "SELECT time_ms FROM lines INDEXED BY lines_room_id \
                 WHERE room_key = ?1 AND id <= ?2 ORDER BY id DESC LIMIT 1",
            )?;
            let time = stmt
                .query_row(params![room_key, id], |row| row.get(0))
                .optional()?;
            Ok(time.unwrap_or(i64::MIN))
        }
    }
}

/// A row of [`COLUMNS`].
fn read_line(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredLine> {
    let id: i64 = row.get(0)?;
    let command: String = row.get(5)?;
    Ok(StoredLine {
        id: u64::try_from(id).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(0, Type::Integer, err.into())
        })?,
        time_ms: row.get(1)?,
        room_key: row.get(2)?,
        room: row.get(3)?,
        prefix: row.get(4)?,
        command: LineCommand::parse(&command).ok_or_else(|| {
            let reason = format!("unknown command {command:?}");
            rusqlite::Error::FromSqlConversionFailure(5, Type::Text, reason.into())
        })?,
        text: row.get(6)?,
        client_tags: row.get(7)?,
    })
}

/// The writer thread's state: the only connection that writes.
struct Writer {
    conn: Connection,
    path: PathBuf,
    shared: Arc<Shared>,
    keep: i64,
    slack: i64,
    /// Lines per room (counted up to `keep + slack` when first seen), to know
    /// when it is due for a prune without counting again.
    rooms: HashMap<String, i64>,
    /// A batch that failed once, tried again after [`RETRY_DELAY`].
    retry: Option<VecDeque<Op>>,
    /// The previous batch's buffer, swapped with the queue's to take it in O(1).
    spare: VecDeque<Op>,
}

/// Tells waiters the writer is gone however it ends (a panic included), so that
/// `flush` and `clear` return instead of waiting forever.
struct Stopped(Arc<Shared>);

impl Drop for Stopped {
    fn drop(&mut self) {
        let orphans = {
            let mut queue = lock(&self.0.queue);
            queue.writer_running = false;
            std::mem::take(&mut queue.ops)
        };
        // Dropping a Clear's sender answers its waiter with an error.
        drop(orphans);
        self.0.done.notify_all();
    }
}

impl Writer {
    fn run(mut self) {
        let _stopped = Stopped(Arc::clone(&self.shared));
        while let Some(ops) = self.next_batch() {
            if let Some(failed) = self.retry.take() {
                self.apply(failed, true);
            }
            if !ops.is_empty() {
                self.apply(ops, false);
            }
        }
    }

    /// Waits for work, then takes what is queued (up to [`MAX_BATCH`]). Empty when only
    /// a retry is due; `None` once shut down with nothing left.
    fn next_batch(&mut self) -> Option<VecDeque<Op>> {
        let deadline = self.retry.as_ref().map(|_| Instant::now() + RETRY_DELAY);
        let mut queue = lock(&self.shared.queue);
        loop {
            if let Some(deadline) = deadline {
                // A failed batch waits a while, so that a full disk is not hammered.
                let now = Instant::now();
                if queue.shutdown || now >= deadline {
                    break;
                }
                queue = match self.shared.work.wait_timeout(queue, deadline - now) {
                    Ok((queue, _)) => queue,
                    Err(poisoned) => poisoned.into_inner().0,
                };
                continue;
            }
            #[cfg(test)]
            let paused = queue.paused && !queue.shutdown;
            #[cfg(not(test))]
            let paused = false;
            if !queue.ops.is_empty() && !paused {
                queue = self.linger(queue);
                break;
            }
            if queue.shutdown && queue.ops.is_empty() {
                return None;
            }
            queue = self
                .shared
                .work
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        #[cfg(test)]
        if queue.paused && !queue.shutdown {
            return Some(VecDeque::new());
        }
        let ops = if queue.ops.len() <= MAX_BATCH {
            std::mem::swap(&mut queue.ops, &mut self.spare);
            queue.bytes = 0;
            std::mem::take(&mut self.spare)
        } else {
            let ops: VecDeque<Op> = queue.ops.drain(..MAX_BATCH).collect();
            let taken: usize = ops
                .iter()
                .map(|op| match op {
                    Op::Line(line) => line_size(line),
                    Op::Clear { .. } => 0,
                })
                .sum();
            queue.bytes = queue.bytes.saturating_sub(taken);
            ops
        };
        let caught_up = queue.dropping && queue.ops.is_empty();
        if caught_up {
            queue.dropping = false;
        }
        drop(queue);
        if caught_up {
            log::info!(
                "history: the writer caught up ({} lines dropped since start)",
                self.shared.dropped.load(Ordering::Relaxed)
            );
        }
        Some(ops)
    }

    /// Gives a small batch [`LINGER`] to grow, unless someone waits for it.
    fn linger<'q>(&self, mut queue: MutexGuard<'q, Queue>) -> MutexGuard<'q, Queue> {
        let deadline = Instant::now() + LINGER;
        while queue.ops.len() < MAX_BATCH && !queue.hurry && !queue.shutdown {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            queue = match self.shared.work.wait_timeout(queue, deadline - now) {
                Ok((queue, _)) => queue,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        queue.hurry = false;
        queue
    }

    /// Commits one batch, or keeps it for one retry, or gives up on it; then tells the
    /// waiters.
    fn apply(&mut self, mut ops: VecDeque<Op>, last_try: bool) {
        let result = self.write(&ops);
        let lines = ops.iter().filter(|op| matches!(op, Op::Line(_))).count();
        let outcome = match result {
            Ok(max_id) => {
                self.shared.last_id.fetch_max(max_id, Ordering::AcqRel);
                Ok(())
            }
            Err(err) => {
                // Whatever was counted in the failed transaction is unsure now:
                // prune every room again at its next line.
                self.rooms.clear();
                if !last_try {
                    log::error!(
                        "history: cannot write {lines} lines to {}: {err}; trying again in {:?}",
                        self.path.display(),
                        RETRY_DELAY
                    );
                    self.retry = Some(ops);
                    return;
                }
                log::warn!(
                    "history: dropping {lines} lines that cannot be written to {}: {err}",
                    self.path.display()
                );
                Err(err.to_string())
            }
        };
        let count = ops.len() as u64;
        for op in ops.drain(..) {
            if let Op::Clear { reply, .. } = op {
                // The waiter may be gone; nothing to tell then.
                let _ = reply.try_send(outcome.clone());
            }
        }
        if ops.capacity() > self.spare.capacity() {
            self.spare = ops;
        }
        lock(&self.shared.queue).finished += count;
        self.shared.done.notify_all();
    }

    /// One transaction: the lines and clears in order, then the prunes due.
    /// Returns the highest id inserted.
    fn write(&mut self, ops: &VecDeque<Op>) -> rusqlite::Result<u64> {
        #[cfg(test)]
        if self
            .shared
            .fail_writes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                Some("database or disk is full (test)".into()),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut max_id = 0;
        let mut refused = 0usize;
        {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO lines ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?;
            for op in ops {
                match op {
                    Op::Line(line) => {
                        // OR IGNORE: a duplicate id (a host bug, or a clock
                        // gone back) costs that line, not the whole batch.
                        let inserted = match i64::try_from(line.id) {
                            Ok(id) => insert.execute(params![
                                id,
                                line.time_ms,
                                line.room_key,
                                line.room,
                                line.prefix,
                                line.command.as_str(),
                                line.text,
                                line.client_tags,
                            ])?,
                            Err(_) => 0,
                        };
                        if inserted == 0 {
                            refused += 1;
                            continue;
                        }
                        max_id = max_id.max(line.id);
                        match self.rooms.get_mut(&line.room_key) {
                            Some(count) => *count += 1,
                            None => {
                                let count =
                                    count_lines(&tx, &line.room_key, self.keep, self.slack)?;
                                self.rooms.insert(line.room_key.clone(), count);
                            }
                        }
                    }
                    Op::Clear { room_key, .. } => {
                        // Remember the highest id before forgetting the lines, so
                        // that last_id (and the host's next ids) stay above it.
                        tx.execute(
                            "INSERT INTO meta (key, value) \
                             VALUES ('last_id', (SELECT coalesce(max(id), 0) FROM lines)) \
                             ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                            [],
                        )?;
                        match room_key {
                            Some(room_key) => {
                                tx.execute("DELETE FROM lines WHERE room_key = ?1", [room_key])?;
                                self.rooms.insert(room_key.clone(), 0);
                            }
                            None => {
                                tx.execute("DELETE FROM lines", [])?;
                                self.rooms.clear();
                            }
                        }
                    }
                }
            }
        }
        prune(&tx, &mut self.rooms, self.keep, self.slack)?;
        tx.commit()?;
        if refused > 0 {
            log::warn!(
                "history: {refused} lines had an id already stored (or too large); not kept"
            );
        }
        Ok(max_id)
    }
}

/// How many lines a room holds, counted through the (room_key, id) index but
/// only up to `keep + slack` (which is enough to know it is due for a prune).
fn count_lines(
    tx: &rusqlite::Transaction<'_>,
    room_key: &str,
    keep: i64,
    slack: i64,
) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "SELECT count(*) FROM (SELECT 1 FROM lines INDEXED BY lines_room_id \
         WHERE room_key = ?1 LIMIT ?2)",
    )?
    .query_row(params![room_key, keep.saturating_add(slack)], |row| {
        row.get(0)
    })
}

/// Prunes each room that grew `slack` lines past `keep` back to its `keep` newest:
/// finds the id of its `keep`-th newest line through the (room_key, id) index, then
/// deletes the id range below it (no scan of the lines it keeps).
fn prune(
    tx: &rusqlite::Transaction<'_>,
    rooms: &mut HashMap<String, i64>,
    keep: i64,
    slack: i64,
) -> rusqlite::Result<()> {
    let due = keep.saturating_add(slack);
    for (room_key, count) in rooms.iter_mut().filter(|(_, count)| **count >= due) {
        let cutoff: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM lines INDEXED BY lines_room_id WHERE room_key = ?1 \
                 ORDER BY id DESC LIMIT 1 OFFSET ?2",
            )?
            .query_row(params![room_key, keep], |row| row.get(0))
            .optional()?;
        if let Some(cutoff) = cutoff {
            tx.prepare_cached(
                "DELETE FROM lines INDEXED BY lines_room_id WHERE room_key = ?1 AND id <= ?2",
            )?
            .execute(params![room_key, cutoff])?;
        }
        *count = keep;
    }
    Ok(())
}

#[cfg(test)]
impl History {
    /// Test hook: stops (or resumes) the writer taking lines off the queue.
    fn pause_writer(&self, paused: bool) {
        lock(&self.inner.shared.queue).paused = paused;
        self.inner.shared.work.notify_all();
    }

    /// Test hook: the next `count` transactions fail as if the disk were full.
    fn fail_next_writes(&self, count: u32) {
        self.inner
            .shared
            .fail_writes
            .store(count, Ordering::Release);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ROOM: &str = "#chat";

    fn line(id: u64, time_ms: i64, room_key: &str, text: &str) -> StoredLine {
        StoredLine {
            id,
            time_ms,
            room_key: room_key.to_owned(),
            room: room_key.to_uppercase(),
            prefix: "li!li@host".to_owned(),
            command: LineCommand::Privmsg,
            text: text.to_owned(),
            client_tags: String::new(),
        }
    }

    fn open(dir: &tempfile::TempDir, keep: usize) -> History {
        History::open(&dir.path().join("history.sqlite3"), keep).unwrap()
    }

    /// Ten lines in ROOM: ids 10, 20, … 100 at times 1000, 2000, … 10000,
    /// and one line in another room in between.
    fn ten(dir: &tempfile::TempDir) -> History {
        let history = open(dir, 1000);
        for i in 1..=10 {
            history.record(line(i * 10, i as i64 * 1000, ROOM, &format!("line {i}")));
            if i == 5 {
                history.record(line(55, 5500, "#other", "elsewhere"));
            }
        }
        history.flush();
        history
    }

    fn ids(lines: &[StoredLine]) -> Vec<u64> {
        lines.iter().map(|line| line.id).collect()
    }

    fn pick(history: &History, selector: Selector, limit: usize) -> Vec<u64> {
        ids(&history.query(ROOM, &selector, limit).unwrap())
    }

    use Anchor::{MsgId, Time};

    #[test]
    fn round_trip_keeps_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 100);
        let sent = [
            StoredLine {
                id: 1_764_000_000_000_001,
                time_ms: 1_764_000_000_123,
                room_key: "#chat".into(),
                room: "#Chat".into(),
                prefix: "Ünï!~u@2001:db8::1".into(),
                command: LineCommand::Privmsg,
                text: "\u{1}ACTION waves 👋\u{1}".into(),
                client_tags: "+a=b;+c".into(),
            },
            StoredLine {
                command: LineCommand::Notice,
                id: 1_764_000_000_000_002,
                text: String::new(),
                client_tags: String::new(),
                ..line(0, -5, "#chat", "")
            },
            StoredLine {
                command: LineCommand::Topic,
                id: 1_764_000_000_000_003,
                text: "x".repeat(10_000),
                ..line(0, i64::MAX, "#chat", "")
            },
        ];
        for line in &sent {
            history.record(line.clone());
        }
        history.flush();
        assert_eq!(
            history.query("#chat", &Selector::Latest(None), 10).unwrap(),
            sent
        );
        assert_eq!(history.last_id(), 1_764_000_000_000_003);
        assert_eq!(LineCommand::Topic.as_str(), "TOPIC");
        drop(history);
        // And the same from the file after a reopen.
        let history = open(&dir, 100);
        assert_eq!(
            history.query("#chat", &Selector::Latest(None), 10).unwrap(),
            sent
        );
    }

    #[test]
    fn latest() {
        let dir = tempfile::tempdir().unwrap();
        let history = ten(&dir);
        assert_eq!(pick(&history, Selector::Latest(None), 3), [80, 90, 100]);
        assert_eq!(pick(&history, Selector::Latest(None), 100).len(), 10);
        assert_eq!(
            pick(&history, Selector::Latest(Some(MsgId(70))), 10),
            [80, 90, 100]
        );
        assert_eq!(
            pick(&history, Selector::Latest(Some(MsgId(20))), 2),
            [90, 100]
        );
        assert_eq!(
            pick(&history, Selector::Latest(Some(Time(7000))), 10),
            [80, 90, 100]
        );
        assert_eq!(
            pick(&history, Selector::Latest(Some(MsgId(100))), 10),
            [0u64; 0]
        );
        assert_eq!(pick(&history, Selector::Latest(None), 0), [0u64; 0]);
        let empty = history
            .query("#nobody", &Selector::Latest(None), 10)
            .unwrap();
        assert!(empty.is_empty());
        // The other room's line never shows here, and the other room only has it.
        assert_eq!(
            ids(&history
                .query("#other", &Selector::Latest(None), 10)
                .unwrap()),
            [55]
        );
    }

    #[test]
    fn before_and_after() {
        let dir = tempfile::tempdir().unwrap();
        let history = ten(&dir);
        assert_eq!(pick(&history, Selector::Before(MsgId(50)), 2), [30, 40]);
        assert_eq!(
            pick(&history, Selector::Before(MsgId(50)), 10),
            [10, 20, 30, 40]
        );
        assert_eq!(pick(&history, Selector::Before(MsgId(10)), 10), [0u64; 0]);
        assert_eq!(
            pick(&history, Selector::Before(MsgId(u64::MAX)), 2),
            [90, 100]
        );
        assert_eq!(pick(&history, Selector::After(MsgId(50)), 2), [60, 70]);
        assert_eq!(pick(&history, Selector::After(MsgId(100)), 10), [0u64; 0]);
        assert_eq!(pick(&history, Selector::After(MsgId(0)), 2), [10, 20]);
        assert_eq!(pick(&history, Selector::After(MsgId(10)), 0), [0u64; 0]);
        // Time anchors, exclusive too; and between two lines' times.
        assert_eq!(pick(&history, Selector::Before(Time(3000)), 10), [10, 20]);
        assert_eq!(pick(&history, Selector::Before(Time(3500)), 1), [30]);
        assert_eq!(pick(&history, Selector::After(Time(9000)), 10), [100]);
        assert_eq!(pick(&history, Selector::After(Time(8500)), 1), [90]);
        assert_eq!(pick(&history, Selector::After(Time(10_000)), 10), [0u64; 0]);
        let empty = history
            .query("#nobody", &Selector::Before(MsgId(50)), 10)
            .unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn time_anchors_keep_lines_of_one_millisecond_in_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        for id in 1..=6 {
            history.record(line(id, 1000 + (id as i64 - 1) / 3 * 1000, ROOM, "x"));
        }
        history.flush();
        // Ids 1-3 at 1000 ms, 4-6 at 2000 ms.
        assert_eq!(pick(&history, Selector::After(Time(1000)), 10), [4, 5, 6]);
        assert_eq!(pick(&history, Selector::Before(Time(2000)), 2), [2, 3]);
        assert_eq!(
            pick(&history, Selector::Latest(Some(Time(999))), 4),
            [3, 4, 5, 6]
        );
        assert_eq!(
            pick(&history, Selector::Around(Time(2000)), 4),
            [2, 3, 4, 5]
        );
    }

    #[test]
    fn around() {
        let dir = tempfile::tempdir().unwrap();
        let history = ten(&dir);
        assert_eq!(
            pick(&history, Selector::Around(MsgId(50)), 4),
            [30, 40, 50, 60]
        );
        assert_eq!(
            pick(&history, Selector::Around(MsgId(50)), 5),
            [30, 40, 50, 60, 70]
        );
        assert_eq!(pick(&history, Selector::Around(MsgId(50)), 1), [50]);
        assert_eq!(pick(&history, Selector::Around(MsgId(50)), 0), [0u64; 0]);
        // At the first line: the page fills with newer lines.
        assert_eq!(
            pick(&history, Selector::Around(MsgId(10)), 4),
            [10, 20, 30, 40]
        );
        // At the last line: the page fills with older lines.
        assert_eq!(
            pick(&history, Selector::Around(MsgId(100)), 4),
            [70, 80, 90, 100]
        );
        // An id between two lines, and a time anchor (the line at that time included).
        assert_eq!(pick(&history, Selector::Around(MsgId(55)), 2), [50, 60]);
        assert_eq!(
            pick(&history, Selector::Around(Time(5000)), 3),
            [40, 50, 60]
        );
        assert_eq!(pick(&history, Selector::Around(MsgId(50)), 100).len(), 10);
        let empty = history
            .query("#nobody", &Selector::Around(MsgId(50)), 10)
            .unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn between_in_both_orders() {
        let dir = tempfile::tempdir().unwrap();
        let history = ten(&dir);
        // Earlier first: the lines just after the first anchor.
        assert_eq!(
            pick(&history, Selector::Between(MsgId(20), MsgId(80)), 3),
            [30, 40, 50]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(20), MsgId(80)), 10).len(),
            5
        );
        // Later first: the lines just before the first anchor.
        assert_eq!(
            pick(&history, Selector::Between(MsgId(80), MsgId(20)), 3),
            [50, 60, 70]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(80), MsgId(20)), 10).len(),
            5
        );
        // Time anchors, and mixed kinds.
        assert_eq!(
            pick(&history, Selector::Between(Time(2000), Time(5000)), 10),
            [30, 40]
        );
        assert_eq!(
            pick(&history, Selector::Between(Time(9000), Time(2000)), 2),
            [70, 80]
        );
        assert_eq!(
            pick(&history, Selector::Between(Time(2500), MsgId(60)), 10),
            [30, 40, 50]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(60), Time(2500)), 2),
            [40, 50]
        );
        // Neighbours and equal anchors hold nothing; the whole range, everything.
        assert_eq!(
            pick(&history, Selector::Between(MsgId(40), MsgId(50)), 10),
            [0u64; 0]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(40), MsgId(40)), 10),
            [0u64; 0]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(0), MsgId(u64::MAX)), 100).len(),
            10
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(20), MsgId(80)), 0),
            [0u64; 0]
        );
    }

    #[test]
    fn a_pruned_msgid_anchor_still_works() {
        let dir = tempfile::tempdir().unwrap();
        // Keep 100 of 300 lines (the prune runs once 100 lines past the limit).
        let history = open(&dir, 100);
        for id in 1..=300 {
            history.record(line(id, id as i64, ROOM, "x"));
        }
        history.flush();
        assert_eq!(
            pick(&history, Selector::Latest(None), 1000),
            (201..=300).collect::<Vec<_>>()
        );
        assert_eq!(pick(&history, Selector::After(MsgId(5)), 2), [201, 202]);
        assert_eq!(pick(&history, Selector::Before(MsgId(5)), 2), [0u64; 0]);
        assert_eq!(pick(&history, Selector::Around(MsgId(5)), 2), [201, 202]);
        assert_eq!(
            pick(&history, Selector::Between(MsgId(5), MsgId(204)), 9),
            [201, 202, 203]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(204), MsgId(5)), 9),
            [201, 202, 203]
        );
        assert_eq!(
            pick(&history, Selector::Between(MsgId(5), Time(204)), 9),
            [201, 202, 203]
        );
        assert_eq!(
            pick(&history, Selector::Latest(Some(MsgId(5))), 2),
            [299, 300]
        );
    }

    #[test]
    fn targets() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        history.record(line(1, 100, "#a", "x"));
        history.record(line(2, 200, "#b", "x"));
        history.record(line(3, 300, "#a", "x"));
        history.record(StoredLine {
            room: "#Bee".into(),
            ..line(4, 400, "#b", "x")
        });
        history.record(line(5, 500, "#c", "x"));
        history.record(line(6, 600, "#a", "x"));
        history.flush();
        let all = history.targets(0, 1000, 10).unwrap();
        assert_eq!(
            all,
            [
                ("#Bee".to_owned(), 400),
                ("#C".into(), 500),
                ("#A".into(), 600)
            ]
        );
        // Exclusive bounds, the latest line within them, either order of bounds.
        let some = history.targets(100, 500, 10).unwrap();
        assert_eq!(some, [("#A".to_owned(), 300), ("#Bee".into(), 400)]);
        assert_eq!(history.targets(500, 100, 10).unwrap(), some);
        assert_eq!(
            history.targets(0, 1000, 1).unwrap(),
            [("#Bee".to_owned(), 400)]
        );
        assert!(history.targets(0, 1000, 0).unwrap().is_empty());
        assert!(history.targets(600, 5000, 10).unwrap().is_empty());
    }

    fn count(history: &History, room: &str) -> usize {
        history
            .query(room, &Selector::Latest(None), usize::MAX)
            .unwrap()
            .len()
    }

    #[test]
    fn retention_keeps_the_newest_and_ids_keep_increasing_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 200);
        // The slack is max(10%, 100) = 100: 299 lines are all still there, the
        // 300th prunes back to 200.
        for id in 1..=299 {
            history.record(line(id, id as i64, ROOM, "x"));
        }
        history.record(line(1000, 1000, "#other", "x"));
        history.flush();
        assert_eq!(count(&history, ROOM), 299);
        history.record(line(1001, 1001, ROOM, "x"));
        history.flush();
        let kept = pick(&history, Selector::Latest(None), 1000);
        assert_eq!(kept.len(), 200);
        assert_eq!(kept[0], 101);
        assert_eq!(kept[199], 1001);
        assert_eq!(count(&history, "#other"), 1, "another room is not pruned");
        drop(history);
        // After a reopen a room is pruned at its first line: the limit may have
        // been lowered meanwhile.
        let history = open(&dir, 50);
        assert_eq!(history.last_id(), 1001);
        history.record(line(1002, 1002, ROOM, "x"));
        history.flush();
        let kept = pick(&history, Selector::Latest(None), 1000);
        assert_eq!(kept.len(), 50);
        assert_eq!(kept.last(), Some(&1002));
        assert!(kept.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(history.last_id(), 1002);
    }

    #[test]
    fn last_id_survives_a_reopen_and_a_clear() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 100);
        assert_eq!(history.last_id(), 0);
        history.record(line(7, 1, ROOM, "x"));
        history.record(line(9, 2, "#other", "x"));
        history.flush();
        assert_eq!(history.last_id(), 9);
        drop(history);
        let history = open(&dir, 100);
        assert_eq!(history.last_id(), 9);
        history.clear(None).unwrap();
        assert_eq!(history.last_id(), 9);
        drop(history);
        // Ids are never reused: the highest one is remembered with no line left.
        let history = open(&dir, 100);
        assert_eq!(history.last_id(), 9);
        assert_eq!(count(&history, ROOM) + count(&history, "#other"), 0);
    }

    #[test]
    fn clear_one_room_or_all_after_what_was_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let history = ten(&dir);
        history.pause_writer(true);
        history.record(line(101, 11_000, ROOM, "queued before the clear"));
        history.pause_writer(false);
        // Clears what was queued before it too, and only that room.
        history.clear(Some(ROOM)).unwrap();
        assert_eq!(count(&history, ROOM), 0);
        assert_eq!(count(&history, "#other"), 1);
        history.record(line(102, 12_000, ROOM, "after"));
        history.flush();
        assert_eq!(pick(&history, Selector::Latest(None), 10), [102]);
        history.clear(None).unwrap();
        assert_eq!(count(&history, ROOM), 0);
        assert_eq!(count(&history, "#other"), 0);
        assert!(history.targets(i64::MIN, i64::MAX, 10).unwrap().is_empty());
        assert_eq!(history.last_id(), 102);
    }

    #[test]
    fn a_corrupt_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let noise: Vec<u8> = (0..65_536u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for (name, content) in [
            ("noise.sqlite3", noise.as_slice()),
            (
                "notes.txt",
                b"These are my notes, not a database.\n".as_slice(),
            ),
            ("long.txt", "a line of text\n".repeat(1000).as_bytes()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let err = History::open(&path, 100).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "cannot open the history database {}: file is not a database",
                    path.display()
                )
            );
            // And it was left as it was.
            assert_eq!(std::fs::read(&path).unwrap(), content);
        }
    }

    #[test]
    fn an_unwritable_place_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // A parent that is a file: its directory cannot be created.
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let path = dir.path().join("file/sub/history.sqlite3");
        let err = History::open(&path, 100).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "cannot open the history database {}: cannot create",
                path.display()
            )),
            "{err}"
        );
        // A directory no one may create files in (this holds even for root,
        // whom a mode of 0555 would not stop).
        let path = Path::new("/proc/self/history.sqlite3");
        let err = History::open(path, 100).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot open the history database /proc/self/history.sqlite3: unable to open database file"
        );
        // A mode of 0555, where it applies (not to root).
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let path = locked.join("history.sqlite3");
        if std::fs::write(locked.join("probe"), "").is_err() {
            let err = History::open(&path, 100).unwrap_err().to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn newer_or_foreign_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.sqlite3");
        drop(open_writer(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 2)
            .unwrap();
        let err = History::open(&path, 100).unwrap_err().to_string();
        assert!(err.contains("newer TCP Chat (schema version 2"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");

        let path = dir.path().join("foreign.sqlite3");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = History::open(&path, 100).unwrap_err().to_string();
        assert!(err.ends_with("something else, not a room history"), "{err}");

        // A history whose table lost an index is refused rather than scanned.
        let path = dir.path().join("broken.sqlite3");
        drop(open_writer(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP INDEX lines_room_time")
            .unwrap();
        let err = History::open(&path, 100).unwrap_err().to_string();
        assert!(err.contains("table of lines is not as expected"), "{err}");
    }

    #[test]
    fn flush_makes_records_visible_and_drop_keeps_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        for id in 1..=500 {
            history.record(line(id, id as i64, ROOM, "x"));
        }
        history.flush();
        assert_eq!(count(&history, ROOM), 500);
        // A clone is the same store.
        let clone = history.clone();
        clone.record(line(501, 501, ROOM, "x"));
        clone.flush();
        assert_eq!(count(&history, ROOM), 501);
        drop(clone);
        // Dropping the last handle commits what is still queued (even paused).
        history.pause_writer(true);
        history.record(line(502, 502, ROOM, "x"));
        drop(history);
        // Shut down cleanly: the WAL was folded into the database file.
        assert!(!dir.path().join("history.sqlite3-wal").exists());
        let history = open(&dir, 1000);
        assert_eq!(count(&history, ROOM), 502);
    }

    #[test]
    fn flushed_lines_survive_a_crash() {
        // What a killed process leaves is its files as they are: copy them while
        // the store is still open and never shut down.
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        for id in 1..=100 {
            history.record(line(id, id as i64, ROOM, "x"));
        }
        history.flush();
        let crashed = tempfile::tempdir().unwrap();
        for suffix in ["", "-wal"] {
            let from = dir.path().join(format!("history.sqlite3{suffix}"));
            if from.exists() {
                std::fs::copy(
                    &from,
                    crashed.path().join(format!("history.sqlite3{suffix}")),
                )
                .unwrap();
            }
        }
        let recovered = open(&crashed, 1000);
        assert_eq!(count(&recovered, ROOM), 100);
        assert_eq!(recovered.last_id(), 100);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 100_000);
        history.pause_writer(true);
        for id in 1..=(MAX_QUEUED_LINES as u64 + 10) {
            history.record(line(id, 0, ROOM, "x"));
        }
        assert_eq!(history.dropped(), 10);
        history.pause_writer(false);
        history.flush();
        assert_eq!(count(&history, ROOM), MAX_QUEUED_LINES);
        // Room again once the writer caught up.
        history.record(line(1_000_000, 0, ROOM, "x"));
        history.flush();
        assert_eq!(count(&history, ROOM), MAX_QUEUED_LINES + 1);
        assert_eq!(history.dropped(), 10);

        // The byte bound: 15 lines of 1 MiB fit in 16 MiB, the 16th does not.
        history.pause_writer(true);
        let big = "x".repeat(1 << 20);
        for id in 0..20 {
            history.record(line(2_000_000 + id, 0, "#big", &big));
        }
        assert_eq!(history.dropped(), 10 + 5);
        history.pause_writer(false);
        history.flush();
        assert_eq!(count(&history, "#big"), 15);
    }

    #[test]
    fn a_write_error_is_retried_once_then_dropped_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        history.fail_next_writes(1);
        history.record(line(1, 1, ROOM, "retried"));
        history.flush();
        assert_eq!(pick(&history, Selector::Latest(None), 10), [1]);
        history.fail_next_writes(2);
        history.record(line(2, 2, ROOM, "lost"));
        history.flush();
        assert_eq!(pick(&history, Selector::Latest(None), 10), [1]);
        history.fail_next_writes(2);
        let err = history.clear(None).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot clear the history database"),
            "{err}"
        );
        assert!(err.ends_with("database or disk is full (test)"), "{err}");
        history.record(line(3, 3, ROOM, "kept"));
        history.flush();
        assert_eq!(pick(&history, Selector::Latest(None), 10), [1, 3]);
        assert_eq!(history.last_id(), 3);
    }

    #[test]
    fn a_duplicate_id_costs_only_that_line() {
        let dir = tempfile::tempdir().unwrap();
        let history = open(&dir, 1000);
        history.record(line(1, 1, ROOM, "first"));
        history.record(line(1, 2, ROOM, "same id"));
        history.record(line(2, 3, ROOM, "next"));
        history.flush();
        let lines = history.query(ROOM, &Selector::Latest(None), 10).unwrap();
        assert_eq!(ids(&lines), [1, 2]);
        assert_eq!(lines[0].text, "first");
    }

    #[test]
    fn every_query_is_an_index_range_scan() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = open_writer(&dir.path().join("plan.sqlite3")).unwrap();
        let mut statements = Vec::new();
        for order in [Col::Id, Col::Time] {
            for newest_first in [false, true] {
                statements.push(fetch_sql(&[], order, newest_first));
                for other in [Col::Id, Col::Time] {
                    let a = Bound {
                        col: order,
                        op: ">",
                        value: 0,
                    };
                    let b = Bound {
                        col: other,
                        op: "<",
                        value: 0,
                    };
                    statements.push(fetch_sql(&[a], order, newest_first));
                    statements.push(fetch_sql(&[a, b], order, newest_first));
                }
            }
        }
        for sql in &statements {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map(
                    rusqlite::params_from_iter(std::iter::repeat_n(0, stmt.parameter_count())),
                    |row| row.get::<_, String>(3),
                )
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(
                plan.starts_with("SEARCH lines USING INDEX lines_room_"),
                "{sql}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }
}
