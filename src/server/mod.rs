//! The host: an IRC-compatible relay for one room (and any other channels
//! clients make), plus a plain-text mode for `nc`/`telnet` users. GTK-free.
//!
//! How it works: one task accepts connections; each connection gets a
//! reading task (with TLS on, its first byte says whether a TLS handshake
//! comes first: `tls`; then its session: `irc` or `plain`, chosen by its
//! first line or its silence) and a writing task that drains a bounded byte
//! queue into the socket, whatever is queued in one write. The `hub` —
//! nicknames, channels, members — sits behind one mutex that is only held
//! for look-ups and non-blocking appends to queues, never across an await
//! or a write. A relayed line is serialised once (once per style: IRC or
//! plain sentence) and copied into every recipient's queue. A client
//! whose queue is full has stopped reading: it is
//! dropped rather than allowed to slow anyone else. A client's own replies
//! may wait for room in its own queue.

mod about;
mod addresses;
mod bans;
mod caps;
mod chathistory;
mod connection;
mod flood;
mod guard;
pub mod history;
mod hub;
mod input;
mod irc;
mod listen;
mod memberships;
mod memory;
mod modes;
mod plain;
mod send_queue;
mod tls;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::discovery::{machine_name, Announcement, Announcer};
pub use about::{default_server_name, motd_lines, FALLBACK_SERVER_NAME};
use addresses::Addresses;
use connection::{Shared, Slot};
use history::{History, HistoryError};
use hub::Hub;
pub use tls::{existing_fingerprint, TlsConfig, TlsError, CERT_FILE, KEY_FILE};

use crate::protocol::Fingerprint;

/// Lines kept per room unless told otherwise (`--history N`).
pub const DEFAULT_HISTORY_LINES: usize = 10_000;

/// Where the host keeps its rooms' history, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The SQLite database file.
    pub path: PathBuf,
    /// Lines kept per room; the oldest go first.
    pub keep_per_room: usize,
}

impl HistoryConfig {
    /// The database of a host listening on `port`, in `state_dir` (by default
    /// `$XDG_DATA_HOME/tcp-chat`). One file per port: two hosts on one
    /// machine never share (and race over) one history.
    pub fn in_state_dir(state_dir: Option<&Path>, port: u16, keep_per_room: usize) -> Self {
        let dir = state_dir.map_or_else(default_state_dir, Path::to_path_buf);
        HistoryConfig {
            path: dir.join(format!("history-{port}.sqlite3")),
            keep_per_room,
        }
    }
}

/// `$XDG_DATA_HOME/tcp-chat`, else `~/.local/share/tcp-chat` (the XDG
/// base directory rules), else a relative `tcp-chat` when there is no home.
pub fn default_state_dir() -> PathBuf {
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/share")));
    data_home.unwrap_or_default().join("tcp-chat")
}

/// Protection against slow, silent or flooding clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Also lowered at start to what the open-file limit allows.
    pub max_clients: usize,
    /// Connections one address (IPv4, or an IPv6 /64) may have open at
    /// once, loopback included; 0: no limit.
    pub max_per_address: usize,
    /// Throttle each client's messages (RFC 1459 §8.10 style), from its
    /// first byte, and how often one address may connect. Off for benchmarks.
    pub flood_control: bool,
    /// With flood control: connections one address may open in a burst…
    pub connect_burst: u32,
    /// …and then one more each this often; faster ones are refused.
    pub connect_every: Duration,
    pub registration_timeout: Duration,
    /// Silence after which we send PING; no answer within `ping_timeout` drops.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Bytes queued for one client before it is dropped as not reading.
    pub send_queue_bytes: usize,
    /// How long a new connection may stay silent before it is greeted as a
    /// plain-text (`nc`/`telnet`) user.
    pub plain_text_wait: Duration,
    /// How long a wrong password waits for its answer (each connection has
    /// one guess): guessing in sequence costs this much per guess.
    pub password_delay: Duration,
    /// Wrong passwords from one address (an IPv6 /64) before its guesses
    /// are refused for `password_ban`.
    pub password_failures: u32,
    /// How long a banned address stays banned, and how long its failures
    /// are remembered after the latest one.
    pub password_ban: Duration,
    /// A connection younger than this leaves with a plain "Quit": else
    /// reconnecting would broadcast a fresh reason to everyone each time.
    pub quit_reason_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_clients: 10_000,
            max_per_address: 10,
            flood_control: true,
            connect_burst: 10,
            connect_every: Duration::from_secs(2),
            registration_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(90),
            ping_timeout: Duration::from_secs(60),
            send_queue_bytes: 256 * 1024,
            plain_text_wait: Duration::from_secs(1),
            password_delay: Duration::from_secs(2),
            password_failures: 5,
            password_ban: Duration::from_secs(10 * 60),
            quit_reason_after: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `None`: every interface, IPv4 and IPv6.
    pub bind: Option<IpAddr>,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// The room every registered client joins, e.g. `#chat`.
    pub room: String,
    pub password: Option<String>,
    /// Our name in prefixes and numerics (by default the machine's host
    /// name, see [`default_server_name`]).
    pub server_name: String,
    /// The message of the day, as [`motd_lines`] makes it (empty: none,
    /// answered with 422).
    pub motd: Vec<String>,
    /// `None`: the host keeps no history (nothing is written to disk).
    pub history: Option<HistoryConfig>,
    /// `None`: plain text only (no certificate is read or made).
    pub tls: Option<TlsConfig>,
    pub limits: Limits,
    /// `Some`: the room is announced on the local network while the host
    /// runs (DNS-SD over mDNS, see [`crate::discovery`]).
    pub announce: Option<Announce>,
}

