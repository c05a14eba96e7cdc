//! The client's TLS configurations: hosts with a self-signed certificate
//! (trust on first use: any certificate passes the handshake, and the
//! session compares its fingerprint with the one it pinned before sending
//! anything), and public servers verified against the system's
//! certificate authorities with host-name checking.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};
use tokio::net::TcpStream;

use crate::protocol::Fingerprint;

pub type TlsStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Accepts a self-signed certificate — any, or only the one with `pin` —
/// with the handshake's signatures checked as usual, so the host proves
/// it holds the certificate's key.
#[derive(Debug)]
pub struct SelfSignedCertificate {
    pin: Option<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for SelfSignedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.pin {
            Some(pin) if Fingerprint::of_certificate(end_entity) != pin => Err(
                Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure),
            ),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// For a host with a self-signed certificate: any certificate (`pin:
/// None`, checked by the caller afterwards) or exactly one.
pub fn self_signed_config(pin: Option<Fingerprint>) -> Result<Arc<ClientConfig>, Error> {
    let provider = provider();
    let verifier = SelfSignedCertificate {
        pin,
        provider: Arc::clone(&provider),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// For servers whose certificate a certificate authority signed: the
/// given roots, with host-name checking.
pub fn verified_config(roots: rustls::RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// [`verified_config`] with the system's CA certificates, read once per
/// process (a few hundred files). `Err` says why there are none.
pub fn system_config() -> Result<Arc<ClientConfig>, String> {
    static SYSTEM: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for err in &found.errors {
                log::info!("reading the system's CA certificates: {err}");
            }
            let mut roots = rustls::RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "the system has no CA certificates (is ca-certificates installed?)".to_owned(),
                );
            }
            verified_config(roots).map_err(|err| err.to_string())
        })
        .clone()
}

/// The fingerprint of the certificate the host presented.
pub fn presented_fingerprint(stream: &TlsStream) -> Option<Fingerprint> {
    let (_, connection) = stream.get_ref();
    let leaf = connection.peer_certificates()?.first()?;
    Some(Fingerprint::of_certificate(leaf))
}

/// How `host` goes into the handshake: a DNS name for SNI and CA checks,
/// or an IP address (no SNI).
pub fn server_name(host: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).ok()
}
