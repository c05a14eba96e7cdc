//! A running client session: one tokio task per connection, driven by the
//! chat [`Command`]s and reporting [`Event`]s.

use std::path::PathBuf;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::codec::Decoder;

use super::address::{parse_address, room_or_default, Target};
use super::backoff;
use super::conversation::Conversation;
use super::secure::{self, Learnt, Opening};
use super::state::{End, EventSink, State};
use super::writer::{self, Pacing};
use crate::api::{Command, ConnectRequest, DisconnectReason, Event};
use crate::protocol::{Line, LineCodec, Message};
use crate::transport::ReadHalf;

/// How long the session waits for the network at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Resolving the name, and then each connection attempt.
    pub connect: Duration,
    /// How long a host new to us may take to answer TLS before it is
    /// joined in plain text: a plain IRC server (ngircd) waits silently on a
    /// ClientHello, so this is what a first visit to one costs. Hosts known
    /// or announced to speak TLS get `connect` instead.
    pub tls_probe: Duration,
    /// Silence from the server after which we send a PING of our own.
    pub ping_interval: Duration,
    /// How long the server has to answer that PING.
    pub ping_timeout: Duration,
    /// After QUIT, how long we wait for the server to close.
    pub quit_wait: Duration,
    /// How fast chat lines may leave.
    pub pacing: Pacing,
    /// The first wait before reconnecting; it doubles with each failure…
    pub reconnect_base: Duration,
    /// …up to this.
    pub reconnect_max: Duration,
    /// How long our waiting lines wait for the server's history after a
    /// rejoin before they are sent anyway.
    pub catch_up_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            connect: Duration::from_secs(15),
            tls_probe: Duration::from_secs(2),
            ping_interval: Duration::from_secs(90),
            ping_timeout: Duration::from_secs(60),
            quit_wait: Duration::from_secs(2),
            pacing: Pacing::default(),
            reconnect_base: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            catch_up_wait: Duration::from_secs(10),
        }
    }
}

/// A [`ConnectRequest`] and how patient to be with the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub request: ConnectRequest,
    pub timing: Timing,
    /// The store of hosts' pinned certificates (`known-hosts.sqlite`
    /// in the state directory); `None`: every visit is a first one.
    pub known_hosts: Option<PathBuf>,
}

/// The handle of a running session. Dropping it makes the session quit.
pub struct Session {
    commands: mpsc::UnboundedSender<Command>,
    /// `None` once awaited: a finished task must not be polled again.
    task: Option<JoinHandle<()>>,
}

impl Session {
    /// Spawns the session on the current tokio runtime. It reports through
    /// `events` and always ends with exactly one [`Event::Disconnected`].
    pub fn start(config: SessionConfig, events: async_channel::Sender<Event>) -> Session {
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let sink = EventSink::new(events);
            let reason = run(config, receiver, &sink).await;
            log::info!("session ended: {reason:?}");
            // If the window is gone there is nobody to tell.
            if sink.emit(Event::Disconnected { reason }).is_ok() {
                let _ = sink.deliver_backlog().await;
            }
        });
        Session {
            commands,
            task: Some(task),
        }
    }

    /// Passes a chat command (or `Leave`) on; false once the session has ended.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    pub fn has_ended(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Completes once the session has ended and reported why.
    pub async fn finished(&mut self) {
        if let Some(task) = &mut self.task {
            if let Err(err) = task.await {
                log::warn!("session task failed: {err}");
            }
            self.task = None;
        }
    }

    /// Quits with `message` and waits until the session has ended and
    /// reported it.
    pub async fn leave(mut self, message: Option<String>) {
        let _ = self.commands.send(Command::Leave { message });
        self.finished().await;
    }
}