/// How the host announces its room on the local network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announce {
    /// Who hosts the room, for the instance name and the `nick` TXT entry.
    pub nick: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: None,
            port: crate::protocol::DEFAULT_PORT,
            room: crate::protocol::DEFAULT_ROOM.to_owned(),
            password: None,
            server_name: default_server_name(),
            motd: Vec::new(),
            history: None,
            tls: None,
            limits: Limits::default(),
            announce: None,
        }
    }
}

/// Why the host could not start listening.
#[derive(Debug)]
pub enum StartError {
    AddrInUse(SocketAddr),
    PermissionDenied(SocketAddr),
    Io(SocketAddr, std::io::Error),
    /// The history database cannot be used (its text names the file).
    History(HistoryError),
    /// The TLS certificate or key cannot be used (its text names the file).
    Tls(TlsError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::AddrInUse(addr) => write!(f, "{addr} is already in use"),
            StartError::PermissionDenied(addr) => write!(f, "not allowed to listen on {addr}"),
            StartError::Io(addr, err) => write!(f, "cannot listen on {addr}: {err}"),
            StartError::History(err) => write!(f, "{err}"),
            StartError::Tls(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A host that is accepting clients on the current tokio runtime.
pub struct RunningHost {
    local_addrs: Vec<SocketAddr>,
    /// Withdrawn first on shutdown; dropping it withdraws it too.
    announcer: Option<Announcer>,
    history: Option<History>,
    fingerprint: Option<Fingerprint>,
    owner_key: Option<String>,
    /// Cancelled first on shutdown: the accept loop closes the listener.
    stop_accepting: CancellationToken,
    accept_loop: Option<tokio::task::JoinHandle<()>>,
    shutdown: CancellationToken,
    /// Ends (yields `None`) once every task holding a sender is gone.
    tasks_done: mpsc::Receiver<()>,
}

impl RunningHost {
    /// The addresses actually bound (with the real port when 0 was asked).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The SHA-256 fingerprint of the host's TLS certificate; `None`
    /// without TLS.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        self.fingerprint.as_ref()
    }

    /// What the host's own session gives as its PASS (instead of the room
    /// password, which it also stands for) to be the hosted room's
    /// operator; `None` when the host could not make one.
    pub fn owner_key(&self) -> Option<&str> {
        self.owner_key.as_deref()
    }

    /// The certificate's safety code (five groups of four digits) for
    /// guests to compare; `None` without TLS.
    pub fn safety_code(&self) -> Option<String> {
        self.fingerprint.as_ref().map(Fingerprint::safety_code)
    }

    /// Tells every client the host is closing, closes the listeners and
    /// waits until every connection task has ended and the history is on disk.
    pub async fn shutdown(mut self) {
        if let Some(announcer) = self.announcer.take() {
            // Blocks for a moment while mDNS says goodbye.
            if let Err(err) = tokio::task::spawn_blocking(move || announcer.withdraw()).await {
                log::warn!("could not withdraw the announcement: {err}");
            }
        }
        // The port closes before anyone is told goodbye: a client told the
        // room is closing must not find it still taking connections.
        self.stop_accepting.cancel();
        if let Some(accept_loop) = self.accept_loop.take() {
            if let Err(err) = accept_loop.await {
                log::warn!("the accept loop ended badly: {err}");
            }
        }
        self.shutdown.cancel();
        while self.tasks_done.recv().await.is_some() {}
        if let Some(history) = self.history.take() {
            let flushed = tokio::task::spawn_blocking(move || history.flush()).await;
            if let Err(err) = flushed {
                log::warn!("could not finish writing the history: {err}");
            }
        }
        log::info!("host closed");
    }

    /// Forgets every room's history (the window's "Clear Room History").
    pub async fn clear_history(&self) -> Result<(), HistoryError> {
        let Some(history) = self.history.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || history.clear(None))
            .await
            .unwrap_or_else(|err| {
                log::warn!("clearing the history failed: {err}");
                Ok(())
            })
    }
}

impl Drop for RunningHost {
    /// A host nobody holds any more stops (without waiting for its tasks).
    fn drop(&mut self) {
        self.stop_accepting.cancel();
        self.shutdown.cancel();
    }
}

/// Binds, spawns the accept loop on the current tokio runtime and returns.
pub async fn start(config: ServerConfig) -> Result<RunningHost, StartError> {
    let listener = listen::bind(config.bind, config.port)?;
    let local_addr = listener.local_addr().map_err(|err| {
        StartError::Io(
            SocketAddr::new(
                config.bind.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                config.port,
            ),
            err,
        )
    })?;
    let history = match &config.history {
        Some(wanted) => {
            let opened = History::open(&wanted.path, wanted.keep_per_room);
            let history = opened.map_err(StartError::History)?;
            log::info!(
                "keeping up to {} lines per room in {}",
                wanted.keep_per_room,
                wanted.path.display()
            );
            Some(history)
        }
        None => None,
    };
    let tls = match &config.tls {
        Some(wanted) => {
            let tls = tls::Tls::load_or_create(wanted).map_err(StartError::Tls)?;
            let plain = if wanted.required {
                "TLS only"
            } else {
                "TLS and plain text"
            };
            log::info!(
                "{plain} on the same port; certificate {}",
                wanted.dir.join(CERT_FILE).display()
            );
            Some(tls)
        }
        None => None,
    };
    let fingerprint = tls.as_ref().map(|tls| tls.fingerprint);
    log::info!("hosting {} on {local_addr}", config.room);
    let announcer = config
        .announce
        .as_ref()
        .and_then(|announce| announce_room(&config, announce, local_addr.port(), fingerprint));
    let shutdown = CancellationToken::new();
    let max_clients = listen::fit_max_clients(config.limits.max_clients);
    let shared = Arc::new(Shared {
        hub: Hub::new(&config.room, &config.server_name, history),
        guard: guard::PasswordGuard::new(config.password.as_deref(), &config.limits),
        addresses: Arc::new(Addresses::new(&config.limits)),
        max_clients,
        config,
        tls,
        shutdown: shutdown.clone(),
        connections: Arc::default(),
    });
    // Every task holds a clone; `shutdown` waits for the channel to close.
    let (alive, tasks_done) = mpsc::channel(1);
    let history = shared.hub.history().cloned();
    let owner_key = shared.guard.owner_key().map(str::to_owned);
    let stop_accepting = shutdown.child_token();
    let accept_loop = tokio::spawn(accept_loop(listener, shared, alive, stop_accepting.clone()));
    tokio::spawn(memory::give_back_after_bursts(shutdown.clone()));
    Ok(RunningHost {
        local_addrs: vec![local_addr],
        announcer,
        history,
        fingerprint,
        owner_key,
        stop_accepting,
        accept_loop: Some(accept_loop),
        shutdown,
        tasks_done,
    })
}

/// Starts announcing the room, unless nobody else could reach it. A room
/// that cannot be announced is still hosted: people can type its address.
fn announce_room(
    config: &ServerConfig,
    announce: &Announce,
    port: u16,
    fingerprint: Option<Fingerprint>,
) -> Option<Announcer> {
    if let Some(ip) = config.bind.filter(IpAddr::is_loopback) {
        log::info!("not announcing the room: {ip} is reachable from this computer only");
        return None;
    }
    let announcement = Announcement {
        room: config.room.clone(),
        nick: announce.nick.clone(),
        hostname: machine_name(),
        port,
        address: config.bind.filter(|ip| !ip.is_unspecified()),
        // Browsers see that the room speaks TLS, and which certificate to
        // expect (so a guest can pin it before the first handshake).
        tls: fingerprint.is_some(),
        fingerprint: fingerprint.map(|fingerprint| fingerprint.hex()),
    };
    Announcer::start(&announcement)
        .map_err(|err| log::warn!("cannot announce the room on the local network: {err}"))
        .ok()
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    alive: mpsc::Sender<()>,
    stop: CancellationToken,
) {
    // One descriptor kept in reserve (the classic trick): when the process
    // has run out, it is given up to accept the waiting newcomer and tell
    // it the host is full. Else the newcomer would wait unanswered in the
    // backlog, and accept would fail again at once, in a busy loop.
    let mut reserve = listen::reserve_fd();
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) if listen::out_of_fds(&err) => {
                log::warn!("cannot accept: {err}");
                if reserve.take().is_some() {
                    refuse_out_of_fds(&listener, &shared, &alive).await;
                } else {
                    // The reserve is out with a refused newcomer: wait for
                    // it (or anyone) to give a descriptor back.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                reserve = listen::reserve_fd();
                continue;
            }
            Err(err) => {
                log::warn!("cannot accept: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let alive = alive.clone();
        let Some(slot) = Slot::take(&shared.connections, shared.max_clients) else {
            log::warn!("refusing {peer}: already {} clients", shared.max_clients);
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                connection::refuse(stream, &shared, "Server full").await;
                drop(alive);
            });
            continue;
        };
        let ip = listen::canonical_peer(peer);
        match shared.addresses.admit(ip, std::time::Instant::now()) {
            Ok(address) => {
                let admitted = connection::Admitted::new(slot, address, alive);
                tokio::spawn(connection::serve(
                    stream,
                    peer,
                    Arc::clone(&shared),
                    admitted,
                ));
            }
            Err(refusal) => {
                let text = refusal.text();
                log::info!("refusing {peer}: {text}");
                drop(slot);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    connection::refuse(stream, &shared, &text).await;
                    drop(alive);
                });
            }
        }
    }
}

