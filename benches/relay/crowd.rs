//! A crowd of room members, one lightweight task each on the generator's
//! single-threaded runtime: they join, then listen (counting and timing
//! benchmark messages) and, if asked, send. The harness steps them through
//! phases; shared counters are plain `Cell`s since every task runs on one
//! thread.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::client::{bench_message, write_bench_privmsg, BenchMessage, Clock, Conn, Flow, Target};
use crate::report::{latency_histogram, record_latency};
use crate::servers::{RunningServer, ServerKind};

pub const ROOM: &str = "#chat";
/// Messages a flooding sender writes per syscall at most.
const FLOOD_BATCH: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Joining,
    /// Senders send until the deadline.
    Send {
        until: Instant,
    },
    /// Everyone keeps reading what is still in flight.
    Drain,
    Stop,
}

/// What one member does besides listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Listen,
    /// Listens and tells the flooders how far the relay has got, which is
    /// what bounds each flooder's window of messages in flight.
    Probe,
    /// Sends as fast as the server relays, at most `window` ahead of the probe.
    Flood {
        sender: usize,
        window: u64,
    },
    /// Sends one message every `every`.
    Paced {
        sender: usize,
        every: Duration,
    },
}

impl Role {
    fn sender(self) -> Option<usize> {
        match self {
            Role::Flood { sender, .. } | Role::Paced { sender, .. } => Some(sender),
            Role::Listen | Role::Probe => None,
        }
    }
}

/// Progress of one sender, shared with the probe.
#[derive(Default)]
pub struct SenderState {
    pub sent: Cell<u64>,
    acked: Cell<u64>,
    progress: Notify,
}

/// Everything the members update and the harness reads.
pub struct Shared {
    pub clock: Clock,
    pub senders: Vec<SenderState>,
    pub joined: Cell<usize>,
    pub join_failures: Cell<usize>,
    pub first_join_error: RefCell<Option<String>>,
    pub disconnects: Cell<usize>,
    pub delivered: Cell<u64>,
    /// Every byte members have read after joining (JOINs of later members
    /// included), to tell when the room has gone quiet.
    pub bytes_read: Cell<u64>,
    pub last_delivery: Cell<Option<Instant>>,
    /// Sender timestamp to receipt, every delivery.
    pub latency: RefCell<Histogram<u64>>,
    /// JOIN sent to own JOIN echo.
    pub join_latency: RefCell<Histogram<u64>>,
    /// TCP connect to own JOIN echo (registration included).
    pub connect_latency: RefCell<Histogram<u64>>,
    target: usize,
    settled: Notify,
}

impl Shared {
    pub fn total_sent(&self) -> u64 {
        self.senders.iter().map(|s| s.sent.get()).sum()
    }

    fn note_join_result(&self, result: Result<(), String>) {
        match result {
            Ok(()) => self.joined.set(self.joined.get() + 1),
            Err(error) => {
                self.join_failures.set(self.join_failures.get() + 1);
                self.first_join_error.borrow_mut().get_or_insert(error);
            }
        }
        if self.joined.get() + self.join_failures.get() == self.target {
            self.settled.notify_one();
        }
    }
}

/// How one member ended.
#[derive(Debug, Clone, Copy)]
pub struct MemberReport {
    pub sender: Option<usize>,
    pub joined: bool,
    /// Still connected when the harness stopped.
    pub alive: bool,
    pub received: u64,
    /// Messages whose sequence number was not the next one expected.
    pub out_of_order: u64,
}

pub struct Crowd {
    pub shared: Rc<Shared>,
    phase: watch::Sender<Phase>,
    members: Vec<JoinHandle<MemberReport>>,
}

impl Crowd {
    /// Spawns one task per role; at most the server's
    /// [`ServerKind::join_in_flight`] are connecting and joining at once.
    pub fn spawn(server: &RunningServer, nick_prefix: &str, roles: &[Role]) -> Crowd {
        let sender_count = roles
            .iter()
            .filter_map(|r| r.sender())
            .map(|s| s + 1)
            .max()
            .unwrap_or(0);
        let shared = Rc::new(Shared {
            clock: Clock::new(),
            senders: (0..sender_count).map(|_| SenderState::default()).collect(),
            joined: Cell::new(0),
            join_failures: Cell::new(0),
            first_join_error: RefCell::new(None),
            disconnects: Cell::new(0),
            delivered: Cell::new(0),
            bytes_read: Cell::new(0),
            last_delivery: Cell::new(None),
            latency: RefCell::new(latency_histogram()),
            join_latency: RefCell::new(latency_histogram()),
            connect_latency: RefCell::new(latency_histogram()),
            target: roles.len(),
            settled: Notify::new(),
        });
        let (phase, _) = watch::channel(Phase::Joining);
        let gate = Rc::new(Semaphore::new(server.kind.join_in_flight()));
        let members = roles
            .iter()
            .enumerate()
            .map(|(index, role)| {
                let member = Member {
                    target: server.target(),
                    kind: server.kind,
                    nick: format!("{nick_prefix}{index}"),
                    role: *role,
                    shared: Rc::clone(&shared),
                    phase: phase.subscribe(),
                };
                tokio::task::spawn_local(member.run(Rc::clone(&gate)))
            })
            .collect();
        Crowd {
            shared,
            phase,
            members,
        }
    }

