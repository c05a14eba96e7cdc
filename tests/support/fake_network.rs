//! A window wired to fake channels: the test plays the network thread.
//! Shared by the GUI tests and the ingest benchmark.

use std::time::{Duration, Instant};

use gtk::prelude::*;
use tcp_chat::network::{Command, Event, NetworkHandle};
use tcp_chat::ui::TcpChatWindow;

pub struct FakeNetwork {
    pub window: TcpChatWindow,
    pub commands: async_channel::Receiver<Command>,
    pub events: async_channel::Sender<Event>,
}

/// GTK, libadwaita and our resources, once per process, with settings kept
/// in memory so tests never touch the user's.
pub fn init() {
    std::env::set_var("GSETTINGS_BACKEND", "memory");
    gtk::init().expect("GTK needs a display: run under xvfb-run");
    adw::init().expect("libadwaita");
    tcp_chat::ui::register_resources();
    // What AdwApplication loads by convention from the resource base path.
    let css = gtk::CssProvider::new();
    css.load_from_resource(&format!("{}/style.css", tcp_chat::ui::RESOURCE_BASE));
    #[allow(deprecated)]
    gtk::style_context_add_provider_for_display(
        &gtk::gdk::Display::default().expect("a display"),
        &css,
        gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
    );
}

impl FakeNetwork {
    pub fn new() -> Self {
        let (command_sender, commands) = async_channel::unbounded();
        let (events, event_receiver) = async_channel::unbounded();
        let network = NetworkHandle {
            commands: command_sender,
            events: event_receiver,
        };
        let window = TcpChatWindow::new(None::<&gtk::Application>, network);
        window.set_default_size(900, 640);
        window.present();
        let fake = FakeNetwork {
            window,
            commands,
            events,
        };
        fake.settle();
        fake
    }

    /// Sends `events` as the network thread would, then waits until the
    /// window has applied them all.
    pub fn feed(&self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            self.events.send_blocking(event).unwrap();
        }
        self.settle();
    }

    /// Runs the main loop until the window has taken every queued event
    /// and nothing is left to do right now. Fails instead of hanging.
    pub fn settle(&self) {
        let context = glib::MainContext::default();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            while context.iteration(false) {
                assert!(Instant::now() < deadline, "the main loop never went idle");
            }
            if self.events.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the window did not take its events"
            );
            context.iteration(true);
        }
    }

    /// Every command the window sent since the last call.
    pub fn sent(&self) -> Vec<Command> {
        std::iter::from_fn(|| self.commands.try_recv().ok()).collect()
    }

    pub fn close(self) {
        self.window.destroy();
        self.settle();
    }
}

/// Lets the window draw for a moment (screenshots only; never used to
/// wait for something a test asserts).
pub fn let_it_draw(duration: Duration) {
    let context = glib::MainContext::default();
    let until = Instant::now() + duration;
    while Instant::now() < until {
        if !context.iteration(false) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
