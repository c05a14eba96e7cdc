//! How the window copes with floods: 10,000 messages in one burst, and a
//! 100,000-line log. Prints the time to show them, the longest main-loop
//! stall (a high-priority 4 ms tick measuring its own lateness) and RSS.
//! Figures only, no assertions. `make bench` runs it under Xvfb; under
//! `cargo test` (no `--bench`) it runs small counts as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/fake_network.rs"]
mod fake_network;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use fake_network::FakeNetwork;
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

/// Feeds `count` messages at once and reports.
fn burst(fake: &FakeNetwork, label: &str, count: usize) {
    let worst = Rc::new(Cell::new(Duration::ZERO));
    let last = Rc::new(Cell::new(Instant::now()));
    let ticker = glib::timeout_add_local_full(TICK, glib::Priority::HIGH, {
        let (worst, last) = (worst.clone(), last.clone());
        move || {
            let now = Instant::now();
            let late = now.duration_since(last.replace(now)).saturating_sub(TICK);
            worst.set(worst.get().max(late));
            glib::ControlFlow::Continue
        }
    });
    let start = Instant::now();
    last.set(start);
    fake.feed((0..count).map(message));
    let shown = start.elapsed();
    ticker.remove();
    println!(
        "{label}: {count} messages shown in {:.1} ms; longest main-loop stall {:.1} ms; log {} lines; RSS {:.0} MiB",
        shown.as_secs_f64() * 1000.0,
        worst.get().as_secs_f64() * 1000.0,
        fake.window.chat_log().line_count(),
        rss_mib(),
    );
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
    burst(&fake, "burst", 10_000 / scale);
    let remaining = 100_000 / scale - fake.window.chat_log().line_count();
    burst(&fake, "fill to 100,000 lines", remaining);
    burst(&fake, "burst into a full log", 10_000 / scale);
    fake.close();
}
