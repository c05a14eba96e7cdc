//! The host: an IRC-compatible relay for one room (and any other channels
//! clients make), plus a plain-text mode for `nc`/`telnet` users. GTK-free.
//!
//! PUBLIC API CONTRACT (implemented by the server work):
//! - `ServerConfig` (bind addresses, port, room, password, limits)
//! - `async fn start(config) -> anyhow::Result<RunningHost>`: binds, spawns
//!   the accept loop on the current tokio runtime, returns at once.
//! - `RunningHost::local_addrs()`, `RunningHost::shutdown().await` (tells every
//!   client the host is closing, waits for the tasks to end).
//! - `fn run_headless(config) -> anyhow::Result<()>`: `tcp-chat --serve`,
//!   builds its own runtime, stops on SIGINT/SIGTERM.
