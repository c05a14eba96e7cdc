//! What an operator does from the window: the member menu's Kick (asking a
//! reason), Ban (asking first), operator and voice changes, Invite (asking
//! whom; open to every member unless the room is invitation-only), and the
//! Room Details dialog (read-only for the others).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use super::TcpChatWindow;
use crate::api::{Command, MemberMode};
use crate::i18n::{gettext, gettext_f};
use crate::ui::model;
use crate::ui::room_details::{self, TcpChatRoomDetails};
use crate::ui::validate;

impl TcpChatWindow {
    fn send_for_person(&self, command: Command) {
        self.update(|room| room.send(command));
    }

    /// A dialog titled `heading` that asks for one line, in an entry named
    /// (and hinted) `field`, then answers Cancel or `act` (id, label).
    fn ask_one_line(
        &self,
        heading: &str,
        body: &str,
        field: &str,
        act: (&str, &str),
    ) -> (adw::MessageDialog, gtk::Entry) {
        let dialog = adw::MessageDialog::new(Some(self), Some(heading), Some(body));
        // The window's own name too: what a screen reader says on its arrival.
        dialog.set_title(Some(heading));
        let entry = gtk::Entry::builder()
            .placeholder_text(field)
            .activates_default(true)
            .build();
        // Its placeholder is no name for a screen reader in GTK 4.8.
        let entry_name = gtk::Label::new(None);
        crate::ui::name_through(&entry_name, &entry, field);
        let extra = gtk::Box::new(gtk::Orientation::Vertical, 0);
        extra.append(&entry);
        extra.append(&entry_name);
        dialog.set_extra_child(Some(&extra));
        crate::ui::add_responses(&dialog, &[("cancel", &gettext("_Cancel")), act]);
        dialog.set_default_response(Some(act.0));
        dialog.set_close_response("cancel");
        (dialog, entry)
    }

    /// Asks why (optional), then removes `nick`.
    pub(super) fn kick_member(&self, nick: &str) {
        let (dialog, reason) = self.ask_one_line(
            &gettext_f("Kick {nick}?", &[("nick", nick)]),
            &gettext("They can come back unless banned."),
            &gettext("Reason (optional)"),
            ("kick", &gettext("_Kick")),
        );
        dialog.set_response_appearance("kick", adw::ResponseAppearance::Destructive);
        let nick = nick.to_owned();
        dialog.connect_response(
            Some("kick"),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                #[weak]
                reason,
                move |_, _| {
                    let reason = Some(reason.text().trim().to_owned()).filter(|r| !r.is_empty());
                    window.send_for_person(Command::Kick {
                        nick: nick.clone(),
                        reason,
                    });
                }
            ),
        );
        dialog.present();
    }

    /// Asks whom, then invites them into the room. Invite stays unavailable
    /// until the entry holds a nickname IRC accepts.
    pub(super) fn ask_whom_to_invite(&self) {
        let room = self.imp().room.read(|room| room.visit().room.clone());
        let (dialog, nick) = self.ask_one_line(
            &gettext_f("Invite to {room}", &[("room", &room)]),
            &gettext("They will be told they can join, even if the room is invitation only."),
            &gettext("Nickname"),
            ("invite", &gettext("_Invite")),
        );
        dialog.set_response_appearance("invite", adw::ResponseAppearance::Suggested);
        dialog.set_response_enabled("invite", false);
        nick.connect_changed(glib::clone!(
            #[weak]
            dialog,
            move |nick| {
                let valid = validate::nick(&nick.text()).is_some();
                dialog.set_response_enabled("invite", valid);
            }
        ));
        dialog.connect_response(
            Some("invite"),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                #[weak]
                nick,
                move |_, _| {
                    // The toast waits for the server's word (`Event::Invited`).
                    if let Some(nick) = validate::nick(&nick.text()) {
                        window.send_for_person(Command::Invite { nick });
                    }
                }
            ),
        );
        dialog.present();
    }

    /// Asks first, then bans `nick` (by nickname) and removes them.
    pub(super) fn ban_member(&self, nick: &str) {
        let nick = nick.to_owned();
        self.confirm(
            &gettext_f("Ban {nick}?", &[("nick", &nick)]),
            &gettext_f(
                "{nick} is removed and cannot come back under this nickname until an operator lifts the ban.",
                &[("nick", &nick)],
            ),
            &gettext("_Ban"),
            move |window| window.send_for_person(Command::Ban { nick: nick.clone() }),
        );
    }

    pub(super) fn set_member_mode(&self, nick: &str, mode: MemberMode, on: bool) {
        self.send_for_person(Command::SetMemberMode {
            nick: nick.to_owned(),
            mode,
            on,
        });
    }

    /// The room's topic and settings, following the room while open; an
    /// operator's changes go out as one command per setting that differs
    /// from the room's.
    pub(super) fn show_room_details(&self) {
        let (room, topic, shown, operator) = self.imp().room.read(|room| {
            let visit = room.visit();
            (
                visit.room.clone(),
                visit.topic.clone(),
                visit.room_modes.clone(),
                room.we_are_operator(),
            )
        });
        let dialog = TcpChatRoomDetails::new(self, &room, &topic, &shown, operator);
        self.imp().room_details.set(Some(&dialog));
        dialog.connect_response(
            Some(room_details::APPLY),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |dialog, _| {
                    let Some(dialog) = dialog.downcast_ref::<TcpChatRoomDetails>() else {
                        return;
                    };
                    let (new_topic, edited) = dialog.edited();
                    let (topic, shown) = window.imp().room.read(|room| {
                        let visit = room.visit();
                        (visit.topic.clone(), visit.room_modes.clone())
                    });
                    if new_topic != topic {
                        window.send_for_person(Command::SetTopic { topic: new_topic });
                    }
                    for change in model::room_details::changes(&shown, &edited) {
                        window.send_for_person(Command::SetRoomMode(change));
                    }
                }
            ),
        );
        dialog.present();
    }

    /// The open Room Details, if any, shows the room as it is now.
    pub(super) fn follow_room_details(&self) {
        let imp = self.imp();
        if let Some(dialog) = imp.room_details.upgrade() {
            let (topic, modes) = imp.room.read(|room| {
                let visit = room.visit();
                (visit.topic.clone(), visit.room_modes.clone())
            });
            dialog.follow(&topic, &modes);
        }
    }
}
