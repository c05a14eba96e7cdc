//! What the person does: the Host and Connect forms, the command line's
//! request, the message entry, leaving, copying the room's address.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use super::TcpChatWindow;
use crate::api::{Command, ConnectRequest, ExpectedIdentity, HostRequest};
use crate::i18n::{gettext, gettext_f};
use crate::ui::input::{self, Input};
use crate::ui::join_form::{FormField, TcpChatJoinForm};
use crate::ui::launch::Launch;
use crate::ui::log_entry::LogEntry;
use crate::ui::model::Room;

impl TcpChatWindow {
    /// Pops up the Host or Connect form, with the cursor in `field`.
    pub(super) fn open_form(&self, hosting: bool, field: Option<FormField>) {
        let imp = self.imp();
        if self.busy() {
            return;
        }
        let (button, form) = if hosting {
            (&imp.host_button, &imp.host_form)
        } else {
            (&imp.connect_button, &imp.connect_form)
        };
        button.popup();
        match field {
            Some(field) => form.focus_field(field),
            None => form.focus_first(),
        }
    }

    pub fn host_form(&self) -> TcpChatJoinForm {
        self.imp().host_form.get()
    }

    pub fn connect_form(&self) -> TcpChatJoinForm {
        self.imp().connect_form.get()
    }

    pub(super) fn submit(&self, form: &TcpChatJoinForm) {
        let Some(request) = form.request() else {
            return;
        };
        let imp = self.imp();
        imp.host_button.popdown();
        imp.connect_button.popdown();
        self.remember(&request);
        self.update(|room| room.start(request, true));
    }

    pub(super) fn retry(&self) {
        self.update(Room::retry);
    }

    pub(super) fn reconnect_now(&self) {
        self.update(Room::reconnect_now);
    }

    /// What the command line asked for, in a window that may be in use.
    pub fn launch(&self, launch: Launch) {
        let nick_or_default = |nick: Option<String>| nick.unwrap_or_else(|| self.nickname());
        let room_or_default = |room: Option<String>| room.unwrap_or_else(|| self.last_room());
        let request = match launch {
            Launch::Window => return,
            Launch::Host { port, nick, room } => Command::Host(HostRequest {
                nick: nick_or_default(nick),
                port,
                room: room_or_default(room),
                password: None,
                encrypted_only: false,
            }),
            Launch::Connect {
                address,
                nick,
                room,
            } => Command::Connect(ConnectRequest {
                address,
                nick: nick_or_default(nick),
                room: room_or_default(room),
                password: None,
                identity: ExpectedIdentity::Unknown,
            }),
        };
        self.launch_request(request);
    }

    /// Starts `request` (Host or Connect) unless a room is under way.
    pub(super) fn launch_request(&self, request: Command) {
        if self.busy() {
            self.toast(&gettext("Leave this room first to join another"));
            return;
        }
        self.update(|room| room.start(request, true));
    }

    pub(super) fn send_entry(&self) {
        let imp = self.imp();
        if !self.phase().can_chat() {
            return;
        }
        let text = imp.message_entry.text();
        // Answers to mistakes and /help go where the person typed.
        let here = imp
            .room
            .read(|room| room.conversations().selected().clone());
        let here = self.log_for(&here);
        let local = |entries: &[LogEntry]| here.append(entries);
        let clear = match input::parse(&text) {
            Input::Nothing => return,
            Input::Send(Command::Leave { message }) => {
                self.leave(message);
                true
            }
            Input::Send(command) => {
                self.update(|room| room.send(command));
                true
            }
            Input::Query(nick) => {
                self.open_private(&nick);
                true
            }
            Input::Help => {
                let lines: Vec<LogEntry> = input::help_lines()
                    .into_iter()
                    .map(LogEntry::system)
                    .collect();
                local(&lines);
                true
            }
            // Mistakes stay in the entry to be mended.
            Input::Usage(usage) => {
                local(&[LogEntry::system(usage.text())]);
                false
            }
            Input::Unknown(name) => {
                local(&[LogEntry::error(input::unknown_text(&name))]);
                false
            }
            Input::InvalidNick(nick) => {
                local(&[LogEntry::error(input::invalid_nick_text(&nick))]);
                false
            }
        };
        if clear {
            imp.message_entry.set_text("");
        }
        imp.message_entry.grab_focus();
    }

    /// Leaves the room; closing a room we host asks first.
    pub(super) fn leave(&self, message: Option<String>) {
        let (closes_room, room) = self
            .imp()
            .room
            .read(|room| (room.leaving_closes_room(), room.visit().room.clone()));
        if !closes_room {
            self.update(|room| room.leave(message));
            return;
        }
        let question = gettext_f(
            "You host {room}: leaving closes it for everyone in it.",
            &[("room", &room)],
        );
        self.confirm(
            &gettext("Close the Room?"),
            &question,
            &gettext("_Close Room"),
            move |window| {
                let message = message.clone();
                window.update(|room| room.leave(message));
            },
        );
    }

    /// Forgets what was said in the room we host, after asking.
    pub(super) fn clear_history(&self) {
        let room = self.imp().room.read(|room| room.visit().room.clone());
        let question = gettext_f(
            "Everything said in {room} so far is forgotten: people who join later or reconnect will not see it. This cannot be undone.",
            &[("room", &room)],
        );
        self.confirm(
            &gettext("Clear Room History?"),
            &question,
            &gettext("C_lear History"),
            |window| {
                window.send(Command::ClearHistory);
            },
        );
    }

    /// Asks `heading` / `question` with Cancel and a destructive `act`
    /// button (Cancel is the default); runs `on_yes` for the latter.
    pub(super) fn confirm(
        &self,
        heading: &str,
        question: &str,
        act: &str,
        on_yes: impl Fn(&TcpChatWindow) + 'static,
    ) {
        let dialog = adw::MessageDialog::new(Some(self), Some(heading), Some(question));
        // The window's own name too: what a screen reader says on its arrival.
        dialog.set_title(Some(heading));
        crate::ui::add_responses(&dialog, &[("cancel", &gettext("_Cancel")), ("act", act)]);
        dialog.set_response_appearance("act", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");
        dialog.connect_response(
            Some("act"),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, _| on_yes(&window)
            ),
        );
        dialog.present();
    }

    pub(super) fn copy_address(&self) {
        let Some(address) = self.share_address() else {
            return;
        };
        self.clipboard().set_text(&address);
        self.toast(&gettext_f("Copied {address}", &[("address", &address)]));
    }
}
