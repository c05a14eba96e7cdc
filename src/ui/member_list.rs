//! The room's members beside the log. A `ListView` builds rows only for the
//! nicks on screen, so a room of thousands costs little. Activating a
//! member (Enter, double click) or "Send Private Message" in their context
//! menu (right click, long press) opens a private conversation.

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};

use super::actions::WinAction;
use super::i18n::gettext;

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/member-list.ui")]
    pub struct TcpChatMemberList {
        #[template_child]
        pub(super) list_view: TemplateChild<gtk::ListView>,
        #[template_child]
        pub(super) nicks: TemplateChild<gtk::StringList>,
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
        list_view.add_controller(right_click);
        list_view.add_controller(long_press);
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
        let menu = gio::Menu::new();
        let item = gio::MenuItem::new(Some(&gettext("Send _Private Message")), None);
        item.set_action_and_target_value(
            Some(WinAction::MessageMember.detailed()),
            Some(&nick.to_variant()),
        );
        menu.append_item(&item);
        let popover = gtk::PopoverMenu::from_model(Some(&menu));
        popover.set_parent(&list_view);
        popover.set_has_arrow(false);
        popover.set_pointing_to(Some(&gdk::Rectangle::new(x as i32, y as i32, 1, 1)));
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
            let mut child = widget.first_child();
            while let Some(widget) = child {
                if let Some(label) = widget.downcast_ref::<gtk::Label>() {
                    return Some(label.label().to_string());
                }
                child = widget.next_sibling();
            }
            return None;
        }
        at = widget.parent();
    }
    None
}
