//! What a screen reader finds in the window: the real window's AT-SPI tree,
//! walked by `tests/support/atspi_names.py` (pyatspi, from Debian's
//! python3-pyatspi) in the welcome, Host form, in-room and Room Details
//! states. Every
//! interactive element must have a human name: not none, not a GTK class
//! name, not a mnemonic underscore. The test re-runs itself on a private
//! session bus (`dbus-run-session`), where the bus starts the AT-SPI bus
//! (at-spi2-core) the window registers on.
//! Run under Xvfb: `xvfb-run -a cargo test --test a11y`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/desktop_bus.rs"]
mod desktop_bus;
#[path = "support/fake_network.rs"]
mod fake_network;

use std::process::{Command as Process, Stdio};

use fake_network::{wait_until, FakeNetwork};
use gtk::prelude::*;
use tcp_chat::api::{LineMeta, Rank};
use tcp_chat::network::Event;
use tcp_chat::ui::actions::WinAction;
use tcp_chat::ui::join_form::FormField;

/// The name the window's process has on the AT-SPI bus.
const PROGRAM: &str = "tcp-chat-a11y-test";

/// Walks the tree while the main loop runs (the window answers every
/// query), and returns what the walker printed: "role\tname" lines.
/// Fails with the walker's list when an element is badly named.
fn walk(state: &str) -> String {
    walk_reading(state, None)
}

/// [`walk`], also printing "line\ttext" for each line of the text of the
/// elements named `text_of`, as a screen reader reads it.
fn walk_reading(state: &str, text_of: Option<&str>) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/atspi_names.py");
    // Debian's interpreter, where python3-pyatspi installs (not a pyenv one).
    let mut walker = Process::new("/usr/bin/python3")
        .args([script, PROGRAM])
        .args(text_of)
        .stdout(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 runs");
    let mut status = None;
    wait_until(&format!("the AT-SPI walk of the {state} state"), || {
        status = walker.try_wait().expect("the walker can be waited for");
        status.is_some()
    });
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut walker.stdout.take().unwrap(), &mut printed).unwrap();
    assert!(
        status.unwrap().success(),
        "{state}: elements without a human name:\n{printed}"
    );
    printed
}

/// Whether `tree` lists an element of `role` named `name` (whatever its
/// description).
fn has(tree: &str, role: &str, name: &str) -> bool {
    let named = format!("{role}\t{name}");
    tree.lines()
        .any(|line| line == named || line.starts_with(&format!("{named}\t")))
}

fn every_control_is_named() {
    let fake = FakeNetwork::new();
    let welcome = walk("welcome");
    for (role, name) in [
        ("push button", "Host a Room"),
        ("push button", "Join a Room"),
        ("push button", "Main Menu"),
    ] {
        assert!(has(&welcome, role, name), "{role} {name:?} in:\n{welcome}");
    }
    WidgetExt::activate_action(&fake.window, WinAction::Host.detailed(), None).unwrap();
    fake.settle();
    let form = walk("host form");
    assert!(has(&form, "push button", "Open Room"), "{form}");
    let host = fake.window.host_form();
    host.set_field(FormField::Nick, "alice");
    host.submit_button().emit_clicked();
    fake.settle();
    // Not walked while connecting: GTK 4.8 lists every page of a stack, so
    // its Cancel is checked in every walk, and while the spinner turns each
    // AT-SPI query waits about half a second (a walk takes some 15 s).
    assert_eq!(fake.window.visible_page().as_deref(), Some("connecting"));
    fake.feed([
        Event::Hosting {
            port: 6667,
            addresses: vec!["192.0.2.5:6667".parse().unwrap()],
            fingerprint: None,
        },
        Event::Connected {
            server: "localhost:6667".into(),
            nick: "alice".into(),
            room: "#chat".into(),
        },
        Event::Members {
            room: "#chat".into(),
            ranks: vec![
                ("alice".into(), Rank::Operator),
                ("dan".into(), Rank::Voiced),
            ],
            nicks: vec!["alice".into(), "bob".into(), "dan".into()],
        },
        Event::Message {
            from: "carol".into(),
            target: "alice".into(),
            text: "psst".into(),
            own: false,
            private: true,
            meta: LineMeta::default(),
        },
        Event::Message {
            from: "bob".into(),
            target: "#chat".into(),
            text: "alice: lunch?".into(),
            own: false,
            private: false,
            meta: LineMeta::default(),
        },
    ]);
    fake.window.set_show_members(true);
    fake.settle();
    let room = walk_reading("room", Some("Messages"));
    // The line that names alice says so in words, not only by its tint.
    assert!(
        room.lines().any(
            |line| line.starts_with("line\t") && line.ends_with("  For you: bob alice: lunch?")
        ),
        "{room}"
    );
    for (role, name) in [
        ("push button", "Leave"),
        ("push button", "Send"),
        ("push button", "Show Members"),
        ("push button", "Copy Room Address"),
    ] {
        assert!(has(&room, role, name), "{role} {name:?} in:\n{room}");
    }
    // The members button's description says how many are in the room.
    assert!(
        room.lines()
            .any(|line| line == "push button\tShow Members\t3 people in the room (F9)"),
        "{room}"
    );
    // Rows are named by what they show, their marks in words.
    for (role, name) in [
        ("list", "Members"),
        ("list item", "alice, Operator"),
        ("list item", "dan, Voiced"),
        ("list item", "bob"),
        ("list", "Conversations"),
        ("list item", "#chat"),
        ("list item", "carol, 1 unread"),
    ] {
        assert!(has(&room, role, name), "{role} {name:?} in:\n{room}");
    }
    // Room Details, as the room's operator sees it: every setting named,
    // and its responses by what they show (not "_Cancel Cancel").
    WidgetExt::activate_action(&fake.window, WinAction::RoomDetails.detailed(), None).unwrap();
    fake.settle();
    let details = walk("room details");
    for (role, name) in [
        ("text", "Topic"),
        ("list", "Room Details"),
        ("check box", "Only operators can change the topic"),
        ("check box", "Moderated"),
        ("check box", "Invitation only"),
        ("password text", "Password"),
        ("spin button", "Member limit"),
        ("push button", "Cancel"),
        ("push button", "Apply"),
    ] {
        assert!(has(&details, role, name), "{role} {name:?} in:\n{details}");
    }
    for window in gtk::Window::list_toplevels() {
        if let Some(dialog) = window.downcast_ref::<adw::MessageDialog>() {
            GtkWindowExt::close(dialog);
        }
    }
    // Kick…: the reason's entry is named, not only its placeholder.
    WidgetExt::activate_action(
        &fake.window,
        WinAction::KickMember.detailed(),
        Some(&"bob".to_variant()),
    )
    .unwrap();
    fake.settle();
    let kick = walk("kick dialog");
    assert!(has(&kick, "text", "Reason (optional)"), "{kick}");
    assert!(has(&kick, "push button", "Kick"), "{kick}");
    fake.close();
}

fn main() -> std::process::ExitCode {
    if let Some(code) = desktop_bus::on_private_bus() {
        return code;
    }
    glib::set_prgname(Some(PROGRAM));
    fake_network::init();
    fake_network::run_cases(&[("every_control_is_named", every_control_is_named)])
}
