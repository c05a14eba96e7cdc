//! Rooms announced on the local network, as the welcome page lists them.
//! GTK-free. The browser already bounds and checks what it hears.

use crate::api::NearbyRoom;
use crate::protocol::Fingerprint;

#[derive(Debug, Default)]
pub struct NearbyRooms {
    /// By room name, then instance: a stable order while rooms come and go.
    rooms: Vec<NearbyRoom>,
    /// Our host's certificate while we host: its own announcement comes
    /// back to us like anyone else's, and is marked as ours.
    own_fingerprint: Option<Fingerprint>,
    revision: u64,
}

impl NearbyRooms {
    pub fn list(&self) -> &[NearbyRoom] {
        &self.rooms
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn get(&self, instance: &str) -> Option<&NearbyRoom> {
        self.rooms.iter().find(|room| room.instance == instance)
    }

    /// Whether `room` is the one our own host announces, or another room
    /// this user hosts here (the network thread marks those): the same
    /// certificate, not the same name or address (a guest's room may share
    /// both).
    pub fn is_own(&self, room: &NearbyRoom) -> bool {
        if room.ours {
            return true;
        }
        let Some(own) = self.own_fingerprint else {
            return false;
        };
        room.fingerprint.as_deref().and_then(Fingerprint::from_hex) == Some(own)
    }

    /// Our host's fingerprint, or `None` when we do not host (over TLS).
    pub fn set_own_fingerprint(&mut self, fingerprint: Option<Fingerprint>) {
        if self.own_fingerprint != fingerprint {
            self.own_fingerprint = fingerprint;
            self.changed();
        }
    }

    /// A room heard of, or heard again with other details.
    pub fn found(&mut self, room: NearbyRoom) {
        self.rooms.retain(|known| known.instance != room.instance);
        let at = self
            .rooms
            .partition_point(|known| (&known.room, &known.instance) < (&room.room, &room.instance));
        self.rooms.insert(at, room);
        self.changed();
    }

    pub fn lost(&mut self, instance: &str) {
        let before = self.rooms.len();
        self.rooms.retain(|known| known.instance != instance);
        if self.rooms.len() != before {
            self.changed();
        }
    }

    fn changed(&mut self) {
        self.revision = self.revision.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(instance: &str, name: &str) -> NearbyRoom {
        NearbyRoom {
            instance: instance.into(),
            room: name.into(),
            nick: None,
            addresses: vec!["192.0.2.1:6667".parse().unwrap()],
            port: 6667,
            tls: false,
            fingerprint: None,
            ours: false,
        }
    }

    #[test]
    fn rooms_come_go_and_stay_sorted() {
        let mut nearby = NearbyRooms::default();
        nearby.found(room("b", "#zoo"));
        nearby.found(room("a", "#chat"));
        nearby.found(room("b", "#art"));
        let names: Vec<&str> = nearby.list().iter().map(|r| r.room.as_str()).collect();
        assert_eq!(names, ["#art", "#chat"], "b changed its room");
        let revision = nearby.revision();
        nearby.lost("nobody");
        assert_eq!(nearby.revision(), revision);
        nearby.lost("a");
        assert_eq!(nearby.list().len(), 1);
        assert!(nearby.get("b").is_some());
    }
}
