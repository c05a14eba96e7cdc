//! GUI tests: the real window, driven like a person would, against a fake
//! network. GTK lives on one thread, so this binary has its own `main` that
//! runs the cases in order. Run under Xvfb: `xvfb-run -a cargo test --test gui`.
//! With `TCP_CHAT_SHOTS=DIR` it also saves screenshots of the main states.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_network.rs"]
mod fake_network;

use std::net::SocketAddr;
use std::time::Duration;

use adw::prelude::*;
use fake_network::FakeNetwork;
use tcp_chat::api::{
    ExpectedIdentity, Fingerprint, HistoryKind, LineMeta, MemberMode, NearbyRoom, Presence, Rank,
    RoomModeChange, RoomModes, Security, Trust, TypingState,
};
use tcp_chat::network::{
    Command, ConnectRequest, DisconnectReason, Event, HostError, HostRequest, NetworkHandle,
};
use tcp_chat::ui::actions::WinAction;
use tcp_chat::ui::join_form::FormField;
use tcp_chat::ui::launch::Launch;
use tcp_chat::ui::window::Phase;

/// Joined by a link: the header must show the session's `host:port`,
/// not the link as typed.
fn connected(fake: &FakeNetwork) {
    fake.join_as_alice("irc://pc.local:6667/%23chat", &["alice", "bob"]);
}

fn message(from: &str, text: &str) -> Event {
    Event::Message {
        from: from.into(),
        target: "#chat".into(),
        text: text.into(),
        own: from == "alice",
        private: false,
        meta: LineMeta::default(),
    }
}

fn private_from(from: &str, text: &str) -> Event {
    Event::Message {
        from: from.into(),
        target: "alice".into(),
        text: text.into(),
        own: false,
        private: true,
        meta: LineMeta::default(),
    }
}

fn activate(fake: &FakeNetwork, action: WinAction) {
    WidgetExt::activate_action(&fake.window, action.detailed(), None).unwrap();
    fake.settle();
}

fn type_and_send(fake: &FakeNetwork, text: &str) {
    let entry = fake.window.message_entry();
    entry.set_text(text);
    entry.emit_activate();
    fake.settle();
}

fn entry_has_focus(fake: &FakeNetwork) -> bool {
    let entry = fake.window.message_entry();
    GtkWindowExt::focus(&fake.window)
        .is_some_and(|focus| focus.is_ancestor(&entry) || focus == entry)
}

/// The middle of `widget` in screen pixels, as xdotool takes them (the
/// window sits at the screen's origin: Xvfb has no window manager).
fn centre_of(fake: &FakeNetwork, widget: &gtk::Widget) -> (String, String) {
    let bounds = widget
        .compute_bounds(&fake.window)
        .expect("the widget is shown");
    let x = bounds.x() + bounds.width() / 2.0;
    let y = bounds.y() + bounds.height() / 2.0;
    ((x as i32).to_string(), (y as i32).to_string())
}

/// Scrolls the wheel up over the middle of `widget` with xdotool.
fn wheel_up_over(fake: &FakeNetwork, widget: &gtk::Widget) {
    let (x, y) = centre_of(fake, widget);
    let status = std::process::Command::new("xdotool")
        // Move in from elsewhere, so the window sees the pointer enter.
        .args(["mousemove", "1", "1", "mousemove", &x, &y])
        .args(["click", "--repeat", "5", "4"])
        .status()
        .expect("xdotool is installed");
    assert!(status.success());
}

fn shot(name: &str) {
    let Ok(dir) = std::env::var("TCP_CHAT_SHOTS") else {
        return;
    };
    fake_network::let_it_draw(Duration::from_millis(600));
    let path = format!("{dir}/{name}.png");
    let status = std::process::Command::new("import")
        .args(["-window", "root", &path])
        .status();
    assert!(
        status.is_ok_and(|status| status.success()),
        "import failed for {path}"
    );
}

// ----- Cases ---------------------------------------------------------------

fn welcome_page_before_joining() {
    let fake = FakeNetwork::new();
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    assert!(fake.window.host_button().is_visible());
    assert!(fake.window.connect_button().is_visible());
    assert!(!fake.window.send_button().is_sensitive());
    shot("1-welcome");
    fake.close();
}

fn host_form_sends_host() {
    let fake = FakeNetwork::new();
    activate(&fake, WinAction::Host);
    fake.settle();
    assert!(fake.window.host_button().popover().unwrap().is_visible());
    let form = fake.window.host_form();
    form.set_field(FormField::Nick, "alice");
    form.set_field(FormField::Port, "70000");
    assert!(
        !form.submit_button().is_sensitive(),
        "a port above 65535 must not be accepted"
    );
    form.set_field(FormField::Port, "7000");
    form.set_field(FormField::Room, "games");
    assert!(!form.password_note().get_visible());
    // A password, while plain-text guests may join: the host is warned.
    form.set_field(FormField::Password, "s3cret");
    assert!(form.password_note().get_visible());
    shot("2-host-popover");
    form.encrypted_only_switch().set_active(true);
    assert!(!form.password_note().get_visible());
    form.submit_button().emit_clicked();
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::Host(HostRequest {
            nick: "alice".into(),
            port: 7000,
            room: "#games".into(),
            password: Some("s3cret".into()),
            encrypted_only: true,
        })]
    );
    assert_eq!(fake.window.visible_page().as_deref(), Some("connecting"));
    assert!(
        !fake.window.host_button().is_visible(),
        "Host hides while connecting"
    );
    assert_eq!(fake.window.window_title().title(), "#games");
    fake.close();
}

fn connect_form_sends_connect_with_password() {
    let fake = FakeNetwork::new();
    let form = fake.window.connect_form();
    form.set_field(FormField::Address, " irc://pc:6668/#x ");
    form.set_field(FormField::Nick, "bob");
    form.set_field(FormField::Room, "#chat");
    form.set_field(FormField::Password, "s3cret");
    form.submit_button().emit_clicked();
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::Connect(ConnectRequest {
            address: "irc://pc:6668/#x".into(),
            nick: "bob".into(),
            room: "#chat".into(),
            password: Some("s3cret".into()),
            identity: ExpectedIdentity::Unknown,
        })]
    );
    fake.close();
}

fn room_shows_title_members_and_log() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([
        message("bob", "hi there, see https://gnome.org"),
        message("alice", "hello bob"),
        Event::Action {
            from: "bob".into(),
            target: "#chat".into(),
            text: "waves".into(),
            own: false,
            meta: LineMeta::default(),
        },
        Event::Joined {
            nick: "carol".into(),
            room: "#chat".into(),
            own: false,
        },
        Event::Topic {
            room: "#chat".into(),
            topic: "Friday plans".into(),
            set_by: Some("bob".into()),
        },
    ]);
    let window = &fake.window;
    assert_eq!(window.visible_page().as_deref(), Some("room"));
    assert_eq!(window.window_title().title(), "#chat");
    assert_eq!(
        window.window_title().subtitle(),
        "alice · connected to pc.local:6667"
    );
    assert_eq!(window.member_count(), "3");
    assert_eq!(window.member_list().nicks(), ["alice", "bob", "carol"]);
    let log = window.chat_log().text();
    for expected in [
        "bob hi there, see https://gnome.org",
        "alice hello bob",
        "* bob waves",
        "carol joined #chat",
        "bob set the topic: Friday plans",
    ] {
        assert!(
            log.contains(expected),
            "{expected:?} missing from the log:\n{log}"
        );
    }
    assert!(!window.host_button().is_visible());
    assert!(
        window.show_members(),
        "a wide window shows the members from the start"
    );
    shot("3-room");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    fake.settle();
    shot("4-room-dark");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    activate(&fake, WinAction::ShowMembers);
    assert!(!fake.window.show_members(), "the toggle hides them");
    fake.close();
}

fn members_follow_parts_quits_and_renames() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([
        Event::Joined {
            nick: "carol".into(),
            room: "#chat".into(),
            own: false,
        },
        Event::NickChanged {
            old: "bob".into(),
            new: "Robert".into(),
            own: false,
        },
        Event::Parted {
            nick: "carol".into(),
            room: "#chat".into(),
            reason: Some("bye".into()),
        },
        Event::Joined {
            nick: "dave".into(),
            room: "#chat".into(),
            own: false,
        },
        Event::Quit {
            nick: "dave".into(),
            reason: None,
        },
    ]);
    assert_eq!(fake.window.member_list().nicks(), ["alice", "Robert"]);
    assert_eq!(fake.window.member_count(), "2");
    let log = fake.window.chat_log().text();
    assert!(log.contains("bob is now known as Robert"), "{log}");
    assert!(log.contains("carol left #chat (bye)"), "{log}");
    assert!(log.contains("dave quit"), "{log}");
    fake.close();
}

fn entry_sends_clears_and_keeps_focus() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let send = fake.window.send_button();
    assert!(!send.is_sensitive(), "Send is off while the entry is empty");
    fake.window.message_entry().set_text("   ");
    assert!(!send.is_sensitive(), "Send is off for blanks");
    fake.window.message_entry().set_text("hello");
    assert!(send.is_sensitive());
    type_and_send(&fake, "hello everyone");
    assert_eq!(
        fake.sent(),
        [Command::SendMessage {
            text: "hello everyone".into()
        }]
    );
    assert_eq!(fake.window.message_entry().text(), "");
    assert!(
        entry_has_focus(&fake),
        "the entry keeps focus after sending"
    );
    // The Send button does the same.
    fake.window.message_entry().set_text("via button");
    send.emit_clicked();
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::SendMessage {
            text: "via button".into()
        }]
    );
    fake.close();
}

fn slash_commands_become_commands() {
    let fake = FakeNetwork::new();
    connected(&fake);
    type_and_send(&fake, "/nick alicia");
    type_and_send(&fake, "/me waves");
    type_and_send(&fake, "/msg bob psst");
    type_and_send(&fake, "/topic Lunch");
    type_and_send(&fake, "//slash");
    assert_eq!(
        fake.sent(),
        [
            Command::ChangeNick {
                nick: "alicia".into()
            },
            Command::SendAction {
                to: None,
                text: "waves".into()
            },
            Command::SendPrivate {
                nick: "bob".into(),
                text: "psst".into()
            },
            Command::SetTopic {
                topic: "Lunch".into()
            },
            // `/msg` opened the conversation with bob: lines now go to him.
            Command::SendPrivate {
                nick: "bob".into(),
                text: "/slash".into()
            },
        ]
    );
    fake.close();
}

fn unknown_command_answers_locally() {
    let fake = FakeNetwork::new();
    connected(&fake);
    type_and_send(&fake, "/foo bar");
    assert_eq!(fake.sent(), []);
    assert!(fake
        .window
        .chat_log()
        .text()
        .contains("Unknown command “/foo”"));
    assert_eq!(
        fake.window.message_entry().text(),
        "/foo bar",
        "the mistake stays to be mended"
    );
    type_and_send(&fake, "/help");
    assert_eq!(fake.sent(), []);
    assert!(fake.window.chat_log().text().contains("/msg NICK MESSAGE"));
    fake.close();
}

