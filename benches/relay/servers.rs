//! The servers under test: how to start each on a free loopback port with
//! its limits lifted, when it is ready, how much memory it holds, and making
//! sure it is gone afterwards.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use tcp_chat::protocol::trust::Fingerprint;
use tcp_chat::server::CERT_FILE;

use crate::client::{Conn, Target};

const NGIRCD_CONF: &str = include_str!("../servers/ngircd.conf");
const INSPIRCD_CONF: &str = include_str!("../servers/inspircd.conf");
const READY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// Our host keeping no history (`--history 0`).
    TcpChat,
    /// Our host keeping every line in its SQLite history (the default).
    TcpChatHistory,
    /// Our host keeping no history, its clients speaking TLS.
    TcpChatTls,
    Ngircd,
    Inspircd,
}

impl ServerKind {
    pub const ALL: [ServerKind; 5] = [
        ServerKind::TcpChat,
        ServerKind::TcpChatHistory,
        ServerKind::TcpChatTls,
        ServerKind::Ngircd,
        ServerKind::Inspircd,
    ];

    /// The servers compared unless `--servers` says otherwise; TLS has a
    /// scenario of its own.
    pub const COMPARED: [ServerKind; 4] = [
        ServerKind::TcpChat,
        ServerKind::TcpChatHistory,
        ServerKind::Ngircd,
        ServerKind::Inspircd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerKind::TcpChat => "tcp-chat",
            ServerKind::TcpChatHistory => "tcp-chat+history",
            ServerKind::TcpChatTls => "tcp-chat+tls",
            ServerKind::Ngircd => "ngircd",
            ServerKind::Inspircd => "inspircd",
        }
    }

    pub fn from_name(name: &str) -> Option<ServerKind> {
        ServerKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Clients connecting and registering at once. ngIRCd listens with a
    /// hard-coded backlog of 10: more simultaneous connects overflow it and
    /// the kernel drops SYNs (retried after 1, 3, 7… s, then reset).
    /// InspIRCd completes registrations once a second, so it needs many in
    /// flight; 1000 stays under tokio's default backlog of 1024.
    pub fn join_in_flight(self) -> usize {
        match self {
            ServerKind::Ngircd => 8,
            ServerKind::TcpChat
            | ServerKind::TcpChatHistory
            | ServerKind::TcpChatTls
            | ServerKind::Inspircd => 1000,
        }
    }

    /// Lines a flooding sender sends after registering. ngIRCd's per-client
    /// command limit can only be relaxed for IRC operators (user mode +F).
    pub fn sender_setup(self, nick: &str) -> Vec<u8> {
        match self {
            ServerKind::Ngircd => format!("OPER bench bench\r\nMODE {nick} +F\r\n").into_bytes(),
            ServerKind::TcpChat
            | ServerKind::TcpChatHistory
            | ServerKind::TcpChatTls
            | ServerKind::Inspircd => Vec::new(),
        }
    }

    fn command(self, port: u16, dir: &Path) -> Result<Command> {
        let write_conf = |file: &str, template: &str| -> Result<PathBuf> {
            let path = dir.join(file);
            let text = template
                .replace("@PORT@", &port.to_string())
                .replace("@DIR@", &dir.display().to_string());
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        Ok(match self {
            ServerKind::TcpChat | ServerKind::TcpChatHistory | ServerKind::TcpChatTls => {
                // RELAY_HOST_BIN runs another build of the host (say
                // main's) against this generator, to alternate before/after.
                let host = std::env::var_os("RELAY_HOST_BIN")
                    .unwrap_or_else(|| env!("CARGO_BIN_EXE_tcp-chat").into());
                let mut command = Command::new(host);
                command.args(["--serve", "--bind", "127.0.0.1", "--port"]);
                command.arg(port.to_string());
                command.args(["--no-flood-control", "--max-clients", "20000"]);
                // Every client of the bench comes from 127.0.0.1.
                command.args(["--max-per-address", "0"]);
                if self != ServerKind::TcpChatHistory {
                    command.args(["--history", "0"]);
                }
                // The TLS certificate goes there too (every host makes
                // one), not into the user's own state directory.
                command.arg("--state-dir").arg(dir);
                command
            }
            ServerKind::Ngircd => {
                let mut command = Command::new("ngircd");
                command
                    .arg("-n")
                    .arg("-f")
                    .arg(write_conf("ngircd.conf", NGIRCD_CONF)?);
                command
            }
            ServerKind::Inspircd => {
                let mut command = Command::new("inspircd");
                command.arg("--nofork").arg("--config");
                command.arg(write_conf("inspircd.conf", INSPIRCD_CONF)?);
                if running_as_root() {
                    command.arg("--runasroot");
                }
                command
            }
        })
    }
}

/// A server process that is killed when this is dropped (also on error,
/// panic or Ctrl-C unwinding through the harness).
pub struct RunningServer {
    pub kind: ServerKind,
    pub addr: SocketAddr,
    /// The certificate clients pin, for [`ServerKind::TcpChatTls`].
    tls: Option<Fingerprint>,
    child: Child,
    log: PathBuf,
}

impl RunningServer {
    /// Starts the server in `scratch/NAME/` and waits until a client can
    /// register on it.
    pub async fn start(kind: ServerKind, scratch: &Path) -> Result<RunningServer> {
        let dir = scratch.join(kind.name());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let port = free_port()?;
        let log = dir.join("server.log");
        let log_file = std::fs::File::create(&log).context("creating the server log")?;
        let mut command = kind.command(port, &dir)?;
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().context("log file")?)
            .stderr(log_file);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", kind.name()))?;
        let mut server = RunningServer {
            kind,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            tls: None,
            child,
            log,
        };
        server.await_ready().await?;
        if kind == ServerKind::TcpChatTls {
            // Written before the host listens, so it is there once it answers.
            server.tls = Some(certificate_fingerprint(&dir.join(CERT_FILE))?);
        }
        Ok(server)
    }

    /// Where and how the load generator's clients connect.
    pub fn target(&self) -> Target {
        Target {
            addr: self.addr,
            tls: self.tls,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in KiB (`VmRSS` in `/proc/PID/status`).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// CPU time the server has used so far, user and system, all threads
    /// (`utime + stime` in `/proc/PID/stat`).
    pub fn cpu_time(&self) -> Option<Duration> {
        // /proc reports in USER_HZ, which Linux fixes at 100 for user space.
        const TICKS_PER_SECOND: u64 = 100;
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // The command name may hold spaces: count fields after its ')'.
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
        let user: u64 = fields.next()?.parse().ok()?;
        let system: u64 = fields.next()?.parse().ok()?;
        Some(Duration::from_millis(
            (user + system) * 1000 / TICKS_PER_SECOND,
        ))
    }

    /// CPU time used since [`Self::cpu_time`] said `before`.
    pub fn cpu_since(&self, before: Option<Duration>) -> Option<Duration> {
        self.cpu_time()
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before))
    }

    /// The last lines of the server's own output, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }

    async fn await_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().context("checking the server")? {
                bail!(
                    "{} exited ({status}) before accepting clients:\n{}",
                    self.kind.name(),
                    self.log_tail()
                );
            }
            let probe = tokio::time::timeout(Duration::from_secs(3), async {
                // Plain text: every host answers it, ours on the TLS port too.
                let mut conn = Conn::connect(Target::plain(self.addr), "probe".to_owned()).await?;
                conn.register().await?;
                conn.quit(Duration::from_secs(1)).await;
                anyhow::Ok(())
            });
            if let Ok(Ok(())) = probe.await {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not accept clients within {READY_TIMEOUT:?}",
                    self.kind.name()
                );
            }
            // Another process's readiness has no event to await: poll.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The SHA-256 fingerprint of the PEM certificate at `path`.
fn certificate_fingerprint(path: &Path) -> Result<Fingerprint> {
    use rustls::pki_types::pem::PemObject as _;
    let cert = rustls::pki_types::CertificateDer::from_pem_file(path)
        .with_context(|| format!("reading the host's certificate {}", path.display()))?;
    Ok(Fingerprint::of_certificate(&cert))
}

/// A port the OS says is free now; the server binds it right after.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|line| line.starts_with("Uid:"))?
                .to_owned();
            Some(line.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