/// Connects, and reconnects after every loss a new connection may mend,
/// until the person leaves or the end is final.
async fn run(
    config: SessionConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: &EventSink,
) -> DisconnectReason {
    let SessionConfig {
        request,
        timing,
        known_hosts,
    } = config;
    let target = match parse_address(&request.address) {
        Ok(target) => target,
        Err(err) => {
            log::info!("{:?}: {err}", request.address);
            return DisconnectReason::InvalidAddress {
                address: request.address,
            };
        }
    };
    let room = target
        .room
        .clone()
        .unwrap_or_else(|| room_or_default(&request.room));
    let mut conversation = Conversation::new(room, request.nick.clone());
    let mut attempt = 0;
    // Nick and topic changes typed while away, for the next connection.
    let mut deferred = Vec::new();
    let mut learnt = Learnt::default();
    loop {
        if let Err(End(reason)) = events.deliver_backlog().await {
            return reason;
        }
        let opening = Opening {
            target: &target,
            identity: request.identity,
            known_hosts: known_hosts.as_ref(),
            connect_timeout: timing.connect,
            probe_timeout: timing.tls_probe,
        };
        let ended = connection(
            (&opening, &mut learnt),
            &request,
            timing,
            &mut conversation,
            (&mut commands, deferred),
            events,
        )
        .await;
        let reason = ended.reason;
        if !ended.retry {
            return reason;
        }
        // Counting starts again after every connection that got in.
        attempt = if ended.got_in { 1 } else { attempt + 1 };
        conversation.outbox.connection_lost();
        let wait = backoff::delay(attempt, timing.reconnect_base, timing.reconnect_max);
        log::info!("connection lost ({reason:?}); reconnecting in {wait:?}");
        let reconnecting = Event::Reconnecting {
            reason,
            attempt,
            delay_secs: wait.as_secs_f64().round() as u64,
        };
        if events.emit(reconnecting).is_err() {
            return DisconnectReason::Left;
        }
        deferred = match wait_to_reconnect(wait, &mut conversation, &mut commands, events).await {
            Ok(deferred) => deferred,
            Err(End(reason)) => return reason,
        };
    }
}

/// How one connection ended.
struct ConnectionEnd {
    reason: DisconnectReason,
    /// A new connection may mend it.
    retry: bool,
    /// It made it into the room.
    got_in: bool,
}

/// One connection, from connecting to its end; `queued` are commands typed
/// before it.
async fn connection(
    (opening, learnt): (&Opening<'_>, &mut Learnt),
    request: &ConnectRequest,
    timing: Timing,
    conversation: &mut Conversation,
    (commands, mut queued): (&mut mpsc::UnboundedReceiver<Command>, Vec<Command>),
    events: &EventSink,
) -> ConnectionEnd {
    let ended = |reason, retry| ConnectionEnd {
        reason,
        retry,
        got_in: false,
    };
    let opened = {
        let opened = secure::open(opening, learnt);
        tokio::pin!(opened);
        loop {
            tokio::select! {
                opened = &mut opened => match opened {
                    Ok(opened) => break opened,
                    Err(reason) => {
                        let retry = conversation.joined_before && is_worth_retrying(&reason);
                        return ended(reason, retry);
                    }
                },
                command = commands.recv() => {
                    match while_away(command, conversation, events, &mut queued) {
                        Ok(Away::Kept | Away::ReconnectNow) => {}
                        Ok(Away::Leave) => return ended(DisconnectReason::Left, false),
                        Err(End(reason)) => return ended(reason, false),
                    }
                }
            }
        }
    };
    // Before anything is sent: the window shows it while registering.
    if events.emit(Event::Security(opened.security)).is_err() {
        return ended(DisconnectReason::Left, false);
    }
    let (wire, writing) = writer::spawn(opened.writer, timing.pacing, timing.ping_timeout);
    let mut state = State::new(
        events.clone(),
        wire,
        server_label(opening.target),
        conversation,
        timing.catch_up_wait,
    );
    for command in queued {
        state.on_command(command);
    }
    state.register(request.password.as_deref());
    // A writer stuck on a host that does not read gets a moment for our
    // last lines (QUIT), then goes, and the socket closes with it.
    let stop_writer = writing.abort_handle();
    let quit_wait = timing.quit_wait;
    let reason = converse(
        &mut state,
        (opened.reader, writing),
        commands,
        events,
        timing,
    )
    .await;
    tokio::spawn(async move {
        tokio::time::sleep(quit_wait).await;
        stop_writer.abort();
    });
    ConnectionEnd {
        retry: state.may_reconnect() && is_worth_retrying(&reason),
        got_in: state.got_in(),
        reason,
    }
}

/// Reasons a new connection may mend: the host or the network went away.
fn is_worth_retrying(reason: &DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::Refused
            | DisconnectReason::Unreachable
            | DisconnectReason::NotResolved { .. }
            | DisconnectReason::TimedOut
            | DisconnectReason::ConnectionLost { .. }
            | DisconnectReason::HostClosed { .. }
    )
}

