//! The reducer, driven like the window drives it, without a display.

use super::*;
use crate::api::{
    Command, ConnectRequest, DisconnectReason, Event, ExpectedIdentity, HistoryKind, HostRequest,
    LineMeta, NearbyRoom, Security, Trust,
};
use crate::protocol::Fingerprint;
use crate::ui::log_entry::{Kind, LogEntry};

fn connect_request() -> Command {
    Command::Connect(ConnectRequest {
        address: "irc://pc.local:6667/%23chat".into(),
        nick: "alice".into(),
        room: "#chat".into(),
        password: None,
        identity: ExpectedIdentity::Unknown,
    })
}

fn connected() -> Event {
    Event::Connected {
        server: "pc.local:6667".into(),
        nick: "alice".into(),
        room: "#chat".into(),
    }
}

/// A room we joined, with alice and bob in it; its effects dropped.
fn in_room() -> Room {
    let mut room = Room::default();
    room.start(connect_request(), true);
    room.apply_all([
        connected(),
        Event::Members {
            room: "#chat".into(),
            ranks: Vec::new(),
            nicks: vec!["alice".into(), "bob".into()],
        },
    ]);
    room
}

fn said(from: &str, text: &str, msgid: Option<&str>) -> Event {
    Event::Message {
        from: from.into(),
        target: "#chat".into(),
        text: text.into(),
        own: from == "alice",
        private: false,
        meta: LineMeta {
            msgid: msgid.map(Into::into),
            ..LineMeta::default()
        },
    }
}

fn own_pending(text: &str, outbox_id: u64) -> Event {
    Event::Message {
        from: "alice".into(),
        target: "#chat".into(),
        text: text.into(),
        own: true,
        private: false,
        meta: LineMeta {
            outbox_id: Some(outbox_id),
            ..LineMeta::default()
        },
    }
}

fn lost(delay_secs: u64, attempt: u32) -> Event {
    Event::Reconnecting {
        reason: DisconnectReason::ConnectionLost {
            detail: "unexpected end of file".into(),
        },
        attempt,
        delay_secs,
    }
}

/// The texts of the lines logged at the end, in order.
fn logged(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Log(_, entry) => Some(entry.text.clone()),
            _ => None,
        })
        .collect()
}

fn sent(effects: &[Effect]) -> Vec<Command> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(command) => Some(command.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn starting_sends_the_request_and_waits() {
    let mut room = Room::default();
    assert_eq!(room.phase(), Phase::Welcome);
    let effects = room.start(connect_request(), true);
    assert_eq!(sent(&effects), [connect_request()]);
    assert!(effects.contains(&Effect::ClearLog));
    assert_eq!(room.phase(), Phase::Connecting);
    let header = room.header();
    assert_eq!(header.title, "#chat");
    assert_eq!(header.subtitle, "Connecting…");
    assert_eq!(
        header.waiting_for,
        "Joining #chat at irc://pc.local:6667/%23chat"
    );
}

#[test]
fn joining_opens_the_session_and_names_the_server() {
    let mut room = Room::default();
    room.start(connect_request(), true);
    let effects = room.apply(connected());
    assert_eq!(room.phase(), Phase::InRoom);
    let start = effects
        .iter()
        .position(|effect| *effect == Effect::MarkSessionStart)
        .expect("the join line opens the session");
    assert!(matches!(&effects[start + 1], Effect::Log(_, entry)
        if entry.text == "You joined #chat on pc.local:6667 as alice"));
    assert!(effects.contains(&Effect::FocusEntry));
    assert_eq!(room.header().subtitle, "alice · connected to pc.local:6667");
}

#[test]
fn members_follow_joins_parts_quits_and_renames() {
    let mut room = in_room();
    let before = room.members_revision();
    room.apply_all([
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
            reason: None,
        },
        Event::Quit {
            nick: "nobody".into(),
            reason: None,
        },
    ]);
    assert_eq!(room.members().sorted(), ["alice", "Robert"]);
    assert_ne!(room.members_revision(), before);
    room.apply(Event::NickChanged {
        old: "alice".into(),
        new: "alicia".into(),
        own: true,
    });
    assert_eq!(room.visit().nick, "alicia");
}

