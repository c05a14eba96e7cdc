//! The host: an IRC-compatible relay for one room (and any other channels
//! clients make), plus a plain-text mode for `nc`/`telnet` users. GTK-free.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Protection against slow, silent or flooding clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_clients: usize,
    /// Throttle each client's messages (RFC 1459 §8.10 style). Off for benchmarks.
    pub flood_control: bool,
    pub registration_timeout: Duration,
    /// Silence after which we send PING; no answer within `ping_timeout` drops.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Lines queued for one client before it is dropped as not reading.
    pub send_queue_lines: usize,
    /// How long a new connection may stay silent before it is greeted as a
    /// plain-text (`nc`/`telnet`) user.
    pub plain_text_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_clients: 10_000,
            flood_control: true,
            registration_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(90),
            ping_timeout: Duration::from_secs(60),
            send_queue_lines: 4096,
            plain_text_wait: Duration::from_secs(1),
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
    /// Our name in prefixes and numerics.
    pub server_name: String,
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: None,
            port: 6667,
            room: "#chat".to_owned(),
            password: None,
            server_name: "tcp-chat".to_owned(),
            limits: Limits::default(),
        }
    }
}

/// Why the host could not start listening.
#[derive(Debug)]
pub enum StartError {
    AddrInUse(SocketAddr),
    PermissionDenied(SocketAddr),
    Io(SocketAddr, std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::AddrInUse(addr) => write!(f, "{addr} is already in use"),
            StartError::PermissionDenied(addr) => write!(f, "not allowed to listen on {addr}"),
            StartError::Io(addr, err) => write!(f, "cannot listen on {addr}: {err}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A host that is accepting clients on the current tokio runtime.
pub struct RunningHost {
    local_addrs: Vec<SocketAddr>,
}

impl RunningHost {
    /// The addresses actually bound (with the real port when 0 was asked).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Tells every client the host is closing, closes the listeners and
    /// waits until every connection task has ended.
    pub async fn shutdown(self) {}
}

/// Binds, spawns the accept loop on the current tokio runtime and returns.
pub async fn start(config: ServerConfig) -> Result<RunningHost, StartError> {
    let addr = SocketAddr::new(
        config
            .bind
            .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        config.port,
    );
    Err(StartError::Io(
        addr,
        std::io::Error::other("the host is not written yet"),
    ))
}

/// `tcp-chat --serve`: runs the host on its own runtime until SIGINT/SIGTERM.
pub fn run_headless(config: ServerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let _host = start(config).await?;
        Ok(())
    })
}
