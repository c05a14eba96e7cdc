//! Announcing a running host's room on the local network.

use std::net::IpAddr;
use std::time::Duration;

use mdns_sd::{ServiceDaemon, ServiceInfo};

use super::record::{instance_name, srv_host_name};
use super::{DiscoveryError, SERVICE_TYPE, TXT_VERSION};

/// How long withdrawing waits for mDNS to say goodbye.
const GOODBYE_WAIT: Duration = Duration::from_secs(1);

/// What a host tells the network about its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The room every client joins, e.g. `#chat`.
    pub room: String,
    /// Who hosts it, when someone does (a headless host may have no nick).
    pub nick: Option<String>,
    /// This machine's name (see [`machine_name`]).
    pub hostname: String,
    /// The port the host listens on.
    pub port: u16,
    /// `None`: every address of every non-loopback interface, kept up to
    /// date as they come and go; `Some`: only the address the host is bound to.
    pub address: Option<IpAddr>,
    /// The port speaks TLS (`tls=1`). Always `false` until the host does TLS.
    pub tls: bool,
    /// The host certificate's fingerprint (`fp`), for TLS hosts: hex digits
    /// and colons, at most [`MAX_FINGERPRINT_LEN`](super::MAX_FINGERPRINT_LEN) bytes.
    pub fingerprint: Option<String>,
}

impl Announcement {
    /// The instance name browsers list, e.g. `#chat by mei on mei-laptop`.
    pub fn instance(&self) -> String {
        instance_name(&self.room, self.nick.as_deref(), &self.hostname)
    }

    /// The TXT entries, in the layout of `v=1`.
    fn txt(&self) -> Vec<(&'static str, String)> {
        let mut txt = vec![
            ("v", TXT_VERSION.to_owned()),
            ("room", self.room.clone()),
            ("tls", if self.tls { "1" } else { "0" }.to_owned()),
        ];
        if let Some(nick) = &self.nick {
            txt.push(("nick", nick.clone()));
        }
        if let Some(fingerprint) = &self.fingerprint {
            txt.push(("fp", fingerprint.clone()));
        }
        txt
    }
}

/// This machine's host name as the kernel knows it, or empty.
pub fn machine_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// A room being announced. Dropping it withdraws the announcement without
/// waiting; [`Announcer::withdraw`] waits (briefly) until the goodbye is out.
pub struct Announcer {
    daemon: ServiceDaemon,
    fullname: String,
    instance: String,
    withdrawn: bool,
}

impl Announcer {
    /// Starts an mDNS responder thread and registers the room with it. The
    /// name is probed first; on a clash mDNS picks another (`… (2)`).
    pub fn start(announcement: &Announcement) -> Result<Announcer, DiscoveryError> {
        let instance = announcement.instance();
        let address = announcement.address.map(|ip| ip.to_string());
        let txt = announcement.txt();
        let info = ServiceInfo::new(
            SERVICE_TYPE,
            &instance,
            &srv_host_name(&announcement.hostname),
            address.as_deref().unwrap_or(""),
            announcement.port,
            txt.as_slice(),
        )?;
        let info = if address.is_none() {
            info.enable_addr_auto()
        } else {
            info
        };
        let fullname = info.get_fullname().to_owned();
        let daemon = ServiceDaemon::new()?;
        if let Err(err) = daemon.register(info) {
            // The thread we started would otherwise run on, alone.
            let _ = daemon.shutdown();
            return Err(err.into());
        }
        log::info!("announcing “{instance}” on the local network (mDNS)");
        Ok(Announcer {
            daemon,
            fullname,
            instance,
            withdrawn: false,
        })
    }

    /// The instance name as asked for (mDNS may have renamed it after a clash).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Says goodbye (browsers drop the room at once instead of when its
    /// records expire) and stops the responder. Blocks for at most about
    /// two seconds: call it off the async runtime's threads.
    pub fn withdraw(mut self) {
        self.withdrawn = true;
        match self.daemon.unregister(&self.fullname) {
            Ok(status) => {
                if status.recv_timeout(GOODBYE_WAIT).is_err() {
                    log::debug!("mDNS did not confirm the goodbye in time");
                }
            }
            Err(err) => log::debug!("cannot withdraw the announcement: {err}"),
        }
        match self.daemon.shutdown() {
            Ok(status) => {
                let _ = status.recv_timeout(GOODBYE_WAIT);
            }
            Err(err) => log::debug!("cannot stop the mDNS responder: {err}"),
        }
        log::info!("no longer announcing “{}”", self.instance);
    }
}

impl Drop for Announcer {
    /// Asks for the goodbye and the end of the responder thread without
    /// waiting; the thread does both in that order.
    fn drop(&mut self) {
        if !self.withdrawn {
            let _ = self.daemon.unregister(&self.fullname);
            let _ = self.daemon.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_has_the_v1_layout() {
        let mut announcement = Announcement {
            room: "#chat".into(),
            nick: Some("mei".into()),
            hostname: "mei-laptop".into(),
            port: 6667,
            address: None,
            tls: false,
            fingerprint: None,
        };
        assert_eq!(announcement.instance(), "#chat by mei on mei-laptop");
        assert_eq!(
            announcement.txt(),
            [
                ("v", "1".to_owned()),
                ("room", "#chat".to_owned()),
                ("tls", "0".to_owned()),
                ("nick", "mei".to_owned())
            ]
        );
        announcement.nick = None;
        announcement.tls = true;
        announcement.fingerprint = Some("AB:CD".into());
        assert_eq!(
            announcement.txt(),
            [
                ("v", "1".to_owned()),
                ("room", "#chat".to_owned()),
                ("tls", "1".to_owned()),
                ("fp", "AB:CD".to_owned())
            ]
        );
    }
}
