//! "Rooms on Your Network" on the welcome page: what the local network
//! announces, one click to join.

use adw::prelude::*;
use adw::subclass::prelude::*;

use super::TcpChatWindow;
use crate::api::{Command, ConnectRequest, ExpectedIdentity, Fingerprint, NearbyRoom};
use crate::i18n::gettext_f;

impl TcpChatWindow {
    /// The list, when the model's rooms changed (a handful of rows: rebuilt).
    pub(super) fn render_nearby(&self) {
        let imp = self.imp();
        let revision = imp.room.read(|room| room.nearby().revision());
        if imp.nearby_shown.replace(revision) == revision {
            return;
        }
        let rooms = imp.room.read(|room| room.nearby().list().to_vec());
        while let Some(row) = imp.nearby_list.row_at_index(0) {
            imp.nearby_list.remove(&row);
        }
        for room in &rooms {
            imp.nearby_list.append(&nearby_row(room));
        }
        imp.nearby_box.set_visible(!rooms.is_empty());
    }

    /// Joins the room announced as `instance`, as the remembered nickname.
    pub(super) fn join_nearby(&self, instance: &str) {
        let Some(room) = self
            .imp()
            .room
            .read(|room| room.nearby().get(instance).cloned())
        else {
            return;
        };
        // IPv4 first (the browser orders them so): the easiest to reach.
        let Some(address) = room.addresses.first() else {
            return;
        };
        let request = Command::Connect(ConnectRequest {
            address: address.to_string(),
            nick: self.nickname(),
            room: room.room.clone(),
            password: None,
            identity: announced_identity(&room),
        });
        self.launch_request(request);
    }

    /// The rooms listed, as their rows' titles (for tests).
    pub fn nearby_rooms_shown(&self) -> Vec<String> {
        let list = &self.imp().nearby_list;
        (0..)
            .map_while(|index| list.row_at_index(index))
            .filter_map(|row| row.downcast::<adw::ActionRow>().ok())
            .map(|row| row.title().to_string())
            .collect()
    }

    pub fn nearby_list(&self) -> gtk::ListBox {
        self.imp().nearby_list.get()
    }
}

/// What the room's announcement says of its certificate. An announced
/// fingerprint we cannot read is not trusted blindly: the handshake then
/// pins on first use, as for a typed address.
fn announced_identity(room: &NearbyRoom) -> ExpectedIdentity {
    if room.tls {
        ExpectedIdentity::AnnouncedTls(room.fingerprint.as_deref().and_then(Fingerprint::from_hex))
    } else {
        ExpectedIdentity::PlainOnly
    }
}

/// A row: the room, who hosts it where; its name is the instance.
fn nearby_row(room: &NearbyRoom) -> adw::ActionRow {
    let address = room
        .addresses
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    let subtitle = match &room.nick {
        Some(nick) => gettext_f(
            "{nick} · {address}",
            &[("nick", nick), ("address", &address)],
        ),
        None => address,
    };
    let row = adw::ActionRow::builder()
        .title(room.room.as_str())
        .subtitle(subtitle.as_str())
        .activatable(true)
        .build();
    row.set_widget_name(&room.instance);
    // No lock yet, even for rooms that speak TLS: the window still joins
    // them in plain text.
    row.add_suffix(&gtk::Image::from_icon_name("go-next-symbolic"));
    row
}
