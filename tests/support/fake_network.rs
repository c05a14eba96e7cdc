//! GTK bootstrapping for the GUI tests (fake and real network) and the
//! ingest benchmark, and a window wired to fake channels: the test plays
//! the network thread.
#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
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
/// Dispatches in a row after which [`FakeNetwork::settle`] stops waiting
/// for an idle main loop.
const BUSY_ENOUGH: u32 = 1_000;

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
        Self::in_application(None)
    }

    /// A window of `application` (which must be registered), so it can
    /// send desktop notifications.
    pub fn in_application(application: Option<&gtk::Application>) -> Self {
        let (command_sender, commands) = async_channel::unbounded();
        let (events, event_receiver) = async_channel::unbounded();
        let network = NetworkHandle {
            commands: command_sender,
            events: event_receiver,
        };
        let window = TcpChatWindow::new(application, network);
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

    /// Joins `#chat` at `address` as alice, with `members` in the room, as
    /// a person would from the command line; forgets what was sent.
    pub fn join_as_alice(&self, address: &str, members: &[&str]) {
        self.window.launch(tcp_chat::ui::launch::Launch::Connect {
            address: address.into(),
            nick: Some("alice".into()),
            room: Some("#chat".into()),
        });
        self.feed([
            Event::Connected {
                server: "pc.local:6667".into(),
                nick: "alice".into(),
                room: "#chat".into(),
            },
            Event::Members {
                room: "#chat".into(),
                ranks: Vec::new(),
                nicks: members.iter().map(|nick| (*nick).to_owned()).collect(),
            },
        ]);
        self.sent();
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
            // A spinner or a popover in motion keeps a frame always due, and
            // on a loaded machine (software rendering under Xvfb) the loop
            // may never look idle: that many dispatches in a row is settled
            // enough once every event is taken.
            let mut dispatched = 0;
            while dispatched < BUSY_ENOUGH && context.iteration(false) {
                dispatched += 1;
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

/// A shown window driven by `network`, `width`×`height` pixels.
pub fn open_window(network: NetworkHandle, width: i32, height: i32) -> TcpChatWindow {
    let window = TcpChatWindow::new(None::<&gtk::Application>, network);
    window.set_default_size(width, height);
    window.present();
    window
}

/// How long [`wait_until`] waits before failing the test.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Runs the main loop until `done()` holds; fails naming `what` after
/// [`TIMEOUT`]. Work from other threads wakes the loop (channel sends,
/// `MainContext::wakeup`); a heartbeat makes sure the deadline is checked
/// even when nothing happens.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let context = glib::MainContext::default();
    let heartbeat =
        glib::timeout_add_local(Duration::from_millis(100), || glib::ControlFlow::Continue);
    let deadline = Instant::now() + TIMEOUT;
    let mut met = done();
    while !met && Instant::now() < deadline {
        context.iteration(true);
        met = done();
    }
    heartbeat.remove();
    assert!(met, "timed out waiting for {what}");
}

/// Runs the named `cases` in order (those matching a command-line filter,
/// if any are given), each caught so one failure does not hide the rest.
pub fn run_cases(cases: &[(&str, fn())]) -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if !filters.is_empty() && !filters.iter().any(|filter| name.contains(filter.as_str())) {
            continue;
        }
        match catch_unwind(AssertUnwindSafe(case)) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
                close_every_window();
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Closes what a failed case left open, so that the next cases (which
/// find the window by its title for real key presses) meet only their own.
fn close_every_window() {
    for window in gtk::Window::list_toplevels() {
        if let Ok(window) = window.downcast::<gtk::Window>() {
            window.destroy();
        }
    }
    let context = glib::MainContext::default();
    for _ in 0..1_000 {
        if !context.iteration(false) {
            break;
        }
    }
}

/// Waits for the question dialog (`what`, for messages) and clicks `button`
/// as a person would; the dialog then closes itself. It is let go of before
/// its window goes.
pub fn answer_dialog(what: &str, button: &str) {
    let mut dialog = None;
    wait_until(&format!("the {what} dialog"), || {
        dialog = gtk::Window::list_toplevels()
            .into_iter()
            .find_map(|window| window.downcast::<adw::MessageDialog>().ok());
        dialog.is_some()
    });
    let dialog = dialog.take().unwrap();
    click_button_labelled(dialog.upcast_ref(), button);
}

/// Clicks the button with this label somewhere inside `root`.
pub fn click_button_labelled(root: &gtk::Widget, label: &str) {
    let mut pending = vec![root.clone()];
    while let Some(widget) = pending.pop() {
        if let Some(button) = widget.downcast_ref::<gtk::Button>() {
            if button.label().as_deref() == Some(label) {
                button.emit_clicked();
                return;
            }
        }
        let mut child = widget.first_child();
        while let Some(widget) = child {
            child = widget.next_sibling();
            pending.push(widget);
        }
    }
    panic!("no button labelled {label:?}");
}

/// Waits until `widget`'s window has painted a frame: from then on it is
/// on the X screen, where real pointer events (xdotool) can reach it.
/// (Without a window manager nothing else tells; a click sent before the
/// first frame is lost.)
#[allow(dead_code)]
pub fn wait_until_painted(widget: &impl IsA<gtk::Widget>) {
    let widget = widget.upcast_ref::<gtk::Widget>();
    wait_until("the window to be realized", || {
        widget.frame_clock().is_some()
    });
    let Some(clock) = widget.frame_clock() else {
        return;
    };
    let painted = std::rc::Rc::new(std::cell::Cell::new(false));
    let handler = clock.connect_after_paint({
        let painted = painted.clone();
        move |_| painted.set(true)
    });
    widget.queue_draw();
    wait_until("a frame to be painted", || painted.get());
    clock.disconnect(handler);
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
