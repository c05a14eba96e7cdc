//! Desktop notifications and the launcher count, against fake desktop
//! services on a private session bus (`dbus-run-session`, started by the
//! test itself). The window belongs to a registered TcpChatApplication, so
//! GApplication's own notification backend talks to the fake server.
//! Run under Xvfb: `xvfb-run -a cargo test --test gui_notify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/desktop_bus.rs"]
mod desktop_bus;
#[path = "support/fake_network.rs"]
mod fake_network;

use std::rc::Rc;

use adw::prelude::*;
use desktop_bus::DesktopBus;
use fake_network::{answer_dialog, wait_until, FakeNetwork};
use gtk::gio;
use tcp_chat::api::LineMeta;
use tcp_chat::network::{Command, Event};
use tcp_chat::ui::preferences::TcpChatPreferences;
use tcp_chat::ui::TcpChatApplication;

thread_local! {
    static DESKTOP: std::cell::OnceCell<(Rc<DesktopBus>, TcpChatApplication)> =
        const { std::cell::OnceCell::new() };
}

/// The fake desktop and the registered app, one per process (an
/// application id registers once per bus connection).
fn desktop() -> (Rc<DesktopBus>, TcpChatApplication) {
    DESKTOP.with(|desktop| {
        desktop
            .get_or_init(|| {
                let bus = Rc::new(DesktopBus::start());
                bus.serve_a11y_status();
                let app = TcpChatApplication::new();
                app.register(None::<&gio::Cancellable>)
                    .expect("the app registers on the private bus");
                (bus, app)
            })
            .clone()
    })
}

fn said(from: &str, text: &str, private: bool) -> Event {
    Event::Message {
        from: from.into(),
        target: if private { "alice" } else { "#chat" }.into(),
        text: text.into(),
        own: false,
        private,
        meta: LineMeta::default(),
    }
}

/// Each notification's summary and body.
fn summaries(shown: &[desktop_bus::Shown]) -> Vec<(&str, &str)> {
    shown
        .iter()
        .map(|n| (n.summary.as_str(), n.body.as_str()))
        .collect()
}

fn joined(fake: &FakeNetwork) {
    fake.join_as_alice("pc.local:6667", &["alice", "bob", "carol"]);
}

/// Gives the X input focus to the window titled `title` (there is no
/// window manager under Xvfb to do it).
fn focus_window_titled(title: &str) {
    let status = std::process::Command::new("xdotool")
        .args(["search", "--name", title, "windowfocus"])
        .status()
        .expect("xdotool is installed");
    assert!(status.success(), "xdotool found no window titled {title:?}");
}

/// Another window takes the focus.
fn look_away(fake: &FakeNetwork, elsewhere: &gtk::Window) {
    elsewhere.present();
    fake.settle();
    focus_window_titled("^Elsewhere$");
    wait_until("the chat window to lose focus", || !fake.window.is_active());
    fake.settle();
}

fn come_back(fake: &FakeNetwork) {
    focus_window_titled("TCP Chat$");
    wait_until("the chat window to get focus", || fake.window.is_active());
    fake.settle();
}

/// The fake desktop, a window of the registered app in `#chat` with the
/// person looking at it, and another window to look away to.
fn in_the_room() -> (Rc<DesktopBus>, FakeNetwork, gtk::Window) {
    let (bus, app) = desktop();
    let fake = FakeNetwork::in_application(Some(app.upcast_ref()));
    let elsewhere = gtk::Window::builder().title("Elsewhere").build();
    joined(&fake);
    come_back(&fake);
    (bus, fake, elsewhere)
}

