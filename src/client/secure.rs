//! Opening the connection the way its host is known: TLS first, the host's
//! certificate checked against the one pinned on the first visit (or
//! announced, or accepted) before anything is sent, plain text only for a
//! host never seen speaking TLS; and for `ircs://` servers, TLS verified
//! by the system's certificate authorities and nothing else.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::address::Target;
use super::connect;
use super::known_hosts;
use super::tls::{self, TlsStream};
use crate::api::{
    CertificateProblem, DisconnectReason, ExpectedIdentity, Fingerprint, Security, Trust,
};
use crate::transport::{self, ReadHalf, WriteHalf};

/// An open connection, and how it is protected.
pub struct Opened {
    pub reader: ReadHalf,
    pub writer: WriteHalf,
    pub security: Security,
}

/// What one session learnt of its host across reconnections.
#[derive(Debug, Default)]
pub struct Learnt {
    /// The host did not answer TLS and was never seen speaking it: the
    /// next connections of this session go straight to plain text.
    plain_only: bool,
}

/// Where the pins are, and how long each step may take.
pub struct Opening<'a> {
    pub target: &'a Target,
    pub identity: ExpectedIdentity,
    pub known_hosts: Option<&'a PathBuf>,
    /// Resolving and connecting; also a TLS handshake with a host that
    /// must speak TLS (pinned, announced so, or `ircs://`).
    pub connect_timeout: Duration,
    /// A TLS handshake with a host that may fall back to plain text: past
    /// it the host counts as not speaking TLS (a plain IRC server waits
    /// silently for a line).
    pub probe_timeout: Duration,
}

/// Opens the connection; `Err` says why not (nothing was sent).
pub async fn open(opening: &Opening<'_>, learnt: &mut Learnt) -> Result<Opened, DisconnectReason> {
    let target = opening.target;
    if target.authority_verified {
        return open_verified(opening).await;
    }
    let pinned = match opening.identity {
        ExpectedIdentity::Own(_) => None,
        _ => known_hosts::pinned(opening.known_hosts, &target.host, target.port).await,
    };
    let tls_expected =
        pinned.is_some() || matches!(opening.identity, ExpectedIdentity::AnnouncedTls(_));
    let announced_plain = matches!(opening.identity, ExpectedIdentity::PlainOnly);
    if !tls_expected && (learnt.plain_only || announced_plain) {
        return open_plain(opening).await;
    }
    let stream = connect::open(target, opening.connect_timeout).await?;
    let patience = if tls_expected {
        opening.connect_timeout
    } else {
        opening.probe_timeout
    };
    let handshake = handshake(stream, &target.host, None, patience).await;
    let encrypted = match handshake {
        Ok(encrypted) => encrypted,
        Err(err) if tls_expected => {
            log::warn!(
                "{}:{} did not complete TLS: {err}",
                target.host,
                target.port
            );
            return Err(DisconnectReason::NoLongerEncrypted);
        }
        Err(err) => {
            log::info!(
                "{}:{} does not speak TLS ({err}); joining in plain text",
                target.host,
                target.port
            );
            learnt.plain_only = true;
            return open_plain(opening).await;
        }
    };
    let presented = tls::presented_fingerprint(&encrypted).ok_or_else(|| {
        DisconnectReason::CertificateRejected {
            problem: CertificateProblem::Other("no certificate".to_owned()),
        }
    })?;
    let trust = check_identity(opening, pinned, presented)?;
    if trust != Trust::Remembered {
        known_hosts::pin(opening.known_hosts, &target.host, target.port, presented).await;
    }
    let (reader, writer) = transport::tls(encrypted);
    Ok(Opened {
        reader,
        writer,
        security: Security::Pinned {
            fingerprint: presented,
            trust,
        },
    })
}

/// Whether the host may be spoken to, and why (anything but
/// [`Trust::Remembered`] is pinned).
fn check_identity(
    opening: &Opening<'_>,
    pinned: Option<Fingerprint>,
    presented: Fingerprint,
) -> Result<Trust, DisconnectReason> {
    let changed = |expected| DisconnectReason::IdentityChanged {
        expected,
        presented,
    };
    match opening.identity {
        ExpectedIdentity::Own(own) if own == presented => return Ok(Trust::Remembered),
        ExpectedIdentity::Own(own) => return Err(changed(own)),
        ExpectedIdentity::Accepted(accepted) if accepted == presented => {
            return Ok(if pinned == Some(presented) {
                Trust::Remembered
            } else {
                Trust::Accepted
            });
        }
        ExpectedIdentity::AnnouncedTls(Some(announced)) if announced != presented => {
            return Err(changed(announced));
        }
        _ => {}
    }
    match pinned {
        None => Ok(Trust::FirstUse),
        Some(pinned) if pinned == presented => Ok(Trust::Remembered),
        Some(pinned) => Err(changed(pinned)),
    }
}

async fn open_plain(opening: &Opening<'_>) -> Result<Opened, DisconnectReason> {
    let stream = connect::open(opening.target, opening.connect_timeout).await?;
    let (reader, writer) = transport::plain(stream);
    Ok(Opened {
        reader,
        writer,
        security: Security::Plain,
    })
}

/// An `ircs://` server: TLS with the system's authorities, for its name.
async fn open_verified(opening: &Opening<'_>) -> Result<Opened, DisconnectReason> {
    let target = opening.target;
    let config = tls::system_config().map_err(|detail| DisconnectReason::CertificateRejected {
        problem: CertificateProblem::Other(detail),
    })?;
    let stream = connect::open(target, opening.connect_timeout).await?;
    let encrypted = handshake(stream, &target.host, Some(config), opening.connect_timeout)
        .await
        .map_err(|err| DisconnectReason::CertificateRejected {
            problem: certificate_problem(&err),
        })?;
    let (reader, writer) = transport::tls(encrypted);
    Ok(Opened {
        reader,
        writer,
        security: Security::Verified {
            host: target.host.clone(),
        },
    })
}

/// A TLS handshake within `timeout`; `config: None` accepts any
/// certificate (its fingerprint is checked afterwards).
async fn handshake(
    stream: TcpStream,
    host: &str,
    config: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> io::Result<TlsStream> {
    let config = match config {
        Some(config) => config,
        None => tls::self_signed_config(None).map_err(io::Error::other)?,
    };
    let name = tls::server_name(host)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a host name"))?;
    let connecting = TlsConnector::from(config).connect(name, stream);
    match tokio::time::timeout(timeout, connecting).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no TLS answer in time",
        )),
    }
}

/// Why a verified handshake failed, in the window's terms.
fn certificate_problem(err: &io::Error) -> CertificateProblem {
    use rustls::CertificateError as Certificate;
    let Some(tls_error) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::UnexpectedEof => CertificateProblem::NotTls,
            _ => CertificateProblem::Other(err.to_string()),
        };
    };
    match tls_error {
        rustls::Error::InvalidCertificate(
            Certificate::UnknownIssuer | Certificate::BadSignature,
        ) => CertificateProblem::UnknownIssuer,
        rustls::Error::InvalidCertificate(
            Certificate::NotValidForName | Certificate::NotValidForNameContext { .. },
        ) => CertificateProblem::WrongName,
        rustls::Error::InvalidCertificate(
            Certificate::Expired
            | Certificate::ExpiredContext { .. }
            | Certificate::NotValidYet
            | Certificate::NotValidYetContext { .. },
        ) => CertificateProblem::Expired,
        rustls::Error::InvalidMessage(_) => CertificateProblem::NotTls,
        other => CertificateProblem::Other(other.to_string()),
    }
}
