//! The GTK window and application. The only part of the crate that uses GTK.
//!
//! GTK-free helpers (unit-tested without a display): [`input`] (what the
//! entry's text means), [`log_entry`] (events as log lines), [`problem`]
//! (failures as banner text and a remedy), [`launch`] (the command line),
//! [`validate`] (form fields), [`completion`] (nicks on Tab),
//! [`palette`], [`linkify`],
//! [`actions`]; and [`model`], the room's state and the reducer that
//! changes it, of which the window is a view.
//!
//! Widgets, each with its `.ui` in `resources/ui/`: [`application`],
//! [`window`], [`chat_log`], [`member_list`], [`join_form`], [`banner`],
//! [`room_details`];
//! [`settings`] finds the GSettings schema.

pub mod actions;
pub mod application;
pub mod banner;
pub mod chat_log;
pub mod completion;
pub mod conversation_row;
pub mod input;
pub mod join_form;
pub mod launch;
pub mod linkify;
pub mod log_entry;
pub mod member_list;
pub mod model;
pub mod palette;
pub mod preferences;
pub mod problem;
pub mod room_details;
pub mod settings;
pub mod validate;
pub mod window;

pub use application::TcpChatApplication;
pub use window::TcpChatWindow;

/// The application ID: desktop file, icon, metainfo, schema and resources.
pub const APP_ID: &str = "io.github.tcpchat.TcpChat";
/// Where `style.css`, `gtk/help-overlay.ui` and the `.ui` files live.
pub const RESOURCE_BASE: &str = "/io/github/tcpchat/TcpChat";

/// Registers the compiled GResource bundle (idempotent enough: GIO keeps the
/// first registration, and tests call this once per process).
pub fn register_resources() {
    gtk::gio::resources_register_include!("tcp-chat.gresource")
        .unwrap_or_else(|err| log::error!("cannot register the UI resources: {err}"));
}

/// Shows the mnemonic `text` ("_Join") on `button` in a label child of its
/// own. `Button::set_label` would do it too, but GTK 4.8 then also sets the
/// accessible label to the raw text, and screen readers say "_Join Join".
pub fn set_mnemonic_label(button: &gtk::Button, text: &str) {
    use gtk::prelude::*;
    if let Some(label) = button.child().and_downcast::<gtk::Label>() {
        label.set_text_with_mnemonic(text);
        return;
    }
    let label = gtk::Label::with_mnemonic(text);
    label.set_mnemonic_widget(Some(button));
    button.set_child(Some(&label));
    button.add_css_class("text-button");
}

/// Adds `responses` (id, mnemonic label) to `dialog`, each button named for
/// screen readers once, by the text it shows. libadwaita 1.2 sets a
/// response button's label with its underscore, which GTK 4.8 also makes
/// its accessible label, said before the name its mnemonic label gives it
/// ("_Cancel Cancel"): the accessible label goes, the shown text stays.
pub fn add_responses(dialog: &adw::MessageDialog, responses: &[(&str, &str)]) {
    use adw::prelude::*;
    dialog.add_responses(responses);
    let mut pending = vec![dialog.clone().upcast::<gtk::Widget>()];
    while let Some(widget) = pending.pop() {
        let mnemonic = widget
            .downcast_ref::<gtk::Button>()
            .filter(|button| button.uses_underline() && button.label().is_some());
        if let Some(button) = mnemonic {
            reset_accessible_label(button);
        }
        let mut child = widget.first_child();
        while let Some(next) = child {
            child = next.next_sibling();
            pending.push(next);
        }
    }
}

/// Drops the accessible label GTK 4.8 gave `button` from its raw label: its
/// name is then its mnemonic label's text alone.
#[allow(unsafe_code)] // GTK 4.0 API that gtk-rs (and its -sys crate) offer only from GTK 4.10
fn reset_accessible_label(button: &gtk::Button) {
    use gtk::glib::translate::ToGlibPtr;
    extern "C" {
        fn gtk_accessible_reset_property(
            accessible: *mut std::ffi::c_void,
            property: gtk::ffi::GtkAccessibleProperty,
        );
    }
    let widget: *mut gtk::ffi::GtkButton = button.to_glib_none().0;
    // SAFETY: a live GtkButton is a GtkAccessible (every widget is), and
    // LABEL a property GTK 4.8 knows; the call only drops its value.
    unsafe {
        gtk_accessible_reset_property(widget.cast(), gtk::ffi::GTK_ACCESSIBLE_PROPERTY_LABEL);
    }
}

/// The mnemonic text `button` shows ("_Join"), whether set as its label or
/// by [`set_mnemonic_label`].
pub fn mnemonic_label(button: &gtk::Button) -> Option<String> {
    use gtk::prelude::*;
    button.label().map(String::from).or_else(|| {
        button
            .child()
            .and_downcast::<gtk::Label>()
            .map(|label| label.label().to_string())
    })
}

/// A list row's accessible name: what it shows, then what its marks say
/// in words ("bob, Operator", "carol, 1 unread"), as a screen reader
/// announces the row.
pub fn row_name(shown: &str, details: &[&str]) -> String {
    details.iter().fold(shown.to_owned(), |name, detail| {
        crate::i18n::gettext_f("{name}, {detail}", &[("name", &name), ("detail", detail)])
    })
}

/// Names `widget` `name` for screen readers through `label`, an unshown
/// label inside `widget`: GTK 4.8 names a widget after the label whose
/// mnemonic widget it is, and gtk-rs offers `update_property` only from
/// GTK 4.10. (A list row has no name of its own in GTK 4.8: a screen
/// reader would say just "list item".)
pub fn name_through(label: &gtk::Label, widget: &impl gtk::prelude::IsA<gtk::Widget>, name: &str) {
    use gtk::prelude::*;
    label.set_visible(false);
    label.set_text(name);
    let widget = widget.upcast_ref::<gtk::Widget>();
    if label.mnemonic_widget().as_ref() != Some(widget) {
        label.set_mnemonic_widget(Some(widget));
    }
}

/// For `dispose` of a templated widget: `dispose_template` only drops the
/// children it named, so the rest are unparented here.
pub(crate) fn unparent_children(widget: &impl gtk::prelude::IsA<gtk::Widget>) {
    use gtk::prelude::WidgetExt;
    while let Some(child) = widget.first_child() {
        child.unparent();
    }
}
