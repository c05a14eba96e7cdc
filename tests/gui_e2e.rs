//! End-to-end GUI tests: the real window with the REAL network thread,
//! hosting a room on loopback that raw IRC clients join. GTK lives on one
//! thread, so this binary has its own `main` that runs the cases in order.
//! Run under Xvfb: `xvfb-run -a -s "-screen 0 1280x800x24" cargo test --test gui_e2e`.
//!
//! With `TCP_CHAT_SCREENSHOT=FILE.png` the three-person chat also saves the
//! README screenshot (see `data/screenshots/take.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_network.rs"]
mod fake_network;
#[path = "support/relay.rs"]
#[allow(dead_code)]
mod relay;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use adw::prelude::*;
use fake_network::{answer_dialog, wait_until};
use tcp_chat::ui::actions::WinAction;
use tcp_chat::ui::join_form::FormField;
use tcp_chat::ui::window::Phase;
use tcp_chat::ui::TcpChatWindow;

/// A raw IRC client on a loopback TCP socket. A reader thread hands each
/// line over and wakes the GTK main loop, so tests await lines with
/// [`wait_until`] while the window keeps running.
struct IrcPeer {
    nick: String,
    writer: TcpStream,
    incoming: mpsc::Receiver<Option<String>>,
    /// Every line received so far.
    seen: Vec<String>,
    /// How many of `seen` an `expect` has already consumed.
    read: usize,
    closed: bool,
}

impl IrcPeer {
    /// Connects to our host on 127.0.0.1 and registers as `nick`,
    /// returning once the window lists the newcomer.
    fn join(window: &TcpChatWindow, port: u16, nick: &str) -> Self {
        let writer = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        let reader = BufReader::new(writer.try_clone().unwrap());
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let context = glib::MainContext::default();
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if sender.send(Some(line)).is_err() {
                    return;
                }
                context.wakeup();
            }
            let _ = sender.send(None);
            context.wakeup();
        });
        let mut peer = IrcPeer {
            nick: nick.to_owned(),
            writer,
            incoming,
            seen: Vec::new(),
            read: 0,
            closed: false,
        };
        peer.send(&format!("NICK {nick}"));
        peer.send(&format!("USER {nick} 0 * :{nick}"));
        peer.expect(" 366 ");
        wait_until(&format!("{nick} in the member list"), || {
            has_member(window, nick)
        });
        peer
    }

    fn send(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("send");
    }

    fn say(&mut self, text: &str) {
        self.send(&format!("PRIVMSG #chat :{text}"));
    }

    fn take_incoming(&mut self) {
        while let Ok(line) = self.incoming.try_recv() {
            match line {
                Some(line) => self.seen.push(line),
                None => self.closed = true,
            }
        }
    }

    /// Waits for a line containing `needle` after the last one expected.
    fn expect(&mut self, needle: &str) -> String {
        let mut found = None;
        wait_until(&format!("{} to receive {needle:?}", self.nick), || {
            self.take_incoming();
            found = self.seen[self.read..]
                .iter()
                .position(|line| line.contains(needle));
            found.is_some() || self.closed
        });
        let Some(offset) = found else {
            panic!(
                "{}: closed before {needle:?}; seen: {:#?}",
                self.nick, self.seen
            );
        };
        self.read += offset + 1;
        self.seen[self.read - 1].clone()
    }

    fn expect_closed(&mut self) {
        wait_until(&format!("the host to close {}", self.nick), || {
            self.take_incoming();
            self.closed
        });
    }
}

fn has_member(window: &TcpChatWindow, nick: &str) -> bool {
    window
        .member_list()
        .nicks()
        .iter()
        .any(|member| member == nick)
}

fn log_contains(window: &TcpChatWindow, text: &str) -> bool {
    window.chat_log().text().contains(text)
}

/// A port nothing listens on right now: bound, then let go.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where hosted rooms keep their history in this run (never the home directory).
static STATE_DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();

fn open_window(width: i32, height: i32) -> TcpChatWindow {
    let state = STATE_DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"));
    let settings = tcp_chat::network::Settings {
        state_dir: state.path().to_path_buf(),
        announce: false,
        browse: false,
    };
    let network = tcp_chat::network::spawn_with(settings).expect("the network thread starts");
    let window = fake_network::open_window(network, width, height);
    wait_until("the window to show", || window.is_mapped());
    window
}

