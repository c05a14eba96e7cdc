//! Listing the rooms announced on the local network.

use std::collections::HashMap;
use std::net::IpAddr;

use mdns_sd::{ResolvedService, ScopedIp, ServiceDaemon, ServiceEvent};

use super::record::{parse_room, Malformed, NearbyRoom, MAX_ROOMS};
use super::{DiscoveryError, SERVICE_TYPE};

/// Events waiting for the reader; past that the browser waits for it.
pub const EVENT_QUEUE: usize = 64;

/// What changed among the rooms on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowseEvent {
    /// A room appeared, or one already found changed (same `instance`):
    /// the newer one replaces it.
    Found(NearbyRoom),
    /// The room with this instance name is gone (its host said goodbye,
    /// its records expired, or it now announces nonsense).
    Lost(String),
}

/// Browses `_irc._tcp.local.` until dropped.
pub struct Browser {
    daemon: ServiceDaemon,
    events: async_channel::Receiver<BrowseEvent>,
}

impl Browser {
    /// Starts an mDNS querier thread and a thread that turns what it hears
    /// into [`BrowseEvent`]s on a queue of [`EVENT_QUEUE`].
    pub fn start() -> Result<Browser, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        let heard = match daemon.browse(SERVICE_TYPE) {
            Ok(heard) => heard,
            Err(err) => {
                let _ = daemon.shutdown();
                return Err(err.into());
            }
        };
        let (sender, events) = async_channel::bounded(EVENT_QUEUE);
        let own = daemon.clone();
        let spawned = std::thread::Builder::new()
            .name("tcp-chat-browse".to_owned())
            .spawn(move || {
                let mut rooms = Rooms::default();
                while let Ok(event) = heard.recv() {
                    let Some(event) = rooms.apply(event) else {
                        continue;
                    };
                    if sender.send_blocking(event).is_err() {
                        break;
                    }
                }
                // The reader is gone (or the daemon stopped): stop asking.
                let _ = own.shutdown();
            });
        if let Err(err) = spawned {
            let _ = daemon.shutdown();
            return Err(DiscoveryError(format!("cannot start browsing: {err}")));
        }
        Ok(Browser { daemon, events })
    }

    /// The events, in the order heard. Ends when the browser is dropped.
    pub fn events(&self) -> &async_channel::Receiver<BrowseEvent> {
        &self.events
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

/// The rooms found so far, by lower-case full name (DNS names ignore case).
#[derive(Default)]
struct Rooms {
    known: HashMap<String, NearbyRoom>,
    told_full: bool,
}

impl Rooms {
    fn apply(&mut self, event: ServiceEvent) -> Option<BrowseEvent> {
        match event {
            ServiceEvent::ServiceResolved(resolved) => self.resolved(&resolved),
            ServiceEvent::ServiceRemoved(_, fullname) => self.removed(&fullname),
            _ => None,
        }
    }

    fn resolved(&mut self, resolved: &ResolvedService) -> Option<BrowseEvent> {
        let addresses: Vec<(IpAddr, u32)> = resolved
            .get_addresses()
            .iter()
            .map(|ip| match ip {
                ScopedIp::V6(v6) => (IpAddr::V6(*v6.addr()), v6.scope_id().index),
                other => (other.to_ip_addr(), 0),
            })
            .collect();
        let txt: Vec<(&str, Option<&[u8]>)> = resolved
            .get_properties()
            .iter()
            .map(|prop| (prop.key(), prop.val()))
            .collect();
        let key = resolved.get_fullname().to_ascii_lowercase();
        let parsed = parse_room(
            resolved.get_fullname(),
            resolved.get_port(),
            &addresses,
            &txt,
        );
        self.found(key, parsed.map_err(|why| (why, resolved.get_fullname())))
    }

    fn found(
        &mut self,
        key: String,
        parsed: Result<NearbyRoom, (Malformed, &str)>,
    ) -> Option<BrowseEvent> {
        let room = match parsed {
            Ok(room) => room,
            Err((why, fullname)) => {
                log::debug!("ignoring the announcement of {fullname:?}: {why:?}");
                // A room that turned into nonsense is gone.
                return self.removed(&key);
            }
        };
        match self.known.get(&key) {
            Some(known) if *known == room => return None,
            Some(_) => {}
            None if self.known.len() >= MAX_ROOMS => {
                if !self.told_full {
                    log::warn!("more than {MAX_ROOMS} rooms on the network: ignoring the rest");
                    self.told_full = true;
                }
                return None;
            }
            None => {}
        }
        self.known.insert(key, room.clone());
        Some(BrowseEvent::Found(room))
    }

    fn removed(&mut self, fullname: &str) -> Option<BrowseEvent> {
        let room = self.known.remove(&fullname.to_ascii_lowercase())?;
        if self.known.len() < MAX_ROOMS {
            self.told_full = false;
        }
        Some(BrowseEvent::Lost(room.instance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(n: usize) -> NearbyRoom {
        NearbyRoom {
            instance: format!("room {n}"),
            room: "#chat".into(),
            nick: None,
            addresses: vec![([192, 168, 1, 2], 6667).into()],
            port: 6667,
            tls: false,
            fingerprint: None,
            ours: false,
        }
    }

    fn key(n: usize) -> String {
        format!("room {n}._irc._tcp.local.")
    }

    #[test]
    fn found_changed_and_lost() {
        let mut rooms = Rooms::default();
        assert_eq!(
            rooms.found(key(1), Ok(room(1))),
            Some(BrowseEvent::Found(room(1)))
        );
        // Heard again unchanged: nothing new.
        assert_eq!(rooms.found(key(1), Ok(room(1))), None);
        let moved = NearbyRoom {
            port: 7000,
            ..room(1)
        };
        assert_eq!(
            rooms.found(key(1), Ok(moved.clone())),
            Some(BrowseEvent::Found(moved))
        );
        assert_eq!(
            rooms.removed("ROOM 1._irc._tcp.local."),
            Some(BrowseEvent::Lost("room 1".into()))
        );
        assert_eq!(rooms.removed(&key(1)), None, "lost once");
        assert_eq!(rooms.removed(&key(9)), None, "never found");
    }

    #[test]
    fn a_room_that_turns_to_nonsense_is_lost() {
        let mut rooms = Rooms::default();
        rooms.found(key(1), Ok(room(1)));
        assert_eq!(
            rooms.found(key(1), Err((Malformed::Room, "x"))),
            Some(BrowseEvent::Lost("room 1".into()))
        );
        assert_eq!(rooms.found(key(2), Err((Malformed::Room, "x"))), None);
    }

    #[test]
    fn at_most_max_rooms_are_tracked() {
        let mut rooms = Rooms::default();
        for n in 0..MAX_ROOMS {
            assert!(rooms.found(key(n), Ok(room(n))).is_some());
        }
        assert_eq!(rooms.found(key(MAX_ROOMS), Ok(room(MAX_ROOMS))), None);
        assert_eq!(rooms.known.len(), MAX_ROOMS);
        // Known rooms still update and go; then there is room again.
        assert!(rooms.removed(&key(0)).is_some());
        assert!(rooms.found(key(MAX_ROOMS), Ok(room(MAX_ROOMS))).is_some());
    }
}
