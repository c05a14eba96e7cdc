//! The `ii` IRC client from Debian, driven through its files: it reads
//! commands from `in` FIFOs and reports only by appending to `out` files,
//! so waiting on it means polling a file (the one place the tests poll).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::programs::{scratch_dir, ChildProcess};
use super::TIMEOUT;

/// How often a file ii writes is looked at again.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

pub struct Ii {
    // Declared before `dir`: ii ends before its files go.
    _process: ChildProcess,
    dir: TempDir,
    server: String,
    /// Our write end of each `in` FIFO, kept open for ii's whole life: a
    /// FIFO whose last writer closes gives ii an end of file, and a line
    /// written while ii closes and reopens it would be lost.
    fifos: HashMap<PathBuf, File>,
}

impl Ii {
    /// Starts ii as `nick`, connecting to `addr`.
    pub fn start(addr: SocketAddr, nick: &str) -> Ii {
        let dir = scratch_dir("ii");
        let server = addr.ip().to_string();
        let process = ChildProcess::spawn(
            Command::new("ii")
                .args(["-s", &server, "-p", &addr.port().to_string(), "-n", nick])
                .arg("-i")
                .arg(dir.path()),
            "ii",
        );
        Ii {
            _process: process,
            dir,
            server,
            fifos: HashMap::new(),
        }
    }

    /// ii's directory for `name`: the server itself when `None`, else a
    /// channel or a private conversation.
    fn dir_of(&self, name: Option<&str>) -> PathBuf {
        let server = self.dir.path().join(&self.server);
        match name {
            Some(name) => server.join(directory_name(name)),
            None => server,
        }
    }

    /// Writes `line` to the server's `in`: a command such as `/j #chat`,
    /// `/q bye`, or raw IRC.
    pub async fn command(&mut self, line: &str) {
        self.write_fifo(self.dir_of(None).join("in"), line).await;
    }

    /// Joins `channel` and waits until ii has made its files.
    pub async fn join(&mut self, channel: &str) {
        self.command(&format!("/j {channel}")).await;
        wait_for_path(&self.dir_of(Some(channel)).join("in")).await;
    }

    /// Says `text` in `channel` (joined before).
    pub async fn say(&mut self, channel: &str, text: &str) {
        self.write_fifo(self.dir_of(Some(channel)).join("in"), text)
            .await;
    }

    /// Writes one line into one of ii's `in` FIFOs, once ii has made it.
    async fn write_fifo(&mut self, path: PathBuf, line: &str) {
        if !self.fifos.contains_key(&path) {
            wait_for_path(&path).await;
            // Read and write: on Linux that opens a FIFO without waiting
            // for a reader, and a dead ii cannot make the write block.
            let fifo = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap();
            self.fifos.insert(path.clone(), fifo);
        }
        // One write, so the line arrives whole: ii reads without blocking
        // and drops a line it finds cut short.
        (&self.fifos[&path])
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    /// Polls `channel`'s `out` file until `wanted` holds for its text,
    /// which is returned.
    pub async fn wait_for_output(
        &self,
        channel: &str,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let out = self.dir_of(Some(channel)).join("out");
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if wanted(&text) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "ii never wrote {what} to {}; it has:\n{text}",
                out.display()
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// The directory name ii gives a channel or nick: ASCII letters in lower
/// case, and every byte other than digits and `.#&+!-` as `_`.
fn directory_name(name: &str) -> String {
    name.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' => char::from(byte.to_ascii_lowercase()),
            b'a'..=b'z' | b'0'..=b'9' | b'.' | b'#' | b'&' | b'+' | b'!' | b'-' => char::from(byte),
            _ => '_',
        })
        .collect()
}

/// Polls until ii has created `path`.
async fn wait_for_path(path: &Path) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ii never created {}",
            path.display()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
