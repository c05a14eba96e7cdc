//! What an operator does from the window: the member menu's Kick (asking a
//! reason), Ban (asking first), operator and voice changes, and the Room
//! Details dialog (read-only for the others).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use super::TcpChatWindow;
use crate::api::{Command, MemberMode, RoomModes};
use crate::i18n::{gettext, gettext_f};
use crate::ui::model::room_details;

/// Highest member limit the dialog offers.
const MAX_LIMIT: f64 = 100_000.0;

impl TcpChatWindow {
    fn send_for_person(&self, command: Command) {
        self.update(|room| room.send(command));
    }

    /// Asks why (optional), then removes `nick`.
    pub(super) fn kick_member(&self, nick: &str) {
        let heading = gettext_f("Remove {nick}?", &[("nick", nick)]);
        let dialog = adw::MessageDialog::new(
            Some(self),
            Some(&heading),
            Some(&gettext("They can come back unless banned.")),
        );
        dialog.set_title(Some(&heading));
        let reason = gtk::Entry::builder()
            .placeholder_text(gettext("Reason (optional)"))
            .activates_default(true)
            .build();
        dialog.set_extra_child(Some(&reason));
        dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("kick", &gettext("_Kick"))]);
        dialog.set_response_appearance("kick", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("kick"));
        dialog.set_close_response("cancel");
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

    /// The room's topic and settings; switches and entries an operator can
    /// change, shown read-only to the others.
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
        let heading = gettext("Room Details");
        let dialog = adw::MessageDialog::new(Some(self), Some(&heading), Some(&room));
        dialog.set_title(Some(&heading));
        let list = gtk::ListBox::builder()
            .selection_mode(gtk::SelectionMode::None)
            .css_classes(["boxed-list"])
            .build();
        // An operator edits the topic here; the others read it.
        let topic_entry = gtk::Entry::builder()
            .text(topic.as_str())
            .placeholder_text(gettext("No topic"))
            .editable(operator)
            .can_focus(operator)
            .hexpand(true)
            .valign(gtk::Align::Center)
            .build();
        let topic_row = adw::ActionRow::builder().title(gettext("Topic")).build();
        topic_row.add_suffix(&topic_entry);
        list.append(&topic_row);
        let switch_row = |title: String, subtitle: String, on: bool| {
            let switch = gtk::Switch::builder()
                .active(on)
                .sensitive(operator)
                .valign(gtk::Align::Center)
                .build();
            let row = adw::ActionRow::builder()
                .title(title)
                .subtitle(subtitle)
                .activatable_widget(&switch)
                .build();
            row.add_suffix(&switch);
            list.append(&row);
            switch
        };
        let topic_locked = switch_row(
            gettext("Only operators can change the topic"),
            String::new(),
            shown.topic_locked,
        );
        let moderated = switch_row(
            gettext("Moderated"),
            gettext("Only operators and voiced members can speak"),
            shown.moderated,
        );
        let invite_only = switch_row(
            gettext("Invitation only"),
            gettext("Only invited people can join"),
            shown.invite_only,
        );
        let key = gtk::PasswordEntry::builder()
            .show_peek_icon(true)
            .sensitive(operator)
            .valign(gtk::Align::Center)
            .placeholder_text(gettext("None"))
            .build();
        key.set_text(shown.key.as_deref().unwrap_or(""));
        let key_row = adw::ActionRow::builder().title(gettext("Password")).build();
        key_row.add_suffix(&key);
        list.append(&key_row);
        let limit = gtk::SpinButton::with_range(0.0, MAX_LIMIT, 1.0);
        limit.set_value(shown.limit.map_or(0.0, f64::from));
        limit.set_sensitive(operator);
        limit.set_valign(gtk::Align::Center);
        let limit_row = adw::ActionRow::builder()
            .title(gettext("Member limit"))
            .subtitle(gettext("0 for no limit"))
            .build();
        limit_row.add_suffix(&limit);
        list.append(&limit_row);
        dialog.set_extra_child(Some(&list));
        if !operator {
            dialog.add_response("close", &gettext("_Close"));
            dialog.set_close_response("close");
            dialog.present();
            return;
        }
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("apply", &gettext("_Apply")),
        ]);
        dialog.set_response_appearance("apply", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("apply"));
        dialog.set_close_response("cancel");
        dialog.connect_response(
            Some("apply"),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, _| {
                    let new_topic = topic_entry.text();
                    if new_topic != topic.as_str() {
                        window.send_for_person(Command::SetTopic {
                            topic: new_topic.to_string(),
                        });
                    }
                    let edited = RoomModes {
                        topic_locked: topic_locked.is_active(),
                        moderated: moderated.is_active(),
                        invite_only: invite_only.is_active(),
                        key: Some(key.text().to_string()),
                        limit: u32::try_from(limit.value_as_int()).ok(),
                    };
                    for change in room_details::changes(&shown, &edited) {
                        window.send_for_person(Command::SetRoomMode(change));
                    }
                }
            ),
        );
        dialog.present();
    }
}