#[test]
fn leaving_resets_everything_in_one_place() {
    let mut room = in_room();
    room.apply(own_pending("hello", 1));
    let effects = room.leave(None);
    assert_eq!(sent(&effects), [Command::Leave { message: None }]);
    assert!(effects.contains(&Effect::ClearLog));
    assert!(effects.contains(&Effect::DismissBanner));
    assert_eq!(room.phase(), Phase::Welcome);
    assert!(room.members().is_empty());
    assert!(room.pending().is_empty());
    assert_eq!(room.header().title, "TCP Chat");
    // What the old session still says is not shown.
    assert!(room.apply(said("bob", "late", None)).is_empty());
}

#[test]
fn a_lost_room_stays_readable_and_closes_our_host() {
    let mut room = Room::default();
    room.start(
        Command::Host(HostRequest {
            nick: "alice".into(),
            port: 6667,
            room: "#chat".into(),
            password: None,
            encrypted_only: false,
        }),
        true,
    );
    room.apply_all([
        Event::Hosting {
            port: 6667,
            addresses: vec!["192.168.1.5:6667".parse().unwrap()],
            fingerprint: None,
        },
        connected(),
    ]);
    assert!(room.leaving_closes_room());
    assert_eq!(
        room.header().subtitle,
        "alice · hosting at 192.168.1.5:6667"
    );
    let effects = room.apply(Event::Disconnected {
        reason: DisconnectReason::HostClosed { message: None },
    });
    assert_eq!(room.phase(), Phase::Closed);
    assert_eq!(logged(&effects), ["The host closed the room."]);
    assert_eq!(sent(&effects), [Command::Leave { message: None }]);
    assert!(!room.is_hosting());
    assert_eq!(room.header().subtitle, "Disconnected");
}

#[test]
fn a_refused_connect_goes_back_to_welcome_and_retry_repeats_it() {
    let mut room = Room::default();
    room.start(connect_request(), true);
    let effects = room.apply(Event::Disconnected {
        reason: DisconnectReason::Refused,
    });
    assert_eq!(room.phase(), Phase::Welcome);
    assert!(logged(&effects).is_empty());
    assert!(matches!(effects.as_slice(), [Effect::ShowProblem(problem)]
        if problem.message.contains("irc://pc.local:6667/%23chat")));
    let retry = room.retry();
    assert_eq!(sent(&retry), [connect_request()]);
    assert!(!retry.contains(&Effect::ClearLog), "a retry keeps the log");
    assert_eq!(room.phase(), Phase::Connecting);
}

#[test]
fn reconnecting_logs_once_per_outage_and_keeps_the_entry() {
    let mut room = in_room();
    let first = room.apply(lost(5, 1));
    assert_eq!(room.phase(), Phase::Reconnecting);
    assert!(
        room.phase().can_chat(),
        "lines typed now wait in the outbox"
    );
    assert_eq!(
        logged(&first),
        ["The connection to pc.local:6667 was lost; reconnecting…"]
    );
    assert!(first.contains(&Effect::ShowReconnecting { delay_secs: 5 }));
    let second = room.apply(lost(10, 2));
    assert!(logged(&second).is_empty(), "one line per outage");
    assert!(second.contains(&Effect::ShowReconnecting { delay_secs: 10 }));
    assert_eq!(room.header().subtitle, "Reconnecting…");
    assert_eq!(
        sent(&room.send(Command::SendMessage { text: "hi".into() })),
        [Command::SendMessage { text: "hi".into() }]
    );
    assert!(room.can_reconnect_now());
    assert_eq!(sent(&room.reconnect_now()), [Command::ReconnectNow]);

    let back = room.apply(connected());
    assert_eq!(room.phase(), Phase::InRoom);
    assert!(!room.can_reconnect_now());
    assert!(room.reconnect_now().is_empty(), "no wait to skip");
    assert_eq!(logged(&back), ["Reconnected"]);
    assert!(back.contains(&Effect::DismissBanner));
    assert!(
        !back.contains(&Effect::MarkSessionStart),
        "earlier history still goes above the first join"
    );
    assert_eq!(room.members().len(), 2, "members stay until the new list");

    room.apply(lost(1, 1));
    let again = room.apply(lost(1, 1));
    assert!(logged(&again).is_empty());
    let over = room.apply(Event::Disconnected {
        reason: DisconnectReason::Refused,
    });
    assert_eq!(room.phase(), Phase::Closed);
    assert!(over
        .iter()
        .any(|effect| matches!(effect, Effect::ShowProblem(_))));
}

