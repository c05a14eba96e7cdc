//! TCP Chat: a desktop chat room for the local network that speaks IRC.
//!
//! - [`api`]: the commands and events the window and network thread exchange.
//! - [`protocol`]: the IRC wire format (GTK-free).
//! - [`server`]: the host that relays a room (GTK-free, runs headless).
//! - [`client`]: the client session the window drives (GTK-free).
//! - [`discovery`]: rooms announced and found on the LAN over mDNS (GTK-free).
//! - [`network`]: the network thread and the two channel enums (GTK-free).
//! - [`i18n`]: translations through gettext (GTK-free).
//! - [`ui`]: the GTK application and window.

pub mod api;
pub mod client;
pub mod discovery;
pub mod i18n;
pub mod network;
pub mod protocol;
pub mod server;
mod transport;
pub mod ui;

/// Every Rust allocation, the window's and the host's: see `tikv-jemallocator`
/// in Cargo.toml for why not glibc's malloc.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start. Freed pages go back to the system
/// a second after they were last used instead of ten: the window measured
/// 8 MiB more for a 100,000-line log with the default, all of it pages its
/// ingest had freed. (An idle host allocates nothing, so nothing decays:
/// `server::memory` purges once a burst has settled.)
#[allow(unsafe_code, non_upper_case_globals)] // jemalloc looks the symbol up by name
#[export_name = "_rjem_malloc_conf"]
static malloc_conf: Option<&'static std::ffi::c_char> = Some(
    // SAFETY: a pointer to the first byte of a static NUL-terminated string.
    unsafe { &*JEMALLOC_OPTIONS.as_ptr() },
);

/// See [`malloc_conf`].
const JEMALLOC_OPTIONS: &std::ffi::CStr = c"dirty_decay_ms:1000";

/// Runs the application: the window, or the headless host with `--serve`.
pub fn main() -> std::process::ExitCode {
    use gtk::prelude::*;

    // Before GTK, the command-line help and any thread.
    i18n::init();
    ui::register_resources();
    let app = ui::TcpChatApplication::new();
    app.run().into()
}
