//! Scenario 3, churn: clients keep joining and leaving while members of the
//! room chat at a steady pace. Join latency, and whether the chat still
//! gets through.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::client::Conn;
use crate::crowd::micros_between;
use crate::crowd::{expected_and_lost, Crowd, Phase, Role, ROOM};
use crate::report::{
    self, latency_histogram, per_second, rate, record_latency, Better, Row, Table,
};
use crate::servers::RunningServer;

#[derive(Debug, Clone, Copy)]
pub struct Churn {
    pub members: usize,
    pub chatters: usize,
    /// Each chatter sends one message per `every`.
    pub every: Duration,
    /// Clients cycling connect → register → join → quit at the same time.
    pub churners: usize,
    pub run_for: Duration,
}

#[derive(Default)]
struct ChurnStats {
    cycles: Cell<u64>,
    failures: Cell<u64>,
    first_error: RefCell<Option<String>>,
}

impl Churn {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "Churn: {} clients cycling join/quit for {:?} beside {} members ({} chatting)",
                self.churners, self.run_for, self.members, self.chatters
            ),
            vec![
                "joins",
                "joins/s",
                "failed",
                "JOIN→echo p50",
                "p99",
                "connect→in room p50",
                "p99",
                "chat deliveries/s",
                "lost",
                "disconnects",
            ],
            "joins/s",
            Better::Higher,
        );
        table.notes.push(format!(
            "Each chatter sends one message every {:?}. A churner connects, registers, joins, quits and \
             waits for the server to close, then starts again under a new nick.",
            self.every
        ));
        table
    }

    pub async fn run(&self, server: RunningServer) -> Result<Row> {
        let kind = server.kind;
        let mut roles: Vec<Role> = (0..self.chatters)
            .map(|sender| Role::Paced {
                sender,
                every: self.every,
            })
            .collect();
        roles.resize(self.members, Role::Listen);
        let crowd = Crowd::spawn(&server, "m", &roles);
        if crowd
            .await_joined(Instant::now(), Duration::from_secs(60))
            .await
            .is_none()
            || crowd.shared.join_failures.get() > 0
        {
            let joined = crowd.shared.joined.get();
            crowd.finish(server).await;
            bail!("only {joined}/{} members joined", self.members);
        }
        let started = Instant::now();
        let until = started + self.run_for;
        crowd.set_phase(Phase::Send { until });
        let stats = Rc::new(ChurnStats::default());
        let join_latency = Rc::new(RefCell::new(latency_histogram()));
        let connect_latency = Rc::new(RefCell::new(latency_histogram()));
        let next_nick = Rc::new(Cell::new(0u64));
        let churners: Vec<_> = (0..self.churners)
            .map(|_| {
                let (stats, join_latency, connect_latency, next_nick) = (
                    Rc::clone(&stats),
                    Rc::clone(&join_latency),
                    Rc::clone(&connect_latency),
                    Rc::clone(&next_nick),
                );
                let target = server.target();
                tokio::task::spawn_local(async move {
                    while Instant::now() < until {
                        let nick = format!("c{}", next_nick.get());
                        next_nick.set(next_nick.get() + 1);
                        let attempt = tokio::time::timeout(
                            Duration::from_secs(10),
                            Conn::join(target, nick, ROOM, &[]),
                        )
                        .await;
                        match attempt {
                            Ok(Ok((conn, times))) => {
                                stats.cycles.set(stats.cycles.get() + 1);
                                record_latency(
                                    &mut join_latency.borrow_mut(),
                                    micros_between(times.join_sent, times.joined),
                                );
                                record_latency(
                                    &mut connect_latency.borrow_mut(),
                                    micros_between(times.connect_started, times.joined),
                                );
                                conn.quit(Duration::from_secs(5)).await;
                            }
                            Ok(Err(error)) => {
                                stats.failures.set(stats.failures.get() + 1);
                                stats
                                    .first_error
                                    .borrow_mut()
                                    .get_or_insert(format!("{error:#}"));
                            }
                            Err(_) => {
                                stats.failures.set(stats.failures.get() + 1);
                                stats
                                    .first_error
                                    .borrow_mut()
                                    .get_or_insert("join timed out".to_owned());
                            }
                        }
                    }
                })
            })
            .collect();
        for churner in churners {
            let _ = churner.await;
        }
        let churn_time = started.elapsed();
        crowd.set_phase(Phase::Drain);
        let shared = Rc::clone(&crowd.shared);
        let expected_estimate = shared.total_sent() * (self.members as u64 - 1);
        crowd
            .drain(
                expected_estimate,
                Duration::from_secs(2),
                Duration::from_secs(15),
            )
            .await;
        let reports = crowd.finish(server).await;
        let (_, lost) = expected_and_lost(&shared, &reports);
        let chat_time = shared
            .last_delivery
            .get()
            .map_or(self.run_for, |last| last.saturating_duration_since(started));
        let joins = stats.cycles.get();
        let joins_per_second = per_second(joins, churn_time);
        let join_latency = join_latency.borrow();
        let connect_latency = connect_latency.borrow();
        let mut failed = stats.failures.get().to_string();
        if let Some(error) = stats.first_error.borrow().as_ref() {
            failed.push_str(&format!(" ({})", error.lines().next().unwrap_or_default()));
        }
        Ok(Row {
            server: kind,
            cells: vec![
                joins.to_string(),
                rate(joins_per_second),
                failed,
                report::quantile(&join_latency, 0.5),
                report::quantile(&join_latency, 0.99),
                report::quantile(&connect_latency, 0.5),
                report::quantile(&connect_latency, 0.99),
                rate(per_second(shared.delivered.get(), chat_time)),
                lost.to_string(),
                shared.disconnects.get().to_string(),
            ],
            key: Some(joins_per_second),
        })
    }
}
