//! Typing, both ways: telling the conversation that the person types, and
//! the "li is typing…" line under the log, which goes stale on its own.

use std::time::{Duration, Instant};

use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;

use super::TcpChatWindow;

/// How often stale typing notices are looked for while any are shown.
const TYPING_TICK: Duration = Duration::from_secs(1);

impl TcpChatWindow {
    /// The entry changed: once the main loop is idle (`set_text` changes
    /// it twice, through empty), maybe tell the conversation we type.
    pub(super) fn composing(&self) {
        let imp = self.imp();
        if imp.switching_drafts.get() || imp.composing_soon.replace(true) {
            return;
        }
        let window = self.downgrade();
        glib::idle_add_local_once(move || {
            if let Some(window) = window.upgrade() {
                window.imp().composing_soon.set(false);
                window.tell_typing();
            }
        });
    }

    fn tell_typing(&self) {
        let imp = self.imp();
        let text = imp.message_entry.text();
        // A command is not something others will read.
        if text.starts_with('/') && !text.starts_with("//") {
            return;
        }
        let empty = text.trim().is_empty();
        self.update(|room| room.composing(empty, Instant::now()));
    }

    /// The typing line for the conversation shown, and a tick that lets it
    /// go stale while anyone is shown typing.
    pub(super) fn render_typing(&self) {
        let imp = self.imp();
        let (revision, line, anyone) = imp.room.read(|room| {
            (
                room.typing_revision(),
                room.typing_line(),
                room.anyone_typing(),
            )
        });
        imp.typing_shown.set(revision);
        imp.typing_label.set_label(line.as_deref().unwrap_or(""));
        if anyone && imp.typing_timer.borrow().is_none() {
            let window = self.downgrade();
            let timer = glib::timeout_add_local(TYPING_TICK, move || {
                let Some(window) = window.upgrade() else {
                    return glib::ControlFlow::Break;
                };
                window.update(|room| room.expire_typing(Instant::now()));
                if window.imp().room.read(|room| room.anyone_typing()) {
                    glib::ControlFlow::Continue
                } else {
                    window.imp().typing_timer.take();
                    glib::ControlFlow::Break
                }
            });
            imp.typing_timer.replace(Some(timer));
        }
    }

    /// What the typing line says (for tests).
    pub fn typing_text(&self) -> String {
        self.imp().typing_label.label().to_string()
    }
}
