//! The application: command-line options (including the headless
//! `--serve`, handled before GTK starts), app actions, every accelerator,
//! and the one main window.

use std::ops::ControlFlow;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

use super::actions::{AppAction, WinAction};
use super::launch::{self, Launch, Options};
use super::{TcpChatWindow, APP_ID, RESOURCE_BASE};
use crate::i18n::gettext;

mod imp {
    use super::*;

    #[derive(Debug, Default)]
    pub struct TcpChatApplication;

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatApplication {
        const NAME: &'static str = "TcpChatApplication";
        type Type = super::TcpChatApplication;
        type ParentType = adw::Application;
    }

    impl ObjectImpl for TcpChatApplication {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().add_options();
        }
    }

    impl ApplicationImpl for TcpChatApplication {
        /// Runs in the process that was started, before any GTK or D-Bus:
        /// `--serve` and `--version` end here, with no display needed.
        fn handle_local_options(&self, dict: &glib::VariantDict) -> ControlFlow<glib::ExitCode> {
            let options = read_options(dict);
            if dict.contains("version") {
                println!("tcp-chat {}", env!("CARGO_PKG_VERSION"));
                return ControlFlow::Break(glib::ExitCode::SUCCESS);
            }
            if options.serve {
                init_logging("info");
                return ControlFlow::Break(serve(&options));
            }
            init_logging("warn");
            // Mistakes are reported in this terminal, not the running window.
            if let Err(message) = launch::plan(&options) {
                eprintln!("tcp-chat: {message}");
                return ControlFlow::Break(glib::ExitCode::new(2));
            }
            ControlFlow::Continue(())
        }

        fn startup(&self) {
            self.parent_startup();
            gtk::Window::set_default_icon_name(APP_ID);
            self.obj().setup_actions();
        }

        fn activate(&self) {
            self.parent_activate();
            self.obj().main_window().present();
        }

        /// Runs in the primary instance, also for a second launch.
        fn command_line(&self, command_line: &gio::ApplicationCommandLine) -> glib::ExitCode {
            let options = read_options(&command_line.options_dict());
            let plan = match launch::plan(&options) {
                Ok(plan) => plan,
                // handle_local_options already refused these in the
                // launching terminal; this only guards a foreign caller.
                Err(message) => {
                    log::warn!("ignoring a launch request: {message}");
                    return glib::ExitCode::new(2);
                }
            };
            let app = self.obj();
            let mut window = app.main_window();
            // A link or --connect while this window is in a room opens the
            // room in a window of its own, with its own network thread.
            if plan != Launch::Window && window.busy() {
                window = app.new_window();
            }
            window.present();
            window.launch(plan);
            glib::ExitCode::SUCCESS
        }
    }

    impl GtkApplicationImpl for TcpChatApplication {
        /// The launcher's count follows every window's unread count.
        fn window_added(&self, window: &gtk::Window) {
            self.parent_window_added(window);
            if let Some(window) = window.downcast_ref::<TcpChatWindow>() {
                window.connect_attention_notify(glib::clone!(
                    #[weak(rename_to = app)]
                    self.obj(),
                    move |_| app.update_launcher_count()
                ));
            }
        }

        fn window_removed(&self, window: &gtk::Window) {
            self.parent_window_removed(window);
            self.obj().update_launcher_count();
        }
    }
    impl AdwApplicationImpl for TcpChatApplication {}
}

/// Every accelerator: detailed action and its keys (GTK's syntax). The
/// shortcuts window (`resources/ui/help-overlay.ui`) lists them.
pub const ACCELERATORS: [(&str, &[&str]); 8] = [
    (AppAction::Quit.detailed(), &["<Primary>q"]),
    (AppAction::Preferences.detailed(), &["<Primary>comma"]),
    (WinAction::FocusEntry.detailed(), &["<Primary>l"]),
    (WinAction::Find.detailed(), &["<Primary>f"]),
    (WinAction::ShowMembers.detailed(), &["F9"]),
    (WinAction::Host.detailed(), &["<Primary>h"]),
    (WinAction::Connect.detailed(), &["<Primary>j"]),
    (
        WinAction::ShowHelpOverlay.detailed(),
        &["<Primary>question"],
    ),
];

glib::wrapper! {
    pub struct TcpChatApplication(ObjectSubclass<imp::TcpChatApplication>)
        @extends adw::Application, gtk::Application, gio::Application,
        @implements gio::ActionGroup, gio::ActionMap;
}

impl Default for TcpChatApplication {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpChatApplication {
    pub fn new() -> Self {
        glib::Object::builder()
            .property("application-id", APP_ID)
            .property("resource-base-path", RESOURCE_BASE)
            .property("flags", gio::ApplicationFlags::HANDLES_COMMAND_LINE)
            .build()
    }