#[test]
fn outage_lines_never_carry_system_text() {
    let mut room = in_room();
    let lines = logged(&room.apply(lost(5, 1)));
    assert!(lines.iter().all(|line| !line.contains("end of file")));
}

#[test]
fn own_lines_wait_until_delivered() {
    let mut room = in_room();
    let effects = room.apply(own_pending("on its way", 7));
    assert!(matches!(effects.as_slice(), [Effect::Log(_, entry)] if entry.pending == Some(7)));
    assert!(room.pending().contains(7));
    assert_eq!(
        room.apply(Event::Delivered { outbox_id: 7 }),
        [Effect::Delivered(7)]
    );
    assert!(room.pending().is_empty());
    assert!(
        room.apply(Event::Delivered { outbox_id: 7 }).is_empty(),
        "a second delivery changes nothing"
    );
    // Someone else's line never waits for our outbox.
    let mut theirs = said("bob", "hi", None);
    if let Event::Message { meta, .. } = &mut theirs {
        meta.outbox_id = Some(8);
    }
    assert!(
        matches!(room.apply(theirs).as_slice(), [Effect::Log(_, entry)] if entry.pending.is_none())
    );
}

#[test]
fn lines_keep_the_time_they_were_said() {
    let mut room = in_room();
    let mut line = said("bob", "earlier today", None);
    if let Event::Message { meta, .. } = &mut line {
        meta.time_ms = Some(1_700_000_000_000);
    }
    assert!(
        matches!(room.apply(line).as_slice(), [Effect::Log(_, entry)]
        if entry.time_ms == Some(1_700_000_000_000))
    );
}

#[test]
fn earlier_history_goes_above_the_join_line_dimmed() {
    let mut room = in_room();
    room.apply(said("bob", "live", Some("m3")));
    let effects = room.apply(Event::History {
        room: "#chat".into(),
        kind: HistoryKind::Earlier,
        lines: vec![
            said("bob", "one", Some("m1")),
            said("carol", "two", Some("m2")),
            said("bob", "live", Some("m3")),
            Event::Joined {
                nick: "dave".into(),
                room: "#chat".into(),
                own: false,
            },
        ],
    });
    let [Effect::LogEarlier(entries)] = effects.as_slice() else {
        panic!("earlier lines go above the join line: {effects:?}");
    };
    let texts: Vec<&str> = entries.iter().map(|entry| entry.text.as_str()).collect();
    assert_eq!(texts, ["Earlier conversation", "one", "two"]);
    assert_eq!(entries[0].kind, Kind::Divider);
    assert!(entries[1..].iter().all(|entry| entry.earlier));
}

#[test]
fn missed_history_follows_a_divider_each_line_once() {
    let mut room = in_room();
    room.apply(said("bob", "before", Some("m1")));
    room.apply(lost(1, 1));
    room.apply(connected());
    let history = |lines| Event::History {
        room: "#chat".into(),
        kind: HistoryKind::Missed,
        lines,
    };
    let effects = room.apply(history(vec![
        said("bob", "before", Some("m1")),
        said("bob", "while away", Some("m2")),
        said("carol", "no id", None),
    ]));
    assert_eq!(
        logged(&effects),
        ["While you were away", "while away", "no id"]
    );
    assert!(matches!(
        &effects[0],
        Effect::Log(
            _,
            LogEntry {
                kind: Kind::Divider,
                ..
            }
        )
    ));
    assert!(
        room.apply(history(vec![said("bob", "while away", Some("m2"))]))
            .is_empty(),
        "nothing new: no divider either"
    );
    assert!(
        room.apply(said("bob", "while away", Some("m2"))).is_empty(),
        "a live repeat of a shown line is dropped too"
    );
}