/// With the reserve descriptor just closed: accepts the newcomer waiting
/// in the backlog and has it told the host is full (its task holds that
/// descriptor until then; the loop never waits for it).
async fn refuse_out_of_fds(listener: &TcpListener, shared: &Arc<Shared>, alive: &mpsc::Sender<()>) {
    let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
    if let Ok(Ok((stream, peer))) = accepted {
        log::warn!("refusing {peer}: out of file descriptors");
        let (shared, alive) = (Arc::clone(shared), alive.clone());
        tokio::spawn(async move {
            connection::refuse(stream, &shared, "Server full").await;
            drop(alive);
        });
    }
}

/// `tcp-chat --serve`: runs the host on its own runtime until SIGINT/SIGTERM.
pub fn run_headless(config: ServerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Watched before anything says "listening": a SIGTERM sent right
        // after that line must close the room properly, not kill the
        // process (its default) before the watch is set up.
        let stop = StopSignals::watch()?;
        let host = match start(config).await {
            Ok(host) => host,
            Err(err @ StartError::History(_)) => {
                return Err(anyhow::anyhow!(
                    "cannot host the room: {err} (move the file away, or start with \
                     --history 0 to host without history)"
                ));
            }
            Err(err @ StartError::Tls(_)) => {
                return Err(anyhow::anyhow!(
                    "cannot host the room: {err} (move the file away and a new certificate \
                     is made; guests will then see a new safety code)"
                ));
            }
            Err(err) => return Err(err).context("cannot host the room"),
        };
        if let Some(fingerprint) = host.fingerprint() {
            log::info!("TLS certificate fingerprint (SHA-256): {fingerprint}");
            log::info!("Safety code: {}", fingerprint.safety_code());
        }
        for addr in host.local_addrs() {
            log::info!("listening on {addr}; stop with Ctrl+C");
        }
        stop.wait().await?;
        log::info!("closing the room");
        host.shutdown().await;
        Ok(())
    })
}

/// SIGINT and SIGTERM, caught from the moment [`StopSignals::watch`] returns.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn watch() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
        })
    }

    async fn wait(mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.interrupt.recv() => Ok(()),
            _ = self.terminate.recv() => Ok(()),
        }
    }
}