/// Hosts `#chat` as `nick` through the Host popover, like a person would,
/// on a free port (or 6667 if `usual_port` and it is free).
fn host_room(window: &TcpChatWindow, nick: &str, usual_port: bool) -> u16 {
    let usual = usual_port && TcpListener::bind((Ipv4Addr::UNSPECIFIED, 6667)).is_ok();
    let port = if usual { 6667 } else { free_port() };
    WidgetExt::activate_action(window, WinAction::Host.detailed(), None).unwrap();
    let form = window.host_form();
    form.set_field(FormField::Nick, nick);
    form.set_field(FormField::Port, &port.to_string());
    form.set_field(FormField::Room, "#chat");
    form.submit_button().emit_clicked();
    wait_until("the hosted room to open", || {
        window.phase() == Phase::InRoom
    });
    port
}

fn send_from_entry(window: &TcpChatWindow, text: &str) {
    let entry = window.message_entry();
    entry.set_text(text);
    entry.emit_activate();
    assert_eq!(entry.text(), "", "the entry empties after sending {text:?}");
}

/// Leaves the room we host (confirming the dialog) and closes the window.
fn close_room(window: TcpChatWindow, guests: &mut [&mut IrcPeer]) {
    WidgetExt::activate_action(&window, WinAction::Leave.detailed(), None).unwrap();
    answer_dialog("Close the Room", "_Close Room");
    for guest in guests {
        guest.expect_closed();
    }
    assert_eq!(window.visible_page().as_deref(), Some("welcome"));
    window.close();
}

// ----- Cases ---------------------------------------------------------------

fn hosted_room_chats_with_an_irc_client() {
    let window = open_window(900, 640);
    let port = host_room(&window, "mei", false);
    let subtitle = window.window_title().subtitle();
    assert!(subtitle.starts_with("mei · hosting at "), "{subtitle}");
    let log = window.chat_log().text();
    assert!(
        log.contains("You are hosting #chat as mei.") && !log.contains("You joined"),
        "one line about hosting: {log}"
    );

    let mut li = IrcPeer::join(&window, port, "li");
    // The host's person is the room's operator: listed first, marked.
    assert_eq!(window.member_list().nicks(), ["mei", "li"]);
    assert_eq!(
        window.member_list().rank_text("mei").as_deref(),
        Some("Operator")
    );
    assert_eq!(window.member_count(), "2");

    li.say("hello from li");
    wait_until("li's message in the log", || {
        log_contains(&window, "li hello from li")
    });

    send_from_entry(&window, "hi li, welcome");
    li.expect(":mei!");
    assert!(
        li.seen[li.read - 1].ends_with("PRIVMSG #chat :hi li, welcome"),
        "{:?}",
        li.seen
    );

    send_from_entry(&window, "/nick meiling");
    li.expect("NICK");
    wait_until("the header to show the new nick", || {
        window
            .window_title()
            .subtitle()
            .starts_with("meiling · hosting at ")
    });
    wait_until("the member list to follow the rename", || {
        has_member(&window, "meiling") && !has_member(&window, "mei")
    });
    assert!(log_contains(&window, "You are now known as meiling"));

    li.send("QUIT :bye");
    wait_until("li to leave the member list", || !has_member(&window, "li"));
    let log = window.chat_log().text();
    assert!(log.contains("li quit"), "{log}");
    close_room(window, &mut []);
}

/// A private conversation between the window and a raw IRC client, both
/// ways, through our own host; mentions and away too.
fn private_conversation_with_an_irc_client() {
    let window = open_window(900, 640);
    let port = host_room(&window, "mei", false);
    let mut li = IrcPeer::join(&window, port, "li");
    li.send("CAP REQ :message-tags");
    li.expect("CAP");

    li.send("PRIVMSG mei :psst, mei");
    wait_until("li's private line in her conversation", || {
        window
            .private_log("li")
            .is_some_and(|log| log.text().contains("li psst, mei"))
    });
    assert!(!log_contains(&window, "psst"), "not in the room's log");
    let rows = window.conversation_rows();
    assert_eq!(rows.len(), 2);
    rows[1].emit_activate();
    wait_until("li's conversation shown", || {
        window.window_title().title() == "li"
    });
    send_from_entry(&window, "hello li, just us");
    let line = li.expect("PRIVMSG li :hello li, just us");
    assert!(line.contains(":mei!"), "{line}");
    // Typing reaches li as a TAGMSG (she asked for message-tags).
    window.message_entry().set_text("and one more");
    li.expect("TAGMSG li");
    window.message_entry().set_text("");

    // A mention in the room is highlighted there.
    rows[0].emit_activate();
    li.say("mei: see you at lunch?");
    wait_until("the mention in the room's log", || {
        window
            .chat_log()
            .mention_lines()
            .iter()
            .any(|line| line == "mei: see you at lunch?")
    });

    // li goes away: dimmed in the member list, with her reason.
    li.send("AWAY :lunch");
    li.expect(" 306 ");
    wait_until("li shown away", || {
        window.member_list().away_status("li").as_deref() == Some("Away: lunch")
    });
    close_room(window, &mut [&mut li]);
}