#[test]
fn seen_ids_are_bounded() {
    let mut room = in_room();
    for n in 0..SEEN_CAPACITY + 10 {
        room.apply(said("bob", "x", Some(&format!("id{n}"))));
    }
    // The oldest were forgotten: shown again if history brings them.
    let effects = room.apply(said("bob", "x", Some("id0")));
    assert_eq!(logged(&effects).len(), 1);
}

#[test]
fn a_missing_network_is_reported_not_waited_for() {
    let mut room = Room::default();
    room.start(connect_request(), true);
    let effects = room.network_unavailable();
    assert_eq!(room.phase(), Phase::Welcome);
    assert!(sent(&effects).is_empty(), "nothing more is sent to nobody");
    assert!(
        matches!(effects.as_slice(), [Effect::ShowProblem(problem)] if problem.remedy.is_none())
    );
    let mut room = in_room();
    let effects = room.network_unavailable();
    assert_eq!(room.phase(), Phase::Closed);
    assert_eq!(logged(&effects).len(), 1, "the room's log says it too");
}

#[test]
fn an_invitation_is_toasted_once_the_server_passed_it_on() {
    let mut room = in_room();
    let effects = room.apply(Event::Invited {
        nick: "erin".into(),
        room: "#chat".into(),
    });
    assert!(matches!(
        effects.as_slice(),
        [Effect::Toast(text)] if text == "Invitation sent to erin"
    ));
}

#[test]
fn nick_in_use_is_toasted_and_logged() {
    let mut room = in_room();
    let effects = room.apply(Event::NickInUse {
        requested: "alice".into(),
        using: "alice_".into(),
    });
    assert_eq!(room.visit().nick, "alice_");
    assert!(effects
        .iter()
        .any(|effect| matches!(effect, Effect::Toast(text) if text.contains("alice_"))));
    assert_eq!(
        logged(&effects),
        ["The nickname alice is taken, so you are alice_"]
    );
}

// ----- Conversations, mentions, unread, notifications -----------------------

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

fn logs_to(effects: &[Effect]) -> Vec<(ConversationId, String)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Log(to, entry) => Some((to.clone(), entry.text.clone())),
            _ => None,
        })
        .collect()
}

fn alerts(effects: &[Effect]) -> Vec<&Alert> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Notify(alert) => Some(alert),
            _ => None,
        })
        .collect()
}

#[test]
fn a_private_line_opens_its_own_conversation() {
    let mut room = in_room();
    let effects = room.apply(private_from("Bob", "psst"));
    let bob = ConversationId::with("bob");
    assert_eq!(
        logs_to(&effects),
        [
            (bob.clone(), "New messages".to_owned()),
            (bob.clone(), "psst".to_owned())
        ],
        "not being read: the divider goes first"
    );
    let conversations = room.conversations();
    assert_eq!(conversations.list().len(), 2);
    assert_eq!(conversations.get(&bob).unwrap().title, "Bob");
    assert_eq!(conversations.attention(), 1);
    assert!(room.header().window_title.starts_with("(1) "));
    // Reading it clears the count and withdraws its notifications.
    let effects = room.select(&bob);
    assert!(effects.contains(&Effect::Withdraw(bob.clone())));
    assert_eq!(room.conversations().attention(), 0);
    assert_eq!(room.header().title, "Bob");
    assert_eq!(room.header().placeholder, "Message Bob");
}

