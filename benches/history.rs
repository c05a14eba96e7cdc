//! Room history benchmark: fills a database with 1,000,000 lines in 10 rooms
//! through `record`, then measures opening it afresh, LATEST and BEFORE
//! queries, and the process's memory; then starts the real host
//! (`tcp-chat --serve`) on that database and measures its start, `CHATHISTORY
//! LATEST … 100` round trips over loopback, and its memory. Run with
//! `cargo bench --bench history`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The module compiles on its own (std, rusqlite and log only); the benchmark
// uses part of its API (and, built as a test, its tests are not run here).
#[allow(dead_code, unused_imports)]
#[path = "../src/server/history.rs"]
mod history;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use history::{Anchor, History, LineCommand, Selector, StoredLine};

const LINES: u64 = 1_000_000;
const ROOMS: u64 = 10;
const QUERIES: usize = 1_000;
/// Lines recorded between two flushes: well below the queue's bound (32k lines),
/// so that nothing is dropped however fast the writer is.
const CHUNK: u64 = 16_384;
/// Ids as the host makes them: microseconds since the epoch, then counting up.
const FIRST_ID: u64 = 1_764_000_000_000_000;
const FIRST_MS: i64 = 1_764_000_000_000;

/// A small xorshift generator: reproducible and dependency-free.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn rss_kib() -> u64 {
    rss_kib_of("self")
}