/// The header's lock and safety code; a host whose certificate changed is
/// refused with both codes, and "Trust New Identity" connects again
/// accepting the new one.
fn encryption_shows_and_a_changed_identity_asks_first() {
    let fake = FakeNetwork::new();
    let first = Fingerprint::of_certificate(b"the host's first certificate");
    let launch = Launch::Connect {
        address: "pc.local:6667".into(),
        nick: Some("alice".into()),
        room: Some("#chat".into()),
    };
    fake.window.launch(launch.clone());
    fake.settle();
    fake.sent();
    assert_eq!(fake.window.security_shown(), None, "nothing known yet");
    fake.feed([Event::Security(Security::Pinned {
        fingerprint: first,
        trust: Trust::FirstUse,
    })]);
    fake.feed([
        Event::Connected {
            server: "pc.local:6667".into(),
            nick: "alice".into(),
            room: "#chat".into(),
        },
        Event::Members {
            room: "#chat".into(),
            ranks: Vec::new(),
            nicks: vec!["alice".into(), "bob".into()],
        },
    ]);
    assert_eq!(
        fake.window.security_shown(),
        Some(("Encrypted — details".to_owned(), Some(first.safety_code())))
    );
    let log = fake.window.chat_log().text();
    assert!(log.contains(&first.safety_code()), "{log}");
    shot("security-header");

    // Later the host shows another certificate: nothing was sent, and the
    // banner gives both codes and asks before trusting it.
    activate(&fake, WinAction::Leave);
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::Left,
    }]);
    fake.sent();
    fake.window.launch(launch);
    fake.settle();
    let request = match fake.sent().as_slice() {
        [Command::Connect(request)] => request.clone(),
        other => panic!("{other:?}"),
    };
    let second = Fingerprint::of_certificate(b"a new certificate");
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::IdentityChanged {
            expected: first,
            presented: second,
        },
    }]);
    let banner = fake.window.banner();
    let message = banner.shown_message().expect("a banner");
    assert!(message.contains(&first.safety_code()), "{message}");
    assert!(message.contains(&second.safety_code()), "{message}");
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("_Trust New Identity")
    );
    shot("identity-changed");
    banner.remedy_button().emit_clicked();
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::Connect(ConnectRequest {
            identity: ExpectedIdentity::Accepted(second),
            ..request
        })]
    );
    fake.feed([Event::Security(Security::Plain)]);
    assert_eq!(
        fake.window
            .security_shown()
            .map(|(tooltip, code)| (tooltip, code.is_some())),
        Some(("Not encrypted — details".to_owned(), false))
    );
    fake.close();
}

fn refused_shows_banner_and_try_again_retries() {
    let fake = FakeNetwork::new();
    connected(&fake);
    activate(&fake, WinAction::Leave);
    fake.settle();
    assert_eq!(fake.sent(), [Command::Leave { message: None }]);
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::Left,
    }]);
    let request = Launch::Connect {
        address: "pc.local:6667".into(),
        nick: Some("alice".into()),
        room: None,
    };
    fake.window.launch(request);
    fake.settle();
    let first = fake.sent();
    assert!(
        matches!(first.as_slice(), [Command::Connect(_)]),
        "{first:?}"
    );
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::Refused,
    }]);
    let banner = fake.window.banner();
    let message = banner.shown_message().expect("a banner");
    assert!(message.contains("pc.local:6667"), "{message}");
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("_Try Again")
    );
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    shot("5-refused-banner");
    banner.remedy_button().emit_clicked();
    fake.settle();
    assert_eq!(fake.sent(), first, "Try Again repeats the request");
    assert_eq!(banner.shown_message(), None);
    fake.close();
}

fn port_in_use_offers_another_port() {
    let fake = FakeNetwork::new();
    fake.window.launch(Launch::Host {
        port: 6667,
        nick: Some("alice".into()),
        room: None,
    });
    fake.settle();
    fake.feed([Event::HostFailed(HostError::PortInUse { port: 6667 })]);
    let banner = fake.window.banner();
    assert!(banner.shown_message().unwrap().contains("6667"));
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("_Choose Another Port")
    );
    banner.remedy_button().emit_clicked();
    fake.settle();
    assert!(fake.window.host_button().popover().unwrap().is_visible());
    // Dismiss it as Escape would: an open popover holds the pointer grab.
    fake.window.host_button().popdown();
    fake.close();
}

fn lost_connection_keeps_the_log() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([message("bob", "still here?")]);
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::ConnectionLost {
            detail: "reset".into(),
        },
    }]);
    assert_eq!(fake.window.phase(), Phase::Closed);
    assert_eq!(fake.window.visible_page().as_deref(), Some("room"));
    assert!(fake.window.chat_log().text().contains("still here?"));
    assert!(!fake.window.message_entry().is_sensitive());
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&fake.window.banner().remedy_button()).as_deref(),
        Some("_Reconnect")
    );
    assert!(
        fake.window.host_button().is_visible(),
        "a new room can be started"
    );
    fake.close();
}

fn hosting_shows_addresses_and_asks_before_leaving() {
    let fake = FakeNetwork::new();
    fake.window.launch(Launch::Host {
        port: 6667,
        nick: Some("alice".into()),
        room: None,
    });
    let addresses: Vec<SocketAddr> = vec![
        "[fe80::1]:6667".parse().unwrap(),
        "192.168.1.5:6667".parse().unwrap(),
    ];
    fake.feed([
        Event::Hosting {
            port: 6667,
            addresses,
            fingerprint: None,
        },
        Event::Connected {
            server: "localhost:6667".into(),
            nick: "alice".into(),
            room: "#chat".into(),
        },
    ]);
    fake.sent();
    assert_eq!(
        fake.window.window_title().subtitle(),
        "alice · hosting at 192.168.1.5:6667"
    );
    let log = fake.window.chat_log().text();
    assert_eq!(fake.window.chat_log().line_count(), 1, "{log}");
    assert!(
        log.ends_with(
            "You are hosting #chat as alice. Friends can join at [fe80::1]:6667, 192.168.1.5:6667."
        ),
        "one line says where friends can join: {log:?}"
    );
    assert_eq!(
        fake.window.share_address().as_deref(),
        Some("192.168.1.5:6667")
    );
    activate(&fake, WinAction::Leave);
    fake.settle();
    assert_eq!(fake.sent(), [], "closing our room asks first");
    let dialog = gtk::Window::list_toplevels()
        .into_iter()
        .find_map(|window| window.downcast::<adw::MessageDialog>().ok())
        .expect("a confirmation dialog");
    shot("6-close-room-dialog");
    fake_network::click_button_labelled(dialog.upcast_ref(), "_Close Room");
    // Our reference would outlive the window: GTK 4.8 then disposes the
    // dialog with a dangling transient parent (CRITICALs from
    // g_signal_handlers_disconnect_matched). Let it go with its window.
    drop(dialog);
    fake.settle();
    assert!(
        !gtk::Window::list_toplevels()
            .iter()
            .any(|window| window.is::<adw::MessageDialog>()),
        "the dialog closes after answering"
    );
    assert_eq!(fake.sent(), [Command::Leave { message: None }]);
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    fake.close();
}

fn nick_in_use_is_reported() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([Event::NickInUse {
        requested: "alice".into(),
        using: "alice_".into(),
    }]);
    assert!(fake
        .window
        .chat_log()
        .text()
        .contains("The nickname alice is taken, so you are alice_"));
    fake.close();
}

fn log_stays_pinned_unless_scrolled_up() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed((0..3000).map(|n| message("bob", &format!("line {n}"))));
    let log = fake.window.chat_log();
    let adjustment = log.vadjustment();
    let at_bottom = |adjustment: &gtk::Adjustment| {
        adjustment.value() + adjustment.page_size() >= adjustment.upper() - 8.0
    };
    assert!(log.is_pinned());
    assert!(at_bottom(&adjustment), "pinned to the newest line");
    assert!(!log.jump_button().is_visible());
    // The person turns the mouse wheel up over the log (real X events).
    // X delivers input asynchronously: wheel again until the window has it.
    for _ in 0..10 {
        wheel_up_over(&fake, log.upcast_ref());
        fake.settle();
        fake_network::let_it_draw(Duration::from_millis(200));
        if !log.is_pinned() {
            break;
        }
    }
    assert!(!log.is_pinned(), "scrolling up unpins the log");
    assert!(
        log.jump_button().is_visible(),
        "Jump to Latest appears after scrolling up"
    );
    let reading_at = adjustment.value();
    assert!(!at_bottom(&adjustment));
    fake.feed((0..100).map(|n| message("bob", &format!("more {n}"))));
    // (A wheel scroll may still be easing by a pixel; a yank would be ~2000.)
    assert!(
        (adjustment.value() - reading_at).abs() < 20.0,
        "new lines do not yank the reader down"
    );
    assert!(!at_bottom(&adjustment));
    shot("7-scrolled-up");
    log.jump_button().emit_clicked();
    fake.settle();
    assert!(log.is_pinned());
    assert!(at_bottom(&adjustment));
    assert!(!log.jump_button().is_visible());
    fake.close();
}

fn flood_is_applied_in_batches_and_bounded() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let log = fake.window.chat_log();
    log.set_line_limit(1000);
    fake.feed((0..10_000).map(|n| message("bob", &format!("flood {n}"))));
    assert!(log.line_count() <= 1100, "{} lines kept", log.line_count());
    let text = log.text();
    assert!(text.contains("flood 9999"));
    assert!(!text.contains("flood 0\n"));
    fake.close();
}

fn events_after_leaving_are_ignored() {
    let fake = FakeNetwork::new();
    connected(&fake);
    type_and_send(&fake, "/quit bye");
    assert_eq!(
        fake.sent(),
        [Command::Leave {
            message: Some("bye".into())
        }]
    );
    fake.feed([
        message("bob", "late"),
        Event::Disconnected {
            reason: DisconnectReason::Left,
        },
    ]);
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    assert!(!fake.window.chat_log().text().contains("late"));
    assert_eq!(fake.window.banner().shown_message(), None);
    fake.close();
}

fn narrow_window_wraps_long_lines() {
    let fake = FakeNetwork::new();
    fake.window.set_default_size(600, 640);
    let long_nick = "Bartholomew_the_Magnificent";
    fake.window.launch(Launch::Connect {
        address: "a-rather-long-host-name.example.org:6667".into(),
        nick: Some(long_nick.into()),
        room: Some("#a-channel-with-a-long-name".into()),
    });
    fake.feed([
        Event::Connected {
            server: "a-rather-long-host-name.example.org:6667".into(),
            nick: long_nick.into(),
            room: "#a-channel-with-a-long-name".into(),
        },
        Event::Members {
            room: "#a-channel-with-a-long-name".into(),
            ranks: Vec::new(),
            nicks: vec![long_nick.into(), "bob".into()],
        },
        message(
            long_nick,
            &"a long message that has to wrap over several lines ".repeat(6),
        ),
        message("bob", &"unbroken".repeat(20)),
    ]);
    fake.sent();
    fake.window.set_show_members(true);
    fake_network::wait_until("the narrow window", || fake.window.width() <= 600);
    shot("8-narrow");
    let log = fake.window.chat_log();
    assert!(
        log.width() <= fake.window.width(),
        "the log fits the window: {} > {}",
        log.width(),
        fake.window.width()
    );
    fake.close();
}