#[test]
fn lines_typed_in_a_private_conversation_go_to_that_person() {
    let mut room = in_room();
    room.open_private("carol");
    let effects = room.send(Command::SendMessage { text: "hi".into() });
    assert_eq!(
        effects,
        [Effect::Send(Command::SendPrivate {
            nick: "carol".into(),
            text: "hi".into()
        })]
    );
    let effects = room.send(Command::SendAction {
        to: None,
        text: "waves".into(),
    });
    assert_eq!(
        effects,
        [Effect::Send(Command::SendAction {
            to: Some("carol".into()),
            text: "waves".into()
        })]
    );
    // Our own private line, echoed, lands in carol's log.
    let echo = Event::Message {
        from: "alice".into(),
        target: "carol".into(),
        text: "hi".into(),
        own: true,
        private: true,
        meta: LineMeta::default(),
    };
    assert_eq!(
        logs_to(&room.apply(echo)),
        [(ConversationId::with("carol"), "hi".to_owned())]
    );
}

#[test]
fn msg_opens_and_shows_the_conversation() {
    let mut room = in_room();
    room.send(Command::SendPrivate {
        nick: "dave".into(),
        text: "hello".into(),
    });
    assert_eq!(
        room.conversations().selected(),
        &ConversationId::with("dave")
    );
}

#[test]
fn mentions_are_highlighted_and_counted() {
    let mut room = in_room();
    let effects = room.apply(said("bob", "alice: are you there?", None));
    let Some(Effect::Log(ConversationId::Room, entry)) = effects.last() else {
        panic!("logged in the room: {effects:?}");
    };
    assert!(entry.mentions_you);
    assert_eq!(
        room.conversations().attention(),
        0,
        "read at once: the window is active on the room"
    );
    room.set_window_active(false);
    let effects = room.apply(said("bob", "ALICE!", None));
    assert_eq!(room.conversations().attention(), 1);
    assert_eq!(alerts(&effects).len(), 1);
    assert_eq!(alerts(&effects)[0].title, "bob in #chat");
    // Chatter counts as unread, but neither notifies nor draws attention.
    let effects = room.apply(said("bob", "the weather", None));
    assert!(alerts(&effects).is_empty());
    assert_eq!(
        logs_to(&effects).len(),
        1,
        "the divider came with the first unread line only"
    );
    assert_eq!(room.conversations().attention(), 1);
    // Own lines never mention us.
    let effects = room.apply(said("alice", "alice here", None));
    assert!(matches!(effects.as_slice(), [Effect::Log(_, entry)] if !entry.mentions_you));
    // Coming back reads the room.
    let effects = room.set_window_active(true);
    assert_eq!(effects, [Effect::Withdraw(ConversationId::Room)]);
}

#[test]
fn with_a_screen_reader_what_is_meant_for_you_notifies_in_the_focused_window() {
    let mut room = in_room();
    room.set_screen_reader(true);
    let effects = room.apply(said("bob", "alice: lunch?", None));
    let alerts_now = alerts(&effects);
    assert_eq!(alerts_now.len(), 1, "read aloud, though the room is shown");
    assert_eq!(
        (alerts_now[0].title.as_str(), alerts_now[0].body.as_str()),
        ("bob in #chat", "alice: lunch?")
    );
    assert!(
        alerts(&room.apply(said("bob", "the weather", None))).is_empty(),
        "chatter does not"
    );
    // Shown as it came, it is withdrawn when the room is next read.
    room.set_window_active(false);
    let effects = room.set_window_active(true);
    assert_eq!(effects, [Effect::Withdraw(ConversationId::Room)]);
    assert!(room.set_window_active(true).is_empty(), "once");
    // The notification level still rules.
    room.set_notify_level(NotifyLevel::Off);
    assert!(alerts(&room.apply(said("bob", "alice?", None))).is_empty());
    // Without a screen reader the focused window tells nothing.
    room.set_notify_level(NotifyLevel::MentionsAndPrivate);
    room.set_screen_reader(false);
    assert!(alerts(&room.apply(said("bob", "alice!", None))).is_empty());
}

