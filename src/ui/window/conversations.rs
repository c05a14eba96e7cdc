//! The window's conversations as views of the model: the sidebar (shown
//! once there is a private conversation), one log per conversation in a
//! stack, the entry's draft per conversation, and desktop notifications
//! through GApplication.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::TcpChatWindow;
use crate::ui::actions::{AppAction, WinAction};
use crate::ui::chat_log::TcpChatLog;
use crate::ui::conversation_row::TcpChatConversationRow;
use crate::ui::model::{Alert, Conversation, ConversationId};

/// Lines a private conversation's log keeps (the room's keeps more): up to
/// a hundred of them may be open.
const PRIVATE_LINE_LIMIT: usize = 10_000;
/// Desktop notifications a window shows at once; a crowd of strangers
/// writing from fresh nicks must not bury the desktop in them.
const MAX_NOTIFICATIONS: usize = 20;

impl TcpChatWindow {
    // ----- What the person does ----------------------------------------------

    /// Begins (or shows) the private conversation with `nick`.
    pub fn open_private(&self, nick: &str) {
        self.update(|room| room.open_private(nick));
        self.show_conversation_pane();
    }

    /// Shows conversation `id` (from the sidebar or a notification), ready
    /// to write in.
    pub fn show_conversation(&self, id: &ConversationId) {
        self.update(|room| room.select(id));
        self.show_conversation_pane();
        if self.phase().can_chat() {
            self.imp().message_entry.grab_focus_without_selecting();
        }
    }

    /// Ends the private conversation shown.
    pub(super) fn close_conversation(&self) {
        let selected = self
            .imp()
            .room
            .read(|room| room.conversations().selected().clone());
        self.update(|room| room.close_conversation(&selected));
    }

    /// On a notification's click: this window, on that conversation, at its
    /// first unread line.
    pub fn present_conversation(&self, id: &ConversationId) {
        let log = self.log_for(id);
        self.present();
        self.show_conversation(id);
        log.scroll_to_unread();
    }

    /// Folded (a narrow window): from the sidebar to the log.
    fn show_conversation_pane(&self) {
        let imp = self.imp();
        imp.leaflet.set_visible_child(&*imp.conversation_pane);
    }

