//! The room's members beside the log. A `ListView` builds rows only for the
//! nicks on screen, so a room of thousands costs little. Members who are
//! away show dimmed, with their reason. Activating a
//! member (Enter, double click) or "Send Private Message" in their context
//! menu (right click, long press, Shift+F10 or the Menu key) opens a
//! private conversation. Operators and voiced members carry a badge (`@`,
//! `%`, `+`) said in words by their tooltip and by the row's accessible
//! name ("bob, Operator");
//! when we are an operator the menu also offers to remove, ban, and give
//! or take operator status and voice; a half-operator's only what that
//! rank may do (remove and voice those below them).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};

use super::actions::WinAction;
use crate::api::{Presence, Rank};
use crate::i18n::gettext;
use crate::protocol::fold_case;
use crate::ui::model::MemberRow;

/// How opaque an away member's row is.
const AWAY_OPACITY: f64 = 0.55;

/// Nick → what its row shows beside the name.
type Shown = Rc<RefCell<HashMap<String, RowState>>>;

/// A row's rank and away status ("" when away without a reason).
#[derive(Debug, Default, Clone)]
struct RowState {
    rank: Rank,
    away: Option<String>,
}

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/member-list.ui")]
    pub struct TcpChatMemberList {
        #[template_child]
        pub(super) list_view: TemplateChild<gtk::ListView>,
        #[template_child]
        pub(super) nicks: TemplateChild<gtk::StringList>,
        pub(super) shown: Shown,
        /// Our own nick and rank, while we are an operator of the room:
        /// the menu then offers the actions that rank has on the others.
        pub(super) operator: RefCell<Option<(String, Rank)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatMemberList {
        const NAME: &'static str = "TcpChatMemberList";
        type Type = super::TcpChatMemberList;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            // The row template inside the factory names AdwAvatar.
            adw::Avatar::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl TcpChatMemberList {
        #[template_callback]
        fn on_activate(&self, position: u32) {
            if let Some(nick) = self.nicks.string(position) {
                self.obj().message(&nick);
            }
        }
    }

    impl ObjectImpl for TcpChatMemberList {
        fn constructed(&self) {
            self.parent_constructed();
            self.list_view
                .set_factory(Some(&row_factory(self.shown.clone())));
            self.obj().setup_context_menu();
        }

        fn dispose(&self) {
            self.dispose_template();
            crate::ui::unparent_children(&*self.obj());
        }
    }

    impl WidgetImpl for TcpChatMemberList {}
}

glib::wrapper! {
    pub struct TcpChatMemberList(ObjectSubclass<imp::TcpChatMemberList>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl TcpChatMemberList {
    /// Opens the private conversation with `nick`.
    fn message(&self, nick: &str) {
        if let Err(err) = self.activate_action(
            WinAction::MessageMember.detailed(),
            Some(&nick.to_variant()),
        ) {
            log::warn!("cannot open a private conversation: {err}");
        }
    }

    fn setup_context_menu(&self) {
        let list_view = self.imp().list_view.get();
        let right_click = gtk::GestureClick::builder()
            .button(gdk::BUTTON_SECONDARY)
            .build();
        right_click.connect_pressed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, _, x, y| list.pop_up_menu_at(x, y)
        ));
        let long_press = gtk::GestureLongPress::new();
        long_press.set_touch_only(true);
        long_press.connect_pressed(glib::clone!(
            #[weak(rename_to = list)]
            self,
            move |_, x, y| list.pop_up_menu_at(x, y)
        ));
        // The keyboard's way to the same menu (GNOME's context-menu keys),
        // for the member whose row has the focus.
        let keys = gtk::ShortcutController::new();
        keys.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string("<Shift>F10|Menu"),
            Some(gtk::CallbackAction::new(glib::clone!(
                #[weak(rename_to = list)]
                self,
                #[upgrade_or]
                glib::Propagation::Proceed,
                move |_, _| {
                    if list.pop_up_menu_for_focus() {
                        glib::Propagation::Stop
                    } else {
                        glib::Propagation::Proceed
                    }
                }
            ))),
        ));
        list_view.add_controller(right_click);
        list_view.add_controller(long_press);
        list_view.add_controller(keys);
    }

    /// The menu for the member under (`x`, `y`) of the list view.
    fn pop_up_menu_at(&self, x: f64, y: f64) {
        let list_view = self.imp().list_view.get();
        let Some(nick) = list_view
            .pick(x, y, gtk::PickFlags::DEFAULT)
            .and_then(|picked| nick_of_row(&picked))
        else {
            return;
        };
        self.pop_up_menu(&nick, gdk::Rectangle::new(x as i32, y as i32, 1, 1));
    }

    /// The menu for the member whose row has the keyboard focus, pointing at
    /// that row; false when no row has it.
    fn pop_up_menu_for_focus(&self) -> bool {
        let list_view = self.imp().list_view.get();
        let Some(focus) = list_view.root().and_then(|root| root.focus()) else {
            return false;
        };
        // The focus sits on the list's own item widget, which holds our row.
        let Some(nick) = nick_of_row(&focus)
            .or_else(|| focus.first_child().and_then(|child| nick_of_row(&child)))
        else {
            return false;
        };
        let Some(bounds) = focus.compute_bounds(&list_view) else {
            return false;
        };
        let area = gdk::Rectangle::new(
            bounds.x() as i32,
            bounds.y() as i32,
            bounds.width() as i32,
            bounds.height() as i32,
        );
        self.pop_up_menu(&nick, area);
        true
    }

    /// The actions on `nick` the menu offers: a private message, and
    /// when we are an operator (and `nick` is someone else) those our rank
    /// has on theirs.
    pub fn menu_for(&self, nick: &str) -> gio::Menu {
        let menu = gio::Menu::new();
        let item = gio::MenuItem::new(Some(&gettext("Send _Private Message")), None);
        item.set_action_and_target_value(
            Some(WinAction::MessageMember.detailed()),
            Some(&nick.to_variant()),
        );
        menu.append_item(&item);
        let operator = self.imp().operator.borrow().clone();
        let ours = operator
            .filter(|(own, _)| fold_case(own) != fold_case(nick))
            .map(|(_, rank)| rank);
        if let Some(ours) = ours {
            let rank = self
                .imp()
                .shown
                .borrow()
                .get(nick)
                .map(|state| state.rank)
                .unwrap_or_default();
            // In the same section: GTK 4.8 sizes a popover menu with a
            // section separator too short, cutting off its last item.
            let add = |label: String, action: WinAction| {
                let item = gio::MenuItem::new(Some(&label), None);
                item.set_action_and_target_value(Some(action.detailed()), Some(&nick.to_variant()));
                menu.append_item(&item);
            };
            if ours.may_op_and_ban() {
                if rank == Rank::Operator {
                    add(gettext("Remove _Operator"), WinAction::DeopMember);
                } else {
                    add(gettext("Make _Operator"), WinAction::OpMember);
                }
            }
            if ours.may_moderate(rank) {
                if rank == Rank::Voiced {
                    add(gettext("Remove _Voice"), WinAction::DevoiceMember);
                } else if rank == Rank::Member {
                    add(gettext("Give _Voice"), WinAction::VoiceMember);
                }
                add(gettext("_Kick…"), WinAction::KickMember);
            }
            if ours.may_op_and_ban() {
                add(gettext("_Ban"), WinAction::BanMember);
            }
        }
        menu
    }

    /// The member's actions in a popover menu pointing at `area` of the list.
    fn pop_up_menu(&self, nick: &str, area: gdk::Rectangle) {
        let list_view = self.imp().list_view.get();
        let menu = self.menu_for(nick);
        let popover = gtk::PopoverMenu::from_model(Some(&menu));
        popover.set_parent(&list_view);
        popover.set_has_arrow(false);
        popover.set_pointing_to(Some(&area));
        // Unparented once closed, so menus do not pile up on the list.
        popover.connect_closed(|popover| {
            let popover = popover.clone();
            glib::idle_add_local_once(move || popover.unparent());
        });
        popover.popup();
    }

    /// Shows `sorted_nicks` in one model change.
    pub fn show_nicks(&self, sorted_nicks: &[String]) {
        let nicks = &self.imp().nicks;
        let new: Vec<&str> = sorted_nicks.iter().map(String::as_str).collect();
        nicks.splice(0, nicks.n_items(), &new);
    }

    /// Shows `sorted` members with their rank badges, the away ones dimmed
    /// with their reason. `operator`: our nick and rank, when we are an
    /// operator.
    pub fn show_members(&self, sorted: &[MemberRow], operator: Option<(String, Rank)>) {
        let shown: HashMap<String, RowState> = sorted
            .iter()
            .map(|row| {
                let away = match &row.presence {
                    Presence::Here => None,
                    Presence::Away { reason } => Some(reason.clone().unwrap_or_default()),
                };
                let rank = row.rank;
                (row.nick.clone(), RowState { rank, away })
            })
            .collect();
        self.imp().shown.replace(shown);
        self.imp().operator.replace(operator);
        let nicks: Vec<String> = sorted.iter().map(|row| row.nick.clone()).collect();
        // Every shown row is bound again, so presence changes show too.
        self.show_nicks(&nicks);
    }

    /// What the row of `nick` says under the name, if they are away.
    pub fn away_status(&self, nick: &str) -> Option<String> {
        self.imp()
            .shown
            .borrow()
            .get(nick)
            .and_then(|state| state.away.as_deref().map(status_text))
    }

    /// What the row of `nick` says of their rank (its tooltip and
    /// accessible description), if anything.
    pub fn rank_text(&self, nick: &str) -> Option<String> {
        let rank = self.imp().shown.borrow().get(nick)?.rank;
        rank_badge(rank).map(|(_, words)| words)
    }

    /// The nicks shown, top to bottom.
    pub fn nicks(&self) -> Vec<String> {
        let nicks = &self.imp().nicks;
        (0..nicks.n_items())
            .filter_map(|position| nicks.string(position))
            .map(String::from)
            .collect()
    }
}