#[test]
fn the_notification_level_decides_what_notifies() {
    let mut room = in_room();
    room.set_window_active(false);
    room.set_notify_level(NotifyLevel::Off);
    assert!(alerts(&room.apply(private_from("bob", "psst"))).is_empty());
    room.set_notify_level(NotifyLevel::All);
    let effects = room.apply(said("bob", "anything", None));
    assert_eq!(alerts(&effects).len(), 1);
    room.set_notify_level(NotifyLevel::MentionsAndPrivate);
    let effects = room.apply(private_from("bob", "again"));
    let alert = alerts(&effects)[0];
    assert_eq!(
        (alert.title.as_str(), alert.body.as_str()),
        ("bob (private)", "again")
    );
    assert_eq!(alert.conversation, ConversationId::with("bob"));
}

#[test]
fn a_private_conversation_follows_a_nick_change() {
    let mut room = in_room();
    room.apply(private_from("bob", "psst"));
    let effects = room.apply(Event::NickChanged {
        old: "bob".into(),
        new: "robert".into(),
        own: false,
    });
    assert!(effects.contains(&Effect::RenameConversation {
        from: ConversationId::with("bob"),
        to: ConversationId::with("robert"),
    }));
    assert!(logs_to(&effects).contains(&(
        ConversationId::with("robert"),
        "bob is now known as robert".to_owned()
    )));
    // Leaving the room ends every private conversation.
    room.leave(None);
    assert_eq!(room.conversations().list().len(), 1);
}

// ----- Presence: typing and away ---------------------------------------------

#[test]
fn typing_shows_until_the_line_arrives() {
    use crate::api::TypingState;
    let mut room = in_room();
    room.apply(Event::Typing {
        nick: "bob".into(),
        target: "#chat".into(),
        state: TypingState::Active,
    });
    assert_eq!(room.typing_line().as_deref(), Some("bob is typing…"));
    room.apply(said("bob", "done now", None));
    assert_eq!(room.typing_line(), None);
    // Typing alone does not begin a private conversation.
    room.apply(Event::Typing {
        nick: "eve".into(),
        target: "alice".into(),
        state: TypingState::Active,
    });
    assert_eq!(room.conversations().list().len(), 1);
}

#[test]
fn we_tell_the_conversation_we_type_unless_typing_is_private() {
    use crate::api::TypingState;
    let mut room = in_room();
    let now = std::time::Instant::now();
    assert_eq!(
        room.composing(false, now),
        [Effect::Send(Command::SendTyping {
            target: "#chat".into(),
            state: TypingState::Active
        })]
    );
    room.open_private("bob");
    assert_eq!(
        room.composing(true, now),
        [Effect::Send(Command::SendTyping {
            target: "bob".into(),
            state: TypingState::Done
        })]
    );
    room.set_share_typing(false);
    assert!(room.composing(false, now).is_empty());
    room.apply(Event::Typing {
        nick: "bob".into(),
        target: "alice".into(),
        state: TypingState::Active,
    });
    assert_eq!(room.typing_line(), None, "nor do we see others type");
}

#[test]
fn away_shows_in_members_and_private_conversations() {
    use crate::api::Presence;
    let mut room = in_room();
    room.open_private("bob");
    let lunch = Presence::Away {
        reason: Some("lunch".into()),
    };
    let effects = room.apply(Event::Away {
        nick: "bob".into(),
        presence: lunch.clone(),
        own: false,
    });
    assert_eq!(room.members().presence("bob"), lunch);
    assert_eq!(
        logs_to(&effects),
        [(ConversationId::with("bob"), "bob is away: lunch".to_owned())]
    );
    let effects = room.apply(Event::Away {
        nick: "alice".into(),
        presence: Presence::Here,
        own: true,
    });
    assert_eq!(
        logs_to(&effects),
        [(ConversationId::Room, "You are back".to_owned())]
    );
}

