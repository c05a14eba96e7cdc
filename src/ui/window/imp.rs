use std::cell::{Cell, OnceCell, RefCell};

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::countdown::Countdown;
use crate::api::Command;
use crate::ui::actions::WinAction;
use crate::ui::banner::TcpChatBanner;
use crate::ui::chat_log::TcpChatLog;
use crate::ui::completion::NickCompletion;
use crate::ui::join_form::{FormField, TcpChatJoinForm};
use crate::ui::member_list::TcpChatMemberList;
use crate::ui::model::{Effect, Phase, Room};

/// The window's model. Reached only through [`RoomCell::change`] and
/// [`RoomCell::read`], whose borrow ends before the window touches a
/// widget, so a handler that reads the model while another changes it
/// cannot happen.
#[derive(Debug, Default)]
pub(super) struct RoomCell(RefCell<Room>);

impl RoomCell {
    pub(super) fn change(&self, change: impl FnOnce(&mut Room) -> Vec<Effect>) -> Vec<Effect> {
        change(&mut self.0.borrow_mut())
    }

    pub(super) fn read<T>(&self, read: impl FnOnce(&Room) -> T) -> T {
        read(&self.0.borrow())
    }
}

#[derive(Debug, Default, gtk::CompositeTemplate, glib::Properties)]
#[template(resource = "/io/github/tcpchat/TcpChat/ui/window.ui")]
#[properties(wrapper_type = super::TcpChatWindow)]
pub struct TcpChatWindow {
    /// The model's phase, for window.ui to bind pages and sensitivity to.
    #[property(get, builder(Phase::Welcome))]
    pub(super) phase: Cell<Phase>,
    /// Our own host is open.
    #[property(get)]
    pub(super) hosting: Cell<bool>,
    #[property(get, set)]
    pub(super) show_members: Cell<bool>,

    #[template_child]
    pub(super) toast_overlay: TemplateChild<adw::ToastOverlay>,
    #[template_child]
    pub(super) host_button: TemplateChild<gtk::MenuButton>,
    #[template_child]
    pub(super) connect_button: TemplateChild<gtk::MenuButton>,
    #[template_child]
    pub(super) host_form: TemplateChild<TcpChatJoinForm>,
    #[template_child]
    pub(super) connect_form: TemplateChild<TcpChatJoinForm>,
    #[template_child]
    pub(super) window_title: TemplateChild<adw::WindowTitle>,
    #[template_child]
    pub(super) member_count_label: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) banner: TemplateChild<TcpChatBanner>,
    #[template_child]
    pub(super) pages: TemplateChild<gtk::Stack>,
    #[template_child]
    pub(super) connecting_page: TemplateChild<adw::StatusPage>,
    #[template_child]
    pub(super) spinner: TemplateChild<gtk::Spinner>,
    #[template_child]
    pub(super) search_bar: TemplateChild<gtk::SearchBar>,
    #[template_child]
    pub(super) search_entry: TemplateChild<gtk::SearchEntry>,
    #[template_child]
    pub(super) previous_match_button: TemplateChild<gtk::Button>,
    #[template_child]
    pub(super) next_match_button: TemplateChild<gtk::Button>,
    #[template_child]
    pub(super) match_count_label: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) chat_log: TemplateChild<TcpChatLog>,
    #[template_child]
    pub(super) message_entry: TemplateChild<gtk::Entry>,
    #[template_child]
    pub(super) send_button: TemplateChild<gtk::Button>,
    #[template_child]
    pub(super) member_list: TemplateChild<TcpChatMemberList>,

    pub(super) commands: OnceCell<async_channel::Sender<Command>>,
    pub(super) settings: OnceCell<Option<gio::Settings>>,
    pub(super) room: RoomCell,
    /// What the header, actions and `phase` last showed.
    pub(super) shown: RefCell<Option<super::View>>,
    /// The model's member revision the list shows.
    pub(super) members_shown: Cell<u64>,
    pub(super) countdown: Countdown,
    /// The Tab completion under way in the message entry.
    pub(super) nick_completion: RefCell<NickCompletion>,
}

#[glib::object_subclass]
impl ObjectSubclass for TcpChatWindow {
    const NAME: &'static str = "TcpChatWindow";
    type Type = super::TcpChatWindow;
    type ParentType = adw::ApplicationWindow;