    fn add_options(&self) {
        use glib::{OptionArg as Arg, OptionFlags as Flags};
        let options: [(&str, Arg, String, Option<&str>); 20] = [
            (
                "host",
                Arg::None,
                gettext("Host a room on this computer"),
                None,
            ),
            (
                "connect",
                Arg::String,
                gettext("Join the room at ADDRESS (host[:port])"),
                Some("ADDRESS"),
            ),
            (
                "nick",
                Arg::String,
                gettext("Use NAME as nickname"),
                Some("NAME"),
            ),
            (
                "room",
                Arg::String,
                gettext("The room to host or join (default #chat)"),
                Some("ROOM"),
            ),
            (
                "port",
                Arg::String,
                gettext("The port to host on (default 6667)"),
                Some("N"),
            ),
            (
                "serve",
                Arg::None,
                gettext("Run only the host, without a window"),
                None,
            ),
            (
                "bind",
                Arg::String,
                gettext("With --serve: listen on ADDR only"),
                Some("ADDR"),
            ),
            (
                "password",
                Arg::String,
                launch::password_help(),
                Some("SECRET"),
            ),
            (
                "password-file",
                Arg::String,
                gettext("With --serve: require the password on the first line of FILE"),
                Some("FILE"),
            ),
            (
                "max-clients",
                Arg::String,
                gettext("With --serve: allow at most N clients"),
                Some("N"),
            ),
            (
                "max-per-address",
                Arg::String,
                gettext("With --serve: allow at most N connections from one address (default 10, 0 for no limit)"),
                Some("N"),
            ),
            (
                "no-flood-control",
                Arg::None,
                gettext("With --serve: do not throttle busy clients or frequent reconnections"),
                None,
            ),
            (
                "history",
                Arg::String,
                gettext("With --serve: keep the last N lines of each room (default 10000, 0 keeps none)"),
                Some("N"),
            ),
            (
                "state-dir",
                Arg::String,
                gettext("With --serve: keep the history and the TLS certificate in DIR (default ~/.local/share/tcp-chat)"),
                Some("DIR"),
            ),
            (
                "tls-only",
                Arg::None,
                launch::tls_only_help(),
                None,
            ),
            (
                "no-announce",
                Arg::None,
                gettext("With --serve: do not list the room on the local network"),
                None,
            ),
            (
                "server-name",
                Arg::String,
                gettext("With --serve: the host's name in IRC replies (default this computer's host name)"),
                Some("NAME"),
            ),
            (
                "motd",
                Arg::String,
                gettext("With --serve: greet IRC clients with the lines of FILE as the message of the day"),
                Some("FILE"),
            ),
            (
                "version",
                Arg::None,
                gettext("Show the version and quit"),
                None,
            ),
            (
                glib::OPTION_REMAINING.as_str(),
                Arg::StringArray,
                String::new(),
                Some("[irc://HOST:PORT/#ROOM]"),
            ),
        ];
        for (name, arg, description, arg_description) in options {
            self.add_main_option(
                name,
                glib::Char::from(0),
                Flags::NONE,
                arg,
                &description,
                arg_description,
            );
        }
        self.set_option_context_summary(Some(&gettext(
            "Chat with people on your network: host a room, or join one by its address.",
        )));
    }

    fn setup_actions(&self) {
        let quit = gio::ActionEntry::builder(AppAction::Quit.name())
            .activate(|app: &Self, _, _| app.quit_all())
            .build();
        let about = gio::ActionEntry::builder(AppAction::About.name())
            .activate(|app: &Self, _, _| app.show_about())
            .build();
        let show_conversation = gio::ActionEntry::builder(AppAction::ShowConversation.name())
            .parameter_type(Some(&<(u32, String)>::static_variant_type()))
            .activate(|app: &Self, _, target| {
                let Some((window_id, key)) = target.and_then(|t| t.get::<(u32, String)>()) else {
                    return;
                };
                app.show_conversation(window_id, &key);
            })
            .build();
        let preferences = gio::ActionEntry::builder(AppAction::Preferences.name())
            .activate(|app: &Self, _, _| app.show_preferences())
            .build();
        let close_room = gio::ActionEntry::builder(AppAction::CloseRoom.name())
            .parameter_type(Some(&u32::static_variant_type()))
            .activate(|app: &Self, _, target| {
                let window = target
                    .and_then(|target| target.get::<u32>())
                    .and_then(|id| app.window_by_id(id))
                    .and_then(|window| window.downcast::<TcpChatWindow>().ok());
                if let Some(window) = window {
                    window.close_for_good();
                }
            })
            .build();
        self.add_action_entries([quit, about, preferences, show_conversation, close_room]);
        for (action, keys) in ACCELERATORS {
            self.set_accels_for_action(action, keys);
        }
    }

    /// The first window, made on first use.
    fn main_window(&self) -> TcpChatWindow {
        self.windows()
            .into_iter()
            .find_map(|w| w.downcast::<TcpChatWindow>().ok())
            .unwrap_or_else(|| self.new_window())
    }