#[test]
fn our_own_room_is_marked_among_nearby_rooms_while_we_host() {
    let ours = Fingerprint::of_certificate(b"our certificate");
    let announced = |instance: &str, fingerprint: Option<String>| {
        Event::NearbyRoom(NearbyRoom {
            instance: instance.into(),
            room: "#chat".into(),
            nick: Some("alice".into()),
            addresses: vec!["192.168.1.5:6667".parse().unwrap()],
            port: 6667,
            tls: true,
            fingerprint,
            ours: false,
        })
    };
    let mut room = Room::default();
    room.apply_all([
        // Announced in lower case without colons: still ours.
        announced("ours", Some(ours.hex().replace(':', "").to_lowercase())),
        announced(
            "a guest's, same name and address",
            Some(Fingerprint::of_certificate(b"theirs").hex()),
        ),
        announced("plain text", None),
    ]);
    let own = |room: &Room| -> Vec<String> {
        let nearby = room.nearby();
        let own = nearby.list().iter().filter(|r| nearby.is_own(r));
        own.map(|r| r.instance.clone()).collect()
    };
    assert!(own(&room).is_empty(), "not hosting: nothing is ours");
    // A room this user hosts elsewhere on this computer (`--serve`), as
    // the network thread marks it: ours whether or not this window hosts.
    let Event::NearbyRoom(mut served) = announced("served here", None) else {
        unreachable!()
    };
    served.ours = true;
    room.apply_all([Event::NearbyRoom(served)]);
    assert_eq!(own(&room), ["served here"]);
    room.apply_all([Event::NearbyRoomGone {
        instance: "served here".into(),
    }]);

    room.start(
        Command::Host(HostRequest {
            nick: "alice".into(),
            port: 6667,
            room: "#chat".into(),
            password: None,
            encrypted_only: false,
        }),
        true,
    );
    let before = room.nearby().revision();
    room.apply(Event::Hosting {
        port: 6667,
        addresses: vec!["192.168.1.5:6667".parse().unwrap()],
        fingerprint: Some(ours),
    });
    assert_eq!(own(&room), ["ours"]);
    assert_ne!(room.nearby().revision(), before, "the lists show the mark");

    room.apply(Event::Disconnected {
        reason: DisconnectReason::HostClosed { message: None },
    });
    assert!(own(&room).is_empty(), "the host is gone");
}

#[test]
fn a_changed_identity_closes_the_lock_and_trusting_it_reconnects() {
    let mut room = in_room();
    let first = Fingerprint::of_certificate(b"first");
    let second = Fingerprint::of_certificate(b"second");
    room.apply_all([Event::Security(Security::Pinned {
        fingerprint: first,
        trust: Trust::Remembered,
    })]);
    assert!(room.header().security.is_some_and(|lock| lock.encrypted));
    let effects = room.apply_all([Event::Disconnected {
        reason: DisconnectReason::IdentityChanged {
            expected: first,
            presented: second,
        },
    }]);
    assert_eq!(room.security(), None, "the lock stays closed no longer");
    let problem = effects.iter().find_map(|effect| match effect {
        Effect::ShowProblem(problem) => Some(problem.clone()),
        _ => None,
    });
    let problem = problem.expect("a banner");
    // Where we were, not the whole link that was typed.
    assert!(
        problem.message.contains("pc.local:6667"),
        "{}",
        problem.message
    );
    assert!(!problem.message.contains("irc://"), "{}", problem.message);
    let effects = room.trust_new_identity();
    let sent: Vec<&Command> = effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(command) => Some(command),
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            sent.as_slice(),
            [Command::Connect(ConnectRequest {
                identity: ExpectedIdentity::Accepted(accepted),
                ..
            })] if *accepted == second
        ),
        "{sent:?}"
    );
}