fn closing_the_window_shuts_the_network_down() {
    let fake = FakeNetwork::new();
    fake.window.close();
    fake.settle();
    assert_eq!(fake.sent(), [Command::Shutdown]);
    fake.close();
}

fn with_meta(event: Event, meta: LineMeta) -> Event {
    match event {
        Event::Message {
            from,
            target,
            text,
            own,
            private,
            ..
        } => Event::Message {
            from,
            target,
            text,
            own,
            private,
            meta,
        },
        other => other,
    }
}

fn with_msgid(event: Event, msgid: &str) -> Event {
    with_meta(
        event,
        LineMeta {
            msgid: Some(msgid.into()),
            ..LineMeta::default()
        },
    )
}

fn lost_for(delay_secs: u64, attempt: u32) -> Event {
    Event::Reconnecting {
        reason: DisconnectReason::ConnectionLost {
            detail: "unexpected end of file".into(),
        },
        attempt,
        delay_secs,
    }
}

/// Where `needle` starts in `log`, failing with the log when it is missing.
fn position(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} missing from the log:\n{log}"))
}

fn reconnecting_counts_down_and_reconnect_now_asks_for_it() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([message("bob", "are you there?")]);
    fake.feed([lost_for(5, 1)]);
    let window = &fake.window;
    let banner = window.banner();
    let shown = banner.shown_message().expect("a banner");
    assert_eq!(shown, "Connection lost. Reconnecting in 5 s…");
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("Reconnect _Now")
    );
    assert_eq!(window.phase(), Phase::Reconnecting);
    assert_eq!(window.visible_page().as_deref(), Some("room"));
    assert_eq!(window.window_title().subtitle(), "Reconnecting…");
    assert_eq!(window.member_list().nicks(), ["alice", "bob"]);
    assert_eq!(window.member_count(), "2");
    let outage = "The connection to pc.local:6667 was lost; reconnecting…";
    let log = window.chat_log().text();
    assert!(log.contains("are you there?"), "the log stays: {log}");
    assert!(log.contains(outage), "{log}");
    assert!(!log.contains("end of file"), "no system text: {log}");
    shot("9-reconnecting");
    fake_network::wait_until("the countdown to tick", || {
        banner.shown_message().as_deref() == Some("Connection lost. Reconnecting in 4 s…")
    });
    // A second failed attempt waits again, without a second log line.
    fake.feed([lost_for(10, 2)]);
    assert_eq!(
        banner.shown_message().as_deref(),
        Some("Connection lost. Reconnecting in 10 s…")
    );
    assert_eq!(window.chat_log().text().matches(outage).count(), 1);
    banner.remedy_button().emit_clicked();
    fake.settle();
    assert_eq!(fake.sent(), [Command::ReconnectNow]);
    assert_eq!(
        banner.shown_message().as_deref(),
        Some("Connection lost. Reconnecting…")
    );
    fake.feed([Event::Connected {
        server: "pc.local:6667".into(),
        nick: "alice".into(),
        room: "#chat".into(),
    }]);
    assert_eq!(banner.shown_message(), None);
    assert_eq!(window.phase(), Phase::InRoom);
    assert_eq!(
        window.window_title().subtitle(),
        "alice · connected to pc.local:6667"
    );
    let log = window.chat_log().text();
    assert!(log.ends_with("Reconnected"), "{log}");
    assert_eq!(log.matches("You joined #chat").count(), 1, "{log}");
    fake.close();
}

fn entry_stays_usable_while_reconnecting() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([lost_for(30, 1)]);
    let entry = fake.window.message_entry();
    assert!(entry.is_sensitive());
    entry.set_text("typed offline");
    assert!(fake.window.send_button().is_sensitive());
    type_and_send(&fake, "typed offline");
    assert_eq!(
        fake.sent(),
        [Command::SendMessage {
            text: "typed offline".into()
        }]
    );
    assert_eq!(entry.text(), "");
    // The session gives up: the room is closed for good.
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::TimedOut,
    }]);
    assert_eq!(fake.window.phase(), Phase::Closed);
    assert!(!entry.is_sensitive());
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&fake.window.banner().remedy_button()).as_deref(),
        Some("_Try Again")
    );
    // An entry outliving its window trips GTK 4.8's expression bindings
    // (the `phase` closures in window.ui): let it go first.
    drop(entry);
    fake.close();
}

fn leaving_while_reconnecting_forgets_the_room() {
    let fake = FakeNetwork::new();
    connected(&fake);
    assert_eq!(fake.window.member_count(), "2");
    fake.feed([lost_for(30, 1)]);
    activate(&fake, WinAction::Leave);
    assert_eq!(fake.sent(), [Command::Leave { message: None }]);
    let window = &fake.window;
    assert_eq!(window.visible_page().as_deref(), Some("welcome"));
    assert_eq!(window.banner().shown_message(), None);
    assert_eq!(window.member_count(), "0", "no member count is left over");
    assert!(window.member_list().nicks().is_empty());
    assert_eq!(window.chat_log().line_count(), 0);
    assert_eq!(window.window_title().title(), "TCP Chat");
    fake.close();
}

fn earlier_history_appears_above_the_join_line() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([message("bob", "live after joining")]);
    let said_at = glib::DateTime::from_local(2026, 11, 28, 21, 7, 0.0).unwrap();
    let said_at_ms = said_at.to_unix() * 1000;
    let earlier = with_meta(
        message("bob", "from yesterday"),
        LineMeta {
            msgid: Some("m1".into()),
            time_ms: Some(said_at_ms),
            outbox_id: None,
        },
    );
    fake.feed([Event::History {
        room: "#chat".into(),
        kind: HistoryKind::Earlier,
        lines: vec![earlier, with_msgid(message("carol", "me too"), "m2")],
    }]);
    let log = fake.window.chat_log().text();
    let divider = position(&log, "Earlier conversation");
    let first = position(&log, "21:07  bob from yesterday");
    let second = position(&log, "carol me too");
    let joined = position(&log, "You joined #chat on pc.local:6667 as alice");
    let live = position(&log, "bob live after joining");
    assert!(
        divider < first && first < second && second < joined && joined < live,
        "earlier lines go above the join line:\n{log}"
    );
    assert_eq!(fake.window.chat_log().line_count(), 5, "{log}");
    shot("10-earlier-history");
    fake.close();
}

fn missed_history_follows_the_divider_once() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([with_msgid(message("bob", "said before"), "m1")]);
    fake.feed([lost_for(1, 1)]);
    fake.feed([
        Event::Connected {
            server: "pc.local:6667".into(),
            nick: "alice".into(),
            room: "#chat".into(),
        },
        Event::History {
            room: "#chat".into(),
            kind: HistoryKind::Missed,
            lines: vec![
                with_msgid(message("bob", "said before"), "m1"),
                with_msgid(message("bob", "said while away"), "m2"),
            ],
        },
    ]);
    let log = fake.window.chat_log().text();
    assert_eq!(log.matches("said before").count(), 1, "{log}");
    let reconnected = position(&log, "Reconnected");
    let divider = position(&log, "While you were away");
    let missed = position(&log, "bob said while away");
    assert!(
        reconnected < divider && divider < missed,
        "missed lines follow the divider:\n{log}"
    );
    shot("12-missed-history");
    fake.close();
}

fn own_line_shows_pending_until_delivered() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let on_its_way = |outbox_id| {
        with_meta(
            message("alice", "hello everyone"),
            LineMeta {
                outbox_id: Some(outbox_id),
                ..LineMeta::default()
            },
        )
    };
    fake.feed([on_its_way(1), message("bob", "hi alice")]);
    let log = fake.window.chat_log();
    assert!(
        log.text().contains("alice hello everyone sending…"),
        "{}",
        log.text()
    );
    assert_eq!(log.pending_count(), 1);
    shot("11-pending");
    fake.feed([Event::Delivered { outbox_id: 1 }]);
    let text = log.text();
    assert!(!text.contains("sending…"), "{text}");
    assert!(text.contains("alice hello everyone\n"), "{text}");
    assert!(text.ends_with("bob hi alice"), "{text}");
    assert_eq!(log.pending_count(), 0);
    fake.close();
}

fn missing_network_thread_is_reported() {
    // What the application builds when `network::spawn()` fails: channels
    // whose other ends are gone.
    let (commands, _) = async_channel::unbounded();
    let (_, events) = async_channel::unbounded();
    let window = fake_network::open_window(NetworkHandle { commands, events }, 900, 640);
    let banner = window.banner();
    fake_network::wait_until("the problem to show", || banner.shown_message().is_some());
    window.launch(Launch::Connect {
        address: "pc.local:6667".into(),
        nick: Some("alice".into()),
        room: None,
    });
    let message = banner.shown_message().expect("a banner");
    assert!(message.contains("cannot use the network"), "{message}");
    assert!(!banner.remedy_button().is_visible(), "nothing to retry");
    assert_eq!(window.visible_page().as_deref(), Some("welcome"));
    assert_eq!(window.phase(), Phase::Welcome);
    shot("13-no-network");
    window.destroy();
}

fn private_conversations_have_their_own_log_and_badge() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let window = &fake.window;
    assert!(!window.sidebar_shown(), "the room alone needs no sidebar");
    fake.feed([
        private_from("bob", "psst, alice"),
        message("bob", "alice: lunch?"),
    ]);
    assert!(window.sidebar_shown());
    let rows = window.conversation_rows();
    let titles: Vec<String> = rows.iter().map(|row| row.title()).collect();
    assert_eq!(titles, ["#chat", "bob"]);
    assert_eq!(
        rows[1].badge_text().as_deref(),
        Some("1"),
        "unread from bob"
    );
    let bob_log = window.private_log("bob").expect("bob's log");
    assert!(bob_log.text().contains("psst, alice"));
    assert!(bob_log.text().contains("New messages"));
    assert!(
        !window.chat_log().text().contains("psst"),
        "private lines stay out of the room"
    );
    assert!(
        window.title().unwrap().starts_with("(1) "),
        "the title counts the unread private line: {:?}",
        window.title()
    );
    shot("14-private-unread");
    // Open it from the sidebar: read, and the entry now talks to bob.
    rows[1].emit_activate();
    fake.settle();
    assert_eq!(window.window_title().title(), "bob");
    assert!(!window.title().unwrap().starts_with('('));
    assert_eq!(window.conversation_rows()[1].badge_text(), None);
    // Meanwhile in the room: two lines, one naming alice. The row says so
    // in words, not only by its badge's colour.
    fake.feed([
        message("carol", "alice: are you there?"),
        message("carol", "just chatting"),
    ]);
    let rows = window.conversation_rows();
    assert_eq!(rows[0].spoken_name(), "#chat, 2 unread, 1 for you");
    assert_eq!(rows[1].spoken_name(), "bob");
    type_and_send(&fake, "hi bob");
    assert_eq!(
        fake.sent(),
        [Command::SendPrivate {
            nick: "bob".into(),
            text: "hi bob".into()
        }]
    );
    // A draft stays with its conversation.
    window.message_entry().set_text("half a thought");
    window.conversation_rows()[0].emit_activate();
    fake.settle();
    assert_eq!(window.message_entry().text(), "");
    window.conversation_rows()[1].emit_activate();
    fake.settle();
    assert_eq!(window.message_entry().text(), "half a thought");
    window.message_entry().set_text("");
    // The member list's "Send Private Message" opens a new one.
    WidgetExt::activate_action(
        window,
        WinAction::MessageMember.detailed(),
        Some(&"carol".to_variant()),
    )
    .unwrap();
    fake.settle();
    assert_eq!(window.window_title().title(), "carol");
    assert_eq!(window.conversation_rows().len(), 3);
    shot("15-private-conversation");
    activate(&fake, WinAction::CloseConversation);
    assert_eq!(window.conversation_rows().len(), 2);
    assert_eq!(window.window_title().title(), "#chat");
    // An open search follows the conversation shown.
    activate(&fake, WinAction::Find);
    search_for(&fake, "psst");
    assert_eq!(window.match_count_text(), "No matches", "not in the room");
    window.conversation_rows()[1].emit_activate();
    fake.settle();
    assert_eq!(window.match_count_text(), "1 of 1", "found in bob's log");
    fake.close();
}

