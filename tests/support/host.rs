//! Our host, started in-process on an ephemeral loopback port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tcp_chat::server::{self, Limits, RunningHost, ServerConfig, TlsConfig};

/// Loopback, a free port, no flood control (tests send bursts and connect
/// often), no cap per address (every test client comes from 127.0.0.1),
/// QUIT reasons relayed however young the connection, a short wait before
/// a silent client counts as a plain-text user, and the fallback server
/// name rather than this machine's, so replies are the same anywhere.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        bind: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: 0,
        server_name: server::FALLBACK_SERVER_NAME.to_owned(),
        limits: Limits {
            flood_control: false,
            max_per_address: 0,
            quit_reason_after: Duration::ZERO,
            plain_text_wait: Duration::from_millis(200),
            ..Limits::default()
        },
        ..ServerConfig::default()
    }
}

/// [`test_config`] with some limits changed.
pub fn test_config_with(change: impl FnOnce(&mut Limits)) -> ServerConfig {
    let mut config = test_config();
    change(&mut config.limits);
    config
}

/// [`test_config`] speaking TLS too, its certificate in `dir`;
/// `required`: TLS only.
pub fn tls_config(dir: &Path, required: bool) -> ServerConfig {
    ServerConfig {
        tls: Some(TlsConfig {
            dir: dir.to_path_buf(),
            required,
        }),
        ..test_config()
    }
}

pub async fn start_host(config: ServerConfig) -> (RunningHost, SocketAddr) {
    let _ = env_logger::builder().is_test(true).try_init();
    let host = server::start(config).await.expect("host starts");
    let addr = host.local_addrs()[0];
    (host, addr)
}