    /// Waits until every member has joined or failed, at most `limit`.
    /// Returns how long that took, or `None` on time-out.
    pub async fn await_joined(&self, started: Instant, limit: Duration) -> Option<Duration> {
        let settled = self.shared.settled.notified();
        if self.shared.joined.get() + self.shared.join_failures.get() >= self.shared.target {
            return Some(started.elapsed());
        }
        tokio::time::timeout(limit, settled).await.ok()?;
        Some(started.elapsed())
    }

    pub fn set_phase(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Waits until `expected` deliveries arrived, or nothing arrived for
    /// `quiet`, or `limit` passed. Polls: the end of a drain is an absence.
    pub async fn drain(&self, expected: u64, quiet: Duration, limit: Duration) {
        let started = Instant::now();
        let mut last = self.shared.delivered.get();
        let mut last_change = Instant::now();
        while self.shared.delivered.get() < expected && started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.shared.delivered.get();
            if now != last {
                last = now;
                last_change = Instant::now();
            } else if last_change.elapsed() > quiet {
                break;
            }
        }
    }

    /// Waits until members have read nothing for `quiet` (every JOIN
    /// announced and read), at most `limit`; returns whether it went quiet.
    /// Polls: quiet is an absence.
    pub async fn await_quiet(&self, quiet: Duration, limit: Duration) -> bool {
        until_unchanged(|| self.shared.bytes_read.get(), quiet, limit).await
    }

    /// Stops every member. The server is killed first (dropped here) so it,
    /// not the generator, closes the connections.
    pub async fn finish(self, server: RunningServer) -> Vec<MemberReport> {
        self.set_phase(Phase::Stop);
        drop(server);
        self.stopped().await
    }

    /// Waits for every member to end, after [`Phase::Stop`] or the server's
    /// end.
    pub async fn stopped(self) -> Vec<MemberReport> {
        let mut reports = Vec::with_capacity(self.members.len());
        for member in self.members {
            if let Ok(report) = member.await {
                reports.push(report);
            }
        }
        reports
    }
}

/// Deliveries expected and missing among members still connected at the
/// end: each should have every message except its own.
pub fn expected_and_lost(shared: &Shared, reports: &[MemberReport]) -> (u64, u64) {
    let total = shared.total_sent();
    let mut expected = 0;
    let mut lost = 0;
    for report in reports.iter().filter(|r| r.alive) {
        let own = report
            .sender
            .and_then(|s| shared.senders.get(s))
            .map_or(0, |s| s.sent.get());
        let want = total - own;
        expected += want;
        lost += want.saturating_sub(report.received);
    }
    (expected, lost)
}

struct Member {
    target: Target,
    kind: ServerKind,
    nick: String,
    role: Role,
    shared: Rc<Shared>,
    phase: watch::Receiver<Phase>,
}

impl Member {
    async fn run(mut self, gate: Rc<Semaphore>) -> MemberReport {
        let mut report = MemberReport {
            sender: self.role.sender(),
            joined: false,
            alive: false,
            received: 0,
            out_of_order: 0,
        };
        let permit = gate.acquire().await;
        let setup = match self.role {
            Role::Flood { .. } => self.kind.sender_setup(&self.nick),
            _ => Vec::new(),
        };
        let joined = Conn::join(self.target, self.nick.clone(), ROOM, &setup).await;
        drop(permit);
        let mut conn = match joined {
            Ok((conn, times)) => {
                record_latency(
                    &mut self.shared.join_latency.borrow_mut(),
                    micros_between(times.join_sent, times.joined),
                );
                record_latency(
                    &mut self.shared.connect_latency.borrow_mut(),
                    micros_between(times.connect_started, times.joined),
                );
                self.shared.note_join_result(Ok(()));
                conn
            }
            Err(error) => {
                self.shared.note_join_result(Err(format!("{error:#}")));
                return report;
            }
        };
        report.joined = true;
        report.alive = self.listen_and_send(&mut conn, &mut report).await;
        if !report.alive {
            self.shared
                .disconnects
                .set(self.shared.disconnects.get() + 1);
        }
        report
    }