/// A narrow window folds the sidebar away: the log alone, with a button
/// back to the conversations.
fn narrow_window_folds_the_sidebar() {
    let fake = FakeNetwork::new();
    fake.window.set_show_members(false);
    connected(&fake);
    fake.feed([private_from("bob", "psst")]);
    let window = &fake.window;
    // As narrow as the header bar allows.
    window.set_default_size(360, 640);
    fake_network::wait_until("the narrow window", || window.width() < 600);
    window.conversation_rows()[1].emit_activate();
    fake.settle();
    let back = window.conversations_button();
    fake_network::wait_until("the folded sidebar's back button", || back.is_visible());
    back.emit_clicked();
    fake_network::wait_until("the sidebar", || !back.is_visible());
    assert!(
        window.conversation_rows()[0].is_mapped(),
        "the list is shown"
    );
    window.conversation_rows()[0].emit_activate();
    fake.settle();
    assert!(back.is_visible(), "back at a log");
    assert_eq!(window.window_title().title(), "#chat");
    // The choice is remembered: give the next windows their member list.
    window.set_show_members(true);
    fake.close();
}

/// Rooms announced on the local network show on the welcome page; one
/// click joins.
fn nearby_rooms_are_listed_and_joined() {
    let fake = FakeNetwork::new();
    let window = &fake.window;
    assert!(window.nearby_rooms_shown().is_empty());
    let room = nearby_lab(true);
    fake.feed([
        Event::NearbyRoom(room.clone()),
        Event::NearbyRoom(NearbyRoom {
            instance: "#art by bob on box".into(),
            room: "#art".into(),
            ..room.clone()
        }),
    ]);
    assert_eq!(window.nearby_rooms_shown(), ["#art", "#lab"]);
    assert!(window.nearby_list().is_visible());
    shot("17-nearby");
    fake.feed([Event::NearbyRoomGone {
        instance: "#art by bob on box".into(),
    }]);
    assert_eq!(window.nearby_rooms_shown(), ["#lab"]);
    window
        .nearby_list()
        .row_at_index(0)
        .expect("the #lab row")
        .emit_activate();
    fake.settle();
    let sent = fake.sent();
    let [Command::Connect(request)] = sent.as_slice() else {
        panic!("a Connect: {sent:?}");
    };
    assert_eq!(
        (request.address.as_str(), request.room.as_str()),
        ("192.0.2.7:6667", "#lab")
    );
    assert_eq!(window.visible_page().as_deref(), Some("connecting"));
    fake.close();
}

/// What a row says beyond its title: its labels and its icons' tooltips.
fn texts_in(row: &gtk::Widget) -> Vec<String> {
    let mut texts = Vec::new();
    let mut pending = vec![row.clone()];
    while let Some(widget) = pending.pop() {
        if let Some(label) = widget.downcast_ref::<gtk::Label>() {
            texts.push(label.label().to_string());
        } else if let Some(tooltip) = widget
            .downcast_ref::<gtk::Image>()
            .and_then(|image| image.tooltip_text())
        {
            texts.push(tooltip.to_string());
        }
        let mut child = widget.first_child();
        while let Some(widget) = child {
            child = widget.next_sibling();
            pending.push(widget);
        }
    }
    texts
}

fn nearby_lab(tls: bool) -> NearbyRoom {
    NearbyRoom {
        instance: "#lab by li on pc".into(),
        room: "#lab".into(),
        nick: Some("li".into()),
        addresses: vec!["192.0.2.7:6667".parse().unwrap()],
        port: 6667,
        tls,
        fingerprint: None,
        ours: false,
    }
}

/// The Connect popover lists the same rooms above the address form: with
/// none it says what to type instead; one click joins and closes it.
fn connect_popover_lists_nearby_rooms() {
    let fake = FakeNetwork::new();
    let window = &fake.window;
    activate(&fake, WinAction::Connect);
    let popover = window.connect_button().popover().unwrap();
    assert!(popover.is_visible());
    assert!(window.connect_nearby_rooms_shown().is_empty());
    assert!(
        window.connect_nearby_empty().is_mapped(),
        "no rooms: say so"
    );
    shot("18-connect-no-nearby");
    fake.feed([
        Event::NearbyRoom(nearby_lab(true)),
        Event::NearbyRoom(NearbyRoom {
            instance: "#art by bob on box".into(),
            room: "#art".into(),
            ..nearby_lab(false)
        }),
    ]);
    assert_eq!(window.connect_nearby_rooms_shown(), ["#art", "#lab"]);
    assert!(window.connect_nearby_list().is_mapped());
    assert!(!window.connect_nearby_empty().is_visible());
    let list = window.connect_nearby_list();
    let row = |index| list.row_at_index(index).unwrap().upcast::<gtk::Widget>();
    assert!(!texts_in(&row(0)).contains(&"Encrypted".to_owned()));
    assert!(texts_in(&row(1)).contains(&"Encrypted".to_owned()));
    shot("19-connect-nearby");
    list.row_at_index(1).expect("the #lab row").emit_activate();
    fake.settle();
    assert!(!popover.is_visible(), "joining closes the popover");
    let sent = fake.sent();
    let [Command::Connect(request)] = sent.as_slice() else {
        panic!("a Connect: {sent:?}");
    };
    assert_eq!(
        (request.address.as_str(), request.room.as_str()),
        ("192.0.2.7:6667", "#lab")
    );
    assert_eq!(window.visible_page().as_deref(), Some("connecting"));
    fake.close();
}

/// While we host, our own announcement is listed as ours, in both lists.
fn own_nearby_room_is_marked_while_hosting() {
    let fake = FakeNetwork::new();
    let window = &fake.window;
    let ours = Fingerprint::of_certificate(b"our certificate");
    window.launch(Launch::Host {
        port: 6667,
        nick: Some("li".into()),
        room: Some("#lab".into()),
    });
    fake.feed([
        Event::Hosting {
            port: 6667,
            addresses: vec!["192.0.2.7:6667".parse().unwrap()],
            fingerprint: Some(ours),
        },
        Event::NearbyRoom(NearbyRoom {
            fingerprint: Some(ours.hex()),
            ..nearby_lab(true)
        }),
        Event::NearbyRoom(NearbyRoom {
            instance: "#lab by li on laptop".into(),
            fingerprint: Some(Fingerprint::of_certificate(b"another").hex()),
            ..nearby_lab(true)
        }),
    ]);
    for list in [window.nearby_list(), window.connect_nearby_list()] {
        let marked: Vec<bool> = (0..)
            .map_while(|index| list.row_at_index(index))
            .map(|row| texts_in(row.upcast_ref()).contains(&"Your room".to_owned()))
            .collect();
        // Sorted by room, then instance: "…on laptop" before "…on pc".
        assert_eq!(marked, [false, true]);
    }
    fake.close();
}

fn mentions_are_highlighted() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([
        message("bob", "alice: are you there?"),
        message("bob", "malice is not a mention"),
    ]);
    let log = fake.window.chat_log();
    assert_eq!(log.mention_lines(), ["alice: are you there?"]);
    // "For you:" is a quiet note like the time, apart from what was said.
    let text = log.text();
    let (line, said) = text
        .lines()
        .enumerate()
        .find_map(|(n, line)| Some((n, line.strip_suffix("alice: are you there?")?)))
        .expect("the mention in the log");
    let mark = said
        .find("For you: bob ")
        .expect("the mark before the nick");
    let colour_at = |chars: usize| log.foreground_at(line, i32::try_from(chars).unwrap());
    fake_network::wait_until("the mention painted", || colour_at(0).is_some());
    assert_eq!(
        colour_at(mark),
        colour_at(0),
        "the mark as quiet as the time"
    );
    assert_eq!(colour_at(said.len()), None, "the text in the view's colour");
    shot("mention");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::ForceDark);
    fake.settle();
    shot("mention-dark");
    adw::StyleManager::default().set_color_scheme(adw::ColorScheme::Default);
    fake.close();
}

fn typing_and_away_show() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let window = &fake.window;
    fake.feed([Event::Typing {
        nick: "bob".into(),
        target: "#chat".into(),
        state: TypingState::Active,
    }]);
    assert_eq!(window.typing_text(), "bob is typing…");
    fake.feed([message("bob", "here I am")]);
    assert_eq!(window.typing_text(), "", "his line arrived");
    // Typing tells the room, once for a burst of keys; a command does not.
    let entry = window.message_entry();
    entry.set_text("h");
    entry.set_text("hi");
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::SendTyping {
            target: "#chat".into(),
            state: TypingState::Active
        }]
    );
    entry.set_text("");
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::SendTyping {
            target: "#chat".into(),
            state: TypingState::Done
        }]
    );
    entry.set_text("/away lunch");
    fake.settle();
    assert!(fake.sent().is_empty(), "commands are not typing");
    entry.emit_activate();
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::SetAway {
            reason: Some("lunch".into())
        }]
    );
    // Others away: dimmed in the list, with the reason.
    fake.feed([Event::Away {
        nick: "bob".into(),
        presence: Presence::Away {
            reason: Some("in a meeting".into()),
        },
        own: false,
    }]);
    assert_eq!(
        window.member_list().away_status("bob").as_deref(),
        Some("Away: in a meeting")
    );
    assert_eq!(window.member_list().away_status("alice"), None);
    shot("16-typing-away");
    fake.close();
}

fn earlier(lines: Vec<Event>) -> Event {
    Event::History {
        room: "#chat".into(),
        kind: HistoryKind::Earlier,
        lines,
    }
}

/// Types `query` into the open search bar and waits for the log to have
/// searched (the entry reports its changes after a short pause).
fn search_for(fake: &FakeNetwork, query: &str) {
    let entry = fake.window.search_entry();
    entry.set_text(query);
    let log = fake.window.chat_log();
    fake_network::wait_until("the search to run", || {
        log.current_match_text().is_some() || fake.window.match_count_text() == "No matches"
    });
    fake.settle();
}

