//! A non-modal problem notice at the top of the window with one button that
//! fixes it (libadwaita 1.2 has no AdwBanner).

use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/banner.ui")]
    pub struct TcpChatBanner {
        #[template_child]
        pub(super) revealer: TemplateChild<gtk::Revealer>,
        #[template_child]
        pub(super) message_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) remedy_button: TemplateChild<gtk::Button>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatBanner {
        const NAME: &'static str = "TcpChatBanner";
        type Type = super::TcpChatBanner;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl TcpChatBanner {
        #[template_callback]
        pub(super) fn dismiss(&self) {
            self.revealer.set_reveal_child(false);
        }

        /// Once slid away, out of the way of screen readers and the focus.
        #[template_callback]
        fn on_child_revealed(&self) {
            if !self.revealer.is_child_revealed() && !self.revealer.reveals_child() {
                self.obj().set_visible(false);
            }
        }
    }

    impl ObjectImpl for TcpChatBanner {
        fn dispose(&self) {
            self.dispose_template();
            crate::ui::unparent_children(&*self.obj());
        }
    }

    impl WidgetImpl for TcpChatBanner {}
}

glib::wrapper! {
    pub struct TcpChatBanner(ObjectSubclass<imp::TcpChatBanner>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl TcpChatBanner {
    /// Shows `message`, with a button (mnemonic label) that activates the
    /// detailed action, if there is something to offer.
    pub fn show(&self, message: &str, remedy: Option<(&str, &str)>) {
        let imp = self.imp();
        imp.message_label.set_text(message);
        if let Some((label, action)) = remedy {
            super::set_mnemonic_label(&imp.remedy_button, label);
            imp.remedy_button.set_action_name(Some(action));
        }
        imp.remedy_button.set_visible(remedy.is_some());
        self.set_visible(true);
        imp.revealer.set_reveal_child(true);
    }

    /// Changes what the shown banner says, keeping its button.
    pub fn set_message(&self, message: &str) {
        self.imp().message_label.set_text(message);
    }

    pub fn dismiss(&self) {
        self.imp().dismiss();
    }

    /// The message while the banner shows, for tests and accessibility checks.
    pub fn shown_message(&self) -> Option<String> {
        let imp = self.imp();
        imp.revealer
            .reveals_child()
            .then(|| imp.message_label.text().to_string())
    }

    pub fn remedy_button(&self) -> gtk::Button {
        self.imp().remedy_button.get()
    }
}