/// Commands other than chat kept while reconnecting (each is one line the
/// person typed, so more is not a person).
const MAX_DEFERRED: usize = 64;

/// Waits out the backoff; what the person says meanwhile goes to the
/// outbox, nick and topic changes are kept for the next connection (they
/// are returned). `Err` when the person leaves (or the window is gone).
async fn wait_to_reconnect(
    wait: Duration,
    conversation: &mut Conversation,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &EventSink,
) -> Result<Vec<Command>, End> {
    let deadline = Instant::now() + wait;
    let mut deferred = Vec::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            command = commands.recv() => {
                match while_away(command, conversation, events, &mut deferred)? {
                    // What the person typed shows without waiting for the next connection.
                    Away::Kept => events.deliver_backlog().await?,
                    Away::ReconnectNow => break,
                    Away::Leave => return Err(End(DisconnectReason::Left)),
                }
            }
        }
    }
    Ok(deferred)
}

/// What became of a command while there was no connection.
enum Away {
    Kept,
    ReconnectNow,
    Leave,
}

/// A command while there is no connection: chat waits in the outbox (shown
/// as on its way), nick and topic changes in `deferred` for the next one.
fn while_away(
    command: Option<Command>,
    conversation: &mut Conversation,
    events: &EventSink,
    deferred: &mut Vec<Command>,
) -> Result<Away, End> {
    match command {
        None | Some(Command::Leave { .. }) => return Ok(Away::Leave),
        Some(Command::ReconnectNow) => return Ok(Away::ReconnectNow),
        Some(Command::SendMessage { text }) => conversation.keep(events, None, &text, false)?,
        Some(Command::SendAction { to, text }) => {
            conversation.keep(events, to.as_deref(), &text, true)?;
        }
        Some(Command::SendPrivate { nick, text }) => {
            conversation.keep(events, Some(&nick), &text, false)?;
        }
        // Typing is news only now: nobody to tell while disconnected.
        Some(Command::SendTyping { .. }) => {}
        Some(other) if deferred.len() < MAX_DEFERRED => deferred.push(other),
        Some(other) => log::debug!("too many commands while away: {other:?}"),
    }
    Ok(Away::Kept)
}

/// `host:port` as a person would type it back.
fn server_label(target: &Target) -> String {
    if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    }
}