fn search_finds_history_and_new_lines() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed((0..60).map(|n| message("carol", &format!("filler {n}"))));
    fake.feed([
        message("bob", "hello world"),
        message("alice", "say Hello to Élodie"),
    ]);
    let window = &fake.window;
    let log = window.chat_log();
    activate(&fake, WinAction::Find);
    assert!(window.search_bar().is_search_mode());
    assert!(
        GtkWindowExt::focus(window).is_some_and(|focus| focus.is_ancestor(&window.search_entry()))
    );
    search_for(&fake, "hello");
    assert_eq!(log.match_count(), 2);
    assert_eq!(
        window.match_count_text(),
        "2 of 2",
        "the newest match first"
    );
    assert!(log.current_match_in_view());
    assert!(log.is_pinned(), "a match in view moves nothing");
    // Earlier conversation arrives while the search is open.
    fake.feed([earlier(vec![
        message("carol", "HELLO from yesterday"),
        message("dave", "早上好 hello 世界"),
    ])]);
    assert_eq!(log.match_count(), 4);
    assert_eq!(window.match_count_text(), "4 of 4", "still the same match");
    // Enter goes down, wrapping to the top: the earlier history.
    window.search_entry().emit_activate();
    fake.settle();
    assert_eq!(window.match_count_text(), "1 of 4");
    assert_eq!(log.current_match_text().as_deref(), Some("HELLO"));
    // GTK scrolls once it has laid the lines out, on a coming frame.
    fake_network::wait_until("the match to scroll into view", || {
        log.current_match_in_view()
    });
    assert!(!log.is_pinned(), "scrolling to a match unpins");
    window
        .search_entry()
        .emit_by_name::<()>("previous-match", &[]);
    fake.settle();
    assert_eq!(window.match_count_text(), "4 of 4", "back wraps to the end");
    window
        .search_entry()
        .emit_by_name::<()>("previous-match", &[]);
    fake.settle();
    assert_eq!(log.current_match_text().as_deref(), Some("hello"));
    assert_eq!(log.current_match_index(), Some(2));
    // The keys: Shift+Enter goes back, Enter on.
    press_keys_in(&fake, &window.search_entry(), "shift+Return");
    fake_network::wait_until("Shift+Enter", || log.current_match_index() == Some(1));
    press_keys_in(&fake, &window.search_entry(), "Return");
    fake_network::wait_until("Enter", || log.current_match_index() == Some(2));
    // Lines that come in while searching are searched too.
    fake.feed([message("bob", "hello again")]);
    assert_eq!(window.match_count_text(), "3 of 5");
    shot("14-search");
    // Unicode, ignoring case.
    search_for(&fake, "élodie");
    assert_eq!(log.current_match_text().as_deref(), Some("Élodie"));
    search_for(&fake, "世界");
    assert_eq!(window.match_count_text(), "1 of 1");
    search_for(&fake, "nobody said this");
    assert_eq!(window.match_count_text(), "No matches");
    assert_eq!(log.match_count(), 0);
    // Escape closes the bar, clears the highlighting, back to writing;
    // the log stays where the search left it.
    search_for(&fake, "HELLO from");
    fake_network::wait_until("the match to scroll into view", || {
        log.current_match_in_view()
    });
    let (pinned, reading_at) = (log.is_pinned(), log.vadjustment().value());
    press_keys_in(&fake, &window.search_entry(), "Escape");
    fake_network::wait_until("Escape", || !window.search_bar().is_search_mode());
    fake.settle();
    assert_eq!(log.is_pinned(), pinned);
    assert_eq!(
        log.vadjustment().value(),
        reading_at,
        "closing does not jump"
    );
    assert!(!window.search_bar().is_search_mode());
    assert_eq!(log.match_count(), 0);
    assert_eq!(log.current_match_index(), None);
    assert!(entry_has_focus(&fake));
    // Leaving the room closes the bar, and Ctrl+F no longer opens it.
    activate(&fake, WinAction::Find);
    assert!(window.search_bar().is_search_mode());
    activate(&fake, WinAction::Leave);
    assert_eq!(window.visible_page().as_deref(), Some("welcome"));
    assert!(!window.search_bar().is_search_mode());
    let _ = WidgetExt::activate_action(window, WinAction::Find.detailed(), None);
    fake.settle();
    assert!(!window.search_bar().is_search_mode());
    fake.close();
}

fn search_follows_trimmed_and_delivered_lines() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let log = fake.window.chat_log();
    log.set_line_limit(20);
    activate(&fake, WinAction::Find);
    search_for(&fake, "LINE");
    assert_eq!(log.match_count(), 0);
    fake.feed((0..100).map(|n| message("bob", &format!("line {n}"))));
    let text = log.text();
    assert!(log.line_count() <= 22, "{} lines kept", log.line_count());
    assert_eq!(log.match_count(), text.matches("line").count(), "{text}");
    assert_eq!(log.current_match_text().as_deref(), Some("line"));
    log.next_match();
    assert_eq!(log.current_match_text().as_deref(), Some("line"));
    // Our line's "sending…" goes once it is delivered; so does its match.
    search_for(&fake, "sending");
    fake.feed([with_meta(
        message("alice", "on its way"),
        LineMeta {
            outbox_id: Some(1),
            ..LineMeta::default()
        },
    )]);
    assert_eq!(log.match_count(), 1);
    fake.feed([Event::Delivered { outbox_id: 1 }]);
    assert_eq!(log.match_count(), 0);
    assert_eq!(fake.window.match_count_text(), "No matches");
    fake.close();
}

/// A long log is painted near the view only: a search matching every line
/// highlights the matches there, and the highlighting follows the view;
/// a selection across lines copies them as shown.
fn long_log_paints_near_the_view() {
    let fake = FakeNetwork::new();
    connected(&fake);
    let log = fake.window.chat_log();
    let before = log.line_count() as i32;
    fake.feed((0..3000).map(|n| message("bob", &format!("fox number {n}"))));
    assert_eq!(log.line_count() as i32, before + 3000);
    activate(&fake, WinAction::Find);
    search_for(&fake, "fox");
    assert_eq!(log.match_count(), 3000);
    assert_eq!(log.current_match_text().as_deref(), Some("fox"));
    assert!(log.current_match_highlighted());
    let near = log.highlighted_match_count();
    assert!(
        (1..1000).contains(&near),
        "{near} of 3000 matches highlighted"
    );
    // After the last match, the first: the view goes to the top, and the
    // highlighting with it.
    log.next_match();
    assert_eq!(log.current_match_index(), Some(0));
    fake_network::wait_until("the first match in view", || log.current_match_in_view());
    fake.settle();
    assert!(log.current_match_highlighted());
    assert!(log.highlighted_match_count() < 1000);
    let view = log.text_view();
    let buffer = view.buffer();
    shot("log-search-many");
    // Two lines selected and copied, with their times and nicks.
    let mut to = buffer.iter_at_line(before + 2).unwrap();
    to.forward_to_line_end();
    buffer.select_range(&buffer.iter_at_line(before + 1).unwrap(), &to);
    view.emit_copy_clipboard();
    let copied = glib::MainContext::default()
        .block_on(view.clipboard().read_text_future())
        .unwrap()
        .map(|text| text.to_string())
        .unwrap_or_default();
    let lines: Vec<&str> = copied.lines().collect();
    assert_eq!(lines.len(), 2, "{copied:?}");
    assert!(lines[0].ends_with("bob fox number 1"), "{copied:?}");
    assert!(lines[1].ends_with("bob fox number 2"), "{copied:?}");
    fake.close();
}

/// Presses `keys` (xdotool names) in `widget`: real X key events. X
/// delivers them asynchronously, so callers wait for what they do.
fn press_keys_in(fake: &FakeNetwork, widget: &impl IsA<gtk::Widget>, keys: &str) {
    let widget = widget.upcast_ref::<gtk::Widget>();
    // (Without selecting: a plain grab_focus selects an entry's text.)
    match widget.downcast_ref::<gtk::Entry>() {
        Some(entry) => {
            entry.grab_focus_without_selecting();
        }
        None => {
            widget.grab_focus();
        }
    }
    let (x, y) = centre_of(fake, widget);
    let status = std::process::Command::new("xdotool")
        .args(["mousemove", &x, &y])
        .args(["key", keys])
        .status()
        .expect("xdotool is installed");
    assert!(status.success());
}

fn press_in_entry(fake: &FakeNetwork, keys: &str) {
    press_keys_in(fake, &fake.window.message_entry(), keys);
}

fn tab_completes_nicks_in_the_entry() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed([Event::Members {
        room: "#chat".into(),
        ranks: Vec::new(),
        nicks: vec![
            "alice".into(),
            "amy".into(),
            "bob".into(),
            "Bobby".into(),
            "carol".into(),
            "[x]dave".into(),
        ],
    }]);
    let entry = fake.window.message_entry();
    entry.set_text("bo");
    entry.set_position(-1);
    press_in_entry(&fake, "Tab");
    fake_network::wait_until("the Tab", || entry.text() != "bo");
    assert_eq!(entry.text(), "bob: ");
    assert_eq!(entry.position(), 5);
    assert!(entry_has_focus(&fake), "Tab stays in the entry");
    // Further Tabs cycle, wrapping.
    fake.window.complete_nick();
    assert_eq!(entry.text(), "Bobby: ");
    fake.window.complete_nick();
    assert_eq!(entry.text(), "bob: ");
    // Mid-line, IRC's special characters.
    entry.set_text("bob: ask [X");
    entry.set_position(-1);
    fake.window.complete_nick();
    assert_eq!(entry.text(), "bob: ask [x]dave ");
    // No match: nothing changes, and focus stays.
    entry.set_text("hi zed");
    entry.set_position(-1);
    press_in_entry(&fake, "Tab");
    // A key that does change the text shows both keys were handled.
    press_in_entry(&fake, "exclam");
    fake_network::wait_until("the key after the Tab", || entry.text() != "hi zed");
    assert_eq!(entry.text(), "hi zed!");
    assert!(entry_has_focus(&fake));
    // Our own nick comes last.
    entry.set_text("a");
    entry.set_position(-1);
    fake.window.complete_nick();
    assert_eq!(entry.text(), "amy: ");
    fake.window.complete_nick();
    assert_eq!(entry.text(), "alice: ");
    // Shift+Tab still moves the focus back.
    press_in_entry(&fake, "shift+Tab");
    fake_network::wait_until("the focus to move", || !entry_has_focus(&fake));
    assert_eq!(entry.text(), "alice: ");
    fake.close();
}

/// Gives the X input focus to the window titled `title` (there is no
/// window manager under Xvfb to do it).
fn focus_window(title: &str) {
    let status = std::process::Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .arg("windowfocus")
        .status()
        .expect("xdotool is installed");
    assert!(status.success(), "xdotool found no window titled {title:?}");
}

/// Presses `keys` (xdotool names) in the focused window: real X key
/// events, delivered asynchronously, so callers wait for what they do.
fn press(keys: &[&str]) {
    let status = std::process::Command::new("xdotool")
        .arg("key")
        .args(keys)
        .status()
        .expect("xdotool is installed");
    assert!(status.success());
}

fn focus_inside(fake: &FakeNetwork, widget: &impl IsA<gtk::Widget>) -> bool {
    GtkWindowExt::focus(&fake.window).is_some_and(|focus| focus.is_ancestor(widget))
}

