//! Rooms on the local network: a host announces its room with DNS-SD over
//! multicast DNS (service type `_irc._tcp.local.`, so any Zeroconf browser
//! sees an IRC server; a port that speaks TLS is also `_ircs._tcp.local.`,
//! same instance and TXT), and a [`Browser`] lists the rooms others
//! announce, from `_irc._tcp` only, so a TLS room is listed once.
//! GTK-free and runtime-free: `mdns-sd` runs its own thread, and so does the
//! browser's translator.
//!
//! What a room says about itself (TXT, version `v=1`):
//!
//! | key | value |
//! | --- | --- |
//! | `v` | `1`: the layout below; browsers ignore other versions |
//! | `room` | the room every client joins, e.g. `#chat` |
//! | `nick` | who hosts it (absent for a headless host without `--nick`) |
//! | `tls` | `1` when the port speaks TLS, else `0` |
//! | `fp` | optional: the SHA-256 fingerprint of the host's certificate (hex, `:`-separated), with `tls=1` |
//!
//! The local network is not trusted: what a browser hears is checked
//! (lengths, names, numbers) and whatever does not fit is ignored, never
//! shown half-parsed; and it keeps at most [`MAX_ROOMS`] rooms.

mod announce;
mod browse;
mod record;

pub use announce::{machine_name, Announcement, Announcer};
pub use browse::{BrowseEvent, Browser, EVENT_QUEUE};
pub use record::{
    host_label, instance_name, parse_room, srv_host_name, Malformed, NearbyRoom, MAX_ADDRESSES,
    MAX_FINGERPRINT_LEN, MAX_INSTANCE_LEN, MAX_ROOMS,
};

/// The DNS-SD service type rooms are announced under: plain IRC over TCP.
pub const SERVICE_TYPE: &str = "_irc._tcp.local.";

/// The service type a room whose port speaks TLS is also announced under,
/// for IRC clients that look for TLS servers. Not browsed.
pub const TLS_SERVICE_TYPE: &str = "_ircs._tcp.local.";

/// The TXT layout version we write and read (`v=1`).
pub const TXT_VERSION: &str = "1";

/// Announcing or browsing could not start (no mDNS daemon thread, a
/// refused registration).
#[derive(Debug)]
pub struct DiscoveryError(String);

impl std::fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DiscoveryError {}

impl From<mdns_sd::Error> for DiscoveryError {
    fn from(err: mdns_sd::Error) -> Self {
        DiscoveryError(format!("multicast DNS: {err}"))
    }
}
