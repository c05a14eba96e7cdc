//! The Preferences window: which messages notify, and whether typing is
//! shared. Every row is a GSettings key's own action (`prefs.*`), so the
//! window and the settings cannot disagree.

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::settings;

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/preferences.ui")]
    pub struct TcpChatPreferences {
        #[template_child]
        pub(super) notify_all: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub(super) notify_mentions: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub(super) notify_off: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub(super) share_typing: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatPreferences {
        const NAME: &'static str = "TcpChatPreferences";
        type Type = super::TcpChatPreferences;
        type ParentType = adw::PreferencesWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for TcpChatPreferences {
        fn constructed(&self) {
            self.parent_constructed();
            let actions = gio::SimpleActionGroup::new();
            match settings::load() {
                Some(settings) => {
                    for key in [settings::NOTIFICATIONS, settings::SHARE_TYPING] {
                        actions.add_action(&settings.create_action(key));
                    }
                }
                // Without the schema nothing could be kept: rows stay off.
                None => self.obj().set_sensitive(false),
            }
            self.obj().insert_action_group("prefs", Some(&actions));
        }
    }

    impl WidgetImpl for TcpChatPreferences {}
    impl WindowImpl for TcpChatPreferences {}
    impl AdwWindowImpl for TcpChatPreferences {}
    impl PreferencesWindowImpl for TcpChatPreferences {}
}

glib::wrapper! {
    pub struct TcpChatPreferences(ObjectSubclass<imp::TcpChatPreferences>)
        @extends adw::PreferencesWindow, adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
                    gtk::ShortcutManager;
}

impl TcpChatPreferences {
    pub fn new(parent: Option<&gtk::Window>) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .build()
    }

    /// The notification choice shown as selected: "all", "mentions" or "off".
    pub fn notification_choice(&self) -> Option<&'static str> {
        let imp = self.imp();
        [
            (&imp.notify_all, "all"),
            (&imp.notify_mentions, "mentions"),
            (&imp.notify_off, "off"),
        ]
        .into_iter()
        .find(|(button, _)| button.is_active())
        .map(|(_, choice)| choice)
    }

    pub fn choose_notifications(&self, choice: &str) {
        let imp = self.imp();
        let button = match choice {
            "all" => &imp.notify_all,
            "off" => &imp.notify_off,
            _ => &imp.notify_mentions,
        };
        button.activate();
    }

    pub fn share_typing_switch(&self) -> gtk::Switch {
        self.imp().share_typing.get()
    }
}