#[test]
fn ranks_say_whether_we_operate_and_are_logged() {
    use crate::api::{Rank, RoomModes, WhoisInfo};
    let mut room = in_room();
    assert!(!room.we_are_operator());
    let effects = room.apply(Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::Operator,
        by: Some("bob".into()),
    });
    assert!(room.we_are_operator());
    assert_eq!(logged(&effects), ["bob made alice an operator"]);
    // Told again: no news, no line.
    let again = room.apply(Event::MemberRank {
        room: "#chat".into(),
        nick: "alice".into(),
        rank: Rank::Operator,
        by: Some("bob".into()),
    });
    assert_eq!(logged(&again), Vec::<String>::new());
    let effects = room.apply(Event::RoomModes {
        room: "#chat".into(),
        modes: RoomModes {
            moderated: true,
            limit: Some(5),
            ..RoomModes::default()
        },
        by: Some("bob".into()),
    });
    assert_eq!(room.visit().room_modes.limit, Some(5));
    assert_eq!(
        logged(&effects),
        [
            "bob made the room moderated: only operators and voiced members speak",
            "bob limited the room to 5 members"
        ]
    );
    // Each change is worded, not the settings as they now are: a password
    // set and then taken away says so.
    let keyed = RoomModes {
        moderated: true,
        limit: Some(5),
        key: Some("sesame".into()),
        ..RoomModes::default()
    };
    let effects = room.apply(Event::RoomModes {
        room: "#chat".into(),
        modes: keyed,
        by: Some("bob".into()),
    });
    assert_eq!(logged(&effects), ["bob set a password for the room"]);
    let effects = room.apply(Event::RoomModes {
        room: "#chat".into(),
        modes: RoomModes {
            moderated: true,
            limit: Some(5),
            ..RoomModes::default()
        },
        by: Some("bob".into()),
    });
    assert_eq!(logged(&effects), ["bob removed the room’s password"]);
    let effects = room.apply(Event::Ban {
        room: "#chat".into(),
        mask: "*!*@10.0.0.*".into(),
        banned: true,
        by: Some("bob".into()),
    });
    assert_eq!(logged(&effects), ["bob banned *!*@10.0.0.* from the room"]);
    let effects = room.apply(Event::Ban {
        room: "#chat".into(),
        mask: "*!*@10.0.0.*".into(),
        banned: false,
        by: Some("bob".into()),
    });
    assert_eq!(logged(&effects), ["bob lifted the ban on *!*@10.0.0.*"]);
    // `/mode` alone shows the settings the room has now, and asks afresh.
    let effects = room.send(Command::RawMode {
        args: String::new(),
    });
    assert_eq!(
        logged(&effects),
        ["Room settings: moderated, at most 5 members"]
    );
    assert!(effects.contains(&Effect::Send(Command::RawMode {
        args: String::new()
    })));
    let effects = room.apply(Event::Kicked {
        nick: "bob".into(),
        room: "#chat".into(),
        by: "alice".into(),
        reason: Some("spam".into()),
    });
    assert_eq!(logged(&effects), ["alice removed bob from #chat (spam)"]);
    assert_eq!(room.members().sorted(), ["alice"]);
    let effects = room.apply(Event::Whois(WhoisInfo {
        nick: "ann".into(),
        address: Some("ann@host".into()),
        realname: Some("Ann Lee".into()),
        channels: vec!["@#chat".into()],
        idle_secs: Some(300),
        ..WhoisInfo::default()
    }));
    assert_eq!(
        logged(&effects),
        ["ann is Ann Lee (ann@host), in @#chat, idle 5 minutes"]
    );
    let nobody = room.apply(Event::Whois(WhoisInfo {
        nick: "zed".into(),
        unknown: true,
        ..WhoisInfo::default()
    }));
    assert_eq!(logged(&nobody), ["Nobody called zed is connected"]);
}

#[test]
fn kicked_or_banned_closes_without_reconnecting() {
    let mut room = in_room();
    let effects = room.apply(Event::Disconnected {
        reason: DisconnectReason::Kicked {
            by: "bob".into(),
            reason: None,
        },
    });
    assert_eq!(room.phase(), Phase::Closed);
    assert_eq!(sent(&effects), []);
    assert!(effects.iter().any(|e| matches!(e,
        Effect::ShowProblem(problem) if problem.message == "bob removed you from the room.")));
}