/// The popover menu open on the member list, if any.
fn member_menu(fake: &FakeNetwork) -> Option<gtk::PopoverMenu> {
    let mut pending = vec![fake.window.member_list().upcast::<gtk::Widget>()];
    while let Some(widget) = pending.pop() {
        if let Some(menu) = widget.downcast_ref::<gtk::PopoverMenu>() {
            if menu.is_visible() {
                return Some(menu.clone());
            }
        }
        let mut child = widget.first_child();
        while let Some(widget) = child {
            child = widget.next_sibling();
            pending.push(widget);
        }
    }
    None
}

/// The window has no application here, which would set the accelerators:
/// the same table, on the window as GtkApplication does.
fn add_accelerators(fake: &FakeNetwork) {
    let accelerators = gtk::ShortcutController::new();
    accelerators.set_scope(gtk::ShortcutScope::Global);
    for (action, keys) in tcp_chat::ui::application::ACCELERATORS {
        for key in keys {
            accelerators.add_shortcut(gtk::Shortcut::new(
                gtk::ShortcutTrigger::parse_string(key),
                Some(gtk::NamedAction::new(action)),
            ));
        }
    }
    fake.window.add_controller(accelerators);
}

/// What the window sent, but for typing notifications (typed keys send
/// them, on a timer too).
fn sent_but_typing(fake: &FakeNetwork) -> Vec<Command> {
    fake.sent()
        .into_iter()
        .filter(|command| !matches!(command, Command::SendTyping { .. }))
        .collect()
}

fn has_focus(fake: &FakeNetwork, widget: &impl IsA<gtk::Widget>) -> bool {
    GtkWindowExt::focus(&fake.window).is_some_and(|focus| &focus == widget.upcast_ref())
}

/// The operator's keyboard: focus order from the entry and back, a
/// member's Kick… with a reason, Room Details from the main menu closed
/// with Escape, and a banner's button by its Alt+letter. Real key presses
/// alone (xdotool).
fn keyboard_alone_kicks_opens_details_and_reaches_banners() {
    const WINDOW: &str = "TCP Chat$";
    let fake = FakeNetwork::new();
    add_accelerators(&fake);
    fake.join_as_alice("pc.local:6667", &["alice", "bob"]);
    fake.feed([Event::Members {
        room: "#chat".into(),
        nicks: vec!["alice".into(), "bob".into()],
        ranks: vec![("alice".into(), Rank::Operator)],
    }]);
    fake.window.set_show_members(true);
    fake.settle();
    focus_window(WINDOW);
    let entry = fake.window.message_entry();
    let send = fake.window.send_button();
    let members = fake.window.member_list();
    assert!(
        entry_has_focus(&fake),
        "joining puts the cursor in the entry"
    );
    // Focus order: the entry, Send (once there is text), the members; and
    // back. (Tab in the entry completes nicks: Ctrl+Tab leaves it.)
    press(&["x", "ctrl+Tab"]);
    fake_network::wait_until("Ctrl+Tab from the entry to Send", || {
        has_focus(&fake, &send)
    });
    press(&["Tab"]);
    fake_network::wait_until("Tab from Send to the members", || {
        focus_inside(&fake, &members)
    });
    press(&["shift+Tab"]);
    fake_network::wait_until("Shift+Tab back to Send", || has_focus(&fake, &send));
    press(&["shift+Tab"]);
    fake_network::wait_until("Shift+Tab back to the entry", || entry_has_focus(&fake));
    // A new message does not take the focus.
    fake.feed([message("bob", "hello alice")]);
    assert!(entry_has_focus(&fake), "a new line leaves the focus be");
    assert_eq!(entry.text(), "x");
    // bob's actions: Shift+F10, down to Kick…, Enter; the reason, Enter.
    press(&["BackSpace", "ctrl+Tab"]);
    fake_network::wait_until("Ctrl+Tab to the members", || focus_inside(&fake, &members));
    shot("keyboard-member-focus");
    press(&["Down", "shift+F10"]);
    fake_network::wait_until("Shift+F10 to open bob's menu", || {
        member_menu(&fake).is_some()
    });
    press(&["Down", "Down", "Down", "Return"]);
    let dialog = open_dialog();
    focus_window("Kick bob\\?");
    shot("kick-dialog");
    press(&["s", "p", "a", "m", "Return"]);
    let mut sent = Vec::new();
    fake_network::wait_until("Enter to kick bob", || {
        sent.extend(sent_but_typing(&fake));
        !sent.is_empty()
    });
    assert_eq!(
        sent,
        [Command::Kick {
            nick: "bob".into(),
            reason: Some("spam".into())
        }]
    );
    fake_network::wait_until("the Kick dialog to close", || !dialog.is_visible());
    drop(dialog);
    // The connection drops: the banner's button by its mnemonic.
    fake.feed([lost_for(30, 1)]);
    assert!(fake.window.banner().shown_message().is_some());
    // A mnemonic reaches only a mapped button: the banner slides in.
    let remedy = fake.window.banner().remedy_button();
    fake_network::wait_until("the banner's button on screen", || remedy.is_mapped());
    fake.settle();
    focus_window(WINDOW);
    press(&["alt+n"]);
    fake_network::wait_until("Alt+N to reconnect now", || {
        sent_but_typing(&fake) == [Command::ReconnectNow]
    });
    // F10, Enter on its first item: Room Details; Escape closes it. (Last:
    // see the end of `keyboard_alone_hosts_sends_and_leaves`.)
    press(&["F10"]);
    let menu = fake.window.primary_menu_button().popover().unwrap();
    fake_network::wait_until("F10 to open the main menu", || menu.is_visible());
    press(&["Return"]);
    let details = open_dialog();
    focus_window("Room Details");
    shot("keyboard-room-details");
    press(&["Escape"]);
    fake_network::wait_until("Escape to close Room Details", || !details.is_visible());
    drop(details);
    assert_eq!(sent_but_typing(&fake), [], "closed without a change");
    fake.close();
}

/// Puts the desktop's text scaling back as it was, even when a case fails.
struct TextScale {
    dpi: i32,
}

impl Drop for TextScale {
    fn drop(&mut self) {
        if let Some(settings) = gtk::Settings::default() {
            settings.set_gtk_xft_dpi(self.dpi);
        }
    }
}

/// Text follows the desktop's text scaling (GNOME's "Large Text" sets the
/// font DPI): doubled, the member list's names and the header's title
/// grow with it.
fn text_follows_the_desktop_scaling() {
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.window.set_show_members(true);
    fake.settle();
    let texts: Vec<gtk::Label> = [
        fake.window.member_list().upcast::<gtk::Widget>(),
        fake.window.window_title().upcast(),
    ]
    .iter()
    .flat_map(descendants::<gtk::Label>)
    .filter(|label| label.is_visible() && !label.text().is_empty())
    // An avatar's initial keeps to the avatar's size.
    .filter(|label| label.ancestor(adw::Avatar::static_type()).is_none())
    .collect();
    assert!(texts.len() >= 4, "alice, bob, the title and subtitle");
    fake_network::wait_until("the texts laid out", || {
        texts.iter().all(|label| label.height() > 0)
    });
    let before: Vec<i32> = texts.iter().map(|label| label.height()).collect();
    let settings = gtk::Settings::default().expect("GTK's settings");
    let scale = TextScale {
        dpi: settings.gtk_xft_dpi(),
    };
    // In 1024ths of a dot per inch; -1 means the default, 96.
    let dpi = if scale.dpi > 0 { scale.dpi } else { 96 * 1024 };
    settings.set_gtk_xft_dpi(dpi * 2);
    fake_network::wait_until("the text to grow", || {
        texts
            .iter()
            .zip(&before)
            .all(|(label, before)| f64::from(label.height()) >= 1.8 * f64::from(*before))
    });
    shot("text-scaled");
    drop(scale);
    // (Back below the doubled size: a window grown meanwhile may leave a
    // label a pixel or two taller than before.)
    fake_network::wait_until("the text to shrink back", || {
        texts
            .iter()
            .zip(&before)
            .all(|(label, before)| f64::from(label.height()) < 1.5 * f64::from(*before))
    });
    fake.close();
}

/// Hosting, the main menu, sending, a member's actions and leaving with
/// real key presses alone (xdotool): nothing clicked, no action called.
fn keyboard_alone_hosts_sends_and_leaves() {
    // The window's title ends so in every phase ("#chat – TCP Chat").
    const WINDOW: &str = "TCP Chat$";
    let fake = FakeNetwork::new();
    add_accelerators(&fake);
    focus_window(WINDOW);
    // Ctrl+H: the Host form, its nick field focused; Enter opens the room.
    press(&["ctrl+h"]);
    let host = fake.window.host_button().popover().unwrap();
    fake_network::wait_until("Ctrl+H to open the Host form", || host.is_visible());
    press(&["ctrl+a", "a", "l", "i", "c", "e", "Return"]);
    let mut sent = Vec::new();
    fake_network::wait_until("Enter to host", || {
        sent.extend(fake.sent());
        !sent.is_empty()
    });
    assert!(
        matches!(&sent[..], [Command::Host(request)] if request.nick == "alice"),
        "{sent:?}"
    );
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
            ranks: Vec::new(),
            nicks: vec!["alice".into(), "bob".into()],
        },
    ]);
    fake.window.set_show_members(true);
    fake.settle();
    assert!(
        entry_has_focus(&fake),
        "joining puts the cursor in the entry"
    );
    // Type and Enter.
    press(&["h", "i", "Return"]);
    fake_network::wait_until("Enter to send", || {
        fake.sent() == [Command::SendMessage { text: "hi".into() }]
    });
    assert!(
        entry_has_focus(&fake),
        "the entry keeps focus after sending"
    );
    // Tab in the empty entry (with text, it completes nicks) reaches the
    // member list, Send being off while the entry is empty;
    // Down goes to bob; Shift+F10 opens his actions, with the first one
    // selected: Enter opens the private conversation.
    let members = fake.window.member_list();
    press(&["Tab"]);
    fake_network::wait_until("Tab to reach the members", || focus_inside(&fake, &members));
    press(&["Down", "shift+F10"]);
    fake_network::wait_until("Shift+F10 to open the member's menu", || {
        member_menu(&fake).is_some()
    });
    shot("keyboard-member-menu");
    press(&["Return"]);
    fake_network::wait_until("the private conversation with bob", || {
        fake.window.conversation_rows().len() == 2
    });
    // Alt+L leaves; the room we host asks first. (Its answer is clicked:
    // under Xvfb, with no window manager, the dialog's window never got
    // the keys xdotool sent it.)
    press(&["alt+l"]);
    fake_network::answer_dialog("close-the-room", "_Close Room");
    let mut sent = Vec::new();
    fake_network::wait_until("the keyboard to leave", || {
        sent.extend(fake.sent());
        sent.contains(&Command::Leave { message: None })
    });
    assert_eq!(fake.window.visible_page().as_deref(), Some("welcome"));
    // F10 opens the main menu; Escape closes it. Last: under Xvfb, with
    // no window manager, GTK 4.8 takes no further keys once Escape closed
    // a popover (the focus stays on the window as X sees it).
    focus_window(WINDOW);
    press(&["F10"]);
    let menu = fake.window.primary_menu_button().popover().unwrap();
    fake_network::wait_until("F10 to open the main menu", || menu.is_visible());
    press(&["Escape"]);
    fake_network::wait_until("Escape to close the main menu", || !menu.is_visible());
    fake.close();
}