fn rss_kib_of(process: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn line(n: u64) -> StoredLine {
    let room = n % ROOMS;
    StoredLine {
        id: FIRST_ID + n,
        time_ms: FIRST_MS + (n / 10) as i64,
        room_key: format!("#room{room}"),
        room: format!("#Room{room}"),
        prefix: format!("nick{}!user@192.0.2.{}", n % 50, n % 50),
        command: LineCommand::Privmsg,
        text: format!("line {n}: the quick brown fox jumps over the lazy dog"),
        client_tags: if n.is_multiple_of(4) {
            "+draft/reply=12345".to_owned()
        } else {
            String::new()
        },
    }
}

/// p50 and p99 of `calls` runs of `query`, in microseconds.
fn percentiles(calls: usize, mut query: impl FnMut() -> usize) -> (f64, f64, usize) {
    let mut times: Vec<Duration> = Vec::with_capacity(calls);
    let mut lines = 0;
    for _ in 0..calls {
        let start = Instant::now();
        lines += query();
        times.push(start.elapsed());
    }
    times.sort();
    let micros = |q: f64| times[((calls as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    (micros(0.50), micros(0.99), lines)
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("history.sqlite3");
    println!(
        "history bench: {LINES} lines in {ROOMS} rooms, {}",
        path.display()
    );
    println!("RSS at start: {} MiB", rss_kib() / 1024);

    // Keeping 200,000 per room: all 100,000 per room stay, nothing is pruned.
    let history = History::open(&path, 200_000).expect("a new database");
    let start = Instant::now();
    let mut n = 0;
    while n < LINES {
        let end = (n + CHUNK).min(LINES);
        for i in n..end {
            history.record(line(i));
        }
        history.flush();
        n = end;
    }
    let fill = start.elapsed();
    println!(
        "fill: {LINES} lines in {:.2} s = {:.0} lines/s (dropped {})",
        fill.as_secs_f64(),
        LINES as f64 / fill.as_secs_f64(),
        history.dropped()
    );
    println!("RSS after fill: {} MiB", rss_kib() / 1024);
    drop(history);
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|meta| meta.len())
        .sum();
    println!("database size: {} MiB", size / (1024 * 1024));

    let start = Instant::now();
    let history = History::open(&path, 200_000).expect("the filled database");
    println!(
        "open (1,000,000 lines): {:.1} ms, last_id {} (expected {})",
        start.elapsed().as_secs_f64() * 1e3,
        history.last_id(),
        FIRST_ID + LINES - 1
    );
    println!("RSS after open: {} MiB", rss_kib() / 1024);

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (p50, p99, got) = percentiles(QUERIES, || {
        let room = format!("#room{}", rng.below(ROOMS));
        history
            .query(&room, &Selector::Latest(None), 100)
            .unwrap()
            .len()
    });
    println!("LATEST * 100 on random rooms: p50 {p50:.0} µs, p99 {p99:.0} µs ({got} lines)");
    let (p50, p99, got) = percentiles(QUERIES, || {
        let room = format!("#room{}", rng.below(ROOMS));
        let anchor = Anchor::MsgId(FIRST_ID + rng.below(LINES));
        history
            .query(&room, &Selector::Before(anchor), 100)
            .unwrap()
            .len()
    });
    println!("BEFORE msgid=<random> 100: p50 {p50:.0} µs, p99 {p99:.0} µs ({got} lines)");
    let (p50, p99, got) = percentiles(100, || {
        let from = FIRST_MS + rng.below(LINES / 10) as i64;
        history.targets(from, from + 60_000, 100).unwrap().len()
    });
    println!("TARGETS (100 calls): p50 {p50:.0} µs, p99 {p99:.0} µs ({got} rooms)");
    println!("RSS after the queries: {} MiB", rss_kib() / 1024);
    drop(history);
    host(&path);
}

/// The real host on the filled database: start time, CHATHISTORY round
/// trips over loopback, memory.
fn host(database: &Path) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let state = database.parent().expect("the database's directory");
    std::fs::rename(database, state.join(format!("history-{port}.sqlite3")))
        .expect("moving the database into place");
    let start = Instant::now();
    let mut host = Command::new(env!("CARGO_BIN_EXE_tcp-chat"))
        .args([
            "--serve",
            "--bind",
            "127.0.0.1",
            "--no-flood-control",
            "--port",
        ])
        .arg(port.to_string())
        .arg("--state-dir")
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host starts");
    let mut stderr = BufReader::new(host.stderr.take().expect("its stderr"));
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = host.kill();
            let _ = host.wait();
            panic!("the host exited before listening");
        }
    }
    let started = start.elapsed();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let pid = host.id().to_string();
    println!(
        "host start with 1,000,000 lines: {:.0} ms, RSS {} MiB",
        started.as_secs_f64() * 1e3,
        rss_kib_of(&pid) / 1024
    );

    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("a writer");
    let mut reader = BufReader::new(stream);
    let mut send = |line: &str| writer.write_all(format!("{line}\r\n").as_bytes());
    send("CAP REQ :server-time message-tags batch draft/chathistory").expect("send");
    send("NICK bench").expect("send");
    send("USER bench 0 * :bench").expect("send");
    send("CAP END").expect("send");
    let rooms: Vec<String> = (0..ROOMS).map(|room| format!("#Room{room}")).collect();
    for chunk in rooms.chunks(4) {
        send(&format!("JOIN {}", chunk.join(","))).expect("send");
    }
    let mut read_until = |needle: &str| -> usize {
        let mut lines = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("the host closed the connection");
            }
            lines += 1;
            if line.contains(needle) {
                return lines;
            }
        }
    };
    send("PING :joined").expect("send");
    read_until("joined");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (p50, p99, got) = percentiles(QUERIES, || {
        let room = &rooms[rng.below(ROOMS) as usize];
        send(&format!("CHATHISTORY LATEST {room} * 100")).expect("send");
        // BATCH +n, 100 lines, BATCH -n
        read_until(" BATCH -") - 2
    });
    println!(
        "host: CHATHISTORY LATEST <room> * 100 over loopback: p50 {:.2} ms, p99 {:.2} ms ({got} lines)",
        p50 / 1e3,
        p99 / 1e3
    );
    println!(
        "host RSS after {QUERIES} queries: {} MiB",
        rss_kib_of(&pid) / 1024
    );
    let _ = host.kill();
    let _ = host.wait();
}
