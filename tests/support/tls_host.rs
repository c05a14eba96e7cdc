//! A bare TLS "host" on loopback whose certificate a test can change, to
//! see exactly what a client sends it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tcp_chat::protocol::Fingerprint;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::within;

type ServerTlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// A TLS listener on loopback that shows a self-signed certificate a test
/// can replace (the host "made a new certificate"), and records what each
/// client sends after the handshake.
pub struct TlsFakeHost {
    listener: TcpListener,
    pub addr: SocketAddr,
    current: Mutex<(Arc<rustls::ServerConfig>, Fingerprint)>,
}

impl TlsFakeHost {
    pub async fn bind() -> TlsFakeHost {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        TlsFakeHost {
            listener,
            addr,
            current: Mutex::new(new_identity()),
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.current.lock().unwrap().1
    }

    /// From now on the host shows another certificate; its fingerprint.
    pub fn change_certificate(&self) -> Fingerprint {
        let mut current = self.current.lock().unwrap();
        *current = new_identity();
        current.1
    }

    /// The next client, after its TLS handshake.
    pub async fn accept(&self) -> ServerTlsStream {
        let (stream, _) = within("a connection", self.listener.accept())
            .await
            .unwrap();
        let config = Arc::clone(&self.current.lock().unwrap().0);
        within(
            "the TLS handshake",
            TlsAcceptor::from(config).accept(stream),
        )
        .await
        .unwrap()
    }
}

/// Everything a client sends until it closes.
pub async fn received(stream: &mut ServerTlsStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    // A client that closes without close_notify is an error to rustls;
    // what arrived before it still counts.
    let _ = within("the client to close", stream.read_to_end(&mut bytes)).await;
    bytes
}

/// The first line a client sends.
pub async fn first_line(stream: &mut ServerTlsStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0; 1];
    while !line.ends_with(b"\r\n") {
        let read = within("a line", stream.read(&mut byte)).await.unwrap();
        assert_eq!(read, 1, "the client closed after {line:?}");
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap().trim_end().to_owned()
}

fn new_identity() -> (Arc<rustls::ServerConfig>, Fingerprint) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let der: CertificateDer<'static> = made.cert.der().clone();
    let fingerprint = Fingerprint::of_certificate(&der);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    (Arc::new(config), fingerprint)
}