fn notifications_follow_what_is_meant_for_you() {
    let (bus, fake, elsewhere) = in_the_room();

    // The person looks away; a mention and a private line notify.
    look_away(&fake, &elsewhere);
    fake.feed([
        said("bob", "the weather is nice", false),
        said("bob", "alice: lunch?", false),
        said("carol", "psst", true),
    ]);
    wait_until("two notifications", || bus.shown().len() >= 2);
    let shown = bus.shown();
    assert_eq!(
        summaries(&shown),
        [
            ("bob in #chat", "alice: lunch?"),
            ("carol (private)", "psst")
        ],
        "chatter does not notify; the mention and the private line do"
    );
    let (mention_id, carol_id) = (shown[0].id, shown[1].id);
    wait_until("the launcher to count 2", || {
        bus.launcher_count() == Some(2)
    });
    assert!(fake.window.title().unwrap().starts_with("(2) "));

    // A burst from carol is one notification that updates.
    fake.feed((1..=5).map(|n| said("carol", &format!("burst {n}"), true)));
    wait_until("the burst's updates", || bus.shown().len() >= 7);
    let shown = bus.shown();
    assert!(
        shown[2..].iter().all(|n| n.id == carol_id),
        "every update replaces carol's notification: {shown:?}"
    );
    assert_eq!(shown.last().unwrap().body, "burst 5");

    // Clicking carol's notification shows her conversation, read.
    bus.click(carol_id);
    wait_until("carol's conversation", || {
        fake.window.window_title().title() == "carol"
    });
    assert!(
        fake.window
            .private_log("carol")
            .unwrap()
            .has_unread_divider(),
        "where her unread lines begin is marked"
    );
    // The window manager focuses the presented window (by hand here); the
    // notification server closed the clicked one itself.
    come_back(&fake);
    assert_eq!(fake.window.conversation_rows()[1].badge_text(), None);
    assert!(
        !bus.closed().contains(&mention_id),
        "the room is not read yet"
    );
    // Back in the room: the mention is read too.
    fake.window
        .show_conversation(&tcp_chat::ui::model::ConversationId::Room);
    fake.settle();
    wait_until("the mention withdrawn", || {
        bus.closed().contains(&mention_id)
    });
    wait_until("the launcher to count 0", || {
        bus.launcher_count() == Some(0)
    });

    // While the person reads the window, nothing notifies: the next
    // notification after these lines is the private one sent away.
    let before = bus.shown().len();
    fake.feed([said("bob", "alice: still there?", false)]);
    look_away(&fake, &elsewhere);
    fake.feed([said("dave", "are you back?", true)]);
    wait_until("dave's notification", || bus.shown().len() > before);
    assert_eq!(bus.shown()[before].summary, "dave (private)");
    assert_eq!(bus.shown().len(), before + 1);

    // Preferences: "Off" silences even private lines; "All Messages"
    // notifies chatter too.
    let preferences = TcpChatPreferences::new(None);
    assert_eq!(preferences.notification_choice(), Some("mentions"));
    preferences.choose_notifications("off");
    fake.settle();
    assert_eq!(preferences.notification_choice(), Some("off"));
    let before = bus.shown().len();
    fake.feed([said("erin", "hello?", true)]);
    preferences.choose_notifications("all");
    fake.settle();
    fake.feed([said("bob", "nice weather", false)]);
    wait_until("the chatter's notification", || bus.shown().len() > before);
    assert_eq!(bus.shown()[before].body, "nice weather");
    assert_eq!(bus.shown().len(), before + 1, "erin's line did not notify");
    preferences.choose_notifications("mentions");
    preferences.destroy();

    elsewhere.destroy();
    fake.close();
}

/// A screen reader does not say a line arriving in the log: while one
/// runs, a mention and a private line notify though the window has the
/// focus (chatter does not), and the mention is withdrawn once the room is
/// read again.
fn a_screen_reader_hears_what_is_meant_for_you_in_the_focused_window() {
    let (bus, fake, elsewhere) = in_the_room();
    let (_, app) = desktop();
    // No screen reader yet: the next notification after this line is one
    // sent with a screen reader running.
    let before = bus.shown().len();
    fake.feed([said("bob", "alice: before", false)]);
    bus.set_screen_reader(true);
    wait_until("the window to hear of the screen reader", || {
        fake.window.screen_reader_running()
    });
    fake.feed([
        said("bob", "the weather is nice", false),
        said("bob", "alice: lunch?", false),
        said("carol", "psst", true),
    ]);
    wait_until("two notifications", || bus.shown().len() >= before + 2);
    let shown = bus.shown();
    assert_eq!(
        summaries(&shown[before..]),
        [
            ("bob in #chat", "alice: lunch?"),
            ("carol (private)", "psst")
        ]
    );
    let mention_id = shown[before].id;
    bus.replies_reached(app.upcast_ref());
    assert!(!bus.closed().contains(&mention_id));
    // Read again (the window back in focus): the mention goes.
    look_away(&fake, &elsewhere);
    come_back(&fake);
    wait_until("the mention withdrawn", || {
        bus.closed().contains(&mention_id)
    });
    bus.set_screen_reader(false);
    wait_until("the window to hear the screen reader stopped", || {
        !fake.window.screen_reader_running()
    });
    elsewhere.destroy();
    fake.close();
}

