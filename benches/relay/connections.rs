//! Scenario 2, connections: many clients connect, register and join the
//! room, then idle. How long until all are in, and what each costs the
//! server in resident memory.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::crowd::{until_unchanged, Crowd, Phase, Role};
use crate::report::{self, per_second, rate, Better, Row, Table};
use crate::servers::{RunningServer, ServerKind};

/// Silence after which the room counts as idle.
const QUIET: Duration = Duration::from_secs(2);
/// Longest wait for the room to go quiet after everyone is in.
const QUIET_LIMIT: Duration = Duration::from_secs(60);
/// Longest wait for the server to settle after the crowd has left.
const LEAVE_LIMIT: Duration = Duration::from_secs(120);
/// How long the server's CPU time must stand still to count as settled.
const SETTLED_FOR: Duration = Duration::from_secs(1);
/// Members already in the room when the measured crowd comes: the memory
/// a server takes on its first clients (code paged in on first use,
/// worker threads' heaps, the room itself) is no client's, and the
/// per-client figure is what each further client adds.
const WARM_MEMBERS: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct Connections {
    pub clients: usize,
    pub limit: Duration,
    /// A target to print beside the figures.
    pub goal: Option<&'static str>,
}

impl Connections {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "Connections: {} clients join one room, then idle",
                self.clients
            ),
            vec![
                "in room",
                "failed",
                "dropped",
                "time",
                "joins/s",
                "connect→in room p50",
                "p99",
                "RSS before",
                "RSS all in",
                "KiB/client all in",
                "RSS idle",
                "KiB/client idle",
                "server CPU-s",
                "all leave: server CPU-s",
            ],
            "KiB/client idle",
            Better::Lower,
        );
        table.notes.push(format!(
            "Clients connecting and joining at once: {} for ngircd (its listen backlog is a hard-coded \
             10), {} for the others (InspIRCd completes registrations on a 1-second tick). Every client \
             joins the same room, so each join is announced to everyone already in it (N²/2 JOIN lines, \
             all read by the generator). RSS: VmRSS of the server process with {} members idle in \
             the room before the measured clients come (\"before\"), once all are in, and idle: once \
             members have read nothing for {:?} (every JOIN delivered; send queues drained). Per \
             client: RSS minus RSS before, over the measured clients in the room: what each client \
             adds, not the server's start-up. Server CPU-s: its user+system time from the first \
             measured connect to idle. All leave: the measured clients then close their \
             connections at once (the warm members stay and are told of each), and the server's \
             CPU time until it stands still for {:?}. Time-out {:?}.",
            ServerKind::Ngircd.join_in_flight(),
            ServerKind::Inspircd.join_in_flight(),
            WARM_MEMBERS,
            QUIET,
            SETTLED_FOR,
            self.limit
        ));
        table.notes.extend(self.goal.map(str::to_owned));
        table
    }

    pub async fn run(&self, server: RunningServer) -> Result<Row> {
        let kind = server.kind;
        let warm = Crowd::spawn(&server, "w", &[Role::Listen; WARM_MEMBERS]);
        warm.await_joined(Instant::now(), self.limit).await;
        warm.await_quiet(QUIET, QUIET_LIMIT).await;
        let rss_before = server.rss_kib();
        let cpu_before = server.cpu_time();
        let roles = vec![Role::Listen; self.clients];
        let started = Instant::now();
        let crowd = Crowd::spawn(&server, "u", &roles);
        let took = crowd.await_joined(started, self.limit).await;
        let rss_all_in = server.rss_kib();
        crowd.await_quiet(QUIET, QUIET_LIMIT).await;
        let rss_idle = server.rss_kib();
        let cpu_used = server.cpu_since(cpu_before);
        let shared = std::rc::Rc::clone(&crowd.shared);
        let joined = shared.joined.get();
        let failed = shared.join_failures.get();
        let dropped = shared.disconnects.get();
        // Read before the server is killed: joins still pending then fail.
        let first_error = shared.first_join_error.borrow().clone();
        // Then everyone leaves at once (a network outage, say): each
        // departure is told to all who are still in the room.
        let cpu_before_leaving = server.cpu_time();
        crowd.set_phase(Phase::Stop);
        crowd.stopped().await;
        let leave_cpu = until_unchanged(|| server.cpu_time(), SETTLED_FOR, LEAVE_LIMIT)
            .await
            .then(|| server.cpu_since(cpu_before_leaving))
            .flatten();
        warm.finish(server).await;
        let elapsed = took.unwrap_or(self.limit);
        let per_client = |after: Option<u64>| match (rss_before, after) {
            (Some(before), Some(after)) if joined > 0 => {
                Some(after.saturating_sub(before) as f64 / joined as f64)
            }
            _ => None,
        };
        let kib = |value: Option<f64>| value.map_or("-".to_owned(), |k| format!("{k:.1}"));
        let latency = shared.connect_latency.borrow();
        let mut time = format!("{:.2} s", elapsed.as_secs_f64());
        if took.is_none() {
            time.push_str(" (timed out)");
        }
        let mib = |kib: Option<u64>| {
            kib.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        let mut cells = vec![
            joined.to_string(),
            failed.to_string(),
            dropped.to_string(),
            time,
            rate(per_second(joined as u64, elapsed)),
            report::quantile(&latency, 0.5),
            report::quantile(&latency, 0.99),
            mib(rss_before),
            mib(rss_all_in),
            kib(per_client(rss_all_in)),
            mib(rss_idle),
            kib(per_client(rss_idle)),
            cpu_used.map_or("-".to_owned(), |cpu| format!("{:.2}", cpu.as_secs_f64())),
            leave_cpu.map_or("- (busy)".to_owned(), |cpu| {
                format!("{:.2}", cpu.as_secs_f64())
            }),
        ];
        if let Some(error) = first_error.filter(|_| failed > 0) {
            cells[1] = format!("{failed} ({})", error.lines().next().unwrap_or_default());
        }
        Ok(Row {
            server: kind,
            cells,
            key: per_client(rss_idle),
        })
    }
}
