//! Helpers shared by the integration tests. Every wait has one overall
//! limit, [`TIMEOUT`], so a bug fails a test instead of hanging it.
//!
//! - [`host`]: our host on an ephemeral loopback port.
//! - [`raw_client`]: a line-by-line TCP connection, for either end (or TLS).
//! - [`tls`]: a TLS connection trusting one certificate fingerprint.
//! - [`tls_host`]: a TLS listener whose certificate a test changes.
//! - [`relay`]: a TCP relay a test cuts and restores.
//! - [`fake_server`]: a scripted IRC server for client-side tests.
//! - [`events`]: client sessions and the events they report.
//! - [`programs`]: child processes the tests drive, killed however a test ends.
//! - [`conformance`]: IRC checks with the server as a parameter (ours, ngircd).
//! - [`daemons`]: ngircd / InspIRCd and the chat every one must carry.
//! - [`inspircd`]: InspIRCd's config for tests, alone or two servers linked.
//! - [`ii`]: the `ii` IRC client, driven through its files.
// Each test binary uses only part of this tree.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub mod conformance;
pub mod daemons;
pub mod events;
pub mod fake_server;
pub mod host;
pub mod ii;
pub mod inspircd;
pub mod programs;
pub mod raw_client;
pub mod relay;
pub mod tls;
pub mod tls_host;

use std::future::Future;
use std::time::Duration;

pub use events::{
    members, next_chat, next_event, session_config, start_session, wait_connected,
    wait_disconnected, wait_ended_for_good, wait_for, wait_reconnecting, Connected,
};
pub use fake_server::{FakeServer, Peer};
pub use host::{start_host, test_config, test_config_with, tls_config};
pub use programs::require_program;
pub use raw_client::{RawClient, TlsRawClient};
pub use relay::Relay;

/// The network thread with its state (hosted rooms' history) in a scratch
/// directory that lives as long as the returned guard.
pub fn spawn_network() -> (tcp_chat::network::NetworkHandle, tempfile::TempDir) {
    let state = tempfile::tempdir().expect("a scratch directory");
    let settings = tcp_chat::network::Settings {
        state_dir: state.path().to_path_buf(),
        announce: false,
        browse: false,
    };
    let network = tcp_chat::network::spawn_with(settings).expect("the network thread starts");
    (network, state)
}

/// Generous: only a bug should ever reach it.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `future`, failing the test if it takes longer than [`TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {TIMEOUT:?}"))
}

/// A loopback port nothing listens on right now: for a server that must be
/// told its port (ours binds port 0 instead), or for a refused connection.
pub fn free_loopback_port() -> u16 {
    let [port] = free_loopback_ports();
    port
}

/// `N` distinct loopback ports nothing listens on right now: each is held
/// until all are chosen, so the kernel cannot hand out one twice.
pub fn free_loopback_ports<const N: usize>() -> [u16; N] {
    let listeners: [std::net::TcpListener; N] =
        std::array::from_fn(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|listener| listener.local_addr().unwrap().port())
}