fn a_crowd_of_strangers_is_not_a_crowd_of_notifications() {
    let (bus, fake, elsewhere) = in_the_room();
    look_away(&fake, &elsewhere);
    let before = bus.shown().len();
    fake.feed((0..30).map(|n| said(&format!("guest{n}"), "hello", true)));
    // guest0 again updates a notification already shown: it comes after
    // every one the window let through, so its arrival ends the count.
    fake.feed([said("guest0", "still there?", true)]);
    wait_until("guest0's update", || {
        bus.shown()
            .iter()
            .skip(before)
            .any(|n| n.body == "still there?")
    });
    let shown: Vec<String> = bus.shown()[before..]
        .iter()
        .map(|n| n.summary.clone())
        .collect();
    assert_eq!(
        shown.len(),
        21,
        "20 notifications and one update: {shown:?}"
    );
    assert!(!shown.contains(&"guest20 (private)".to_owned()));
    // The sidebar still counts them all.
    assert_eq!(fake.window.conversation_rows().len(), 31);
    elsewhere.destroy();
    fake.close();
}

fn a_hosted_room_can_stay_open_in_the_background() {
    let (bus, app) = desktop();
    let fake = FakeNetwork::in_application(Some(app.upcast_ref()));
    fake.window.launch(tcp_chat::ui::launch::Launch::Host {
        port: 6667,
        nick: Some("alice".into()),
        room: Some("#chat".into()),
    });
    fake.feed([
        Event::Hosting {
            port: 6667,
            addresses: Vec::new(),
            fingerprint: None,
        },
        Event::Connected {
            server: "localhost:6667".into(),
            nick: "alice".into(),
            room: "#chat".into(),
        },
        Event::Members {
            room: "#chat".into(),
            ranks: Vec::new(),
            nicks: vec!["alice".into(), "bob".into()],
        },
    ]);
    fake.sent();
    let before = bus.shown().len();

    fake.window.close();
    answer_dialog("Keep the Room Open", "_Keep Open");
    fake.settle();
    assert!(!fake.window.is_visible(), "the window hides");
    assert!(fake.window.hosting_in_background());
    assert!(
        fake.sent().is_empty(),
        "the room stays open: {:?}",
        fake.sent()
    );
    wait_until("the still-hosting notification", || {
        bus.shown().len() > before
    });
    let hosting = bus.shown()[before].clone();
    assert_eq!(hosting.summary, "Still hosting #chat");
    bus.replies_reached(app.upcast_ref());

    // Launching the app again brings the window back.
    app.activate();
    fake.settle();
    assert!(fake.window.is_visible());
    wait_until("the still-hosting notification withdrawn", || {
        bus.closed().contains(&hosting.id)
    });

    // This time the room closes with the window.
    fake.window.close();
    answer_dialog("Keep the Room Open", "_Close Room");
    fake.settle();
    assert_eq!(fake.sent(), [Command::Shutdown]);
    fake.close();
}

fn main() -> std::process::ExitCode {
    if let Some(code) = desktop_bus::on_private_bus() {
        return code;
    }
    // No AT-SPI bus launcher: the fake desktop serves its screen reader
    // status (org.a11y.Bus) instead.
    std::env::set_var("GTK_A11Y", "none");
    fake_network::init();
    fake_network::run_cases(&[
        (
            "notifications_follow_what_is_meant_for_you",
            notifications_follow_what_is_meant_for_you,
        ),
        (
            "a_crowd_of_strangers_is_not_a_crowd_of_notifications",
            a_crowd_of_strangers_is_not_a_crowd_of_notifications,
        ),
        (
            "a_hosted_room_can_stay_open_in_the_background",
            a_hosted_room_can_stay_open_in_the_background,
        ),
        (
            "a_screen_reader_hears_what_is_meant_for_you_in_the_focused_window",
            a_screen_reader_hears_what_is_meant_for_you_in_the_focused_window,
        ),
    ])
}
