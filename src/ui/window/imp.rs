use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::countdown::Countdown;
use crate::api::{Command, MemberMode};
use crate::ui::actions::WinAction;
use crate::ui::banner::TcpChatBanner;
use crate::ui::chat_log::TcpChatLog;
use crate::ui::completion::NickCompletion;
use crate::ui::conversation_row::TcpChatConversationRow;
use crate::ui::join_form::{FormField, TcpChatJoinForm};
use crate::ui::member_list::TcpChatMemberList;
use crate::ui::model::{ConversationId, Effect, Phase, Room};

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
    /// Mentions and private lines not read yet (the title and the
    /// launcher count them).
    #[property(get)]
    pub(super) attention: Cell<u32>,
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
    pub(super) security_button: TemplateChild<gtk::MenuButton>,
    #[template_child]
    pub(super) primary_menu_button: TemplateChild<gtk::MenuButton>,
    #[template_child]
    pub(super) members_button: TemplateChild<gtk::ToggleButton>,
    #[template_child]
    pub(super) security_heading: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) security_explanation: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) safety_code_box: TemplateChild<gtk::Box>,
    #[template_child]
    pub(super) safety_code_label: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) fingerprint_label: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) member_count_label: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) banner: TemplateChild<TcpChatBanner>,
    #[template_child]
    pub(super) pages: TemplateChild<gtk::Stack>,
    #[template_child]
    pub(super) nearby_box: TemplateChild<gtk::Box>,
    #[template_child]
    pub(super) nearby_list: TemplateChild<gtk::ListBox>,
    #[template_child]
    pub(super) connect_nearby_scroller: TemplateChild<gtk::ScrolledWindow>,
    #[template_child]
    pub(super) connect_nearby_list: TemplateChild<gtk::ListBox>,
    #[template_child]
    pub(super) connect_nearby_empty: TemplateChild<gtk::Label>,
    #[template_child]
    pub(super) connecting_page: TemplateChild<adw::StatusPage>,
    #[template_child]
    pub(super) spinner: TemplateChild<gtk::Spinner>,
    #[template_child]
    pub(super) conversations_button: TemplateChild<gtk::Button>,
    #[template_child]
    pub(super) leaflet: TemplateChild<adw::Leaflet>,
    #[template_child]
    pub(super) sidebar: TemplateChild<gtk::Box>,
    #[template_child]
    pub(super) conversation_list: TemplateChild<gtk::ListBox>,
    #[template_child]
    pub(super) conversation_pane: TemplateChild<gtk::Box>,
    #[template_child]
    pub(super) logs: TemplateChild<gtk::Stack>,
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
    /// The room's log; private conversations have theirs in `private_logs`.
    #[template_child]
    pub(super) chat_log: TemplateChild<TcpChatLog>,
    #[template_child]
    pub(super) typing_label: TemplateChild<gtk::Label>,
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
    /// The logs of private conversations, each a page of `logs`.
    pub(super) private_logs: RefCell<HashMap<ConversationId, TcpChatLog>>,
    /// The model's nearby-rooms revision the welcome page and the Connect
    /// popover show.
    pub(super) nearby_shown: Cell<u64>,
    /// The model's conversation revision the sidebar shows.
    pub(super) conversations_shown: Cell<u64>,
    /// The conversation the log and entry show, and what was typed but not
    /// sent in the others.
    pub(super) shown_conversation: RefCell<ConversationId>,
    pub(super) drafts: RefCell<HashMap<ConversationId, String>>,
    /// The model's typing revision the typing line shows.
    pub(super) typing_shown: Cell<u64>,
    /// Ticks while someone is shown typing, so stale notices go.
    pub(super) typing_timer: RefCell<Option<glib::SourceId>>,
    /// The entry's text is being swapped for another conversation's draft:
    /// not the person typing.
    pub(super) switching_drafts: Cell<bool>,
    /// A look at the entry for typing news is due when the loop is idle.
    pub(super) composing_soon: Cell<bool>,
    /// Desktop notifications shown, by conversation, to withdraw on reading.
    pub(super) notified: RefCell<HashMap<ConversationId, Vec<String>>>,
    /// Keeps the application running while the window is hidden and our
    /// room stays open.
    pub(super) background_hold: RefCell<Option<gio::ApplicationHoldGuard>>,
    /// Close without offering to keep the room open (the answer was given,
    /// or the app quits).
    pub(super) closing_for_good: Cell<bool>,
    /// The Tab completion under way in the message entry.
    pub(super) nick_completion: RefCell<NickCompletion>,
    /// The Room Details dialog while open, to follow the room's changes.
    pub(super) room_details: glib::WeakRef<crate::ui::room_details::TcpChatRoomDetails>,
    /// Kept to follow whether a screen reader runs (`screen_reader`).
    pub(super) screen_reader_status: RefCell<Option<gio::DBusProxy>>,
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
        TcpChatConversationRow::ensure_type();
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
        action(klass, WinAction::TrustNewIdentity, |window| {
            window.update(Room::trust_new_identity);
        });
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
        klass.install_action(
            WinAction::MessageMember.detailed(),
            Some(glib::VariantTy::STRING),
            |window, _, nick| {
                if let Some(nick) = nick.and_then(glib::Variant::str) {
                    window.open_private(nick);
                }
            },
        );
        action(klass, WinAction::RoomDetails, |window| {
            window.show_room_details()
        });
        action(
            klass,
            WinAction::Invite,
            super::TcpChatWindow::ask_whom_to_invite,
        );
        let member_action =
            |klass: &mut Self::Class, action: WinAction, run: fn(&super::TcpChatWindow, &str)| {
                klass.install_action(
                    action.detailed(),
                    Some(glib::VariantTy::STRING),
                    move |window, _, nick| {
                        if let Some(nick) = nick.and_then(glib::Variant::str) {
                            run(window, nick);
                        }
                    },
                );
            };
        member_action(klass, WinAction::KickMember, |window, nick| {
            window.kick_member(nick)
        });
        member_action(klass, WinAction::BanMember, |window, nick| {
            window.ban_member(nick)
        });
        member_action(klass, WinAction::OpMember, |window, nick| {
            window.set_member_mode(nick, MemberMode::Operator, true)
        });
        member_action(klass, WinAction::DeopMember, |window, nick| {
            window.set_member_mode(nick, MemberMode::Operator, false)
        });
        member_action(klass, WinAction::VoiceMember, |window, nick| {
            window.set_member_mode(nick, MemberMode::Voice, true)
        });
        member_action(klass, WinAction::DevoiceMember, |window, nick| {
            window.set_member_mode(nick, MemberMode::Voice, false)
        });
        klass.install_action(
            WinAction::ShowConversation.detailed(),
            Some(glib::VariantTy::STRING),
            |window, _, key| {
                let id = key
                    .and_then(glib::Variant::str)
                    .and_then(ConversationId::from_key);
                if let Some(id) = id {
                    window.show_conversation(&id);
                }
            },
        );
        action(klass, WinAction::CloseConversation, |window| {
            window.close_conversation()
        });
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
    fn on_close_search(&self) {
        self.search_bar.set_search_mode(false);
    }

    #[template_callback]
    fn on_entry_activate(&self) {
        self.obj().send_entry();
    }

    #[template_callback]
    fn on_conversation_activated(&self, row: &gtk::ListBoxRow) {
        if let Some(row) = row.downcast_ref::<TcpChatConversationRow>() {
            self.obj().show_conversation(&row.conversation());
        }
    }

    #[template_callback]
    fn on_nearby_activated(&self, row: &gtk::ListBoxRow) {
        self.connect_button.popdown();
        self.obj().join_nearby(&row.widget_name());
    }

    /// Folded (a narrow window): back from the log to the sidebar.
    #[template_callback]
    fn on_show_conversations(&self) {
        self.leaflet.navigate(adw::NavigationDirection::Back);
    }

    #[template_callback]
    fn on_entry_changed(&self) {
        self.update_send_action();
        self.obj().composing();
    }

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
        obj.watch_activity();
        obj.follow_preferences();
        obj.follow_screen_reader();
        obj.watch_background();
        obj.setup_search();
        obj.setup_nick_completion();
        obj.render();
    }

    fn dispose(&self) {
        // A countdown would otherwise tick on until its end for nothing.
        self.countdown.stop();
        if let Some(timer) = self.typing_timer.take() {
            timer.remove();
        }
    }
}

impl WidgetImpl for TcpChatWindow {}

impl WindowImpl for TcpChatWindow {
    fn close_request(&self) -> glib::Propagation {
        let obj = self.obj();
        if !self.closing_for_good.get() && obj.offer_background_hosting() {
            return glib::Propagation::Stop;
        }
        obj.end_background();
        obj.save_layout();
        obj.send(Command::Shutdown);
        self.parent_close_request()
    }
}

impl ApplicationWindowImpl for TcpChatWindow {}
impl AdwApplicationWindowImpl for TcpChatWindow {}