/// The log from the keyboard alone: Shift+Tab from the entry reaches it,
/// Page Up reads back (and unpins), Tab reaches Jump to Latest, Enter on
/// it follows the newest lines again.
fn keyboard_alone_reads_back_and_jumps_to_latest() {
    const WINDOW: &str = "TCP Chat$";
    let fake = FakeNetwork::new();
    connected(&fake);
    fake.feed((0..300).map(|n| message("bob", &format!("line {n}"))));
    let log = fake.window.chat_log();
    let view = log.text_view();
    fake_network::wait_until_painted(&view);
    focus_window(WINDOW);
    assert!(entry_has_focus(&fake));
    press(&["shift+Tab"]);
    fake_network::wait_until("Shift+Tab from the entry to the log", || view.has_focus());
    press(&["Page_Up", "Page_Up"]);
    fake_network::wait_until("Page Up to read back", || !log.is_pinned());
    let jump = log.jump_button();
    assert!(jump.is_visible(), "Jump to Latest shows once unpinned");
    // (Tab skips a button not yet laid out: wait until it is on screen.)
    fake_network::wait_until("Jump to Latest to be shown", || jump.is_mapped());
    fake_network::wait_until_painted(&jump);
    press(&["Tab"]);
    fake_network::wait_until("Tab to Jump to Latest", || jump.has_focus());
    shot("keyboard-jump-to-latest");
    press(&["Return"]);
    fake_network::wait_until("Enter to follow the newest lines again", || log.is_pinned());
    fake.close();
}

fn main() -> std::process::ExitCode {
    fake_network::init();
    let cases: &[(&str, fn())] = &[
        (
            "operator_marks_and_member_menu",
            operator_marks_and_member_menu,
        ),
        (
            "room_details_reflect_and_change_modes",
            room_details_reflect_and_change_modes,
        ),
        (
            "half_operator_menu_offers_what_the_rank_may_do",
            half_operator_menu_offers_what_the_rank_may_do,
        ),
        ("invite_from_the_main_menu", invite_from_the_main_menu),
        (
            "kicked_and_banned_show_a_banner_without_reconnecting",
            kicked_and_banned_show_a_banner_without_reconnecting,
        ),
        (
            "encryption_shows_and_a_changed_identity_asks_first",
            encryption_shows_and_a_changed_identity_asks_first,
        ),
        (
            "private_conversations_have_their_own_log_and_badge",
            private_conversations_have_their_own_log_and_badge,
        ),
        ("mentions_are_highlighted", mentions_are_highlighted),
        (
            "long_log_paints_near_the_view",
            long_log_paints_near_the_view,
        ),
        (
            "nearby_rooms_are_listed_and_joined",
            nearby_rooms_are_listed_and_joined,
        ),
        (
            "connect_popover_lists_nearby_rooms",
            connect_popover_lists_nearby_rooms,
        ),
        (
            "own_nearby_room_is_marked_while_hosting",
            own_nearby_room_is_marked_while_hosting,
        ),
        (
            "narrow_window_folds_the_sidebar",
            narrow_window_folds_the_sidebar,
        ),
        ("typing_and_away_show", typing_and_away_show),
        ("welcome_page_before_joining", welcome_page_before_joining),
        (
            "keyboard_alone_reads_back_and_jumps_to_latest",
            keyboard_alone_reads_back_and_jumps_to_latest,
        ),
        (
            "keyboard_alone_hosts_sends_and_leaves",
            keyboard_alone_hosts_sends_and_leaves,
        ),
        (
            "text_follows_the_desktop_scaling",
            text_follows_the_desktop_scaling,
        ),
        (
            "keyboard_alone_kicks_opens_details_and_reaches_banners",
            keyboard_alone_kicks_opens_details_and_reaches_banners,
        ),
        ("host_form_sends_host", host_form_sends_host),
        (
            "connect_form_sends_connect_with_password",
            connect_form_sends_connect_with_password,
        ),
        (
            "room_shows_title_members_and_log",
            room_shows_title_members_and_log,
        ),
        (
            "members_follow_parts_quits_and_renames",
            members_follow_parts_quits_and_renames,
        ),
        (
            "entry_sends_clears_and_keeps_focus",
            entry_sends_clears_and_keeps_focus,
        ),
        (
            "slash_commands_become_commands",
            slash_commands_become_commands,
        ),
        (
            "unknown_command_answers_locally",
            unknown_command_answers_locally,
        ),
        (
            "refused_shows_banner_and_try_again_retries",
            refused_shows_banner_and_try_again_retries,
        ),
        (
            "port_in_use_offers_another_port",
            port_in_use_offers_another_port,
        ),
        (
            "lost_connection_keeps_the_log",
            lost_connection_keeps_the_log,
        ),
        (
            "hosting_shows_addresses_and_asks_before_leaving",
            hosting_shows_addresses_and_asks_before_leaving,
        ),
        ("nick_in_use_is_reported", nick_in_use_is_reported),
        (
            "log_stays_pinned_unless_scrolled_up",
            log_stays_pinned_unless_scrolled_up,
        ),
        (
            "flood_is_applied_in_batches_and_bounded",
            flood_is_applied_in_batches_and_bounded,
        ),
        (
            "events_after_leaving_are_ignored",
            events_after_leaving_are_ignored,
        ),
        (
            "narrow_window_wraps_long_lines",
            narrow_window_wraps_long_lines,
        ),
        (
            "closing_the_window_shuts_the_network_down",
            closing_the_window_shuts_the_network_down,
        ),
        (
            "reconnecting_counts_down_and_reconnect_now_asks_for_it",
            reconnecting_counts_down_and_reconnect_now_asks_for_it,
        ),
        (
            "entry_stays_usable_while_reconnecting",
            entry_stays_usable_while_reconnecting,
        ),
        (
            "leaving_while_reconnecting_forgets_the_room",
            leaving_while_reconnecting_forgets_the_room,
        ),
        (
            "earlier_history_appears_above_the_join_line",
            earlier_history_appears_above_the_join_line,
        ),
        (
            "missed_history_follows_the_divider_once",
            missed_history_follows_the_divider_once,
        ),
        (
            "own_line_shows_pending_until_delivered",
            own_line_shows_pending_until_delivered,
        ),
        (
            "missing_network_thread_is_reported",
            missing_network_thread_is_reported,
        ),
        (
            "search_finds_history_and_new_lines",
            search_finds_history_and_new_lines,
        ),
        (
            "search_follows_trimmed_and_delivered_lines",
            search_follows_trimmed_and_delivered_lines,
        ),
        (
            "tab_completes_nicks_in_the_entry",
            tab_completes_nicks_in_the_entry,
        ),
    ];
    fake_network::run_cases(cases)
}

/// The (label, action, nick) of each item of a member's menu.
fn menu_items(menu: &gtk::gio::Menu) -> Vec<(String, String, String)> {
    use gtk::gio::prelude::*;
    let mut items = Vec::new();
    let mut models = vec![menu.clone().upcast::<gtk::gio::MenuModel>()];
    while let Some(model) = models.pop() {
        for i in 0..model.n_items() {
            if let Some(section) = model.item_link(i, "section") {
                models.push(section);
                continue;
            }
            let text = |name: &str| {
                model
                    .item_attribute_value(i, name, None)
                    .and_then(|v| v.str().map(str::to_owned))
                    .unwrap_or_default()
            };
            items.push((text("label"), text("action"), text("target")));
        }
    }
    items
}

/// Runs the menu item labelled `label` of `nick`'s menu, as a click would.
fn choose_from_member_menu(fake: &FakeNetwork, nick: &str, label: &str) {
    let menu = fake.window.member_list().menu_for(nick);
    let (_, action, target) = menu_items(&menu)
        .into_iter()
        .find(|(l, ..)| l == label)
        .unwrap_or_else(|| panic!("no {label:?} in {nick}'s menu"));
    WidgetExt::activate_action(&fake.window, &action, Some(&target.to_variant())).unwrap();
    fake.settle();
}

/// Every widget of type `W` inside `root`, in tree order.
fn descendants<W: IsA<gtk::Widget>>(root: &gtk::Widget) -> Vec<W> {
    let mut found = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(widget) = pending.pop() {
        if let Some(wanted) = widget.downcast_ref::<W>() {
            found.push(wanted.clone());
        }
        let mut child = widget.last_child();
        while let Some(widget) = child {
            child = widget.prev_sibling();
            pending.push(widget);
        }
    }
    found
}

fn open_dialog() -> adw::MessageDialog {
    let mut dialog = None;
    fake_network::wait_until("a dialog", || {
        dialog = gtk::Window::list_toplevels()
            .into_iter()
            .find_map(|window| window.downcast::<adw::MessageDialog>().ok())
            .filter(|d| d.is_visible());
        dialog.is_some()
    });
    dialog.unwrap()
}

/// Operators and voiced members are marked and listed first; as an
/// operator, a member's menu kicks (asking a reason), bans, and gives
/// operator status and voice; without it, the menu offers none of that.
fn operator_marks_and_member_menu() {
    let fake = FakeNetwork::new();
    fake.join_as_alice("pc.local:6667", &["alice", "bob", "carol", "dan"]);
    fake.feed([Event::Members {
        room: "#chat".into(),
        nicks: ["alice", "bob", "carol", "dan"].map(String::from).to_vec(),
        ranks: vec![
            ("alice".into(), Rank::Operator),
            ("dan".into(), Rank::Voiced),
        ],
    }]);
    fake.window.set_show_members(true);
    fake.settle();
    let list = fake.window.member_list();
    assert_eq!(list.nicks(), ["alice", "dan", "bob", "carol"]);
    assert_eq!(list.rank_text("alice").as_deref(), Some("Operator"));
    assert_eq!(list.rank_text("dan").as_deref(), Some("Voiced"));
    assert_eq!(list.rank_text("bob"), None);
    shot("member-list-ranks");
    let labels: Vec<String> = menu_items(&list.menu_for("bob"))
        .into_iter()
        .map(|(label, ..)| label)
        .collect();
    assert_eq!(
        labels,
        [
            "Send _Private Message",
            "Make _Operator",
            "Give _Voice",
            "_Kick…",
            "_Ban"
        ]
    );
    assert_eq!(
        menu_items(&list.menu_for("alice")).len(),
        1,
        "not on ourselves"
    );
    // A right click on bob's row opens that menu.
    let bob_row = descendants::<gtk::Box>(list.upcast_ref())
        .into_iter()
        .find(|row| {
            row.has_css_class("member-row")
                && row
                    .first_child()
                    .and_downcast::<adw::Avatar>()
                    .and_then(|avatar| avatar.text())
                    .as_deref()
                    == Some("bob")
        })
        .expect("bob's row");
    fake_network::wait_until_painted(&bob_row);
    let (x, y) = centre_of(&fake, bob_row.upcast_ref());
    let status = std::process::Command::new("xdotool")
        .args(["mousemove", "1", "1", "mousemove", &x, &y, "click", "3"])
        .status()
        .expect("xdotool is installed");
    assert!(status.success());
    fake_network::wait_until("a right click to open bob's menu", || {
        member_menu(&fake).is_some()
    });
    shot("operator-member-menu");
    if let Some(menu) = member_menu(&fake) {
        menu.popdown();
    }
    fake.settle();
    choose_from_member_menu(&fake, "bob", "Make _Operator");
    assert_eq!(
        fake.sent(),
        [Command::SetMemberMode {
            nick: "bob".into(),
            mode: MemberMode::Operator,
            on: true
        }]
    );
    fake.feed([Event::MemberRank {
        room: "#chat".into(),
        nick: "bob".into(),
        rank: Rank::Operator,
        by: Some("alice".into()),
    }]);
    assert_eq!(list.nicks(), ["alice", "bob", "dan", "carol"]);
    assert!(menu_items(&list.menu_for("bob"))
        .iter()
        .any(|(label, ..)| label == "Remove _Operator"));
    choose_from_member_menu(&fake, "dan", "Remove _Voice");
    assert_eq!(
        fake.sent(),
        [Command::SetMemberMode {
            nick: "dan".into(),
            mode: MemberMode::Voice,
            on: false
        }]
    );
    choose_from_member_menu(&fake, "carol", "_Kick…");
    let dialog = open_dialog();
    let reason = descendants::<gtk::Entry>(dialog.upcast_ref());
    reason[0].set_text("flooding");
    fake_network::click_button_labelled(dialog.upcast_ref(), "_Kick");
    drop(dialog);
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::Kick {
            nick: "carol".into(),
            reason: Some("flooding".into())
        }]
    );
    choose_from_member_menu(&fake, "carol", "_Ban");
    fake_network::answer_dialog("ban", "_Ban");
    fake.settle();
    assert_eq!(
        fake.sent(),
        [Command::Ban {
            nick: "carol".into()
        }]
    );
    // No longer an operator: only the private message is left.
    fake.feed([Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::Member,
        by: Some("bob".into()),
    }]);
    assert_eq!(menu_items(&list.menu_for("carol")).len(), 1);
    fake.close();
}

