//! One conversation in the sidebar: the room or a person, with a badge
//! counting what is unread in it.

use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

use super::model::{Conversation, ConversationId};
use crate::i18n::gettext_f;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/conversation-row.ui")]
    pub struct TcpChatConversationRow {
        #[template_child]
        pub(super) icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub(super) title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) badge: TemplateChild<gtk::Label>,
        /// Unshown: the row's name for screen readers ("carol, 2 unread").
        #[template_child]
        pub(super) name_label: TemplateChild<gtk::Label>,
        pub(super) conversation: RefCell<ConversationId>,
        /// What the badge's tooltip says: the unread count in words.
        pub(super) badge_words: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatConversationRow {
        const NAME: &'static str = "TcpChatConversationRow";
        type Type = super::TcpChatConversationRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for TcpChatConversationRow {
        fn constructed(&self) {
            self.parent_constructed();
            // The words are given when the tooltip is about to show, not
            // set on the badge: setting a tooltip asks the display server
            // where the pointer is, and a flood changes the count once a
            // batch (a round trip the main loop waits for, behind the
            // frames the server is still copying).
            self.badge.set_has_tooltip(true);
            self.badge.connect_query_tooltip(glib::clone!(
                #[weak(rename_to = this)]
                self,
                #[upgrade_or]
                false,
                move |_, _, _, _, tooltip| {
                    tooltip.set_text(Some(&this.badge_words.borrow()));
                    true
                }
            ));
        }
    }
    impl WidgetImpl for TcpChatConversationRow {}
    impl ListBoxRowImpl for TcpChatConversationRow {}
}

glib::wrapper! {
    pub struct TcpChatConversationRow(ObjectSubclass<imp::TcpChatConversationRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl TcpChatConversationRow {
    pub fn new(conversation: &Conversation) -> Self {
        let row: Self = glib::Object::new();
        row.show(conversation);
        row
    }

    pub fn conversation(&self) -> ConversationId {
        self.imp().conversation.borrow().clone()
    }

    /// Shows `conversation`'s title and unread count.
    pub fn show(&self, conversation: &Conversation) {
        let imp = self.imp();
        imp.conversation.replace(conversation.id.clone());
        imp.icon.set_icon_name(Some(if conversation.is_private() {
            "avatar-default-symbolic"
        } else {
            "system-users-symbolic"
        }));
        imp.title_label.set_label(&conversation.title);
        let unread = conversation.unread;
        imp.badge.set_visible(unread > 0);
        imp.badge.set_label(&unread.to_string());
        if conversation.attention > 0 {
            imp.badge.add_css_class("for-you");
        } else {
            imp.badge.remove_css_class("for-you");
        }
        let unread_text = gettext_f("{count} unread", &[("count", &unread.to_string())]);
        // How many name us: the badge's colour says it to the eye; the
        // words say it to a screen reader, and to anyone who cannot tell
        // the colours apart. (In a private conversation every line does.)
        let for_you_text = gettext_f(
            "{count} for you",
            &[("count", &conversation.attention.to_string())],
        );
        let mut details = Vec::new();
        if unread > 0 {
            details.push(unread_text.as_str());
            if conversation.attention > 0 && !conversation.is_private() {
                details.push(for_you_text.as_str());
            }
        }
        let badge_words = super::row_name(&unread_text, details.get(1..).unwrap_or_default());
        // Screen readers hear the same words in the row's name below.
        imp.badge_words.replace(badge_words);
        super::name_through(
            &imp.name_label,
            self,
            &super::row_name(&conversation.title, &details),
        );
    }

    /// What a screen reader calls the row.
    pub fn spoken_name(&self) -> String {
        self.imp().name_label.label().to_string()
    }

    pub fn badge_text(&self) -> Option<String> {
        let badge = &self.imp().badge;
        badge.is_visible().then(|| badge.label().to_string())
    }

    pub fn title(&self) -> String {
        self.imp().title_label.label().to_string()
    }
}