/// The nick shown by the row `widget` belongs to.
fn nick_of_row(widget: &gtk::Widget) -> Option<String> {
    let mut at = Some(widget.clone());
    while let Some(widget) = at {
        if widget.has_css_class("member-row") {
            return widget
                .first_child()
                .and_downcast::<adw::Avatar>()
                .and_then(|avatar| avatar.text())
                .map(String::from);
        }
        at = widget.parent();
    }
    None
}

/// "Away: lunch", or "Away" without a reason.
fn status_text(reason: &str) -> String {
    if reason.trim().is_empty() {
        gettext("Away")
    } else {
        crate::i18n::gettext_f("Away: {reason}", &[("reason", reason)])
    }
}

/// The badge before a member's nick and what it means in words.
fn rank_badge(rank: Rank) -> Option<(&'static str, String)> {
    match rank {
        Rank::Operator => Some(("@", gettext("Operator"))),
        Rank::HalfOperator => Some(("%", gettext("Half-operator"))),
        Rank::Voiced => Some(("+", gettext("Voiced"))),
        Rank::Member => None,
    }
}

/// Rows: avatar, rank badge, nick, and under it the away status when there
/// is one; then the unshown label that names the row.
fn row_factory(shown: Shown) -> gtk::SignalListItemFactory {
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        // Decoration: its initial is not read out before the name.
        let avatar = glib::Object::builder::<adw::Avatar>()
            .property("size", 24)
            .property("show-initials", true)
            .property("accessible-role", gtk::AccessibleRole::Presentation)
            .build();
        let nick = gtk::Label::builder()
            .xalign(0.0)
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .build();
        let status = gtk::Label::builder()
            .xalign(0.0)
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .visible(false)
            .css_classes(["caption", "dim-label"])
            .build();
        let badge = gtk::Label::builder()
            .css_classes(["member-rank", "heading"])
            // Said in words by the row's name, not as "at sign".
            .accessible_role(gtk::AccessibleRole::Presentation)
            // Always there, so nicks line up whether marked or not.
            .width_chars(1)
            .build();
        let names = gtk::Box::new(gtk::Orientation::Vertical, 0);
        names.set_valign(gtk::Align::Center);
        names.append(&nick);
        names.append(&status);
        let row = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        row.add_css_class("member-row");
        row.append(&avatar);
        row.append(&badge);
        row.append(&names);
        // Unshown: the row's name for screen readers (`ui::name_through`).
        row.append(&gtk::Label::new(None));
        item.set_child(Some(&row));
    });
    factory.connect_bind(move |_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
            return;
        };
        let Some(nick) = item
            .item()
            .and_downcast::<gtk::StringObject>()
            .map(|object| object.string().to_string())
        else {
            return;
        };
        let Some(row) = item.child() else { return };
        let Some(avatar) = row.first_child().and_downcast::<adw::Avatar>() else {
            return;
        };
        let Some(badge) = avatar.next_sibling().and_downcast::<gtk::Label>() else {
            return;
        };
        let Some(names) = badge.next_sibling() else {
            return;
        };
        let (Some(nick_label), Some(status_label)) = (
            names.first_child().and_downcast::<gtk::Label>(),
            names.last_child().and_downcast::<gtk::Label>(),
        ) else {
            return;
        };
        avatar.set_text(Some(&nick));
        nick_label.set_label(&nick);
        let state = shown.borrow().get(&nick).cloned().unwrap_or_default();
        let status = state.away.as_deref().map(status_text);
        status_label.set_visible(status.is_some());
        status_label.set_label(status.as_deref().unwrap_or(""));
        row.set_opacity(if status.is_some() { AWAY_OPACITY } else { 1.0 });
        let rank = rank_badge(state.rank);
        badge.set_label(rank.as_ref().map_or("", |(symbol, _)| symbol));
        // The badge and away status in words, for the pointer (tooltip)
        // and for screen readers (the row's name).
        let described: Vec<&str> = rank
            .as_ref()
            .map(|(_, words)| words.as_str())
            .into_iter()
            .chain(status.as_deref())
            .collect();
        // The list's own item widget is what a screen reader reads (GTK
        // 4.8 has no accessible label for a ListItem): "bob, Operator, Away".
        if let (Some(item_widget), Some(name_label)) = (
            row.parent(),
            names.next_sibling().and_downcast::<gtk::Label>(),
        ) {
            crate::ui::name_through(
                &name_label,
                &item_widget,
                &crate::ui::row_name(&nick, &described),
            );
        }
        let described = described.join(" · ");
        row.set_tooltip_text(Some(described.as_str()).filter(|d| !d.is_empty()));
    });
    factory
}
