//! The main window: header bar (Host / Connect, or the room's title, Leave
//! and the member toggle), a problem banner, and a stack of three pages:
//! welcome, connecting, and the room (log, entry, member list).
//!
//! It talks to the network only through a [`NetworkHandle`]: it sends
//! [`Command`]s and applies [`Event`]s, so tests drive it with fake channels.

mod imp;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::actions::WinAction;
use super::i18n::{gettext, gettext_f};
use super::input::{self, Input};
use super::join_form::{FormField, TcpChatJoinForm};
use super::launch::Launch;
use super::log_entry::{self, LogEntry};
use super::problem::{self, Problem, Remedy};
use super::{settings, validate};
use crate::network::{
    Command, ConnectRequest, DisconnectReason, Event, HostRequest, NetworkHandle,
};

/// Events applied per main-loop turn at most; then drawing and input get
/// their turn before the next batch.
const MAX_BATCH: usize = 500;

/// Narrower windows start with the member list hidden, leaving the log room.
const WIDE_ENOUGH_FOR_MEMBERS: i32 = 800;

glib::wrapper! {
    pub struct TcpChatWindow(ObjectSubclass<imp::TcpChatWindow>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable,
                    gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

/// Where the window is between "nothing" and "chatting".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Phase {
    /// Nothing started: the welcome page.
    #[default]
    Idle,
    /// A Host or Connect is under way.
    Connecting,
    /// In the room.
    Joined,
    /// The session ended by itself; the log stays readable.
    Lost,
}

/// What the window knows about the current (or last) session.
#[derive(Debug, Default)]
pub struct Session {
    pub phase: Phase,
    /// The last Host or Connect, repeated by Try Again.
    request: Option<Command>,
    room: String,
    server: String,
    /// Our nickname as the room knows it.
    nick: String,
    /// Where friends can reach our host, once it listens.
    hosting_addresses: Option<(u16, Vec<SocketAddr>)>,
}

impl Session {
    /// The address to give friends while we host: the first IPv4 one
    /// (easiest to type), else the first of any kind.
    fn share_address(&self) -> Option<String> {
        let (port, addresses) = self.hosting_addresses.as_ref()?;
        let address = addresses
            .iter()
            .find(|address| address.is_ipv4())
            .or(addresses.first())
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("localhost:{port}"));
        Some(address)
    }

    /// The address as the person knows it, for messages.
    fn target(&self) -> String {
        match &self.request {
            Some(Command::Connect(request)) => request.address.clone(),
            Some(Command::Host(request)) => format!("localhost:{}", request.port),
            _ => self.server.clone(),
        }
    }
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
        let events = network.events;
        let window = self.downgrade();
        // Idle priority: redraws and input come first during a flood.
        glib::MainContext::default().spawn_local_with_priority(
            glib::Priority::DEFAULT_IDLE,
            async move {
                while let Ok(first) = events.recv().await {
                    let Some(window) = window.upgrade() else {
                        break;
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
            },
        );
    }

    /// Hands `command` to the network thread. A closed channel means the
    /// network thread is gone (the app is quitting): log it, never panic.
    fn send(&self, command: Command) {
        let Some(commands) = self.imp().commands.get() else {
            return;
        };
        if let Err(err) = commands.try_send(command) {
            log::warn!("the network thread is gone: {err}");
        }
    }

    pub fn session_phase(&self) -> Phase {
        self.imp().session.borrow().phase
    }

    // ----- Applying events -------------------------------------------------

    /// Applies a batch of events with one log append and one member-list
    /// update, whatever the batch size.
    pub fn apply_events(&self, events: Vec<Event>) {
        let mut entries = Vec::new();
        let mut members_changed = false;
        for event in events {
            members_changed |= self.apply_event(&event, &mut entries);
        }
        let imp = self.imp();
        imp.chat_log.append(&entries);
        if members_changed {
            let members = imp.members.borrow();
            imp.member_list.show_nicks(&members.sorted());
            imp.member_count_label.set_label(&members.len().to_string());
        }
    }

    /// Returns whether the member list changed.
    fn apply_event(&self, event: &Event, entries: &mut Vec<LogEntry>) -> bool {
        let phase = self.session_phase();
        // After Leave, what the old session still says is of no interest.
        if phase == Phase::Idle
            || (phase == Phase::Lost && !matches!(event, Event::Disconnected { .. }))
        {
            return false;
        }
        let imp = self.imp();
        let mut members = imp.members.borrow_mut();
        let mut members_changed = true;
        match event {
            // Said once we are in the room too (see `Connected`).
            Event::Hosting { port, addresses } => {
                imp.session.borrow_mut().hosting_addresses = Some((*port, addresses.clone()));
                self.set_flag(&imp.hosting, true);
                self.show_phase();
                return false;
            }
            Event::HostFailed(error) => {
                drop(members);
                self.fail(problem::for_host_error(error), entries);
                return false;
            }
            Event::Connected { server, room, nick } => {
                let hosted = {
                    let mut session = imp.session.borrow_mut();
                    session.server = server.clone();
                    session.room = room.clone();
                    session.nick = nick.clone();
                    session.hosting_addresses.clone()
                };
                imp.banner.dismiss();
                self.set_phase(Phase::Joined);
                imp.message_entry.grab_focus();
                if let Some((port, addresses)) = hosted {
                    entries.push(log_entry::hosting(room, nick, port, &addresses));
                    return false;
                }
            }
            Event::NickInUse { using, .. } => {
                self.set_own_nick(using);
                self.toast(&gettext_f(
                    "That nickname is taken; you are {nick}",
                    &[("nick", using)],
                ));
                members_changed = false;
            }
            Event::NickChanged { old, new, own } => {
                members.rename(old, new);
                if *own {
                    self.set_own_nick(new);
                }
            }
            Event::Joined { nick, .. } => members.add(nick),
            Event::Parted { nick, .. } | Event::Quit { nick, .. } => members.remove(nick),
            Event::Members { nicks, .. } => members.replace(nicks),
            Event::Disconnected { reason } => {
                drop(members);
                self.disconnected(reason, entries);
                return false;
            }
            Event::Message { .. }
            | Event::Action { .. }
            | Event::Notice { .. }
            | Event::Topic { .. }
            | Event::ServerError { .. } => members_changed = false,
            // Not shown yet: the room model will place these.
            Event::History { .. }
            | Event::Delivered { .. }
            | Event::Reconnecting { .. }
            | Event::HistoryCleared { .. } => return false,
        }
        entries.extend(log_entry::for_event(event));
        members_changed
    }

    fn set_own_nick(&self, nick: &str) {
        self.imp().session.borrow_mut().nick = nick.to_owned();
        self.show_phase();
    }

    fn disconnected(&self, reason: &DisconnectReason, entries: &mut Vec<LogEntry>) {
        let phase = self.session_phase();
        if *reason == DisconnectReason::Left {
            // Connecting or Lost: the end of an older session, already left.
            if phase == Phase::Joined {
                self.end_session();
            }
            return;
        }
        let target = self.imp().session.borrow().target();
        if let Some(problem) = problem::for_disconnect(reason, &target) {
            self.fail(problem, entries);
        }
    }

    /// Shows `problem`, keeps the log readable if there was a room, and
    /// makes sure our host (if any) is closed too.
    fn fail(&self, problem: Problem, entries: &mut Vec<LogEntry>) {
        let imp = self.imp();
        let was_hosting = imp.hosting.get();
        let action = match problem.remedy {
            Remedy::TryAgain | Remedy::Reconnect => WinAction::Retry,
            Remedy::ChooseAnotherPort => WinAction::ChoosePort,
            Remedy::EditAddress => WinAction::EditAddress,
            Remedy::EnterPassword => WinAction::EnterPassword,
        };
        imp.banner
            .show(&problem.message, &problem.remedy.label(), action.detailed());
        let next = if self.session_phase() == Phase::Joined {
            Phase::Lost
        } else {
            Phase::Idle
        };
        if next == Phase::Lost {
            entries.push(LogEntry::error(problem.message));
        }
        imp.session.borrow_mut().hosting_addresses = None;
        self.set_flag(&imp.hosting, false);
        self.set_phase(next);
        if was_hosting {
            self.send(Command::Leave { message: None });
        }
    }

    // ----- Phases and header -------------------------------------------------

    fn set_phase(&self, phase: Phase) {
        let imp = self.imp();
        imp.session.borrow_mut().phase = phase;
        self.set_flag(
            &imp.busy,
            matches!(phase, Phase::Connecting | Phase::Joined),
        );
        self.set_flag(&imp.joined, phase == Phase::Joined);
        self.show_phase();
    }

    fn set_flag(&self, flag: &std::cell::Cell<bool>, value: bool) {
        if flag.replace(value) != value {
            // One notify for whichever flag changed is cheap; the bindings
            // in window.ui listen to all three.
            self.notify_busy();
            self.notify_joined();
            self.notify_hosting();
        }
    }

    /// Makes page, title, actions and spinner match the session.
    fn show_phase(&self) {
        let imp = self.imp();
        let session = imp.session.borrow();
        let page = match session.phase {
            Phase::Idle => "welcome",
            Phase::Connecting => "connecting",
            Phase::Joined | Phase::Lost => "room",
        };
        imp.pages.set_visible_child_name(page);
        imp.spinner.set_spinning(session.phase == Phase::Connecting);
        let (title, subtitle) = match session.phase {
            Phase::Idle => (gettext("TCP Chat"), String::new()),
            Phase::Connecting => {
                let waiting = match &session.request {
                    Some(Command::Host(request)) => gettext_f(
                        "Opening {room} on port {port}",
                        &[("room", &request.room), ("port", &request.port.to_string())],
                    ),
                    _ => gettext_f(
                        "Joining {room} at {target}",
                        &[("room", &session.room), ("target", &session.target())],
                    ),
                };
                imp.connecting_page.set_description(Some(&waiting));
                (session.room.clone(), gettext("Connecting…"))
            }
            Phase::Joined => {
                let subtitle = match session.share_address() {
                    Some(address) => gettext_f(
                        "{nick} · hosting at {address}",
                        &[("nick", &session.nick), ("address", &address)],
                    ),
                    // The session's `host:port`, not the typed address,
                    // which may be a whole irc:// link.
                    None => gettext_f(
                        "{nick} · connected to {server}",
                        &[("nick", &session.nick), ("server", &session.server)],
                    ),
                };
                (session.room.clone(), subtitle)
            }
            Phase::Lost => (session.room.clone(), gettext("Disconnected")),
        };
        imp.window_title.set_title(&title);
        imp.window_title.set_subtitle(&subtitle);
        self.set_title(Some(&if session.phase == Phase::Idle {
            title
        } else {
            format!("{title} — {}", gettext("TCP Chat"))
        }));
        imp.message_entry.set_placeholder_text(Some(&gettext_f(
            "Message {room}",
            &[("room", &session.room)],
        )));
        let busy = matches!(session.phase, Phase::Connecting | Phase::Joined);
        drop(session);
        self.action_set_enabled(WinAction::Host.detailed(), !busy);
        self.action_set_enabled(WinAction::Connect.detailed(), !busy);
        self.action_set_enabled(WinAction::Leave.detailed(), busy);
        self.action_set_enabled(WinAction::CopyAddress.detailed(), imp.hosting.get());
        imp.update_send_action();
    }

    // ----- What the person does ----------------------------------------------

    /// Pops up the Host or Connect form, with the cursor in `field`.
    fn open_form(&self, hosting: bool, field: Option<FormField>) {
        let imp = self.imp();
        if imp.busy.get() {
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

    fn submit(&self, form: &TcpChatJoinForm) {
        let Some(request) = form.request() else {
            return;
        };
        let imp = self.imp();
        imp.host_button.popdown();
        imp.connect_button.popdown();
        self.remember(&request);
        self.start(request, true);
    }

    /// Sends a Host or Connect and waits for the room. `fresh` starts a new
    /// log; a retry keeps the old one to read.
    fn start(&self, request: Command, fresh: bool) {
        let imp = self.imp();
        if fresh {
            imp.chat_log.clear();
        }
        imp.members.borrow_mut().clear();
        imp.member_list.show_nicks(&[]);
        imp.member_count_label.set_label("0");
        imp.banner.dismiss();
        {
            let mut session = imp.session.borrow_mut();
            if let Some((nick, room)) = nick_and_room(&request) {
                session.nick = nick.to_owned();
                session.room = room.to_owned();
            }
            session.request = Some(request.clone());
            session.hosting_addresses = None;
        }
        self.set_phase(Phase::Connecting);
        self.send(request);
    }

    fn retry(&self) {
        let request = self.imp().session.borrow().request.clone();
        if let Some(request) = request {
            self.start(request, false);
        }
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
            }),
        };
        if self.imp().busy.get() {
            self.toast(&gettext("Leave this room first to join another"));
            return;
        }
        self.start(request, true);
    }

    fn send_entry(&self) {
        let imp = self.imp();
        if !imp.joined.get() {
            return;
        }
        let text = imp.message_entry.text();
        let local = |entry: LogEntry| imp.chat_log.append(&[entry]);
        let clear = match input::parse(&text) {
            Input::Nothing => return,
            Input::Send(Command::Leave { message }) => {
                self.leave(message);
                true
            }
            Input::Send(command) => {
                self.send(command);
                true
            }
            Input::Help => {
                let lines: Vec<LogEntry> = input::help_lines()
                    .into_iter()
                    .map(LogEntry::system)
                    .collect();
                imp.chat_log.append(&lines);
                true
            }
            // Mistakes stay in the entry to be mended.
            Input::Usage(usage) => {
                local(LogEntry::system(usage.text()));
                false
            }
            Input::Unknown(name) => {
                local(LogEntry::error(input::unknown_text(&name)));
                false
            }
            Input::InvalidNick(nick) => {
                local(LogEntry::error(input::invalid_nick_text(&nick)));
                false
            }
        };
        if clear {
            imp.message_entry.set_text("");
        }
        imp.message_entry.grab_focus();
    }

    /// Leaves the room; closing a room we host asks first.
    fn leave(&self, message: Option<String>) {
        if !(self.imp().hosting.get() && self.imp().joined.get()) {
            self.leave_now(message);
            return;
        }
        let room = self.imp().session.borrow().room.clone();
        let dialog = adw::MessageDialog::new(
            Some(self),
            Some(&gettext("Close the Room?")),
            Some(&gettext_f(
                "You host {room}: leaving closes it for everyone in it.",
                &[("room", &room)],
            )),
        );
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("close", &gettext("_Close Room")),
        ]);
        dialog.set_response_appearance("close", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");
        dialog.connect_response(
            Some("close"),
            glib::clone!(
                #[weak(rename_to = window)]
                self,
                move |_, _| window.leave_now(message.clone())
            ),
        );
        dialog.present();
    }

    fn leave_now(&self, message: Option<String>) {
        self.send(Command::Leave { message });
        self.end_session();
    }

    /// Back to the welcome page with nothing left over.
    fn end_session(&self) {
        let imp = self.imp();
        imp.chat_log.clear();
        imp.members.borrow_mut().clear();
        imp.member_list.show_nicks(&[]);
        imp.banner.dismiss();
        imp.session.borrow_mut().hosting_addresses = None;
        self.set_flag(&imp.hosting, false);
        self.set_phase(Phase::Idle);
    }

    fn copy_address(&self) {
        let Some(address) = self.share_address() else {
            return;
        };
        self.clipboard().set_text(&address);
        self.toast(&gettext_f("Copied {address}", &[("address", &address)]));
    }

    /// The address to give friends while we host.
    pub fn share_address(&self) -> Option<String> {
        self.imp().session.borrow().share_address()
    }

    pub fn toast(&self, text: &str) {
        self.imp().toast_overlay.add_toast(adw::Toast::new(text));
    }

    // ----- Remembered settings ---------------------------------------------

    fn settings(&self) -> Option<&gio::Settings> {
        self.imp().settings.get()?.as_ref()
    }

    fn nickname(&self) -> String {
        settings::nickname(self.settings())
    }

    fn last_room(&self) -> String {
        self.settings()
            .and_then(|settings| validate::room(&settings.string(settings::LAST_ROOM)))
            .unwrap_or_else(|| validate::DEFAULT_ROOM.to_owned())
    }

    fn fill_forms(&self) {
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

    fn remember(&self, request: &Command) {
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

    fn restore_layout(&self) {
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

    fn save_layout(&self) {
        let Some(settings) = self.settings() else {
            return;
        };
        let (width, height) = self.default_size();
        log_failure(settings.set_int(settings::WINDOW_WIDTH, width));
        log_failure(settings.set_int(settings::WINDOW_HEIGHT, height));
        log_failure(settings.set_boolean(settings::WINDOW_MAXIMIZED, self.is_maximized()));
    }

    // ----- For tests and benchmarks ----------------------------------------

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

/// Who we will be and where, for a Host or Connect.
fn nick_and_room(request: &Command) -> Option<(&str, &str)> {
    match request {
        Command::Host(request) => Some((&request.nick, &request.room)),
        Command::Connect(request) => Some((&request.nick, &request.room)),
        _ => None,
    }
}

fn log_failure(result: Result<(), glib::BoolError>) {
    if let Err(err) = result {
        log::warn!("cannot save a setting: {err}");
    }
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
