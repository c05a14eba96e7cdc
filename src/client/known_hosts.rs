//! Hosts we have joined over TLS and the certificate each showed the first
//! time (trust on first use), kept in SQLite in the state directory. A host
//! is its name or address as typed, and its port.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::protocol::Fingerprint;

/// The file in the state directory.
pub const FILE_NAME: &str = "known-hosts.sqlite";

/// Another window may be pinning at the same moment.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// The open store.
pub struct KnownHosts {
    connection: Connection,
}

impl KnownHosts {
    /// Opens (or creates) the store at `path`, and its directory.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)
            .with_context(|| format!("opening {}", path.display()))?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS known_host (
                    host TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    fingerprint TEXT NOT NULL,
                    pinned_at INTEGER NOT NULL,
                    PRIMARY KEY (host, port)
                ) WITHOUT ROWID;",
            )
            .with_context(|| format!("preparing {}", path.display()))?;
        Ok(KnownHosts { connection })
    }

    /// The certificate pinned for `host` and `port`, if any.
    pub fn pinned(&self, host: &str, port: u16) -> Result<Option<Fingerprint>> {
        let hex: Option<String> = self
            .connection
            .query_row(
                "SELECT fingerprint FROM known_host WHERE host = ?1 AND port = ?2",
                params![host_key(host), port],
                |row| row.get(0),
            )
            .optional()?;
        // A row we cannot read back counts as no pin: the next handshake
        // pins afresh rather than refusing every host forever.
        Ok(hex.as_deref().and_then(Fingerprint::from_hex))
    }

    /// Pins `fingerprint` for `host` and `port`, replacing any earlier one.
    pub fn pin(&self, host: &str, port: u16, fingerprint: &Fingerprint) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        self.connection.execute(
            "INSERT INTO known_host (host, port, fingerprint, pinned_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (host, port)
             DO UPDATE SET fingerprint = excluded.fingerprint, pinned_at = excluded.pinned_at",
            params![host_key(host), port, fingerprint.hex(), now],
        )?;
        Ok(())
    }
}

/// One spelling per host: DNS names are case-insensitive and may end in a dot.
fn host_key(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// The pin for `host:port` in the store at `path`, read off the async
/// threads. A store that cannot be read counts as empty (and says why in
/// the log): the connection goes on as a first visit.
pub async fn pinned(path: Option<&PathBuf>, host: &str, port: u16) -> Option<Fingerprint> {
    let path = path?.clone();
    let host = host.to_owned();
    let read = tokio::task::spawn_blocking(move || KnownHosts::open(&path)?.pinned(&host, port));
    match read.await {
        Ok(Ok(pin)) => pin,
        Ok(Err(err)) => {
            log::warn!("reading the known hosts: {err:#}");
            None
        }
        Err(err) => {
            log::warn!("reading the known hosts: {err}");
            None
        }
    }
}

/// Pins `fingerprint` for `host:port` in the store at `path`; `false` when
/// it could not be kept (said in the log): the connection goes on.
pub async fn pin(path: Option<&PathBuf>, host: &str, port: u16, fingerprint: Fingerprint) -> bool {
    let Some(path) = path.cloned() else {
        return false;
    };
    let host = host.to_owned();
    let write = tokio::task::spawn_blocking(move || {
        KnownHosts::open(&path)?.pin(&host, port, &fingerprint)
    });
    match write.await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            log::warn!("remembering the host's certificate: {err:#}");
            false
        }
        Err(err) => {
            log::warn!("remembering the host's certificate: {err}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_survive_reopening_and_can_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(FILE_NAME);
        let first = Fingerprint::of_certificate(b"first");
        let second = Fingerprint::of_certificate(b"second");
        {
            let hosts = KnownHosts::open(&path).unwrap();
            assert_eq!(hosts.pinned("mei.local", 6667).unwrap(), None);
            hosts.pin("Mei.Local.", 6667, &first).unwrap();
        }
        let hosts = KnownHosts::open(&path).unwrap();
        assert_eq!(hosts.pinned("mei.local", 6667).unwrap(), Some(first));
        assert_eq!(hosts.pinned("mei.local", 6668).unwrap(), None);
        hosts.pin("mei.local", 6667, &second).unwrap();
        assert_eq!(hosts.pinned("MEI.local", 6667).unwrap(), Some(second));
    }

    #[tokio::test]
    async fn a_store_that_cannot_open_is_no_pin_and_no_panic() {
        // A directory where the file should be: fails even for root.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let fingerprint = Fingerprint::of_certificate(b"any");
        assert!(!pin(Some(&path), "mei.local", 6667, fingerprint).await);
        assert_eq!(pinned(Some(&path), "mei.local", 6667).await, None);
        assert_eq!(pinned(None, "mei.local", 6667).await, None);
    }
}