    /// The member's life after joining. Returns whether the connection was
    /// still up when the harness said stop.
    async fn listen_and_send(&mut self, conn: &mut Conn, report: &mut MemberReport) -> bool {
        let shared = Rc::clone(&self.shared);
        let mut last_seq = vec![0u64; shared.senders.len()];
        let is_probe = self.role == Role::Probe;
        // Without senders no line says anything a member counts.
        let needs_lines = !shared.senders.is_empty();
        let mut on_line = |line: &[u8]| {
            if let Some(message) = bench_message(line) {
                count_delivery(&shared, message, is_probe, &mut last_seq, report);
            }
            Flow::Continue
        };
        let mut outgoing = Vec::with_capacity(4096);
        let mut next_paced: Option<Instant> = None;
        loop {
            // Take everything already readable first, so sending never
            // starves reading.
            loop {
                let read = if needs_lines {
                    conn.try_read_lines(&mut on_line)
                } else {
                    conn.try_skim()
                };
                match read {
                    Ok(Some(read @ 1..)) => {
                        let total = shared.bytes_read.get() + read as u64;
                        shared.bytes_read.set(total);
                    }
                    Ok(None) => break,
                    // The harness kills the server right after saying stop.
                    Ok(Some(0)) | Err(_) => return *self.phase.borrow() == Phase::Stop,
                }
            }
            if conn.flush().await.is_err() {
                return *self.phase.borrow() == Phase::Stop;
            }
            let phase = *self.phase.borrow_and_update();
            let until = match phase {
                Phase::Stop => return true,
                Phase::Send { until } if Instant::now() < until => Some(until),
                _ => None,
            };
            let mut wake_at = None;
            if let Some(until) = until {
                wake_at = Some(until);
                let batch = match self.role {
                    Role::Flood { sender, window } => {
                        let state = &self.shared.senders[sender];
                        window
                            .saturating_sub(state.sent.get() - state.acked.get())
                            .min(FLOOD_BATCH)
                    }
                    Role::Paced { every, .. } => {
                        let due = *next_paced.get_or_insert_with(Instant::now);
                        if Instant::now() >= due {
                            next_paced = Some(due + every);
                            1
                        } else {
                            wake_at = Some(due.min(until));
                            0
                        }
                    }
                    Role::Listen | Role::Probe => 0,
                };
                if batch > 0 {
                    if self.send_batch(conn, batch, &mut outgoing).await.is_err() {
                        return false;
                    }
                    continue;
                }
            }
            let progress = self
                .role
                .sender()
                .and_then(|s| self.shared.senders.get(s))
                .map(|s| &s.progress);
            tokio::select! {
                readable = conn.readable() => if readable.is_err() { return false },
                changed = self.phase.changed() => if changed.is_err() { return true },
                () = notified_or_forever(progress.filter(|_| until.is_some())) => {}
                () = sleep_until_or_forever(wake_at) => {}
            }
        }
    }

    async fn send_batch(
        &self,
        conn: &mut Conn,
        count: u64,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let Some(sender) = self.role.sender() else {
            return Ok(());
        };
        let state = &self.shared.senders[sender];
        out.clear();
        let now_us = self.shared.clock.now_us();
        for seq in state.sent.get() + 1..=state.sent.get() + count {
            write_bench_privmsg(
                out,
                ROOM,
                BenchMessage {
                    sender,
                    seq,
                    sent_us: now_us,
                },
            );
        }
        conn.send(out).await?;
        // Counted once written: the server has accepted them.
        state.sent.set(state.sent.get() + count);
        Ok(())
    }
}

fn count_delivery(
    shared: &Shared,
    message: BenchMessage,
    is_probe: bool,
    last_seq: &mut [u64],
    report: &mut MemberReport,
) {
    report.received += 1;
    shared.delivered.set(shared.delivered.get() + 1);
    shared.last_delivery.set(Some(Instant::now()));
    record_latency(
        &mut shared.latency.borrow_mut(),
        shared.clock.now_us().saturating_sub(message.sent_us),
    );
    if let Some(last) = last_seq.get_mut(message.sender) {
        if message.seq != *last + 1 {
            report.out_of_order += 1;
        }
        *last = message.seq;
    }
    if is_probe {
        if let Some(state) = shared.senders.get(message.sender) {
            state.acked.set(message.seq);
            state.progress.notify_one();
        }
    }
}

async fn notified_or_forever(notify: Option<&Notify>) {
    match notify {
        Some(notify) => notify.notified().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

pub fn micros_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX)
}

/// Waits until `read()` has given the same value for `still` (looked at
/// every 100 ms), at most `limit`; returns whether it did.
pub async fn until_unchanged<T: PartialEq>(
    mut read: impl FnMut() -> T,
    still: Duration,
    limit: Duration,
) -> bool {
    let started = Instant::now();
    let mut last = read();
    let mut last_change = Instant::now();
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = read();
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if last_change.elapsed() >= still {
            return true;
        }
    }
    false
}