/// Whether the main menu has an item that shows `text` (an item whose
/// action is disabled is left out of it).
fn main_menu_shows(fake: &FakeNetwork, text: &str) -> bool {
    let menu = fake.window.primary_menu_button().popover().unwrap();
    descendants::<gtk::Widget>(menu.upcast_ref())
        .iter()
        .any(|item| {
            item.find_property("text").is_some()
                && item.property::<Option<String>>("text").as_deref() == Some(text)
        })
}

/// A half-operator's menu offers only what the rank may do on most
/// servers: voice and remove those below them; no operator status, no
/// bans, nothing on operators.
fn half_operator_menu_offers_what_the_rank_may_do() {
    let fake = FakeNetwork::new();
    fake.join_as_alice("pc.local:6667", &["alice", "bob", "carol", "dan", "erin"]);
    fake.feed([Event::Members {
        room: "#chat".into(),
        nicks: ["alice", "bob", "carol", "dan", "erin"]
            .map(String::from)
            .to_vec(),
        ranks: vec![
            ("alice".into(), Rank::HalfOperator),
            ("bob".into(), Rank::Operator),
            ("carol".into(), Rank::Voiced),
            ("erin".into(), Rank::HalfOperator),
        ],
    }]);
    fake.window.set_show_members(true);
    fake.settle();
    let list = fake.window.member_list();
    let labels = |nick: &str| -> Vec<String> {
        menu_items(&list.menu_for(nick))
            .into_iter()
            .map(|(label, ..)| label)
            .collect()
    };
    assert_eq!(
        labels("dan"),
        ["Send _Private Message", "Give _Voice", "_Kick…"]
    );
    assert_eq!(
        labels("carol"),
        ["Send _Private Message", "Remove _Voice", "_Kick…"]
    );
    assert_eq!(labels("bob"), ["Send _Private Message"], "an operator");
    assert_eq!(labels("erin"), ["Send _Private Message"], "a half-operator");
    choose_from_member_menu(&fake, "dan", "Give _Voice");
    assert_eq!(
        fake.sent(),
        [Command::SetMemberMode {
            nick: "dan".into(),
            mode: MemberMode::Voice,
            on: true
        }]
    );
    // Made an operator, alice has the whole menu.
    fake.feed([Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::Operator,
        by: Some("bob".into()),
    }]);
    assert_eq!(
        labels("bob"),
        [
            "Send _Private Message",
            "Remove _Operator",
            "_Kick…",
            "_Ban"
        ]
    );
    fake.close();
}

/// Invite… in the main menu, by keyboard alone: F10, down to it, Enter, a
/// nickname, Enter. Offered to every member of an open room, only to its
/// operators once it is invitation-only; Invite waits for a nickname IRC
/// accepts.
fn invite_from_the_main_menu() {
    const WINDOW: &str = "TCP Chat$";
    let fake = FakeNetwork::new();
    add_accelerators(&fake);
    fake.join_as_alice("pc.local:6667", &["alice", "bob"]);
    assert!(main_menu_shows(&fake, "Invite…"), "an open room, a member");
    focus_window(WINDOW);
    press(&["F10"]);
    let menu = fake.window.primary_menu_button().popover().unwrap();
    fake_network::wait_until("F10 to open the main menu", || menu.is_visible());
    press(&["Down"]);
    shot("main-menu-invite");
    press(&["Return"]);
    let dialog = open_dialog();
    assert_eq!(dialog.heading().as_deref(), Some("Invite to #chat"));
    assert!(!dialog.is_response_enabled("invite"), "no nickname yet");
    let nick = descendants::<gtk::Entry>(dialog.upcast_ref());
    nick[0].set_text("two words");
    assert!(!dialog.is_response_enabled("invite"), "not a nickname");
    nick[0].set_text("");
    focus_window("Invite to #chat");
    press(&["e", "r", "i", "n"]);
    fake_network::wait_until("erin typed", || nick[0].text() == "erin");
    shot("invite-dialog");
    press(&["Return"]);
    let mut sent = Vec::new();
    fake_network::wait_until("Enter to invite erin", || {
        sent.extend(sent_but_typing(&fake));
        !sent.is_empty()
    });
    assert_eq!(
        sent,
        [Command::Invite {
            nick: "erin".into()
        }]
    );
    fake_network::wait_until("the Invite dialog to close", || !dialog.is_visible());
    drop(dialog);
    // Said once the server has passed the invitation on, not before.
    let toast_shown = |fake: &FakeNetwork| {
        descendants::<gtk::Label>(fake.window.upcast_ref())
            .iter()
            .any(|label| label.is_mapped() && label.label() == "Invitation sent to erin")
    };
    assert!(!toast_shown(&fake), "no toast before the server's answer");
    fake.feed([Event::Invited {
        nick: "erin".into(),
        room: "#chat".into(),
    }]);
    fake_network::wait_until("the invitation's toast", || toast_shown(&fake));
    shot("invite-sent-toast");
    // Invitation only: for its operators alone.
    fake.feed([Event::RoomModes {
        room: "#chat".into(),
        modes: RoomModes {
            invite_only: true,
            ..RoomModes::default()
        },
        by: None,
    }]);
    assert!(
        !main_menu_shows(&fake, "Invite…"),
        "invitation only, a member"
    );
    fake.feed([Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::HalfOperator,
        by: Some("bob".into()),
    }]);
    assert!(
        main_menu_shows(&fake, "Invite…"),
        "invitation only, an operator"
    );
    fake.close();
}

/// Room Details shows the room's modes; an operator's changes go out as
/// mode changes, one per setting changed.
fn room_details_reflect_and_change_modes() {
    let fake = FakeNetwork::new();
    fake.join_as_alice("pc.local:6667", &["alice", "bob"]);
    fake.feed([
        Event::Members {
            room: "#chat".into(),
            nicks: vec!["alice".into(), "bob".into()],
            ranks: vec![("alice".into(), Rank::Operator)],
        },
        Event::Topic {
            room: "#chat".into(),
            topic: "Friday plans".into(),
            set_by: None,
        },
        Event::RoomModes {
            room: "#chat".into(),
            modes: RoomModes {
                topic_locked: true,
                limit: Some(20),
                ..RoomModes::default()
            },
            by: None,
        },
    ]);
    activate(&fake, WinAction::RoomDetails);
    let dialog = open_dialog();
    let switches = descendants::<gtk::Switch>(dialog.upcast_ref());
    let states: Vec<(bool, bool)> = switches
        .iter()
        .map(|s| (s.is_active(), s.is_sensitive()))
        .collect();
    assert_eq!(states, [(true, true), (false, true), (false, true)]);
    let limit = descendants::<gtk::SpinButton>(dialog.upcast_ref());
    assert_eq!(limit[0].value_as_int(), 20);
    let topic = descendants::<gtk::Entry>(dialog.upcast_ref());
    assert_eq!(topic[0].text(), "Friday plans");
    shot("room-details");
    topic[0].set_text("Saturday plans");
    // While open it follows the room: another operator's change shows, and
    // an edit of a field the room did not change stays.
    fake.feed([Event::RoomModes {
        room: "#chat".into(),
        modes: RoomModes {
            topic_locked: true,
            invite_only: true,
            limit: Some(20),
            ..RoomModes::default()
        },
        by: Some("bob".into()),
    }]);
    assert!(switches[2].is_active(), "follows bob's +i");
    assert_eq!(topic[0].text(), "Saturday plans");
    switches[1].set_active(true);
    limit[0].set_value(0.0);
    fake_network::click_button_labelled(dialog.upcast_ref(), "_Apply");
    drop((dialog, switches, limit, topic));
    fake.settle();
    assert_eq!(
        fake.sent(),
        [
            Command::SetTopic {
                topic: "Saturday plans".into()
            },
            Command::SetRoomMode(RoomModeChange::Moderated(true)),
            Command::SetRoomMode(RoomModeChange::Limit(None)),
        ]
    );
    // Someone else's view: read-only.
    fake.feed([Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::Member,
        by: None,
    }]);
    activate(&fake, WinAction::RoomDetails);
    let dialog = open_dialog();
    let switches = descendants::<gtk::Switch>(dialog.upcast_ref());
    assert!(switches.iter().all(|s| !s.is_sensitive()));
    let topic = descendants::<gtk::Entry>(dialog.upcast_ref());
    assert!(!topic[0].is_editable());
    fake_network::click_button_labelled(dialog.upcast_ref(), "_Close");
    drop((dialog, switches, topic));
    fake.settle();
    fake.close();
}

/// Kicked or banned: a banner says who and why, and nothing reconnects.
fn kicked_and_banned_show_a_banner_without_reconnecting() {
    let fake = FakeNetwork::new();
    fake.join_as_alice("pc.local:6667", &["alice", "bob"]);
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::Kicked {
            by: "bob".into(),
            reason: Some("spam".into()),
        },
    }]);
    let banner = fake.window.banner();
    let message = banner.shown_message().expect("a banner");
    assert!(
        message.contains("bob") && message.contains("spam"),
        "{message}"
    );
    assert_eq!(fake.sent(), [], "no reconnect on its own");
    shot("kicked-banner");
    fake.close();
    let fake = FakeNetwork::new();
    fake.join_as_alice("pc.local:6667", &["alice"]);
    fake.feed([Event::Disconnected {
        reason: DisconnectReason::Banned,
    }]);
    let message = fake.window.banner().shown_message().expect("a banner");
    assert!(message.contains("banned"), "{message}");
    assert_eq!(fake.sent(), []);
    fake.close();
}
