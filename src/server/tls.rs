//! TLS and plain text on one port. The host's self-signed certificate is
//! made once and kept, with its key, in the state directory, so guests
//! can recognise the host by its fingerprint across restarts. A new
//! connection whose first byte opens a TLS handshake record is answered
//! with TLS; anything else (or silence) is plain text as before.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::protocol::Fingerprint;
use crate::protocol::Message;

/// The private key, readable by its owner only.
pub const KEY_FILE: &str = "tls-key.pem";
/// The self-signed certificate guests are shown.
pub const CERT_FILE: &str = "tls-cert.pem";

/// The first byte of a TLS record carrying a handshake message (the
/// ClientHello). No line of text starts with this control character.
const HANDSHAKE_RECORD: u8 = 0x16;

/// How long a refused plain-text client may take to read its one line.
const REFUSAL_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the certificate lives and whether plain text is still welcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The directory holding [`KEY_FILE`] and [`CERT_FILE`]; created if missing.
    pub dir: PathBuf,
    /// `--tls-only`: plain-text clients get one line saying so and are closed.
    pub required: bool,
}

impl TlsConfig {
    /// The certificate in `state_dir` (by default `$XDG_DATA_HOME/tcp-chat`),
    /// beside the history.
    pub fn in_state_dir(state_dir: Option<&Path>) -> Self {
        TlsConfig {
            dir: state_dir.map_or_else(super::default_state_dir, Path::to_path_buf),
            required: false,
        }
    }
}

/// The certificate or its key cannot be read, made or used.
#[derive(Debug)]
pub struct TlsError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot use the host's TLS key or certificate {}: {}",
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for TlsError {}

fn failed(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The host's side of TLS, ready for connections.
pub(super) struct Tls {
    acceptor: TlsAcceptor,
    pub fingerprint: Fingerprint,
    pub required: bool,
}

/// What a new connection's first byte says it is.
pub(super) enum Hello {
    Tls,
    /// Text, junk, silence until `until`, a closed connection or shutdown.
    Other,
}

/// The fingerprint of the certificate kept in `dir`, if one was made:
/// every room this user hosts shows it, so it marks their own rooms among
/// those announced on the network.
pub fn existing_fingerprint(dir: &Path) -> Option<Fingerprint> {
    let pem = fs::read(dir.join(CERT_FILE)).ok()?;
    let der = CertificateDer::from_pem_slice(&pem).ok()?;
    Some(Fingerprint::of_certificate(&der))
}

impl Tls {
    /// Reads the certificate and key from `config.dir`, making them the first time.
    pub fn load_or_create(config: &TlsConfig) -> Result<Tls, TlsError> {
        let dir = &config.dir;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|err| failed(dir, format!("cannot create the directory: {err}")))?;
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let (key_pem, new_key) = match fs::read_to_string(&key_path) {
            Ok(text) => (text, false),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                    .map_err(|err| failed(&key_path, format!("cannot make a key: {err}")))?;
                publish(&key_path, &key.serialize_pem(), 0o600, Publish::IfAbsent)
                    .map_err(|err| failed(&key_path, err))?
            }
            Err(err) => return Err(failed(&key_path, err)),
        };
        warn_if_readable_by_others(&key_path);
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|err| failed(&key_path, format!("not a usable private key: {err}")))?;
        let cert_pem = match fs::read_to_string(&cert_path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                make_certificate(&key, &cert_path, Publish::IfAbsent)?
            }
            Err(err) => return Err(failed(&cert_path, err)),
        };
        let (server, fingerprint) = match server_config(&cert_pem, &key, &cert_path) {
            // A certificate of a key since lost (the key file was deleted):
            // replaced, as the key is. Only one that does not fit: another
            // host starting at the same moment may have made one already,
            // from this key, and shown its fingerprint.
            Err(_) if new_key => {
                let cert_pem = make_certificate(&key, &cert_path, Publish::Replace)?;
                server_config(&cert_pem, &key, &cert_path)?
            }
            made => made?,
        };
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            fingerprint,
            required: config.required,
        })
    }

    /// The TLS handshake, given until `deadline` (the registration deadline:
    /// a stalled handshake is a client that never registers).
    pub async fn handshake(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        deadline: Instant,
        shutdown: &CancellationToken,
    ) -> Option<TlsStream<TcpStream>> {
        tokio::select! {
            () = shutdown.cancelled() => None,
            done = tokio::time::timeout_at(deadline, self.acceptor.accept(stream)) => match done {
                Ok(Ok(stream)) => Some(stream),
                Ok(Err(err)) => {
                    log::info!("TLS handshake with {peer} failed: {err}");
                    None
                }
                Err(_) => {
                    log::info!("TLS handshake with {peer} timed out");
                    None
                }
            },
        }
    }
}

