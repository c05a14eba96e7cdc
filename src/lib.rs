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

/// Runs the application: the window, or the headless host with `--serve`.
pub fn main() -> std::process::ExitCode {
    use gtk::prelude::*;

    // Before GTK, the command-line help and any thread.
    i18n::init();
    ui::register_resources();
    let app = ui::TcpChatApplication::new();
    app.run().into()
}
