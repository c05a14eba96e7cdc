//! The Room Details dialog: the room's topic and settings (`RoomModes`),
//! which an operator can change and the others only read. It shows and
//! reads values, following the room while open; the window decides what to
//! send ([`crate::ui::model::room_details::changes`]).

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use crate::api::RoomModes;
use crate::i18n::gettext;

mod imp {
    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/room-details.ui")]
    pub struct TcpChatRoomDetails {
        #[template_child]
        pub(super) topic: TemplateChild<gtk::Entry>,
        #[template_child]
        pub(super) topic_locked: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) moderated: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) invite_only: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) key: TemplateChild<gtk::PasswordEntry>,
        #[template_child]
        pub(super) limit: TemplateChild<gtk::SpinButton>,
        /// The topic and settings last shown: a field follows the room only
        /// when the room's value changes, so edits elsewhere stay.
        pub(super) shown: RefCell<Option<(String, RoomModes)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatRoomDetails {
        const NAME: &'static str = "TcpChatRoomDetails";
        type Type = super::TcpChatRoomDetails;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for TcpChatRoomDetails {}
    impl WidgetImpl for TcpChatRoomDetails {}
    impl WindowImpl for TcpChatRoomDetails {}
    impl MessageDialogImpl for TcpChatRoomDetails {}
}

glib::wrapper! {
    pub struct TcpChatRoomDetails(ObjectSubclass<imp::TcpChatRoomDetails>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// The response that applies the edits (an operator's dialog only).
pub const APPLY: &str = "apply";

impl TcpChatRoomDetails {
    /// The details of `room` over `parent`: editable, with Cancel and
    /// Apply, when `operator`; otherwise read-only with Close.
    pub fn new(
        parent: &impl IsA<gtk::Window>,
        room: &str,
        topic: &str,
        modes: &RoomModes,
        operator: bool,
    ) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .property("modal", true)
            .property("body", room)
            .build();
        let imp = dialog.imp();
        dialog.follow(topic, modes);
        imp.topic.set_editable(operator);
        imp.topic.set_can_focus(operator);
        for switch in [&imp.topic_locked, &imp.moderated, &imp.invite_only] {
            switch.set_sensitive(operator);
        }
        imp.key.set_sensitive(operator);
        imp.limit.set_sensitive(operator);
        if operator {
            crate::ui::add_responses(
                dialog.upcast_ref(),
                &[("cancel", &gettext("_Cancel")), (APPLY, &gettext("_Apply"))],
            );
            dialog.set_response_appearance(APPLY, adw::ResponseAppearance::Suggested);
            dialog.set_default_response(Some(APPLY));
            dialog.set_close_response("cancel");
        } else {
            crate::ui::add_responses(dialog.upcast_ref(), &[("close", &gettext("_Close"))]);
            dialog.set_close_response("close");
        }
        dialog
    }

    /// Shows the room's topic and settings as they are now, changing only
    /// the fields whose value changed since last shown.
    pub fn follow(&self, topic: &str, modes: &RoomModes) {
        let imp = self.imp();
        let before = imp.shown.borrow().clone();
        let (old_topic, old) = match &before {
            Some((topic, modes)) => (Some(topic.as_str()), Some(modes)),
            None => (None, None),
        };
        if old_topic != Some(topic) {
            imp.topic.set_text(topic);
        }
        let changed =
            |field: fn(&RoomModes) -> bool| old.is_none_or(|old| field(old) != field(modes));
        if changed(|m| m.topic_locked) {
            imp.topic_locked.set_active(modes.topic_locked);
        }
        if changed(|m| m.moderated) {
            imp.moderated.set_active(modes.moderated);
        }
        if changed(|m| m.invite_only) {
            imp.invite_only.set_active(modes.invite_only);
        }
        if old.is_none_or(|old| old.key != modes.key) {
            imp.key.set_text(modes.key.as_deref().unwrap_or(""));
        }
        if old.is_none_or(|old| old.limit != modes.limit) {
            imp.limit.set_value(modes.limit.map_or(0.0, f64::from));
        }
        imp.shown.replace(Some((topic.to_owned(), modes.clone())));
    }

    /// The topic and settings as edited (a limit of 0 and an empty
    /// password mean none).
    pub fn edited(&self) -> (String, RoomModes) {
        let imp = self.imp();
        let modes = RoomModes {
            topic_locked: imp.topic_locked.is_active(),
            moderated: imp.moderated.is_active(),
            invite_only: imp.invite_only.is_active(),
            key: Some(imp.key.text().to_string()),
            limit: u32::try_from(imp.limit.value_as_int()).ok(),
        };
        (imp.topic.text().to_string(), modes)
    }
}
