//! The main window: header bar (Host / Connect, or the room's title, Leave
//! and the member toggle), a problem banner, and a stack of three pages:
//! welcome, connecting, and the room (log, entry, member list).
//!
//! It is a view of a [`Room`] model: network [`Event`]s and the person's
//! actions go into the model, which answers with [`Effect`]s the window
//! carries out; then the window shows the model's state (the `phase`
//! property, which `window.ui` binds to, the header, the members). It talks
//! to the network only through a [`NetworkHandle`], so tests drive it with
//! fake channels.
//!
//! - [`person`]: what the person does (forms, entry, leave, clipboard).
//! - [`operator`]: kick, ban, operator and voice, Room Details.
//! - [`remembered`]: settings kept between runs.
//! - [`countdown`]: the banner's countdown to the next reconnect.
//! - [`conversations`]: the sidebar, one log per conversation, drafts,
//!   desktop notifications.
//! - [`background`]: keeping a hosted room open with the window closed.
//! - [`presence`]: typing, both ways.
//! - [`nearby`]: rooms on the local network, on the welcome page and in
//!   the Connect popover.
//! - [`search`]: the search bar above the log (Ctrl+F).
//! - [`nick_completion`]: Tab completes nicks in the message entry.

mod background;
mod conversations;
mod countdown;
mod imp;
mod nearby;
mod nick_completion;
mod operator;
mod person;
mod presence;
mod remembered;
mod screen_reader;
mod search;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::actions::WinAction;
use super::log_entry::LogEntry;
use super::model::{ConversationId, Effect, Header, Room, SecurityDetails};
use super::problem::{self, Problem, Remedy};
use crate::i18n::gettext_f;
use crate::network::{Command, Event, NetworkHandle};

pub use super::model::Phase;

/// Events applied per main-loop turn at most; then drawing and input get
/// their turn before the next batch.
const MAX_BATCH: usize = 100;
/// The pause after a full batch: long enough for the main loop to paint a
/// frame and take input (both wait at lower priority than a ready task).
const BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

