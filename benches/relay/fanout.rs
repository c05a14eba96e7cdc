//! Scenario 1, fan-out: N members in one room, K of them flooding; every
//! member counts and times what it receives.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::crowd::{expected_and_lost, Crowd, Phase, Role};
use crate::report::{self, per_second, rate, Better, Row, Table};
use crate::servers::RunningServer;

#[derive(Debug, Clone, Copy)]
pub struct Fanout {
    pub members: usize,
    pub senders: usize,
    pub send_for: Duration,
    /// Messages a sender may have in flight beyond what the probe has seen.
    pub window: u64,
    /// A target to print beside the figures.
    pub goal: Option<&'static str>,
}

impl Fanout {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "Fan-out: {} members, {} flooding for {:?}, window {}",
                self.members, self.senders, self.send_for, self.window
            ),
            vec![
                "accepted msg/s",
                "deliveries/s",
                "p50",
                "p99",
                "max",
                "lost",
                "disconnects",
                "out of order",
                "server CPU",
                "deliveries/CPU-s",
            ],
            "deliveries/s",
            Better::Higher,
        );
        table.notes.push(format!(
            "Each sender keeps at most {} messages in flight beyond what a listening probe member has \
             received, so it sends as fast as the server relays. Latency: sender timestamp to receipt, \
             every delivery. Lost: deliveries missing at members still connected after the drain. \
             Server CPU: its user+system time from the start of sending to the last delivery, as a \
             share of one core (of {}), and deliveries per CPU-second of it: work per delivery, \
             whatever the generator manages.",
            self.window,
            std::thread::available_parallelism().map_or(0, usize::from)
        ));
        table.notes.extend(self.goal.map(str::to_owned));
        table
    }

    pub async fn run(&self, server: RunningServer) -> Result<Row> {
        let kind = server.kind;
        let mut roles: Vec<Role> = (0..self.senders)
            .map(|sender| Role::Flood {
                sender,
                window: self.window,
            })
            .collect();
        roles.resize(self.members.saturating_sub(1), Role::Listen);
        roles.push(Role::Probe);
        let crowd = Crowd::spawn(&server, "m", &roles);
        let join_limit = Duration::from_secs(60);
        if crowd
            .await_joined(Instant::now(), join_limit)
            .await
            .is_none()
            || crowd.shared.join_failures.get() > 0
        {
            let error = crowd
                .shared
                .first_join_error
                .borrow()
                .clone()
                .unwrap_or_else(|| "timed out".to_owned());
            let joined = crowd.shared.joined.get();
            crowd.finish(server).await;
            bail!("only {joined}/{} members joined: {error}", self.members);
        }
        let started = Instant::now();
        let cpu_before = server.cpu_time();
        crowd.set_phase(Phase::Send {
            until: started + self.send_for,
        });
        tokio::time::sleep(self.send_for).await;
        crowd.set_phase(Phase::Drain);
        let shared = std::rc::Rc::clone(&crowd.shared);
        let accepted = shared.total_sent();
        let expected_estimate = accepted * (self.members as u64 - 1);
        crowd
            .drain(
                expected_estimate,
                Duration::from_secs(2),
                Duration::from_secs(30),
            )
            .await;
        let cpu_used = server.cpu_since(cpu_before);
        let reports = crowd.finish(server).await;
        let (_, lost) = expected_and_lost(&shared, &reports);
        let delivered = shared.delivered.get();
        let delivering_for = shared.last_delivery.get().map_or(self.send_for, |last| {
            last.saturating_duration_since(started)
        });
        let deliveries_per_second = per_second(delivered, delivering_for);
        let latency = shared.latency.borrow();
        let out_of_order: u64 = reports.iter().map(|r| r.out_of_order).sum();
        Ok(Row {
            server: kind,
            cells: vec![
                rate(per_second(accepted, self.send_for)),
                rate(deliveries_per_second),
                report::quantile(&latency, 0.5),
                report::quantile(&latency, 0.99),
                report::max(&latency),
                lost.to_string(),
                shared.disconnects.get().to_string(),
                out_of_order.to_string(),
                cpu_used.map_or("-".to_owned(), |cpu| {
                    format!(
                        "{:.0}%",
                        100.0 * cpu.as_secs_f64() / delivering_for.as_secs_f64()
                    )
                }),
                cpu_used.map_or("-".to_owned(), |cpu| rate(per_second(delivered, cpu))),
            ],
            key: Some(deliveries_per_second),
        })
    }
}
