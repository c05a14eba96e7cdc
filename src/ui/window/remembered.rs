//! What the window remembers between runs (GSettings): nickname, last room
//! and address, host port, window size, whether members show; and the
//! Preferences it follows.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::TcpChatWindow;
use crate::api::Command;
use crate::ui::model::{nick_and_room, NotifyLevel};
use crate::ui::{settings, validate};

/// Narrower windows start with the member list hidden, leaving the log room.
const WIDE_ENOUGH_FOR_MEMBERS: i32 = 800;

impl TcpChatWindow {
    fn settings(&self) -> Option<&gio::Settings> {
        self.imp().settings.get()?.as_ref()
    }

    pub(super) fn nickname(&self) -> String {
        settings::nickname(self.settings())
    }

    pub(super) fn last_room(&self) -> String {
        self.settings()
            .and_then(|settings| validate::room(&settings.string(settings::LAST_ROOM)))
            .unwrap_or_else(|| validate::DEFAULT_ROOM.to_owned())
    }

    pub(super) fn fill_forms(&self) {
        let imp = self.imp();
        let nick = self.nickname();
        let room = self.last_room();
        let (address, port) = match self.settings() {
            Some(settings) => (
                settings.string(settings::LAST_ADDRESS).to_string(),
                settings
                    .value(settings::HOST_PORT)
                    .get::<u16>()
                    .filter(|port| *port != 0)
                    .unwrap_or(validate::DEFAULT_PORT),
            ),
            None => (String::new(), validate::DEFAULT_PORT),
        };
        imp.host_form.fill(&nick, "", port, &room);
        imp.connect_form.fill(&nick, &address, port, &room);
    }

    pub(super) fn remember(&self, request: &Command) {
        let Some(settings) = self.settings() else {
            return;
        };
        match request {
            Command::Host(request) => {
                log_failure(settings.set_value(settings::HOST_PORT, &request.port.to_variant()));
            }
            Command::Connect(request) => {
                log_failure(settings.set_string(settings::LAST_ADDRESS, &request.address));
            }
            _ => {}
        }
        let Some((nick, room)) = nick_and_room(request) else {
            return;
        };
        log_failure(settings.set_string(settings::NICKNAME, nick));
        log_failure(settings.set_string(settings::LAST_ROOM, room));
        // Both forms offer the same nickname and room next time.
        self.fill_forms();
    }

    pub(super) fn restore_layout(&self) {
        let Some(settings) = self.settings() else {
            self.set_show_members(self.default_width() >= WIDE_ENOUGH_FOR_MEMBERS);
            return;
        };
        let width = settings.int(settings::WINDOW_WIDTH);
        self.set_default_size(width, settings.int(settings::WINDOW_HEIGHT));
        let maximized = settings.boolean(settings::WINDOW_MAXIMIZED);
        if maximized {
            self.maximize();
        }
        self.set_show_members(
            settings.boolean(settings::SHOW_MEMBERS)
                && (maximized || width >= WIDE_ENOUGH_FOR_MEMBERS),
        );
        // Remember what the person chose, not what a narrow start implied.
        self.connect_show_members_notify(|window| {
            if let Some(settings) = window.settings() {
                log_failure(settings.set_boolean(settings::SHOW_MEMBERS, window.show_members()));
            }
        });
    }

    /// The model follows the Preferences as they change.
    pub(super) fn follow_preferences(&self) {
        let Some(settings) = self.settings() else {
            return;
        };
        let apply = |window: &Self, settings: &gio::Settings| {
            let level = NotifyLevel::from_setting(&settings.string(settings::NOTIFICATIONS));
            let share_typing = settings.boolean(settings::SHARE_TYPING);
            window.update(|room| {
                room.set_notify_level(level);
                room.set_share_typing(share_typing);
                Vec::new()
            });
        };
        apply(self, settings);
        for key in [settings::NOTIFICATIONS, settings::SHARE_TYPING] {
            settings.connect_changed(
                Some(key),
                glib::clone!(
                    #[weak(rename_to = window)]
                    self,
                    move |settings, _| apply(&window, settings)
                ),
            );
        }
    }

    pub(super) fn save_layout(&self) {
        let Some(settings) = self.settings() else {
            return;
        };
        let (width, height) = self.default_size();
        log_failure(settings.set_int(settings::WINDOW_WIDTH, width));
        log_failure(settings.set_int(settings::WINDOW_HEIGHT, height));
        log_failure(settings.set_boolean(settings::WINDOW_MAXIMIZED, self.is_maximized()));
    }
}

fn log_failure(result: Result<(), glib::BoolError>) {
    if let Err(err) = result {
        log::warn!("cannot save a setting: {err}");
    }
}