    /// The model learns when the person is using this window: lines that
    /// come meanwhile are read at once, and do not notify.
    pub(super) fn watch_activity(&self) {
        self.connect_is_active_notify(|window| {
            let active = window.is_active();
            window.update(|room| room.set_window_active(active));
        });
        let leaflet = &self.imp().leaflet;
        leaflet.connect_folded_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_| window.show_back_button()
        ));
        leaflet.connect_visible_child_notify(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_| window.show_back_button()
        ));
    }

    // ----- Logs ----------------------------------------------------------------

    /// The log of conversation `id`, made on first use.
    pub(super) fn log_for(&self, id: &ConversationId) -> TcpChatLog {
        let imp = self.imp();
        if *id == ConversationId::Room {
            return imp.chat_log.get();
        }
        if let Some(log) = imp.private_logs.borrow().get(id) {
            return log.clone();
        }
        let log = TcpChatLog::new();
        log.set_line_limit(PRIVATE_LINE_LIMIT);
        self.follow_matches(&log);
        imp.logs.add_named(&log, Some(&id.key()));
        imp.private_logs
            .borrow_mut()
            .insert(id.clone(), log.clone());
        log
    }

    /// The log of the conversation shown.
    pub fn shown_log(&self) -> TcpChatLog {
        let shown = self.imp().shown_conversation.borrow().clone();
        self.log_for(&shown)
    }

    /// A private conversation's log, if it has one (for tests).
    pub fn private_log(&self, nick: &str) -> Option<TcpChatLog> {
        self.imp()
            .private_logs
            .borrow()
            .get(&ConversationId::with(nick))
            .cloned()
    }

    pub(super) fn drop_log(&self, id: &ConversationId) {
        let imp = self.imp();
        if let Some(log) = imp.private_logs.borrow_mut().remove(id) {
            imp.logs.remove(&log);
        }
        imp.drafts.borrow_mut().remove(id);
    }

    pub(super) fn drop_private_logs(&self) {
        let imp = self.imp();
        let logs: Vec<TcpChatLog> = imp
            .private_logs
            .borrow_mut()
            .drain()
            .map(|(_, log)| log)
            .collect();
        for log in logs {
            imp.logs.remove(&log);
        }
        imp.drafts.borrow_mut().clear();
        imp.shown_conversation.replace(ConversationId::Room);
    }

    /// The person changed nick: their log and draft follow (the stack page
    /// is re-added, as its name is fixed once added).
    pub(super) fn rename_log(&self, from: &ConversationId, to: &ConversationId) {
        let imp = self.imp();
        let Some(log) = imp.private_logs.borrow_mut().remove(from) else {
            return;
        };
        let visible = imp.logs.visible_child().as_ref() == Some(log.upcast_ref());
        imp.logs.remove(&log);
        imp.logs.add_named(&log, Some(&to.key()));
        if visible {
            imp.logs.set_visible_child(&log);
        }
        imp.private_logs.borrow_mut().insert(to.clone(), log);
        let draft = imp.drafts.borrow_mut().remove(from);
        if let Some(draft) = draft {
            imp.drafts.borrow_mut().insert(to.clone(), draft);
        }
        if *imp.shown_conversation.borrow() == *from {
            imp.shown_conversation.replace(to.clone());
        }
    }

    /// Our line with `outbox_id` reached its conversation, whichever it is.
    pub(super) fn mark_sent(&self, outbox_id: u64) {
        let imp = self.imp();
        imp.chat_log.mark_sent(outbox_id);
        for log in imp.private_logs.borrow().values() {
            log.mark_sent(outbox_id);
        }
    }

    // ----- Showing the model ---------------------------------------------------

    /// Sidebar, shown log, draft and the attention count, when the model's
    /// conversations changed.
    pub(super) fn render_conversations(&self) {
        let imp = self.imp();
        let revision = imp.room.read(|room| room.conversations().revision());
        if imp.conversations_shown.replace(revision) == revision {
            return;
        }
        let (list, selected, has_private, attention) = imp.room.read(|room| {
            let conversations = room.conversations();
            (
                conversations.list().to_vec(),
                conversations.selected().clone(),
                conversations.has_private(),
                conversations.attention(),
            )
        });
        self.show_conversation_rows(&list, &selected);
        imp.sidebar.set_visible(has_private);
        self.show_back_button();
        self.switch_to(&selected);
        self.action_set_enabled(
            WinAction::CloseConversation.detailed(),
            selected != ConversationId::Room,
        );
        if imp.attention.replace(attention) != attention {
            self.notify_attention();
        }
    }

    /// The sidebar's rows in the model's order. During a flood only the
    /// unread counts change, once a batch: the rows are updated in place
    /// then, as new rows would each be built from their template and
    /// their tooltips would each ask the display server where the pointer
    /// is (a round trip the main loop waits for, behind the frames the
    /// server is still copying). A handful of rows: rebuilt whole when
    /// conversations come, go or move.
    fn show_conversation_rows(&self, list: &[Conversation], selected: &ConversationId) {
        let imp = self.imp();
        let rows = self.conversation_rows();
        let same_conversations = rows.len() == list.len()
            && rows
                .iter()
                .zip(list)
                .all(|(row, conversation)| row.conversation() == conversation.id);
        if same_conversations {
            for (row, conversation) in rows.iter().zip(list) {
                row.show(conversation);
                if conversation.id == *selected && !row.is_selected() {
                    imp.conversation_list.select_row(Some(row));
                }
            }
            return;
        }
        while let Some(row) = imp.conversation_list.row_at_index(0) {
            imp.conversation_list.remove(&row);
        }
        for conversation in list {
            let row = TcpChatConversationRow::new(conversation);
            imp.conversation_list.append(&row);
            if conversation.id == *selected {
                imp.conversation_list.select_row(Some(&row));
            }
        }
    }

    /// The back-to-sidebar button, when the sidebar is folded away.
    fn show_back_button(&self) {
        let imp = self.imp();
        let log_shown =
            imp.leaflet.visible_child().as_ref() == Some(imp.conversation_pane.upcast_ref());
        imp.conversations_button
            .set_visible(imp.sidebar.is_visible() && imp.leaflet.is_folded() && log_shown);
    }

    /// Shows `id`'s log, keeping what was typed in the one left.
    fn switch_to(&self, id: &ConversationId) {
        let imp = self.imp();
        let previous = imp.shown_conversation.replace(id.clone());
        if previous == *id {
            return;
        }
        let typed = imp.message_entry.text().to_string();
        let mut drafts = imp.drafts.borrow_mut();
        if typed.is_empty() {
            drafts.remove(&previous);
        } else {
            drafts.insert(previous.clone(), typed);
        }
        let draft = drafts.remove(id).unwrap_or_default();
        drop(drafts);
        let (left, shown) = (self.log_for(&previous), self.log_for(id));
        imp.logs.set_visible_child(&shown);
        self.move_search(&left, &shown);
        imp.switching_drafts.set(true);
        imp.message_entry.set_text(&draft);
        imp.switching_drafts.set(false);
        imp.message_entry.set_position(-1);
        self.render_typing();
    }

    /// The rows of the sidebar, top to bottom (for tests).
    pub fn conversation_rows(&self) -> Vec<TcpChatConversationRow> {
        let list = &self.imp().conversation_list;
        (0..)
            .map_while(|index| list.row_at_index(index))
            .filter_map(|row| row.downcast::<TcpChatConversationRow>().ok())
            .collect()
    }

    /// The header's way back to the sidebar when it is folded away.
    pub fn conversations_button(&self) -> gtk::Button {
        self.imp().conversations_button.get()
    }

    pub fn sidebar_shown(&self) -> bool {
        self.imp().sidebar.is_visible()
    }

    // ----- Desktop notifications -----------------------------------------------

    /// Shows `alert` (replacing the last one from that person there).
    pub(super) fn notify(&self, alert: &Alert) {
        let Some(app) = self.application() else {
            return;
        };
        let notification = gio::Notification::new(&alert.title);
        notification.set_body(Some(&alert.body));
        notification.set_icon(&gio::ThemedIcon::new(crate::ui::APP_ID));
        notification.set_default_action_and_target_value(
            AppAction::ShowConversation.detailed(),
            Some(&(self.id(), alert.conversation.key()).to_variant()),
        );
        // Per window: two windows may be in rooms with the same names.
        let id = format!("{}/{}", self.id(), alert.id());
        let mut notified = self.imp().notified.borrow_mut();
        let is_new = !notified.values().flatten().any(|shown| *shown == id);
        if is_new && notified.values().map(Vec::len).sum::<usize>() >= MAX_NOTIFICATIONS {
            // The sidebar and the title still count it.
            log::debug!("too many notifications shown; not showing {id}");
            return;
        }
        app.send_notification(Some(&id), &notification);
        if is_new {
            notified
                .entry(alert.conversation.clone())
                .or_default()
                .push(id);
        }
    }

    /// The person read conversation `id`: its notifications go.
    pub(super) fn withdraw(&self, id: &ConversationId) {
        let shown = self.imp().notified.borrow_mut().remove(id);
        let (Some(app), Some(shown)) = (self.application(), shown) else {
            return;
        };
        for notification in shown {
            app.withdraw_notification(&notification);
        }
    }
}
