//! People on `nc` or `telnet`: asked their name, then every line they type
//! is a message to the room, and they read the room as plain sentences —
//! never IRC syntax. IRC users see them as ordinary members.

use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;

use super::caps::Caps;
use super::connection::Client;
use super::guard::Verdict;
use super::history::{LineCommand, Selector, StoredLine};
use super::hub::{
    Departure, Happening, Identity, JoinError, MessageKind, NickError, SayError, Style,
};
use super::input::{Ending, Input, Next};
use super::Limits;
use crate::i18n::{gettext, gettext_f, ngettext_f};
use crate::protocol::formatting::is_bidi_control;
use crate::protocol::names::MAX_NICK_LEN;
use crate::protocol::{ctcp, fold_case, strip_formatting, time, Line};

/// Earlier lines a plain-text user is shown on arrival.
const CATCH_UP_LINES: usize = 20;

/// `/help`, in the host's language (the commands themselves stay as typed).
fn help() -> [String; 7] {
    [
        gettext("Type a line and press Enter to talk to everyone in the room."),
        gettext("/me TEXT     act (shows as: * you TEXT)"),
        gettext("/nick NAME   change your name"),
        gettext("/who         list who is here"),
        gettext("/topic TEXT  set the room's topic (/topic alone shows it)"),
        gettext("/away TEXT   tell IRC users you are away (/away alone: back)"),
        gettext("/quit or exit   leave"),
    ]
}

/// Names listed by `/who` and on arrival; a terminal line holds no more.
const WHO_SHOWN: usize = 40;

/// What starts a line about the room (joins, leaves, renames, topics). No
/// one can type it: an action reads `* nick …` and a nick starts with a
/// letter, so `/me left (Ping timeout)` cannot pass for someone leaving.
const SYSTEM_MARK: &str = "***";

/// A line about the room, marked as the host's.
fn system(text: String) -> String {
    format!("{SYSTEM_MARK} {text}")
}

/// The kernel's keep-alive probes before it gives up on a silent peer
/// (Linux's default `tcp_keepalive_probes`; setting it needs socket2's
/// `all` feature).
const KEEPALIVE_PROBES: u32 = 9;

/// TCP keep-alive on a new connection. Plain-text users are never sent
/// PING (a line they cannot answer would only confuse them), so without it
/// a peer that vanished (laptop closed, Wi-Fi gone) would hold its nick
/// for ever: the kernel probes a silent connection after `ping_interval`
/// and gives up about `ping_timeout` later, as the PINGs do for IRC users.
pub(super) fn keep_alive(stream: &TcpStream, limits: &Limits) {
    let second = Duration::from_secs(1);
    let probes = (limits.ping_timeout / KEEPALIVE_PROBES).max(second);
    let keepalive = TcpKeepalive::new()
        .with_time(limits.ping_interval.max(second))
        .with_interval(probes);
    if let Err(err) = SockRef::from(stream).set_tcp_keepalive(&keepalive) {
        log::debug!("no TCP keep-alive: {err}");
    }
}