fn connecting_to_a_closed_port_shows_the_banner() {
    let window = open_window(900, 640);
    let address = format!("127.0.0.1:{}", free_port());
    let form = window.connect_form();
    form.set_field(FormField::Address, &address);
    form.set_field(FormField::Nick, "ann");
    form.set_field(FormField::Room, "#chat");
    form.submit_button().emit_clicked();
    let banner = window.banner();
    wait_until("the refused banner", || banner.shown_message().is_some());
    let message = banner.shown_message().unwrap();
    assert!(message.contains(&address), "{message}");
    assert_eq!(
        tcp_chat::ui::mnemonic_label(&banner.remedy_button()).as_deref(),
        Some("_Try Again")
    );
    assert_eq!(window.visible_page().as_deref(), Some("welcome"));
    assert_eq!(window.phase(), Phase::Welcome);
    window.close();
}

/// Three people chatting; with `TCP_CHAT_SCREENSHOT` set, also the README
/// screenshot.
fn three_people_chat() {
    let screenshot_path = std::env::var("TCP_CHAT_SCREENSHOT").ok();
    let window = open_window(1000, 650);
    // The screenshot shows the usual IRC port when it is free.
    let port = host_room(&window, "mei", screenshot_path.is_some());
    let mut li = IrcPeer::join(&window, port, "li");
    let mut sam = IrcPeer::join(&window, port, "sam");
    send_from_entry(&window, "/topic Friday dinner");
    sam.expect("TOPIC");
    let lines: [(&str, &str); 7] = [
        ("li", "hi all! are we still on for Friday?"),
        ("mei", "yes! 7pm at mine, everyone welcome"),
        ("sam", "\u{1}ACTION brings dumplings\u{1}"),
        ("li", "太好了！我带火锅底料和饮料"),
        (
            "sam",
            "I found a recipe: https://en.wikipedia.org/wiki/Hot_pot",
        ),
        ("mei", "perfect, see you both then"),
        ("li", "see you"),
    ];
    for (speaker, text) in lines {
        match speaker {
            "li" => li.say(text),
            "sam" => sam.say(text),
            _ => send_from_entry(&window, text),
        }
        let shown = text
            .strip_prefix("\u{1}ACTION ")
            .map_or(text, |action| action.trim_end_matches('\u{1}'));
        wait_until(&format!("{shown:?} in the log"), || {
            log_contains(&window, shown)
        });
    }
    for guest in [&mut li, &mut sam] {
        guest.expect("see you both then");
    }
    assert_eq!(window.member_list().nicks(), ["mei", "li", "sam"]);
    assert!(window.show_members(), "a wide window shows the members");
    if let Some(path) = screenshot_path {
        screenshot(&window, &path);
    }
    close_room(window, &mut [&mut li, &mut sam]);
}

/// Saves `window` as a PNG, drawn by GTK itself with rounded corners and
/// shadow as under a compositing desktop (Xvfb has none, so GTK would draw
/// the square "solid" frame instead).
fn screenshot(window: &TcpChatWindow, path: &str) {
    window.message_entry().grab_focus();
    window.remove_css_class("solid-csd");
    window.add_css_class("csd");
    fake_network::let_it_draw(Duration::from_millis(800));
    let paintable = gtk::WidgetPaintable::new(Some(window));
    let snapshot = gtk::Snapshot::new();
    paintable.snapshot(
        &snapshot,
        f64::from(window.width()),
        f64::from(window.height()),
    );
    let node = snapshot.to_node().expect("the window draws something");
    let renderer = window.renderer().expect("a realized window");
    let texture = renderer.render_texture(&node, None);
    texture
        .save_to_png(path)
        .expect("the screenshot is written");
    window.remove_css_class("csd");
    window.add_css_class("solid-csd");
}

