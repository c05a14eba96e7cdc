//! "Rooms on Your Network" on the welcome page and in the Connect popover:
//! what the local network announces, one click to join.

use adw::prelude::*;
use adw::subclass::prelude::*;

use super::TcpChatWindow;
use crate::api::{Command, ConnectRequest, ExpectedIdentity, Fingerprint, NearbyRoom};
use crate::i18n::{gettext, gettext_f};

impl TcpChatWindow {
    /// The welcome page's list and the Connect popover's, when the model's
    /// rooms changed (a handful of rows: rebuilt).
    pub(super) fn render_nearby(&self) {
        let imp = self.imp();
        let revision = imp.room.read(|room| room.nearby().revision());
        if imp.nearby_shown.replace(revision) == revision {
            return;
        }
        let rows: Vec<(NearbyRoom, bool)> = imp.room.read(|room| {
            let nearby = room.nearby();
            let with_own_mark = |listed: &NearbyRoom| (listed.clone(), nearby.is_own(listed));
            nearby.list().iter().map(with_own_mark).collect()
        });
        fill_nearby_list(&imp.nearby_list, &rows);
        fill_nearby_list(&imp.connect_nearby_list, &rows);
        let found = !rows.is_empty();
        imp.nearby_box.set_visible(found);
        imp.connect_nearby_scroller.set_visible(found);
        imp.connect_nearby_empty.set_visible(!found);
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

    /// The welcome page's rooms, as their rows' titles (for tests).
    pub fn nearby_rooms_shown(&self) -> Vec<String> {
        row_titles(&self.imp().nearby_list)
    }

    /// The Connect popover's rooms, as their rows' titles (for tests).
    pub fn connect_nearby_rooms_shown(&self) -> Vec<String> {
        row_titles(&self.imp().connect_nearby_list)
    }

    pub fn nearby_list(&self) -> gtk::ListBox {
        self.imp().nearby_list.get()
    }

    pub fn connect_nearby_list(&self) -> gtk::ListBox {
        self.imp().connect_nearby_list.get()
    }

    /// The Connect popover's line for when no room is found.
    pub fn connect_nearby_empty(&self) -> gtk::Label {
        self.imp().connect_nearby_empty.get()
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

fn row_titles(list: &gtk::ListBox) -> Vec<String> {
    (0..)
        .map_while(|index| list.row_at_index(index))
        .filter_map(|row| row.downcast::<adw::ActionRow>().ok())
        .map(|row| row.title().to_string())
        .collect()
}

/// Replaces `list`'s rows with one per room; `own` marks our host's.
fn fill_nearby_list(list: &gtk::ListBox, rooms: &[(NearbyRoom, bool)]) {
    while let Some(row) = list.row_at_index(0) {
        list.remove(&row);
    }
    for (room, own) in rooms {
        list.append(&nearby_row(room, *own));
    }
}

/// A row: the room, who hosts it where, whether it is ours and
/// encrypted; its name is the instance.
fn nearby_row(room: &NearbyRoom, own: bool) -> adw::ActionRow {
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
    if own {
        let mark = gtk::Label::new(Some(&gettext("Your room")));
        mark.add_css_class("dim-label");
        row.add_suffix(&mark);
    }
    if room.tls {
        let lock = gtk::Image::from_icon_name("channel-secure-symbolic");
        lock.set_tooltip_text(Some(&gettext("Encrypted")));
        row.add_suffix(&lock);
    }
    row.add_suffix(&gtk::Image::from_icon_name("go-next-symbolic"));
    row
}
