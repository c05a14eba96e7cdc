//! The room's members beside the log. A `ListView` builds rows only for the
//! nicks on screen, so a room of thousands costs little.

use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/member-list.ui")]
    pub struct TcpChatMemberList {
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
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for TcpChatMemberList {
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