/// The window joined through a relay the test cuts: it says it is
/// reconnecting, keeps the entry usable (the line typed then is pending),
/// rejoins by itself, shows what was missed after "While you were away" and
/// the pending line turns to sent — reaching the room once.
fn the_window_rejoins_and_fills_the_gap() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = tcp_chat::server::ServerConfig {
        bind: Some(Ipv4Addr::LOCALHOST.into()),
        port: 0,
        history: Some(tcp_chat::server::HistoryConfig {
            path: state.path().join("history.sqlite3"),
            keep_per_room: 1000,
        }),
        ..tcp_chat::server::ServerConfig::default()
    };
    let host = runtime.block_on(tcp_chat::server::start(config)).unwrap();
    let host_port = host.local_addrs()[0].port();
    let relay = runtime.block_on(relay::Relay::start(host.local_addrs()[0]));

    let window = open_window(900, 640);
    let form = window.connect_form();
    form.set_field(FormField::Address, &relay.addr.to_string());
    form.set_field(FormField::Nick, "mei");
    form.set_field(FormField::Room, "#chat");
    form.submit_button().emit_clicked();
    wait_until("the room to open", || window.phase() == Phase::InRoom);
    let mut li = IrcPeer::join(&window, host_port, "li");
    li.say("before the cut");
    wait_until("li's line", || log_contains(&window, "before the cut"));

    relay.cut();
    wait_until("the window to say it reconnects", || {
        window.phase() == Phase::Reconnecting
            && window
                .banner()
                .shown_message()
                .is_some_and(|m| m.contains("Reconnecting"))
    });
    li.expect("QUIT");
    li.say("said while mei was away");
    send_from_entry(&window, "typed while away");
    wait_until("the typed line, shown as on its way", || {
        window.chat_log().pending_count() == 1 && log_contains(&window, "typed while away")
    });

    relay.restore();
    WidgetExt::activate_action(&window, "win.reconnect-now", None).unwrap();
    wait_until("the missed line after the divider", || {
        let log = window.chat_log().text();
        match (
            log.find("While you were away"),
            log.find("said while mei was away"),
        ) {
            (Some(divider), Some(line)) => divider < line,
            _ => false,
        }
    });
    wait_until("the pending line to be sent", || {
        window.chat_log().pending_count() == 0
    });
    assert_eq!(window.phase(), Phase::InRoom);
    li.expect("typed while away");
    let log = window.chat_log().text();
    assert_eq!(log.matches("said while mei was away").count(), 1, "{log}");
    assert_eq!(log.matches("before the cut").count(), 1, "{log}");
    li.send("PING :barrier");
    li.expect("PONG");
    assert_eq!(
        li.seen
            .iter()
            .filter(|l| l.ends_with(":typed while away"))
            .count(),
        1,
        "sent twice: {:?}",
        li.seen
    );
    window.close();
    runtime.block_on(host.shutdown());
}

/// Lines kept in the history database of the room hosted on `port`.
fn stored_lines(port: u16) -> i64 {
    let Some(state) = STATE_DIR.get() else {
        return 0;
    };
    let database = state.path().join(format!("history-{port}.sqlite3"));
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(database, flags)
        .and_then(|db| db.query_row("SELECT count(*) FROM lines", [], |row| row.get(0)))
        .unwrap_or(-1)
}

/// The host's window keeps the room's history on disk until the person
/// clears it from the main menu (after saying yes).
fn clearing_the_history_of_a_hosted_room() {
    let window = open_window(900, 640);
    let port = host_room(&window, "mei", false);
    let mut li = IrcPeer::join(&window, port, "li");
    li.say("something to forget");
    wait_until("the line in the log", || {
        log_contains(&window, "something to forget")
    });
    wait_until("the line on disk", || stored_lines(port) >= 1);

    WidgetExt::activate_action(&window, WinAction::ClearHistory.detailed(), None).unwrap();
    answer_dialog("Clear Room History", "C_lear History");
    wait_until("the history to be gone from disk", || {
        stored_lines(port) == 0
    });
    close_room(window, &mut [&mut li]);
}

fn main() -> std::process::ExitCode {
    fake_network::init();
    let cases: &[(&str, fn())] = &[
        (
            "private_conversation_with_an_irc_client",
            private_conversation_with_an_irc_client,
        ),
        (
            "hosted_room_chats_with_an_irc_client",
            hosted_room_chats_with_an_irc_client,
        ),
        (
            "connecting_to_a_closed_port_shows_the_banner",
            connecting_to_a_closed_port_shows_the_banner,
        ),
        ("three_people_chat", three_people_chat),
        (
            "the_window_rejoins_and_fills_the_gap",
            the_window_rejoins_and_fills_the_gap,
        ),
        (
            "clearing_the_history_of_a_hosted_room",
            clearing_the_history_of_a_hosted_room,
        ),
    ];
    fake_network::run_cases(cases)
}