/// One line for a plain-text user, with the CRLF telnet wants. Control
/// characters and the Unicode controls that reorder text never reach a
/// terminal: someone else's line must not rewrite or reverse what is shown.
pub(super) fn line(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 2);
    let mut buffer = [0; 4];
    for c in text.chars() {
        if !c.is_control() && !is_bidi_control(c) {
            out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// What a plain-text user reads when `nick` does something; `None` for what
/// happens outside the room (plain users live in the room only).
pub(super) fn render(nick: &str, happening: Happening, room: &str) -> Option<Vec<u8>> {
    let in_room = |channel: &str| fold_case(channel) == fold_case(room);
    let text = match happening {
        Happening::Joined { channel } if in_room(channel) => {
            system(gettext_f("{nick} joined", &[("nick", nick)]))
        }
        Happening::Left { channel, reason } if in_room(channel) => match reason {
            Some(reason) if !reason.is_empty() => left(nick, reason),
            _ => system(gettext_f("{nick} left", &[("nick", nick)])),
        },
        Happening::Quit { why } => match (why, why.cause()) {
            (Departure::Quit(Some(words)), _) => left(nick, words),
            (_, Some(cause)) => left(nick, cause),
            (_, None) => system(gettext_f("{nick} left", &[("nick", nick)])),
        },
        Happening::Renamed { new } => system(gettext_f(
            "{nick} is now known as {new}",
            &[("nick", nick), ("new", new)],
        )),
        Happening::Said { kind, target, text } => {
            let private = !in_room(target);
            if private && target.starts_with(['#', '&']) {
                return None;
            }
            match (ctcp::action_text(text), kind, private) {
                (Some(act), _, _) => format!("* {nick} {}", strip_formatting(act)),
                (None, MessageKind::Notice, _) => format!("-{nick}- {}", strip_formatting(text)),
                (None, MessageKind::Privmsg, true) => {
                    format!("*{nick}* {}", strip_formatting(text))
                }
                (None, MessageKind::Privmsg, false) => {
                    format!("<{nick}> {}", strip_formatting(text))
                }
            }
        }
        Happening::TopicSet { channel, text } if in_room(channel) => system(gettext_f(
            "{nick} changed the topic to: {topic}",
            &[("nick", nick), ("topic", &strip_formatting(text))],
        )),
        Happening::Kicked {
            channel,
            target,
            reason,
        } if in_room(channel) => system(gettext_f(
            "{nick} removed {target} from the room ({reason})",
            &[
                ("nick", nick),
                ("target", target),
                ("reason", &strip_formatting(reason)),
            ],
        )),
        Happening::ModesChanged {
            channel,
            changes,
            params,
        } if in_room(channel) => {
            let modes = std::iter::once(changes)
                .chain(params.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            system(gettext_f(
                "{nick} changed the room's modes: {modes}",
                &[("nick", nick), ("modes", &modes)],
            ))
        }
        _ => return None,
    };
    Some(line(&text))
}

fn left(nick: &str, reason: &str) -> String {
    system(gettext_f(
        "{nick} left ({reason})",
        &[("nick", nick), ("reason", &strip_formatting(reason))],
    ))
}

pub(super) async fn run(client: &Client<'_>, input: &mut Input, first: Option<Line>) -> Ending {
    let mut unprompted = first.and_then(|line| match line {
        Line::Text(text) => Some(text.trim().to_owned()),
        Line::TooLong => None,
    });
    let shared = client.shared;
    let room = shared.hub.room();
    let mut greeting = gettext_f(
        "Welcome to {room} on {host}!",
        &[("room", room), ("host", client.server_name())],
    );
    if shared.guard.required() {
        if shared.guard.is_banned(client.ip) {
            client.say(&banned());
            return Ending::Banned;
        }
        client.say(&gettext_f(
            "{greeting} This room needs a password. Password?",
            &[("greeting", &greeting)],
        ));
        // One guess per connection: a line typed before the question
        // (`printf 'secret\nname\n' | nc …`) is it.
        let guess = match unprompted.take() {
            Some(text) => text,
            None => match next_text(client, input).await {
                Ok(text) => text,
                Err(ending) => return ending,
            },
        };
        match shared
            .guard
            .judge(client.ip, &guess, &shared.shutdown)
            .await
        {
            Ok(Verdict::Accepted) => greeting = gettext("Password accepted."),
            Ok(Verdict::Wrong) => return Ending::BadPassword,
            Ok(Verdict::Banned) => {
                client.say(&banned());
                return Ending::Banned;
            }
            Err(ending) => return ending,
        }
    }
    let nick = match unprompted {
        Some(name) if register(client, &name).is_ok() => {
            client.say(&greeting);
            name
        }
        _ => {
            client.say(&gettext_f(
                "{greeting} What's your name?",
                &[("greeting", &greeting)],
            ));
            match ask_name(client, input).await {
                Ok(name) => name,
                Err(ending) => return ending,
            }
        }
    };
    let limits = &shared.config.limits;
    input.registered(None, limits.flood_control);
    log::info!("{nick} (plain text, {}) joined", client.host);
    catch_up(client).await;
    if let Err(err) = shared.hub.join(client.id, room, None, None) {
        let why = match err {
            JoinError::AlreadyMember => None,
            JoinError::Banned => Some(gettext("You are banned from this room. Bye!")),
            JoinError::InviteOnly | JoinError::BadKey => {
                Some(gettext("This room is closed to newcomers for now. Bye!"))
            }
            JoinError::Full => Some(gettext("This room is full. Bye!")),
        };
        if let Some(why) = why {
            client.say(&why);
            return Ending::Quit(None);
        }
    }
    client.say(&gettext_f(
        "{members} Type /help for commands.",
        &[("members", &who_line(client))],
    ));
    chat(client, input).await
}

fn banned() -> String {
    gettext("Too many wrong passwords from your address. Try again later. Bye!")
}

/// The room's last lines, each with its time of day, before the newcomer
/// joins.
async fn catch_up(client: &Client<'_>) {
    let Some(history) = client.shared.hub.history().cloned() else {
        return;
    };
    let room = client.shared.hub.room().to_owned();
    let key = fold_case(&room);
    let found = tokio::task::spawn_blocking(move || {
        history.flush();
        history.query(&key, &Selector::Latest(None), CATCH_UP_LINES)
    })
    .await;
    let lines = match found {
        Ok(Ok(lines)) => lines,
        Ok(Err(err)) => return log::warn!("no catch-up for a plain-text user: {err}"),
        Err(err) => return log::warn!("no catch-up for a plain-text user: {err}"),
    };
    if lines.is_empty() {
        return;
    }
    client.say(&gettext("Earlier in the room:"));
    for line in &lines {
        if let Some(text) = render_stored(line, &room) {
            client.reply_bytes(text);
        }
    }
}

/// A stored line as a plain-text user reads it: `[14:02] <li> hello`.
fn render_stored(stored: &StoredLine, room: &str) -> Option<Vec<u8>> {
    let nick = stored.prefix.split('!').next().unwrap_or_default();
    let happening = match stored.command {
        LineCommand::Privmsg | LineCommand::Notice => Happening::Said {
            kind: if stored.command == LineCommand::Notice {
                MessageKind::Notice
            } else {
                MessageKind::Privmsg
            },
            target: &stored.room,
            text: &stored.text,
        },
        LineCommand::Topic => Happening::TopicSet {
            channel: &stored.room,
            text: &stored.text,
        },
    };
    let rendered = render(nick, happening, room)?;
    let mut out = format!("[{}] ", time::local_clock(stored.time_ms)).into_bytes();
    out.extend_from_slice(&rendered);
    Some(out)
}

/// The next line's text; an over-long line counts as an empty answer.
async fn next_text(client: &Client<'_>, input: &mut Input) -> Result<String, Ending> {
    match client.next(input).await {
        Next::Line(Line::Text(text)) => Ok(text.trim().to_owned()),
        Next::Line(Line::TooLong) => Ok(String::new()),
        Next::End(ending) => Err(ending),
    }
}

/// Why a name cannot be had, in words.
fn name_problem(name: &str, err: NickError) -> String {
    match err {
        NickError::Invalid => gettext_f(
            "A name is one word of at most {max} letters, digits or - _ [ ] { } | ^ ` \\, starting with a letter.",
            &[("max", &MAX_NICK_LEN.to_string())],
        ),
        NickError::InUse => {
            gettext_f("Someone here is already called {name}.", &[("name", name)])
        }
    }
}

/// Claims `name`, or says why not.
fn register(client: &Client, name: &str) -> Result<(), String> {
    let identity = Identity {
        nick: name.to_owned(),
        user: name.to_owned(),
        host: client.host.clone(),
        realname: "plain-text user".to_owned(),
    };
    let queue = client.queue.clone();
    client
        .shared
        .hub
        .register(
            client.id,
            identity,
            Style::Plain,
            Caps::default(),
            queue,
            false,
        )
        .map_err(|err| name_problem(name, err))
}

async fn ask_name(client: &Client<'_>, input: &mut Input) -> Result<String, Ending> {
    loop {
        let name = next_text(client, input).await?;
        if name.is_empty() {
            client.say(&gettext("What's your name?"));
            continue;
        }
        match register(client, &name) {
            Ok(()) => return Ok(name),
            Err(why) => client.say(&gettext_f(
                "{problem} What's your name?",
                &[("problem", &why)],
            )),
        }
    }
}

fn who_line(client: &Client) -> String {
    let hub = &client.shared.hub;
    match hub.members(hub.room()) {
        Some((room, members)) => {
            let count = members.len();
            let shown: Vec<String> = members
                .into_iter()
                .take(WHO_SHOWN)
                .map(|m| {
                    if m.away {
                        format!("{} (away)", m.identity.nick)
                    } else {
                        m.identity.nick
                    }
                })
                .collect();
            let more = count - shown.len();
            let count = count.to_string();
            let names = shown.join(", ");
            let mut args = vec![
                ("room", room.as_str()),
                ("count", &count),
                ("names", &names),
            ];
            if more == 0 {
                return gettext_f("In {room} ({count}): {names}.", &args);
            }
            let more_text = more.to_string();
            args.push(("more", &more_text));
            ngettext_f(
                "In {room} ({count}): {names} and {more} more.",
                "In {room} ({count}): {names} and {more} more.",
                more as u64,
                &args,
            )
        }
        None => String::new(),
    }
}

async fn chat(client: &Client<'_>, input: &mut Input) -> Ending {
    let hub = &client.shared.hub;
    let room = hub.room();
    loop {
        let text = match client.next(input).await {
            Next::Line(Line::Text(text)) => text,
            Next::Line(Line::TooLong) => {
                client.say(&gettext("That line was too long and was not sent."));
                continue;
            }
            Next::End(ending) => return ending,
        };
        let text = text.trim_end();
        let (command, rest) = match text.split_once(' ') {
            Some((command, rest)) => (command, rest.trim()),
            None => (text, ""),
        };
        let say = |message: &str| {
            if let Err(SayError::CannotSendToChannel) =
                hub.say(client.id, MessageKind::Privmsg, room, message, "")
            {
                // Removed from the room, or quietened by its operator.
                client.say(&gettext("You cannot talk in the room now."));
            }
        };
        match command {
            "" => {}
            "exit" if rest.is_empty() => return Ending::Quit(None),
            "/quit" | "/exit" => return Ending::Quit((!rest.is_empty()).then(|| rest.to_owned())),
            "/help" => help().iter().for_each(|help| client.say(help)),
            "/who" | "/names" => client.say(&who_line(client)),
            "/me" => say(&ctcp::wrap_action(rest)),
            "/nick" => rename(client, rest),
            "/away" => {
                let reason = (!rest.is_empty()).then_some(rest);
                client.say(&if hub.set_away(client.id, reason) {
                    gettext("You are marked as away.")
                } else {
                    gettext("You are back.")
                });
            }
            "/topic" if rest.is_empty() => match hub.topic(client.id, room) {
                Ok((_, Some(topic))) => client.say(&gettext_f(
                    "The topic is: {topic}",
                    &[("topic", &strip_formatting(&topic.text))],
                )),
                _ => client.say(&gettext("There is no topic.")),
            },
            "/topic" => {
                if hub.set_topic(client.id, room, rest).is_err() {
                    client.say(&gettext(
                        "Only the room's operators can change its topic now.",
                    ));
                }
            }
            // "//text" sends "/text".
            _ if text.starts_with("//") => say(&text[1..]),
            _ if text.starts_with('/') => client.say(&gettext_f(
                "Unknown command {command}. Type /help for the list.",
                &[("command", command)],
            )),
            _ => say(text),
        }
    }
}

fn rename(client: &Client, name: &str) {
    if let Err(err) = client.shared.hub.rename(client.id, name) {
        client.say(&name_problem(name, err));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(happening: Happening) -> Option<String> {
        render("bob", happening, "#chat").map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn room_events_read_as_sentences() {
        let said = |kind, target, text| Happening::Said { kind, target, text };
        assert_eq!(
            rendered(Happening::Joined { channel: "#Chat" }).unwrap(),
            "*** bob joined\r\n"
        );
        assert_eq!(
            rendered(Happening::Left {
                channel: "#chat",
                reason: Some("later")
            })
            .unwrap(),
            "*** bob left (later)\r\n"
        );
        assert_eq!(
            rendered(Happening::Quit {
                why: Departure::Quit(None)
            })
            .unwrap(),
            "*** bob left\r\n"
        );
        assert_eq!(
            rendered(Happening::Quit {
                why: Departure::Quit(Some("gone"))
            })
            .unwrap(),
            "*** bob left (gone)\r\n"
        );
        assert_eq!(
            rendered(Happening::Quit {
                why: Departure::PingTimeout
            })
            .unwrap(),
            "*** bob left (Ping timeout)\r\n"
        );
        assert_eq!(
            rendered(Happening::Renamed { new: "rob" }).unwrap(),
            "*** bob is now known as rob\r\n"
        );
        assert_eq!(
            rendered(said(MessageKind::Privmsg, "#chat", "hi")).unwrap(),
            "<bob> hi\r\n"
        );
        assert_eq!(
            rendered(said(
                MessageKind::Privmsg,
                "#chat",
                "\u{1}ACTION waves\u{1}"
            ))
            .unwrap(),
            "* bob waves\r\n"
        );
        assert_eq!(
            rendered(said(MessageKind::Notice, "#chat", "psst")).unwrap(),
            "-bob- psst\r\n"
        );
        assert_eq!(
            rendered(said(MessageKind::Privmsg, "alice", "hey")).unwrap(),
            "*bob* hey\r\n"
        );
        assert_eq!(
            rendered(Happening::TopicSet {
                channel: "#chat",
                text: "news"
            })
            .unwrap(),
            "*** bob changed the topic to: news\r\n"
        );
    }

    #[test]
    fn an_action_cannot_pass_for_a_system_line() {
        let act = Happening::Said {
            kind: MessageKind::Privmsg,
            target: "#chat",
            text: "\u{1}ACTION left (Ping timeout)\u{1}",
        };
        let real = Happening::Quit {
            why: Departure::PingTimeout,
        };
        assert_eq!(rendered(act).unwrap(), "* bob left (Ping timeout)\r\n");
        assert_eq!(rendered(real).unwrap(), "*** bob left (Ping timeout)\r\n");
    }

    #[test]
    fn lines_lose_controls_that_reorder_or_rewrite_text() {
        let text = "a\u{202E}b\u{2066}c\u{2069}d\u{200F}e\u{200E}f\u{202A}g\rh\u{1b}[2Ji";
        assert_eq!(line(text), b"abcdefgh[2Ji\r\n");
        assert_eq!(line("你好 \u{1F600}"), "你好 \u{1F600}\r\n".as_bytes());
    }

    #[test]
    fn other_channels_stay_out_of_view() {
        assert_eq!(rendered(Happening::Joined { channel: "#other" }), None);
        let elsewhere = Happening::Said {
            kind: MessageKind::Privmsg,
            target: "#other",
            text: "x",
        };
        assert_eq!(rendered(elsewhere), None);
    }
}
