//! Tab in the message entry completes the nick before the cursor (see
//! [`crate::ui::completion`]); in an empty entry it moves the focus on, and
//! Shift+Tab always moves it back.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gdk, glib};

use super::TcpChatWindow;

impl TcpChatWindow {
    pub(super) fn setup_nick_completion(&self) {
        let keys = gtk::EventControllerKey::new();
        // Before the entry (and the window's focus chain) sees the Tab.
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, key, _, modifiers| {
                let held = gdk::ModifierType::SHIFT_MASK
                    | gdk::ModifierType::CONTROL_MASK
                    | gdk::ModifierType::ALT_MASK;
                if ![gdk::Key::Tab, gdk::Key::KP_Tab].contains(&key) || modifiers.intersects(held) {
                    return glib::Propagation::Proceed;
                }
                // Nothing typed: Tab moves on, as everywhere else (the
                // way to the member list for people on the keyboard).
                if window.imp().message_entry.text().is_empty() {
                    return glib::Propagation::Proceed;
                }
                window.complete_nick();
                // Once typing, Tab stays in the entry even with nothing to
                // complete: a miss must not carry the keys elsewhere.
                glib::Propagation::Stop
            }
        ));
        self.imp().message_entry.add_controller(keys);
    }

    /// What Tab does in the message entry.
    pub fn complete_nick(&self) {
        let imp = self.imp();
        let entry = &imp.message_entry;
        // Our own nick last: rarely the one meant.
        let nicks = imp.room.read(|room| {
            let own = &room.visit().nick;
            let (mut others, ours): (Vec<String>, Vec<String>) = room
                .members()
                .sorted()
                .into_iter()
                .partition(|nick| !nick.eq_ignore_ascii_case(own));
            others.extend(ours);
            others
        });
        let text = entry.text();
        let Ok(cursor) = usize::try_from(entry.position()) else {
            return;
        };
        let completed = imp
            .nick_completion
            .borrow_mut()
            .complete(&text, cursor, &nicks);
        if let Some(completed) = completed {
            entry.set_text(&completed.text);
            entry.set_position(i32::try_from(completed.cursor).unwrap_or(-1));
        }
    }
}