/// Looks at (without taking) the first byte, waiting until `until`.
pub(super) async fn sniff(
    stream: &TcpStream,
    until: Instant,
    shutdown: &CancellationToken,
) -> Hello {
    let mut first = [0; 1];
    tokio::select! {
        () = shutdown.cancelled() => Hello::Other,
        peeked = tokio::time::timeout_at(until, stream.peek(&mut first)) => match peeked {
            Ok(Ok(1)) if first[0] == HANDSHAKE_RECORD => Hello::Tls,
            _ => Hello::Other,
        },
    }
}

/// The one line a plain-text client gets from a `--tls-only` host: IRC's
/// ERROR, which also reads as a sentence in `nc`.
pub(super) fn tls_required_line() -> Vec<u8> {
    Message::new(
        "ERROR",
        ["This host only accepts encrypted connections: connect with TLS to the same port"],
    )
    .to_bytes()
}

/// What a TLS client gets from a host without TLS: no TLS alert (that
/// would need TLS), but a line a TLS client fails on at once instead of
/// waiting for a handshake that never comes, and a person reading the
/// bytes understands.
pub(super) fn tls_unavailable_line() -> Vec<u8> {
    Message::new(
        "ERROR",
        ["This host does not speak TLS: connect in plain text to the same port"],
    )
    .to_bytes()
}

/// Writes `line` (one of the two above) and closes. What the client sent
/// is read and dropped until it closes too: closing a socket with unread
/// bytes resets the connection, and the line could be lost. Not past
/// [`REFUSAL_GRACE`] or the host closing, though.
pub(super) async fn refuse(mut stream: TcpStream, line: &[u8], shutdown: &CancellationToken) {
    let goodbye = async {
        stream.write_all(line).await?;
        stream.shutdown().await?;
        let mut sink = [0; 512];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    };
    tokio::select! {
        () = shutdown.cancelled() => {}
        _ = tokio::time::timeout(REFUSAL_GRACE, goodbye) => {}
    }
}

/// The rustls configuration serving `cert_pem` with `key`, and the
/// certificate's fingerprint.
fn server_config(
    cert_pem: &str,
    key: &KeyPair,
    cert_path: &Path,
) -> Result<(rustls::ServerConfig, Fingerprint), TlsError> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|err| failed(cert_path, format!("not a certificate in PEM form: {err}")))?;
    let fingerprint = Fingerprint::of_certificate(&cert);
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| failed(cert_path, err))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], private)
        .map_err(|err| failed(cert_path, format!("does not go with {KEY_FILE}: {err}")))?;
    Ok((server, fingerprint))
}

fn make_certificate(key: &KeyPair, path: &Path, how: Publish) -> Result<String, TlsError> {
    let mut params = CertificateParams::new(vec!["tcp-chat".to_owned()])
        .map_err(|err| failed(path, format!("cannot make a certificate: {err}")))?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "TCP Chat host");
    params.distinguished_name = name;
    let cert = params
        .self_signed(key)
        .map_err(|err| failed(path, format!("cannot make a certificate: {err}")))?;
    let (pem, _) = publish(path, &cert.pem(), 0o644, how).map_err(|err| failed(path, err))?;
    Ok(pem)
}

#[derive(Clone, Copy)]
enum Publish {
    /// Another host starting at the same moment may have written it
    /// first: then theirs is kept and read.
    IfAbsent,
    Replace,
}