glib::wrapper! {
    pub struct TcpChatWindow(ObjectSubclass<imp::TcpChatWindow>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable,
                    gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

impl TcpChatWindow {
    /// A window driven by `network`; `application` may be `None` in tests.
    pub fn new(application: Option<&impl IsA<gtk::Application>>, network: NetworkHandle) -> Self {
        let window: Self = glib::Object::builder()
            .property("application", application)
            .build();
        window.attach(network);
        window
    }

    fn attach(&self, network: NetworkHandle) {
        let _ = self.imp().commands.set(network.commands);
        // Back on the network (Wi-Fi rejoined, cable plugged in): no need to
        // wait out the reconnect countdown.
        gio::NetworkMonitor::default().connect_network_changed(glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |_, available| {
                if available && window.phase() == Phase::Reconnecting {
                    window.reconnect_now();
                }
            }
        ));
        let events = network.events;
        let window = self.downgrade();
        // Default priority, not idle: a window that redraws all the time
        // (a spinner on a slow software renderer) never goes idle, and the
        // events must not wait for it. During a flood, each full batch is
        // followed by a pause in which a frame and input get their turn.
        glib::MainContext::default().spawn_local_with_priority(
            glib::Priority::DEFAULT,
            async move {
                while let Ok(first) = events.recv().await {
                    let Some(window) = window.upgrade() else {
                        return;
                    };
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match events.try_recv() {
                            Ok(event) => batch.push(event),
                            Err(_) => break,
                        }
                    }
                    let full = batch.len() == MAX_BATCH;
                    window.apply_events(batch);
                    drop(window);
                    if full {
                        glib::timeout_future(BATCH_PAUSE).await;
                    }
                }
                // The network thread ended (or never started): nothing
                // will answer this window any more.
                if let Some(window) = window.upgrade() {
                    window.update(Room::network_unavailable);
                }
            },
        );
    }

    /// Applies a batch of events with one log append and one member-list
    /// update, whatever the batch size.
    pub fn apply_events(&self, events: Vec<Event>) {
        self.update(|room| room.apply_all(events));
    }

    /// The one way the room changes: `change` runs on the model (and only
    /// the model: the borrow ends before any widget is touched), then the
    /// window shows the new state and carries out the effects.
    fn update(&self, change: impl FnOnce(&mut Room) -> Vec<Effect>) {
        let effects = self.imp().room.change(change);
        self.render();
        self.carry_out(effects);
    }

    fn carry_out(&self, effects: Vec<Effect>) {
        let imp = self.imp();
        // Consecutive lines for one conversation go to its log in one append.
        let mut lines: Option<(ConversationId, Vec<LogEntry>)> = None;
        let flush = |lines: &mut Option<(ConversationId, Vec<LogEntry>)>| {
            if let Some((conversation, entries)) = lines.take() {
                self.log_for(&conversation).append(&entries);
            }
        };
        let mut network_gone = false;
        for effect in effects {
            if let Effect::Log(conversation, entry) = effect {
                match &mut lines {
                    Some((to, entries)) if *to == conversation => entries.push(entry),
                    _ => {
                        flush(&mut lines);
                        lines = Some((conversation, vec![entry]));
                    }
                }
                continue;
            }
            flush(&mut lines);
            match effect {
                Effect::Log(..) => {}
                Effect::Send(command) => network_gone |= !self.send(command),
                Effect::MarkSessionStart => imp.chat_log.mark_session_start(),
                Effect::LogEarlier(entries) => imp.chat_log.insert_earlier(&entries),
                Effect::Delivered(outbox_id) => self.mark_sent(outbox_id),
                Effect::ClearLog => {
                    imp.chat_log.clear();
                    self.drop_private_logs();
                }
                Effect::DropConversation(conversation) => self.drop_log(&conversation),
                Effect::RenameConversation { from, to } => self.rename_log(&from, &to),
                Effect::Notify(alert) => self.notify(&alert),
                Effect::Withdraw(conversation) => self.withdraw(&conversation),
                Effect::ShowProblem(problem) => self.show_problem(&problem),
                Effect::ShowReconnecting { delay_secs } => self.show_reconnecting(delay_secs),
                Effect::DismissBanner => self.dismiss_banner(),
                Effect::Toast(text) => self.toast(&text),
                Effect::FocusEntry => {
                    imp.message_entry.grab_focus();
                }
            }
        }
        flush(&mut lines);
        if network_gone {
            self.update(Room::network_unavailable);
        }
    }

    /// Hands `command` to the network thread; false when the thread is gone
    /// (it never started, or ended).
    fn send(&self, command: Command) -> bool {
        let Some(commands) = self.imp().commands.get() else {
            return false;
        };
        match commands.try_send(command) {
            Ok(()) => true,
            Err(err) => {
                log::warn!("the network thread is gone: {err}");
                false
            }
        }
    }

    /// Makes the phase property, header, actions and member list match the
    /// model. Pages, spinner and sensitivity follow `phase` in window.ui.
    fn render(&self) {
        let imp = self.imp();
        let view = imp.room.read(|room| View {
            phase: room.phase(),
            hosting: room.is_hosting(),
            reconnect_now: room.can_reconnect_now(),
            may_invite: room.may_invite(),
            header: room.header(),
        });
        // Most batches change none of it: leave the widgets alone then.
        if imp.shown.borrow().as_ref() != Some(&view) {
            self.show_view(&view);
            imp.shown.replace(Some(view));
        }
        self.follow_room_details();
        let shown = imp.members_shown.get();
        let members = imp.room.read(|room| {
            (room.members_revision() != shown).then(|| {
                (
                    room.members_revision(),
                    room.members().rows(),
                    room.we_are_operator()
                        .then(|| (room.visit().nick.clone(), room.our_rank())),
                )
            })
        });
        if let Some((revision, members, operator)) = members {
            imp.member_list.show_members(&members, operator);
            let count = members.len().to_string();
            imp.member_count_label.set_label(&count);
            // GTK 4.8 makes the tooltip the button's accessible description:
            // a screen reader says how many are in the room with its name.
            imp.members_button
                .set_tooltip_text(Some(&crate::i18n::ngettext_f(
                    "{count} person in the room (F9)",
                    "{count} people in the room (F9)",
                    members.len() as u64,
                    &[("count", &count)],
                )));
            imp.members_shown.set(revision);
        }
        self.render_conversations();
        self.render_nearby();
        let typing = imp.room.read(|room| room.typing_revision());
        if typing != imp.typing_shown.get() {
            self.render_typing();
        }
    }

    fn show_view(&self, view: &View) {
        let imp = self.imp();
        let View {
            phase,
            hosting,
            reconnect_now,
            may_invite,
            header,
        } = view;
        let (phase, hosting, reconnect_now) = (*phase, *hosting, *reconnect_now);
        if imp.phase.replace(phase) != phase {
            self.notify_phase();
        }
        if imp.hosting.replace(hosting) != hosting {
            self.notify_hosting();
        }
        imp.window_title.set_title(&header.title);
        imp.window_title.set_subtitle(&header.subtitle);
        self.show_security(header.security.as_ref());
        self.set_title(Some(&header.window_title));
        imp.connecting_page
            .set_description(Some(&header.waiting_for));
        imp.message_entry
            .set_placeholder_text(Some(&header.placeholder));
        self.action_set_enabled(WinAction::Host.detailed(), !phase.is_busy());
        self.action_set_enabled(WinAction::Connect.detailed(), !phase.is_busy());
        self.action_set_enabled(WinAction::Leave.detailed(), phase.is_busy());
        self.action_set_enabled(WinAction::ReconnectNow.detailed(), reconnect_now);
        self.action_set_enabled(WinAction::CopyAddress.detailed(), hosting);
        self.action_set_enabled(WinAction::ClearHistory.detailed(), hosting);
        self.action_set_enabled(WinAction::RoomDetails.detailed(), phase.can_chat());
        self.action_set_enabled(WinAction::Invite.detailed(), *may_invite);
        self.enable_search(phase.shows_room());
        imp.update_send_action();
    }

    /// The lock beside the title, and the room details it opens.
    fn show_security(&self, details: Option<&SecurityDetails>) {
        let imp = self.imp();
        imp.security_button.set_visible(details.is_some());
        let Some(details) = details else {
            imp.security_button.popdown();
            return;
        };
        imp.security_button.set_icon_name(details.icon_name);
        imp.security_button.set_tooltip_text(Some(&details.tooltip));
        imp.security_heading.set_label(&details.heading);
        imp.security_explanation.set_label(&details.explanation);
        imp.safety_code_box
            .set_visible(details.safety_code.is_some());
        imp.safety_code_label
            .set_label(details.safety_code.as_deref().unwrap_or_default());
        let fingerprint = details
            .fingerprint
            .as_deref()
            .map(|hex| gettext_f("SHA-256 {fingerprint}", &[("fingerprint", hex)]))
            .unwrap_or_default();
        imp.fingerprint_label.set_label(&fingerprint);
    }

    /// What the header's lock says (for tests): its tooltip and the safety
    /// code in its details, when shown.
    pub fn security_shown(&self) -> Option<(String, Option<String>)> {
        let imp = self.imp();
        if !imp.security_button.get_visible() {
            return None;
        }
        let tooltip = imp.security_button.tooltip_text().unwrap_or_default();
        // Its own visibility: the popover is closed.
        let code = imp
            .safety_code_box
            .get_visible()
            .then(|| imp.safety_code_label.label().to_string());
        Some((tooltip.to_string(), code))
    }

    // ----- The banner ------------------------------------------------------

    fn show_problem(&self, problem: &Problem) {
        let imp = self.imp();
        imp.countdown.stop();
        let remedy = problem.remedy.map(|remedy| {
            let action = match remedy {
                Remedy::TryAgain | Remedy::Reconnect => WinAction::Retry,
                Remedy::ChooseAnotherPort => WinAction::ChoosePort,
                Remedy::EditAddress => WinAction::EditAddress,
                Remedy::EnterPassword => WinAction::EnterPassword,
                Remedy::TrustNewIdentity => WinAction::TrustNewIdentity,
            };
            (remedy.label(), action.detailed())
        });
        imp.banner.show(
            &problem.message,
            remedy
                .as_ref()
                .map(|(label, action)| (label.as_str(), *action)),
        );
    }

    /// "Reconnecting in N s…", counting down each second, with a button
    /// that skips the wait.
    fn show_reconnecting(&self, delay_secs: u64) {
        let imp = self.imp();
        imp.banner.show(
            &problem::reconnecting_in(delay_secs),
            Some((
                &problem::reconnect_now_label(),
                WinAction::ReconnectNow.detailed(),
            )),
        );
        let window = self.downgrade();
        imp.countdown.start(delay_secs, move |seconds_left| {
            if let Some(window) = window.upgrade() {
                window
                    .imp()
                    .banner
                    .set_message(&problem::reconnecting_in(seconds_left));
            }
        });
    }

    fn dismiss_banner(&self) {
        let imp = self.imp();
        imp.countdown.stop();
        imp.banner.dismiss();
    }

    pub fn toast(&self, text: &str) {
        self.imp().toast_overlay.add_toast(adw::Toast::new(text));
    }

    // ----- For the application, tests and benchmarks -------------------------

    /// Connecting or in a room: a new room needs a window of its own.
    pub fn busy(&self) -> bool {
        self.phase().is_busy()
    }

    /// The address to give friends while we host.
    pub fn share_address(&self) -> Option<String> {
        self.imp().room.read(|room| room.visit().share_address())
    }

    /// The room's log.
    pub fn chat_log(&self) -> super::chat_log::TcpChatLog {
        self.imp().chat_log.get()
    }

    pub fn member_list(&self) -> super::member_list::TcpChatMemberList {
        self.imp().member_list.get()
    }

    pub fn banner(&self) -> super::banner::TcpChatBanner {
        self.imp().banner.get()
    }

    pub fn message_entry(&self) -> gtk::Entry {
        self.imp().message_entry.get()
    }

    pub fn send_button(&self) -> gtk::Button {
        self.imp().send_button.get()
    }

    pub fn primary_menu_button(&self) -> gtk::MenuButton {
        self.imp().primary_menu_button.get()
    }

    pub fn host_button(&self) -> gtk::MenuButton {
        self.imp().host_button.get()
    }

    pub fn connect_button(&self) -> gtk::MenuButton {
        self.imp().connect_button.get()
    }

    pub fn window_title(&self) -> adw::WindowTitle {
        self.imp().window_title.get()
    }

    pub fn member_count(&self) -> String {
        self.imp().member_count_label.label().to_string()
    }

    pub fn visible_page(&self) -> Option<String> {
        self.imp().pages.visible_child_name().map(String::from)
    }
}

/// What the window last showed of the model, besides the log and members.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct View {
    phase: Phase,
    hosting: bool,
    reconnect_now: bool,
    may_invite: bool,
    header: Header,
}
