//! Programs from Debian that the tests drive as child processes (ii,
//! ngircd, InspIRCd): one way to start one, wait until it is ready, and be
//! sure it is gone when the test ends, however it ends.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use tempfile::TempDir;

use super::TIMEOUT;

/// Fails with a clear message when a program the test drives is missing.
pub fn require_program(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is not installed: run `make deps-test` (or `apt-get install {package}`)"
    );
}

/// A scratch directory for a child process, removed when dropped. Anyone
/// may write in it: started as root, a server may drop to `nobody`.
pub fn scratch_dir(program: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("tcp-chat-{program}-"))
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// A running child process, killed and reaped when dropped.
pub struct ChildProcess {
    child: Child,
    program: String,
    /// Its stdout, line by line, read on a thread of its own so that the
    /// child never blocks on a full pipe.
    output: mpsc::Receiver<String>,
}

impl ChildProcess {
    /// Starts `command` with stdin closed and stdout captured (see
    /// [`Self::wait_for_output`]); `package` is named if the program is missing.
    pub fn spawn(command: &mut Command, package: &str) -> ChildProcess {
        Self::start(command.stdin(Stdio::null()), package)
    }

    /// [`Self::spawn`], with a pipe to the program's stdin.
    pub fn spawn_with_input(command: &mut Command, package: &str) -> (ChildProcess, ChildStdin) {
        let mut process = Self::start(command.stdin(Stdio::piped()), package);
        let stdin = process.child.stdin.take().unwrap();
        (process, stdin)
    }

    fn start(command: &mut Command, package: &str) -> ChildProcess {
        let program = command.get_program().to_string_lossy().into_owned();
        require_program(&program, package);
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
        let stdout = child.stdout.take().unwrap();
        let (lines, output) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Nobody listening any more is fine: keep draining.
                let _ = lines.send(line);
            }
        });
        ChildProcess {
            child,
            program,
            output,
        }
    }

    /// Blocks until the program prints a line containing `marker`: waiting
    /// for it to say it is ready, not for time to pass.
    pub fn wait_for_output(&self, marker: &str) {
        let deadline = Instant::now() + TIMEOUT;
        let mut log = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(line) if line.contains(marker) => return,
                Ok(line) => {
                    log.push_str(&line);
                    log.push('\n');
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} did not print {marker:?} within {TIMEOUT:?}:\n{log}",
                    self.program
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("{} ended before printing {marker:?}:\n{log}", self.program)
                }
            }
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