    /// A window with a network thread of its own.
    fn new_window(&self) -> TcpChatWindow {
        let network = match crate::network::spawn() {
            Ok(network) => network,
            Err(err) => {
                log::error!("cannot start the network thread: {err}");
                // A window whose commands go nowhere; the banner explains.
                let (commands, _) = async_channel::unbounded();
                let (_, events) = async_channel::unbounded();
                crate::network::NetworkHandle { commands, events }
            }
        };
        TcpChatWindow::new(Some(self), network)
    }

    /// Puts the unread mentions and private lines of every window on the
    /// app's launcher icon (the `com.canonical.Unity.LauncherEntry` signal
    /// that Dash to Dock, Plank and KDE's task manager read).
    fn update_launcher_count(&self) {
        let Some(connection) = self.dbus_connection() else {
            return;
        };
        let count: u32 = self
            .windows()
            .into_iter()
            .filter_map(|window| window.downcast::<TcpChatWindow>().ok())
            .map(|window| window.attention())
            .fold(0, u32::saturating_add);
        let properties = glib::VariantDict::new(None);
        properties.insert_value("count", &i64::from(count).to_variant());
        properties.insert_value("count-visible", &(count > 0).to_variant());
        let app_uri = format!("application://{APP_ID}.desktop");
        // (sa{sv}): a tuple with the dict itself, not boxed in a variant.
        let parameters = glib::Variant::tuple_from_iter([app_uri.to_variant(), properties.end()]);
        let path = self
            .dbus_object_path()
            .map_or_else(|| "/".to_owned(), |path| path.to_string());
        if let Err(err) = connection.emit_signal(
            None,
            &path,
            "com.canonical.Unity.LauncherEntry",
            "Update",
            Some(&parameters),
        ) {
            log::debug!("cannot update the launcher count: {err}");
        }
    }

    /// A notification was clicked: its window, on its conversation.
    fn show_conversation(&self, window_id: u32, key: &str) {
        let window = self
            .window_by_id(window_id)
            .and_then(|window| window.downcast::<TcpChatWindow>().ok());
        let conversation = super::model::ConversationId::from_key(key);
        match (window, conversation) {
            (Some(window), Some(conversation)) => window.present_conversation(&conversation),
            // The window is gone: at least bring the app up.
            _ => self.main_window().present(),
        }
    }

    /// Closing windows lets each tell the network thread to shut down.
    fn quit_all(&self) {
        for window in self.windows() {
            match window.downcast::<TcpChatWindow>() {
                Ok(window) => window.close_for_good(),
                Err(window) => window.close(),
            }
        }
        self.quit();
    }

    fn show_preferences(&self) {
        super::preferences::TcpChatPreferences::new(self.active_window().as_ref()).present();
    }

    fn show_about(&self) {
        let about = adw::AboutWindow::builder()
            .application_name(gettext("TCP Chat"))
            .application_icon(APP_ID)
            .version(env!("CARGO_PKG_VERSION"))
            .developer_name(gettext("The TCP Chat developers"))
            .comments(gettext(
                "A chat room for your local network that speaks IRC",
            ))
            .website(env!("CARGO_PKG_HOMEPAGE"))
            .issue_url(concat!(env!("CARGO_PKG_REPOSITORY"), "/issues"))
            .license_type(gtk::License::Gpl30)
            .modal(true)
            .build();
        if let Some(window) = self.active_window() {
            about.set_transient_for(Some(&window));
        }
        about.present();
    }
}

/// GApplication's parsed options as plain data.
fn read_options(dict: &glib::VariantDict) -> Options {
    let string = |key: &str| dict.lookup::<String>(key).ok().flatten();
    Options {
        serve: dict.contains("serve"),
        bind: string("bind"),
        port: string("port"),
        room: string("room"),
        password: string("password"),
        password_file: string("password-file"),
        password_env: std::env::var(launch::PASSWORD_ENV).ok(),
        max_clients: string("max-clients"),
        max_per_address: string("max-per-address"),
        no_flood_control: dict.contains("no-flood-control"),
        history: string("history"),
        state_dir: string("state-dir"),
        tls_only: dict.contains("tls-only"),
        no_announce: dict.contains("no-announce"),
        server_name: string("server-name"),
        motd: string("motd"),
        host: dict.contains("host"),
        connect: string("connect"),
        nick: string("nick"),
        links: dict
            .lookup::<Vec<String>>(glib::OPTION_REMAINING.as_str())
            .ok()
            .flatten()
            .unwrap_or_default(),
    }
}

/// `--serve`: the host alone, until SIGINT/SIGTERM.
fn serve(options: &Options) -> glib::ExitCode {
    let config = match launch::serve_config(options) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tcp-chat: {message}");
            return glib::ExitCode::new(2);
        }
    };
    match crate::server::run_headless(config) {
        Ok(()) => glib::ExitCode::SUCCESS,
        Err(err) => {
            log::error!("{err:#}");
            glib::ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default level.
fn init_logging(default_level: &str) {
    let _ =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
            .try_init();
    crate::i18n::log_setup();
}