/// The session's main loop: lines in, commands in, keep-alive, until the
/// conversation ends. Events wait for the window before more is read: a
/// host cannot send faster than the window takes what it sends.
async fn converse(
    state: &mut State<'_>,
    (mut reader, mut writing): (ReadHalf, JoinHandle<std::io::Result<()>>),
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &EventSink,
    timing: Timing,
) -> DisconnectReason {
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    let mut codec = LineCodec::new();
    let mut keep_alive = KeepAlive::new(timing);
    let mut quit_deadline: Option<Instant> = None;
    let mut writer_running = true;
    loop {
        // What a command or an expired catch-up made waits no longer.
        if let Err(End(reason)) = events.deliver_backlog().await {
            return reason;
        }
        let wake_at = quit_deadline.map_or(keep_alive.deadline, |q| q.min(keep_alive.deadline));
        let catch_up = state.catch_up_deadline();
        tokio::select! {
            read = reader.read_buf(&mut buffer) => {
                let eof = match read {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(err) => return state.lost(err.to_string()),
                };
                keep_alive.heard_from_server(timing);
                let taken = take_lines(state, (&mut codec, &mut buffer, eof), events, &mut keep_alive, timing);
                if let Err(End(reason)) = taken.await {
                    return reason;
                }
                if eof {
                    return state.lost(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).to_string());
                }
            }
            command = commands.recv(), if quit_deadline.is_none() => {
                let command = command.unwrap_or(Command::Leave { message: None });
                if matches!(command, Command::Leave { .. }) {
                    quit_deadline = Some(Instant::now() + timing.quit_wait);
                }
                state.on_command(command);
                if let Some(reason) = state.flooded() {
                    return reason;
                }
            }
            () = tokio::time::sleep_until(catch_up.unwrap_or(wake_at)), if catch_up.is_some() => {
                if let Err(End(reason)) = state.catch_up_expired() {
                    return reason;
                }
            }
            () = tokio::time::sleep_until(wake_at) => {
                if quit_deadline.is_some_and(|q| q <= Instant::now()) {
                    return DisconnectReason::Left;
                }
                if keep_alive.awaiting_pong {
                    return DisconnectReason::TimedOut;
                }
                state.ping();
                keep_alive.pinged(timing);
            }
            written = &mut writing, if writer_running => {
                writer_running = false;
                let detail = match written {
                    Ok(Ok(())) => continue,
                    Ok(Err(err)) if err.kind() == std::io::ErrorKind::TimedOut => {
                        return state.stalled();
                    }
                    Ok(Err(err)) => err.to_string(),
                    Err(err) => err.to_string(),
                };
                return state.lost(detail);
            }
        }
    }
}

/// Handles every complete line read, pausing whenever the window's events
/// back up until it has taken them.
async fn take_lines(
    state: &mut State<'_>,
    (codec, buffer, eof): (&mut LineCodec, &mut BytesMut, bool),
    events: &EventSink,
    keep_alive: &mut KeepAlive,
    timing: Timing,
) -> Result<(), End> {
    loop {
        let backed_up = read_lines(state, codec, buffer, eof)?;
        if !backed_up {
            return Ok(());
        }
        events.deliver_backlog().await?;
        // The host was not silent: its lines waited on the window.
        keep_alive.heard_from_server(timing);
    }
}

/// Decodes and handles the complete lines in `buffer`, until none is left
/// (false) or events wait for the window (true).
fn read_lines(
    state: &mut State<'_>,
    codec: &mut LineCodec,
    buffer: &mut BytesMut,
    eof: bool,
) -> Result<bool, End> {
    loop {
        if state.events_backed_up() {
            return Ok(true);
        }
        let decoded = if eof {
            codec.decode_eof(buffer)
        } else {
            codec.decode(buffer)
        };
        match decoded {
            Ok(Some(Line::Text(text))) => match Message::parse(&text) {
                Ok(message) => state.on_message(message)?,
                Err(_) => continue,
            },
            Ok(Some(Line::TooLong)) => log::debug!("skipped an over-long line from the server"),
            Ok(None) => return Ok(false),
            Err(err) => return Err(End(state.lost(err.to_string()))),
        }
        if let Some(reason) = state.flooded() {
            return Err(End(reason));
        }
    }
}

/// Our side of keep-alive: PING after silence, give up if still silent.
struct KeepAlive {
    deadline: Instant,
    awaiting_pong: bool,
}

impl KeepAlive {
    fn new(timing: Timing) -> Self {
        KeepAlive {
            deadline: Instant::now() + timing.ping_interval,
            awaiting_pong: false,
        }
    }

    fn heard_from_server(&mut self, timing: Timing) {
        self.deadline = Instant::now() + timing.ping_interval;
        self.awaiting_pong = false;
    }

    fn pinged(&mut self, timing: Timing) {
        self.deadline = Instant::now() + timing.ping_timeout;
        self.awaiting_pong = true;
    }
}