    fn class_init(klass: &mut Self::Class) {
        TcpChatBanner::ensure_type();
        TcpChatLog::ensure_type();
        TcpChatJoinForm::ensure_type();
        TcpChatMemberList::ensure_type();
        Phase::ensure_type();
        klass.bind_template();
        klass.bind_template_callbacks();

        let action =
            |klass: &mut Self::Class, action: WinAction, run: fn(&super::TcpChatWindow)| {
                klass.install_action(action.detailed(), None, move |window, _, _| run(window));
            };
        action(klass, WinAction::Host, |window| {
            window.open_form(true, None)
        });
        action(klass, WinAction::Connect, |window| {
            window.open_form(false, None)
        });
        action(klass, WinAction::ChoosePort, |window| {
            window.open_form(true, Some(FormField::Port))
        });
        action(klass, WinAction::EditAddress, |window| {
            window.open_form(false, Some(FormField::Address))
        });
        action(klass, WinAction::EnterPassword, |window| {
            window.open_form(false, Some(FormField::Password))
        });
        action(klass, WinAction::Leave, |window| window.leave(None));
        action(klass, WinAction::Send, super::TcpChatWindow::send_entry);
        action(klass, WinAction::Retry, super::TcpChatWindow::retry);
        action(
            klass,
            WinAction::ReconnectNow,
            super::TcpChatWindow::reconnect_now,
        );
        action(
            klass,
            WinAction::ClearHistory,
            super::TcpChatWindow::clear_history,
        );
        action(
            klass,
            WinAction::CopyAddress,
            super::TcpChatWindow::copy_address,
        );
        action(klass, WinAction::Find, super::TcpChatWindow::open_search);
        action(klass, WinAction::FocusEntry, |window| {
            window.imp().message_entry.grab_focus();
        });
        klass.install_property_action(WinAction::ShowMembers.detailed(), "show-members");
    }

    fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
        obj.init_template();
    }
}

#[gtk::template_callbacks]
impl TcpChatWindow {
    #[template_callback]
    fn on_form_submitted(&self, form: &TcpChatJoinForm) {
        self.obj().submit(form);
    }

    #[template_callback]
    fn on_entry_activate(&self) {
        self.obj().send_entry();
    }

    #[template_callback]
    pub(super) fn update_send_action(&self) {
        let sendable = self.phase.get().can_chat() && !self.message_entry.text().trim().is_empty();
        self.obj()
            .action_set_enabled(WinAction::Send.detailed(), sendable);
    }

    // Closures window.ui binds to the `phase` property.

    #[template_callback(function)]
    fn page_for_phase(phase: Phase) -> String {
        match phase {
            Phase::Welcome => "welcome",
            Phase::Connecting => "connecting",
            Phase::InRoom | Phase::Reconnecting | Phase::Closed => "room",
        }
        .to_owned()
    }

    /// Host and Connect show when no room is under way.
    #[template_callback(function)]
    fn phase_is_idle(phase: Phase) -> bool {
        !phase.is_busy()
    }

    #[template_callback(function)]
    fn phase_is_connecting(phase: Phase) -> bool {
        phase == Phase::Connecting
    }

    /// Entry, Leave and the member toggle: while the room is ours.
    #[template_callback(function)]
    fn phase_can_chat(phase: Phase) -> bool {
        phase.can_chat()
    }
}

#[glib::derived_properties]
impl ObjectImpl for TcpChatWindow {
    fn constructed(&self) {
        self.parent_constructed();
        let _ = self.settings.set(crate::ui::settings::load());
        let obj = self.obj();
        obj.restore_layout();
        obj.fill_forms();
        obj.setup_search();
        obj.setup_nick_completion();
        obj.render();
    }

    fn dispose(&self) {
        // A countdown would otherwise tick on until its end for nothing.
        self.countdown.stop();
    }
}

impl WidgetImpl for TcpChatWindow {}

impl WindowImpl for TcpChatWindow {
    fn close_request(&self) -> glib::Propagation {
        let obj = self.obj();
        obj.save_layout();
        obj.send(Command::Shutdown);
        self.parent_close_request()
    }
}

impl ApplicationWindowImpl for TcpChatWindow {}
impl AdwApplicationWindowImpl for TcpChatWindow {}
