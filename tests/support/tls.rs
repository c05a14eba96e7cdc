//! A TLS client connection to our host that trusts exactly one
//! certificate: the one whose SHA-256 fingerprint the host reported.
//! (The relay benchmark includes this file too: it stands alone.)

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tcp_chat::protocol::Fingerprint;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// A client configuration trusting only `fingerprint` (the client's own
/// verifier, pinned).
pub fn client_config(fingerprint: &Fingerprint) -> Arc<rustls::ClientConfig> {
    tcp_chat::client::tls::self_signed_config(Some(*fingerprint)).unwrap()
}

/// Connects and completes the handshake (an error if the host shows
/// another certificate).
pub async fn connect(addr: SocketAddr, fingerprint: &Fingerprint) -> std::io::Result<TlsStream> {
    let connector = TlsConnector::from(client_config(fingerprint));
    let stream = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    connector.connect(name, stream).await
}
