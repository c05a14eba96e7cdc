//! How the window copes with floods: 10,000 messages in one burst, and a
//! 100,000-line log. Prints the time to show them, the longest main-loop
//! stall (a high-priority 4 ms tick measuring its own lateness), RSS over
//! the idle window and per line kept, and how long a search over the full
//! log takes (a rare phrase, and a word on every line). Figures only, no
//! assertions. `make bench` runs it under Xvfb; under
//! `cargo test` (no `--bench`) it runs small counts as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/fake_network.rs"]
mod fake_network;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use fake_network::FakeNetwork;
use gtk::prelude::*;
use tcp_chat::api::{Event, LineMeta};
use tcp_chat::ui::launch::Launch;

const TICK: Duration = Duration::from_millis(4);

fn message(n: usize) -> Event {
    Event::Message {
        from: format!("user{}", n % 50),
        target: "#chat".into(),
        text: format!("message number {n}: the quick brown fox jumps over the lazy dog https://example.org/{n}"),
        own: n.is_multiple_of(50),
        private: false,
        meta: LineMeta::default(),
    }
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time the calling thread has run, from the kernel's scheduler
/// statistics: on a machine shared with other work, a main loop waiting
/// for a core is not a main loop busy.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The longest gaps between two runs of a high-priority tick: in wall-clock
/// time (what the person waits, including time the process waited for a
/// core) and in the main thread's CPU time (what our code took).
#[derive(Default)]
struct Stalls {
    wall: Cell<Duration>,
    busy: Cell<Duration>,
}

/// Frames redrawn with nothing new in them, for the floor under the
/// stalls: what one frame of the window costs the main loop.
const IDLE_FRAMES: u32 = 60;

/// Starts the 4 ms probe; `stop` it to read the longest stalls.
fn probe() -> (Rc<Stalls>, glib::SourceId) {
    let worst = Rc::new(Stalls::default());
    let last = Rc::new(Cell::new((Instant::now(), thread_cpu())));
    let ticker = glib::timeout_add_local_full(TICK, glib::Priority::HIGH, {
        let worst = worst.clone();
        move || {
            let now = (Instant::now(), thread_cpu());
            let (then, then_cpu) = last.replace(now);
            let late = now.0.duration_since(then).saturating_sub(TICK);
            worst.wall.set(worst.wall.get().max(late));
            worst
                .busy
                .set(worst.busy.get().max(now.1.saturating_sub(then_cpu)));
            glib::ControlFlow::Continue
        }
    });
    (worst, ticker)
}

/// Redraws the log every frame, its text unchanged, and reports the
/// longest stall: the part of a burst's stall that is the renderer's
/// frame, whatever the log does.
fn idle_frames(fake: &FakeNetwork, label: &str) {
    let view = fake.window.chat_log().text_view();
    let drawn = Rc::new(Cell::new(0u32));
    let (worst, ticker) = probe();
    let start = Instant::now();
    view.add_tick_callback({
        let drawn = drawn.clone();
        move |view, _| {
            drawn.set(drawn.get() + 1);
            view.queue_draw();
            if drawn.get() < IDLE_FRAMES {
                glib::ControlFlow::Continue
            } else {
                glib::ControlFlow::Break
            }
        }
    });
    let context = glib::MainContext::default();
    let deadline = start + Duration::from_secs(60);
    while drawn.get() < IDLE_FRAMES && Instant::now() < deadline {
        context.iteration(true);
    }
    ticker.remove();
    println!(
        "{label}: {} frames in {:.1} ms; longest main-loop stall {:.1} ms ({:.1} ms of it busy)",
        drawn.get(),
        start.elapsed().as_secs_f64() * 1000.0,
        worst.wall.get().as_secs_f64() * 1000.0,
        worst.busy.get().as_secs_f64() * 1000.0,
    );
}

/// Feeds `count` messages at once and reports; returns the longest stall.
fn burst(fake: &FakeNetwork, label: &str, count: usize, idle_mib: f64) -> Rc<Stalls> {
    let (worst, ticker) = probe();
    let start = Instant::now();
    fake.feed((0..count).map(message));
    let shown = start.elapsed();
    ticker.remove();
    let lines = fake.window.chat_log().line_count();
    let over_idle = rss_mib() - idle_mib;
    println!(
        "{label}: {count} messages shown in {:.1} ms; longest main-loop stall {:.1} ms ({:.1} ms of it busy); log {lines} lines; RSS {over_idle:.1} MiB over the idle window ({:.0} bytes per line)",
        shown.as_secs_f64() * 1000.0,
        worst.wall.get().as_secs_f64() * 1000.0,
        worst.busy.get().as_secs_f64() * 1000.0,
        over_idle * 1024.0 * 1024.0 / lines.max(1) as f64,
    );
    worst
}

/// Times a search over the whole log and reports how many lines match.
fn search(fake: &FakeNetwork, label: &str, query: &str) {
    let log = fake.window.chat_log();
    let start = Instant::now();
    log.search(query);
    let found = start.elapsed();
    fake.settle();
    let start = Instant::now();
    log.previous_match();
    let step = start.elapsed();
    fake.settle();
    println!(
        "search for {label}: {} matches in {:.1} ms; previous match in {:.1} ms",
        log.match_count(),
        found.as_secs_f64() * 1000.0,
        step.as_secs_f64() * 1000.0,
    );
    log.clear_search();
    fake.settle();
}

fn main() {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let scale = if benchmarking { 1 } else { 100 };
    fake_network::init();
    println!("RSS at start {:.0} MiB", rss_mib());
    let fake = FakeNetwork::new();
    fake.window.launch(Launch::Connect {
        address: "bench:6667".into(),
        nick: Some("user0".into()),
        room: None,
    });
    fake.feed([Event::Connected {
        server: "bench:6667".into(),
        nick: "user0".into(),
        room: "#chat".into(),
    }]);
    let idle = rss_mib();
    println!("RSS of the idle window {idle:.0} MiB");
    burst(&fake, "burst", 10_000 / scale, idle);
    // In bursts of 10,000, as a flood would come: 90,000 events queued at
    // once would leave their own memory in the figure for the log.
    let start = Instant::now();
    let mut filled = 10_000 / scale;
    while fake.window.chat_log().line_count() < 100_000 / scale {
        let count = (100_000 / scale - fake.window.chat_log().line_count()).min(10_000 / scale);
        fake.feed((filled..filled + count).map(message));
        filled += count;
    }
    let lines = fake.window.chat_log().line_count();
    let over_idle = rss_mib() - idle;
    println!(
        "fill to 100,000 lines in bursts of 10,000: {:.1} s; log {lines} lines; RSS {over_idle:.1} MiB over the idle window ({:.0} bytes per line)",
        start.elapsed().as_secs_f64(),
        over_idle * 1024.0 * 1024.0 / lines.max(1) as f64,
    );
    let full = burst(&fake, "burst into a full log", 10_000 / scale, idle);
    // Last, so that the memory these frames take is in no figure above.
    idle_frames(&fake, "full log redrawn");
    search(
        &fake,
        "a rare phrase",
        &format!("lazy dog https://example.org/{}", 12_345 / scale),
    );
    search(&fake, "a word on every line", "fox");
    println!(
        "longest main-loop stall in a 10,000-message burst into a full log: {:.1} ms ({:.1} ms of it busy)",
        full.wall.get().as_secs_f64() * 1000.0,
        full.busy.get().as_secs_f64() * 1000.0,
    );
    fake.close();
}
