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
//! - [`remembered`]: settings kept between runs.
//! - [`countdown`]: the banner's countdown to the next reconnect.
//! - [`search`]: the search bar above the log (Ctrl+F).
//! - [`nick_completion`]: Tab completes nicks in the message entry.

mod countdown;
mod imp;
mod nick_completion;
mod person;
mod remembered;
mod search;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::actions::WinAction;
use super::log_entry::LogEntry;
use super::model::{Effect, Header, Room};
use super::problem::{self, Problem, Remedy};
use crate::network::{Command, Event, NetworkHandle};

pub use super::model::Phase;

/// Events applied per main-loop turn at most; then drawing and input get
/// their turn before the next batch.
const MAX_BATCH: usize = 500;

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
        // Idle priority: redraws and input come first during a flood.
        glib::MainContext::default().spawn_local_with_priority(
            glib::Priority::DEFAULT_IDLE,
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
                        YieldNow::default().await;
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
        let mut lines: Vec<LogEntry> = Vec::new();
        let mut network_gone = false;
        for effect in effects {
            if let Effect::Log(entry) = effect {
                // Consecutive lines go to the log in one append.
                lines.push(entry);
                continue;
            }
            imp.chat_log.append(&std::mem::take(&mut lines));
            match effect {
                Effect::Log(_) => {}
                Effect::Send(command) => network_gone |= !self.send(command),
                Effect::MarkSessionStart => imp.chat_log.mark_session_start(),
                Effect::LogEarlier(entries) => imp.chat_log.insert_earlier(&entries),
                Effect::Delivered(outbox_id) => imp.chat_log.mark_sent(outbox_id),
                Effect::ClearLog => imp.chat_log.clear(),
                Effect::ShowProblem(problem) => self.show_problem(&problem),
                Effect::ShowReconnecting { delay_secs } => self.show_reconnecting(delay_secs),
                Effect::DismissBanner => self.dismiss_banner(),
                Effect::Toast(text) => self.toast(&text),
                Effect::FocusEntry => {
                    imp.message_entry.grab_focus();
                }
            }
        }
        imp.chat_log.append(&lines);
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
            header: room.header(),
        });
        // Most batches change none of it: leave the widgets alone then.
        if imp.shown.borrow().as_ref() != Some(&view) {
            self.show_view(&view);
            imp.shown.replace(Some(view));
        }
        let shown = imp.members_shown.get();
        let members = imp.room.read(|room| {
            (room.members_revision() != shown)
                .then(|| (room.members_revision(), room.members().sorted()))
        });
        if let Some((revision, nicks)) = members {
            imp.member_list.show_nicks(&nicks);
            imp.member_count_label.set_label(&nicks.len().to_string());
            imp.members_shown.set(revision);
        }
    }

    fn show_view(&self, view: &View) {
        let imp = self.imp();
        let View {
            phase,
            hosting,
            reconnect_now,
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
        self.enable_search(phase.shows_room());
        imp.update_send_action();
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
    header: Header,
}

/// Gives the main loop one turn (drawing, input) before continuing.
#[derive(Default)]
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        context.waker().wake_by_ref();
        Poll::Pending
    }
}