/// Writes `contents` to `path` whole or not at all: into a scratch file
/// created with `mode` (a key is never readable by others, not even for
/// a moment), then linked or renamed into place. Returns what `path`
/// holds afterwards and whether it is ours.
fn publish(path: &Path, contents: &str, mode: u32, how: Publish) -> io::Result<(String, bool)> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // Unique to this process and call: two hosts may start at once, also
    // two in one process.
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let scratch = path.with_file_name(format!(".{name}.{}-{call}.tmp", std::process::id()));
    let _ = fs::remove_file(&scratch);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&scratch)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        match how {
            Publish::IfAbsent => fs::hard_link(&scratch, path),
            Publish::Replace => fs::rename(&scratch, path),
        }
    })();
    let _ = fs::remove_file(&scratch);
    match written {
        Ok(()) => Ok((contents.to_owned(), true)),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            Ok((fs::read_to_string(path)?, false))
        }
        Err(err) => Err(err),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            log::warn!(
                "{} can be read by other users: `chmod 600` it",
                path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> TlsConfig {
        TlsConfig {
            dir: dir.to_path_buf(),
            required: false,
        }
    }

    #[test]
    fn the_certificate_is_made_once_and_kept() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("state/nested");
        let first = Tls::load_or_create(&config(&dir)).unwrap();
        let mode = fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Tls::load_or_create(&config(&dir)).unwrap();
        assert_eq!(first.fingerprint, again.fingerprint);
        let other = tempfile::tempdir().unwrap();
        let elsewhere = Tls::load_or_create(&config(other.path())).unwrap();
        assert_ne!(first.fingerprint, elsewhere.fingerprint);
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn a_lost_key_brings_a_new_certificate() {
        let scratch = tempfile::tempdir().unwrap();
        let first = Tls::load_or_create(&config(scratch.path())).unwrap();
        fs::remove_file(scratch.path().join(KEY_FILE)).unwrap();
        let second = Tls::load_or_create(&config(scratch.path())).unwrap();
        assert_ne!(first.fingerprint, second.fingerprint);
    }

    #[test]
    fn hosts_starting_together_agree_on_one_certificate() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("fresh");
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let config = config(&dir);
                std::thread::spawn(move || Tls::load_or_create(&config).map(|tls| tls.fingerprint))
            })
            .collect();
        let seen: Vec<Fingerprint> = starts
            .into_iter()
            .map(|start| start.join().unwrap().unwrap())
            .collect();
        let kept = Tls::load_or_create(&config(&dir)).unwrap().fingerprint;
        assert!(
            seen.iter().all(|seen| *seen == kept),
            "{seen:?} vs {kept:?}"
        );
    }

    #[test]
    fn corrupt_files_are_errors_naming_them() {
        let scratch = tempfile::tempdir().unwrap();
        let key = scratch.path().join(KEY_FILE);
        fs::write(&key, "not a key").unwrap();
        let err = Tls::load_or_create(&config(scratch.path())).err().unwrap();
        assert_eq!(err.path, key);
        assert!(err.to_string().contains(&key.display().to_string()));

        let scratch = tempfile::tempdir().unwrap();
        Tls::load_or_create(&config(scratch.path())).unwrap();
        let cert = scratch.path().join(CERT_FILE);
        fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = Tls::load_or_create(&config(scratch.path())).err().unwrap();
        assert_eq!(err.path, cert);

        // A certificate of another key.
        let other = tempfile::tempdir().unwrap();
        Tls::load_or_create(&config(other.path())).unwrap();
        fs::copy(other.path().join(CERT_FILE), &cert).unwrap();
        let err = Tls::load_or_create(&config(scratch.path())).err().unwrap();
        assert_eq!(err.path, cert);
        assert!(err.reason.contains(KEY_FILE), "{err}");
    }

    #[test]
    fn a_file_in_the_way_of_the_directory_is_an_error() {
        let scratch = tempfile::tempdir().unwrap();
        let file = scratch.path().join("state");
        fs::write(&file, "a file").unwrap();
        let err = Tls::load_or_create(&config(&file)).err().unwrap();
        assert_eq!(err.path, file);
    }

    #[test]
    fn the_refusal_is_one_irc_error_line() {
        let line = String::from_utf8(tls_required_line()).unwrap();
        assert!(line.starts_with("ERROR :"), "{line}");
        assert!(line.ends_with("\r\n") && line.matches('\n').count() == 1);
        assert!(line.contains("TLS") && line.contains("same port"), "{line}");
    }
}
