//! The Host and Connect forms: one widget, two modes, since they share the
//! nickname, room and password fields. Emits `submitted` when its fields
//! make a valid request.

use std::cell::Cell;

use adw::prelude::*;
use gtk::glib;
use gtk::subclass::prelude::*;

use super::validate;
use crate::api::{Command, ConnectRequest, ExpectedIdentity, HostRequest};
use crate::i18n::gettext;

mod imp {
    use std::sync::OnceLock;

    use glib::subclass::Signal;

    use super::*;

    #[derive(Debug, Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/join-form.ui")]
    #[properties(wrapper_type = super::TcpChatJoinForm)]
    pub struct TcpChatJoinForm {
        /// Host mode asks for a port; Connect mode for an address.
        #[property(get, set = Self::set_hosting, construct_only)]
        pub(super) hosting: Cell<bool>,
        #[template_child]
        pub(super) title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) description_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) address_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) nick_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) port_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) room_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) password_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub(super) encrypted_only_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) encrypted_only_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) password_note: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) submit_button: TemplateChild<gtk::Button>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatJoinForm {
        const NAME: &'static str = "TcpChatJoinForm";
        type Type = super::TcpChatJoinForm;
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
    impl TcpChatJoinForm {
        #[template_callback]
        fn on_changed(&self) {
            self.obj().check();
        }

        #[template_callback]
        fn on_submit(&self) {
            if self.obj().request().is_some() {
                self.obj().emit_by_name::<()>("submitted", &[]);
            }
        }

        fn set_hosting(&self, hosting: bool) {
            self.hosting.set(hosting);
            self.address_row.set_visible(!hosting);
            self.port_row.set_visible(hosting);
            self.encrypted_only_row.set_visible(hosting);
            if hosting {
                self.title_label.set_label(&gettext("Host a Room"));
                self.description_label.set_label(&gettext(
                    "Open a chat room on this computer. Others on your network join with the address shown once it is open.",
                ));
                crate::ui::set_mnemonic_label(&self.submit_button, &gettext("_Open Room"));
            } else {
                self.title_label.set_label(&gettext("Join a Room"));
                self.description_label.set_label(&gettext(
                    "Join a room someone hosts, or any IRC server. Ask the host for the address.",
                ));
                crate::ui::set_mnemonic_label(&self.submit_button, &gettext("_Join"));
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for TcpChatJoinForm {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| vec![Signal::builder("submitted").build()])
        }

        fn constructed(&self) {
            self.parent_constructed();
            self.obj().check();
        }

        fn dispose(&self) {
            self.dispose_template();
            crate::ui::unparent_children(&*self.obj());
        }
    }

    impl WidgetImpl for TcpChatJoinForm {}
}

glib::wrapper! {
    pub struct TcpChatJoinForm(ObjectSubclass<imp::TcpChatJoinForm>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl TcpChatJoinForm {
    /// Fills the fields a person would otherwise retype.
    pub fn fill(&self, nick: &str, address: &str, port: u16, room: &str) {
        let imp = self.imp();
        imp.nick_row.set_text(nick);
        imp.address_row.set_text(address);
        imp.port_row.set_text(&port.to_string());
        imp.room_row.set_text(room);
    }

    /// `Command::Host` or `Command::Connect` from the fields, if they are valid.
    pub fn request(&self) -> Option<Command> {
        let imp = self.imp();
        let nick = validate::nick(&imp.nick_row.text())?;
        let room = validate::room(&imp.room_row.text())?;
        let password = validate::password(&imp.password_row.text());
        if self.hosting() {
            let port = validate::port(&imp.port_row.text())?;
            Some(Command::Host(HostRequest {
                nick,
                port,
                room,
                password,
                encrypted_only: imp.encrypted_only_switch.is_active(),
            }))
        } else {
            let address = validate::address(&imp.address_row.text())?;
            Some(Command::Connect(ConnectRequest {
                address,
                nick,
                room,
                password,
                identity: ExpectedIdentity::Unknown,
            }))
        }
    }

    /// Marks fields that cannot work and allows submitting only a valid form.
    fn check(&self) {
        let imp = self.imp();
        let hosting = self.hosting();
        let rows: [(&adw::EntryRow, bool); 4] = [
            (
                &imp.nick_row,
                validate::nick(&imp.nick_row.text()).is_some(),
            ),
            (
                &imp.room_row,
                validate::room(&imp.room_row.text()).is_some(),
            ),
            (
                &imp.port_row,
                !hosting || validate::port(&imp.port_row.text()).is_some(),
            ),
            (
                &imp.address_row,
                hosting || validate::address(&imp.address_row.text()).is_some(),
            ),
        ];
        for (row, valid) in rows {
            // An empty field is not yet wrong, just unfinished.
            if valid || row.text().is_empty() {
                row.remove_css_class("error");
            } else {
                row.add_css_class("error");
            }
        }
        imp.submit_button.set_sensitive(self.request().is_some());
        // A room password can cross the network in clear only to a host
        // that also takes plain-text guests.
        let password_in_clear = hosting
            && !imp.password_row.text().is_empty()
            && !imp.encrypted_only_switch.is_active();
        imp.password_note.set_visible(password_in_clear);
    }

    /// Puts the cursor in the first field to fill.
    pub fn focus_first(&self) {
        let field = if self.hosting() {
            FormField::Nick
        } else {
            FormField::Address
        };
        self.focus_field(field);
    }

    /// Puts the cursor where the last problem says to look.
    pub fn focus_field(&self, field: FormField) {
        self.row(field).grab_focus();
    }

    /// Sets a field's text, as typing would (for tests and the command line).
    pub fn set_field(&self, field: FormField, text: &str) {
        self.row(field).set_text(text);
    }

    pub fn submit_button(&self) -> gtk::Button {
        self.imp().submit_button.get()
    }

    /// The host's "Encrypted Connections Only" switch.
    pub fn encrypted_only_switch(&self) -> gtk::Switch {
        self.imp().encrypted_only_switch.get()
    }

    /// The warning that a room password may cross the network in clear.
    pub fn password_note(&self) -> gtk::Label {
        self.imp().password_note.get()
    }

    fn row(&self, field: FormField) -> adw::EntryRow {
        let imp = self.imp();
        match field {
            FormField::Nick => imp.nick_row.get(),
            FormField::Address => imp.address_row.get(),
            FormField::Port => imp.port_row.get(),
            FormField::Room => imp.room_row.get(),
            FormField::Password => imp.password_row.get().upcast(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Nick,
    Address,
    Port,
    Room,
    Password,
}
