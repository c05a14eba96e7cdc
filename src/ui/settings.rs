//! Finds the GSettings schema: installed first, then the copy `build.rs`
//! compiled into the build tree, so `cargo run` and the tests remember
//! things too. Without either, the app still runs and forgets.

use gtk::gio;
use gtk::prelude::*;

use super::{validate, APP_ID};

pub const NICKNAME: &str = "nickname";
pub const LAST_ADDRESS: &str = "last-address";
pub const LAST_ROOM: &str = "last-room";
pub const HOST_PORT: &str = "host-port";
pub const WINDOW_WIDTH: &str = "window-width";
pub const WINDOW_HEIGHT: &str = "window-height";
pub const WINDOW_MAXIMIZED: &str = "window-maximized";
pub const SHOW_MEMBERS: &str = "show-members";
pub const NOTIFICATIONS: &str = "notifications";
pub const SHARE_TYPING: &str = "share-typing";

const BUILD_TREE_SCHEMAS: &str = concat!(env!("OUT_DIR"), "/schemas");

pub fn load() -> Option<gio::Settings> {
    let installed = gio::SettingsSchemaSource::default();
    let schema = installed
        .as_ref()
        .and_then(|source| source.lookup(APP_ID, true))
        .or_else(|| {
            gio::SettingsSchemaSource::from_directory(BUILD_TREE_SCHEMAS, installed.as_ref(), false)
                .inspect_err(|err| log::warn!("no settings schema in {BUILD_TREE_SCHEMAS}: {err}"))
                .ok()?
                .lookup(APP_ID, false)
        });
    match schema {
        Some(schema) => Some(gio::Settings::new_full(
            &schema,
            None::<&gio::SettingsBackend>,
            None,
        )),
        None => {
            log::warn!("settings schema {APP_ID} not found; nothing will be remembered");
            None
        }
    }
}

/// The remembered nickname, or the login name, or "guest".
pub fn nickname(settings: Option<&gio::Settings>) -> String {
    settings
        .map(|settings| settings.string(NICKNAME))
        .and_then(|nick| validate::nick(&nick))
        .unwrap_or_else(|| validate::default_nick(&glib::user_name().to_string_lossy()))
}
