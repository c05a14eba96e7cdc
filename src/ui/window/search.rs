//! Find in the conversation: the search bar above the log. Ctrl+F opens
//! it, Enter / Shift+Enter (or the arrows) go to the next / previous match,
//! Escape closes it, clears the highlighting and returns to the message
//! entry. The searching itself is the log's.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gdk, glib};

use super::TcpChatWindow;
use crate::i18n::{gettext, gettext_f};
use crate::ui::actions::WinAction;
use crate::ui::chat_log::TcpChatLog;

impl TcpChatWindow {
    pub(super) fn setup_search(&self) {
        let imp = self.imp();
        let entry = &*imp.search_entry;
        // Escape in the entry (its `stop-search`) closes the bar.
        imp.search_bar.connect_entry(entry);
        entry.connect_search_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |entry| window.shown_log().search(&entry.text())
        ));
        let next = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move || window.shown_log().next_match()
        );
        let previous = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move || window.shown_log().previous_match()
        );
        entry.connect_activate(glib::clone!(
            #[strong]
            next,
            move |_| next()
        ));
        entry.connect_next_match(glib::clone!(
            #[strong]
            next,
            move |_| next()
        ));
        imp.next_match_button.connect_clicked(move |_| next());
        entry.connect_previous_match(glib::clone!(
            #[strong]
            previous,
            move |_| previous()
        ));
        // GtkText activates on a bare Enter only: Shift+Enter is ours.
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[strong]
            previous,
            move |_, key, _, modifiers| {
                let enter = [gdk::Key::Return, gdk::Key::KP_Enter, gdk::Key::ISO_Enter];
                if enter.contains(&key) && modifiers.contains(gdk::ModifierType::SHIFT_MASK) {
                    previous();
                    return glib::Propagation::Stop;
                }
                glib::Propagation::Proceed
            }
        ));
        entry.add_controller(keys);
        imp.previous_match_button
            .connect_clicked(move |_| previous());
        imp.search_bar
            .connect_search_mode_enabled_notify(glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |bar| {
                    if !bar.is_search_mode() {
                        window.close_search();
                    }
                }
            ));
        self.follow_matches(&imp.chat_log);
    }

    /// The match count follows `log` while it is the one shown.
    pub(super) fn follow_matches(&self, log: &TcpChatLog) {
        log.connect_matches_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |log| {
                if window.shown_log() == *log {
                    window.show_match_count();
                }
            }
        ));
    }

    /// Another conversation is shown: an open search moves to its log.
    pub(super) fn move_search(&self, from: &TcpChatLog, to: &TcpChatLog) {
        let imp = self.imp();
        if !imp.search_bar.is_search_mode() {
            return;
        }
        from.clear_search();
        to.search(&imp.search_entry.text());
        self.show_match_count();
    }

    /// Ctrl+F: opens the bar (or returns to it) with the query selected.
    pub(super) fn open_search(&self) {
        let imp = self.imp();
        if !self.phase().shows_room() {
            return;
        }
        imp.search_bar.set_search_mode(true);
        imp.search_entry.grab_focus();
        imp.search_entry.select_region(0, -1);
    }

    /// Searching needs the room's log on screen.
    pub(super) fn enable_search(&self, shows_room: bool) {
        self.action_set_enabled(WinAction::Find.detailed(), shows_room);
        if !shows_room {
            self.imp().search_bar.set_search_mode(false);
        }
    }

    fn close_search(&self) {
        let imp = self.imp();
        // Empty, the entry's `search-changed` comes at once, not delayed.
        imp.search_entry.set_text("");
        self.shown_log().clear_search();
        imp.message_entry.grab_focus();
    }

    fn show_match_count(&self) {
        let imp = self.imp();
        let log = self.shown_log();
        let label = match log.current_match_index() {
            _ if imp.search_entry.text().is_empty() => String::new(),
            Some(index) => gettext_f(
                "{current} of {count}",
                &[
                    ("current", &(index + 1).to_string()),
                    ("count", &log.match_count().to_string()),
                ],
            ),
            None => gettext("No matches"),
        };
        imp.match_count_label.set_label(&label);
    }

    pub fn search_bar(&self) -> gtk::SearchBar {
        self.imp().search_bar.get()
    }

    pub fn search_entry(&self) -> gtk::SearchEntry {
        self.imp().search_entry.get()
    }

    /// "3 of 12", "No matches", or nothing without a query.
    pub fn match_count_text(&self) -> String {
        self.imp().match_count_label.label().to_string()
    }
}
