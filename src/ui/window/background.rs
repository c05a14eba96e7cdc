//! Hosting in the background: closing the window of a room we host with
//! people in it asks whether to keep the room open. If so the window hides,
//! the application stays up (a GApplication hold) and a notification says
//! so, until the window comes back (launching the app again presents it) or
//! the person chooses Close Room.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::TcpChatWindow;
use crate::i18n::{gettext, gettext_f};
use crate::ui::actions::AppAction;
use crate::ui::model::ConversationId;

impl TcpChatWindow {
    /// On closing: asks whether to keep our room open, when people are in
    /// it. True when it asked (the window stays until the answer).
    pub(super) fn offer_background_hosting(&self) -> bool {
        let (keeps_people, room, others) = self.imp().room.read(|room| {
            let others = room.members().len().saturating_sub(1);
            (
                room.leaving_closes_room() && others > 0,
                room.visit().room.clone(),
                others,
            )
        });
        if !keeps_people {
            return false;
        }
        let question = gettext_f(
            "{count} others are in {room}. TCP Chat can keep hosting it in the background; closing it sends everyone away.",
            &[("count", &others.to_string()), ("room", &room)],
        );
        let dialog = adw::MessageDialog::new(
            Some(self),
            Some(&gettext("Keep the Room Open?")),
            Some(&question),
        );
        crate::ui::add_responses(
            &dialog,
            &[
                ("cancel", &gettext("_Cancel")),
                ("close", &gettext("_Close Room")),
                ("keep", &gettext("_Keep Open")),
            ],
        );
        dialog.set_response_appearance("close", adw::ResponseAppearance::Destructive);
        dialog.set_response_appearance("keep", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("keep"));
        dialog.set_close_response("cancel");
        dialog.connect_response(
            None,
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, response| match response {
                    "close" => window.close_for_good(),
                    "keep" => window.keep_hosting_in_background(),
                    _ => {}
                }
            ),
        );
        dialog.present();
        true
    }

    /// Closes the window (and the room we host) without asking.
    pub fn close_for_good(&self) {
        self.imp().closing_for_good.set(true);
        self.close();
    }

    /// Whether the window is hidden while its room stays open.
    pub fn hosting_in_background(&self) -> bool {
        !self.is_visible() && self.hosting()
    }

    fn keep_hosting_in_background(&self) {
        let imp = self.imp();
        self.save_layout();
        self.set_visible(false);
        let Some(app) = self.application() else {
            return;
        };
        imp.background_hold.replace(Some(app.hold()));
        let room = imp.room.read(|room| room.visit().room.clone());
        let notification =
            gio::Notification::new(&gettext_f("Still hosting {room}", &[("room", &room)]));
        notification.set_body(Some(&gettext(
            "The room stays open in the background. Open TCP Chat to return to it.",
        )));
        notification.set_icon(&gio::ThemedIcon::new(crate::ui::APP_ID));
        notification.set_default_action_and_target_value(
            AppAction::ShowConversation.detailed(),
            Some(&(self.id(), ConversationId::Room.key()).to_variant()),
        );
        notification.add_button_with_target_value(
            &gettext("Close Room"),
            AppAction::CloseRoom.detailed(),
            Some(&self.id().to_variant()),
        );
        app.send_notification(Some(&self.background_notification_id()), &notification);
    }

    /// Shown again (the app launched again, or the notification clicked):
    /// the app no longer needs holding.
    pub(super) fn watch_background(&self) {
        self.connect_visible_notify(|window| {
            if window.is_visible() {
                window.end_background();
            }
        });
    }

    pub(super) fn end_background(&self) {
        if self.imp().background_hold.take().is_none() {
            return;
        }
        if let Some(app) = self.application() {
            app.withdraw_notification(&self.background_notification_id());
        }
    }

    fn background_notification_id(&self) -> String {
        format!("{}/hosting", self.id())
    }
}
