//! Announcing a running host's room on the local network.

use std::net::IpAddr;
use std::time::Duration;

use mdns_sd::{ServiceDaemon, ServiceInfo};

use super::record::{instance_name, srv_host_name};
use super::{DiscoveryError, SERVICE_TYPE, TLS_SERVICE_TYPE, TXT_VERSION};

/// How long withdrawing waits for mDNS to say goodbye.
const GOODBYE_WAIT: Duration = Duration::from_secs(1);
/// mdns-sd says each goodbye twice, the second time 120 ms after the first
/// in case a browser missed it (multicast has no delivery), and stopping
/// the responder cancels what it has not sent yet: withdrawing waits this
/// long before stopping it. (A browser that missed the one goodbye kept
/// the room listed until its records expired; seen once in a CI run.)
const GOODBYE_REPEATED: Duration = Duration::from_millis(200);

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
    /// The port speaks TLS (`tls=1`): announced as `_ircs._tcp` too.
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

    /// The service types to register: `_irc._tcp`, and `_ircs._tcp` too
    /// when the port speaks TLS (plain text is still welcome on it unless
    /// the host is TLS-only, and browsers of either type should find it).
    fn service_types(&self) -> &'static [&'static str] {
        if self.tls {
            &[SERVICE_TYPE, TLS_SERVICE_TYPE]
        } else {
            &[SERVICE_TYPE]
        }
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
    /// One per service type registered.
    fullnames: Vec<String>,
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
        let infos = announcement
            .service_types()
            .iter()
            .map(|service_type| {
                let info = ServiceInfo::new(
                    service_type,
                    &instance,
                    &srv_host_name(&announcement.hostname),
                    address.as_deref().unwrap_or(""),
                    announcement.port,
                    txt.as_slice(),
                )?;
                Ok(if address.is_none() {
                    info.enable_addr_auto()
                } else {
                    info
                })
            })
            .collect::<Result<Vec<_>, mdns_sd::Error>>()?;
        let daemon = ServiceDaemon::new()?;
        let mut fullnames: Vec<String> = Vec::with_capacity(infos.len());
        for info in infos {
            let fullname = info.get_fullname().to_owned();
            if let Err(err) = daemon.register(info) {
                // Half an announcement is withdrawn, and the thread we
                // started would otherwise run on, alone.
                for registered in &fullnames {
                    let _ = daemon.unregister(registered);
                }
                let _ = daemon.shutdown();
                return Err(err.into());
            }
            fullnames.push(fullname);
        }
        log::info!("announcing “{instance}” on the local network (mDNS)");
        Ok(Announcer {
            daemon,
            fullnames,
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
    /// three seconds: call it off the async runtime's threads.
    pub fn withdraw(mut self) {
        self.withdrawn = true;
        // Both goodbyes are asked for before waiting for either.
        let goodbyes: Vec<_> = self
            .fullnames
            .iter()
            .filter_map(|fullname| {
                self.daemon
                    .unregister(fullname)
                    .map_err(|err| log::debug!("cannot withdraw {fullname}: {err}"))
                    .ok()
            })
            .collect();
        let said_goodbye = !goodbyes.is_empty();
        for status in goodbyes {
            if status.recv_timeout(GOODBYE_WAIT).is_err() {
                log::debug!("mDNS did not confirm the goodbye in time");
            }
        }
        if said_goodbye {
            std::thread::sleep(GOODBYE_REPEATED);
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
            for fullname in &self.fullnames {
                let _ = self.daemon.unregister(fullname);
            }
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
        assert_eq!(announcement.service_types(), [SERVICE_TYPE]);
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
            announcement.service_types(),
            ["_irc._tcp.local.", "_ircs._tcp.local."]
        );
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
