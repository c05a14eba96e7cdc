//! What the message entry's text means: a chat line, an IRC-style command,
//! or something to answer locally. GTK-free.

use crate::api::{Command, MemberMode};
use crate::i18n::{gettext, gettext_f};
use crate::protocol::is_valid_nick;

/// The meaning of one line typed into the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Hand this to the network thread (`Leave` may need confirming first).
    Send(Command),
    /// `/help`: list the commands.
    Help,
    /// `/query NICK`: open the private conversation with NICK.
    Query(String),
    /// A known command used wrongly.
    Usage(Usage),
    /// `/name` that we do not know; never sent as chat.
    Unknown(String),
    /// `/nick` with a name IRC refuses.
    InvalidNick(String),
    /// Blank: nothing to do.
    Nothing,
}

/// Which command's usage line to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Nick,
    Me,
    Msg,
    Topic,
    Kick,
    Ban,
    Op,
    Deop,
    Voice,
    Devoice,
    Invite,
    Whois,
}

pub fn parse(line: &str) -> Input {
    if line.trim().is_empty() {
        return Input::Nothing;
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Input::Send(Command::SendMessage {
            text: line.to_owned(),
        });
    };
    // `//text` is how one says something that starts with a slash.
    if rest.starts_with('/') {
        return Input::Send(Command::SendMessage {
            text: rest.to_owned(),
        });
    }
    let (name, args) = split_word(rest);
    let args = args.trim_end();
    match name.to_ascii_lowercase().as_str() {
        "nick" => match args.trim() {
            "" => Input::Usage(Usage::Nick),
            nick if is_valid_nick(nick) => Input::Send(Command::ChangeNick {
                nick: nick.to_owned(),
            }),
            nick => Input::InvalidNick(nick.to_owned()),
        },
        "me" if args.trim().is_empty() => Input::Usage(Usage::Me),
        "me" => Input::Send(Command::SendAction {
            to: None,
            text: args.to_owned(),
        }),
        "msg" | "query" => match split_word(args.trim_start()) {
            (nick, text) if !nick.is_empty() && !text.trim().is_empty() => {
                Input::Send(Command::SendPrivate {
                    nick: nick.to_owned(),
                    text: text.to_owned(),
                })
            }
            (nick, text)
                if name.eq_ignore_ascii_case("query")
                    && is_valid_nick(nick)
                    && text.trim().is_empty() =>
            {
                Input::Query(nick.to_owned())
            }
            _ => Input::Usage(Usage::Msg),
        },
        "away" => Input::Send(Command::SetAway {
            reason: Some(args.trim())
                .filter(|reason| !reason.is_empty())
                .map(str::to_owned),
        }),
        "back" => Input::Send(Command::SetAway { reason: None }),
        "topic" if args.trim().is_empty() => Input::Usage(Usage::Topic),
        "topic" => Input::Send(Command::SetTopic {
            topic: args.trim_start().to_owned(),
        }),
        "quit" | "leave" | "part" => Input::Send(Command::Leave {
            message: Some(args.trim())
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        }),
        "kick" => match split_word(args.trim_start()) {
            (nick, reason) if is_valid_nick(nick) => Input::Send(Command::Kick {
                nick: nick.to_owned(),
                reason: Some(reason.trim())
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            }),
            _ => Input::Usage(Usage::Kick),
        },
        "ban" => one_nick(args, Usage::Ban, |nick| Command::Ban { nick }),
        "op" | "deop" | "voice" | "devoice" => {
            let (mode, on, usage) = match name.to_ascii_lowercase().as_str() {
                "op" => (MemberMode::Operator, true, Usage::Op),
                "deop" => (MemberMode::Operator, false, Usage::Deop),
                "voice" => (MemberMode::Voice, true, Usage::Voice),
                _ => (MemberMode::Voice, false, Usage::Devoice),
            };
            one_nick(args, usage, |nick| Command::SetMemberMode {
                nick,
                mode,
                on,
            })
        }
        "invite" => one_nick(args, Usage::Invite, |nick| Command::Invite { nick }),
        "whois" => one_nick(args, Usage::Whois, |nick| Command::Whois { nick }),
        // Without arguments, shows the room's settings (and asks them afresh).
        "mode" => Input::Send(Command::RawMode {
            args: args.trim().to_owned(),
        }),
        "help" => Input::Help,
        _ => Input::Unknown(name.to_owned()),
    }
}

/// A command whose one argument is a nick.
fn one_nick(args: &str, usage: Usage, command: impl FnOnce(String) -> Command) -> Input {
    match args.trim() {
        nick if is_valid_nick(nick) => Input::Send(command(nick.to_owned())),
        _ => Input::Usage(usage),
    }
}

/// The first word and what follows the single space after it.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(' ') {
        Some((word, rest)) => (word, rest),
        None => (text, ""),
    }
}

impl Usage {
    pub fn text(self) -> String {
        match self {
            Usage::Nick => gettext("Usage: /nick NAME"),
            Usage::Me => gettext("Usage: /me ACTION"),
            Usage::Msg => gettext("Usage: /msg NICK MESSAGE"),
            Usage::Topic => gettext("Usage: /topic TEXT"),
            Usage::Kick => gettext("Usage: /kick NICK [REASON]"),
            Usage::Ban => gettext("Usage: /ban NICK"),
            Usage::Op => gettext("Usage: /op NICK"),
            Usage::Deop => gettext("Usage: /deop NICK"),
            Usage::Voice => gettext("Usage: /voice NICK"),
            Usage::Devoice => gettext("Usage: /devoice NICK"),
            Usage::Invite => gettext("Usage: /invite NICK"),
            Usage::Whois => gettext("Usage: /whois NICK"),
        }
    }
}

/// The lines `/help` shows.
pub fn help_lines() -> Vec<String> {
    vec![
        gettext("Commands:"),
        gettext("/nick NAME — change your nickname"),
        gettext("/me ACTION — describe what you do"),
        gettext("/msg NICK MESSAGE — a private message"),
        gettext("/query NICK — open a private conversation"),
        gettext("/away [REASON] — tell others you are away; /back when you return"),
        gettext("/topic TEXT — set the room’s topic"),
        gettext("/whois NICK — who someone is"),
        gettext("/invite NICK — invite someone into the room"),
        gettext("Operators: /kick NICK [REASON], /ban NICK, /op NICK, /deop NICK, /voice NICK, /devoice NICK, /mode MODES"),
        gettext("/quit [MESSAGE] — leave the room"),
        gettext("//text — send text that starts with a slash"),
    ]
}

/// The answer to an unknown command.
pub fn unknown_text(name: &str) -> String {
    gettext_f(
        "Unknown command “/{name}”. Type /help to see the commands.",
        &[("name", name)],
    )
}

pub fn invalid_nick_text(nick: &str) -> String {
    gettext_f(
        "“{nick}” cannot be a nickname: start with a letter, and use no spaces or punctuation such as ! @ # , :",
        &[("nick", nick)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(line: &str) -> Command {
        match parse(line) {
            Input::Send(command) => command,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn plain_text_is_a_message_as_typed() {
        assert_eq!(
            sent("hello  there "),
            Command::SendMessage {
                text: "hello  there ".into()
            }
        );
        assert_eq!(
            sent(" /not a command"),
            Command::SendMessage {
                text: " /not a command".into()
            }
        );
    }

    #[test]
    fn double_slash_sends_one_slash() {
        assert_eq!(
            sent("//shrug"),
            Command::SendMessage {
                text: "/shrug".into()
            }
        );
    }

    #[test]
    fn away_query_and_back() {
        assert_eq!(
            sent("/away  at lunch "),
            Command::SetAway {
                reason: Some("at lunch".into())
            }
        );
        assert_eq!(sent("/away"), Command::SetAway { reason: None });
        assert_eq!(sent("/back"), Command::SetAway { reason: None });
        assert_eq!(parse("/query bob"), Input::Query("bob".into()));
        assert_eq!(parse("/query"), Input::Usage(Usage::Msg));
        assert_eq!(parse("/query b@d"), Input::Usage(Usage::Msg));
    }

    #[test]
    fn commands() {
        assert_eq!(
            sent("/nick bob"),
            Command::ChangeNick { nick: "bob".into() }
        );
        assert_eq!(
            sent("/NICK bob "),
            Command::ChangeNick { nick: "bob".into() }
        );
        assert_eq!(
            sent("/me waves  twice"),
            Command::SendAction {
                to: None,
                text: "waves  twice".into()
            }
        );
        assert_eq!(
            sent("/msg carol see you  soon"),
            Command::SendPrivate {
                nick: "carol".into(),
                text: "see you  soon".into()
            }
        );
        assert_eq!(
            sent("/topic Friday plans"),
            Command::SetTopic {
                topic: "Friday plans".into()
            }
        );
        assert_eq!(sent("/quit"), Command::Leave { message: None });
        assert_eq!(
            sent("/quit bye all"),
            Command::Leave {
                message: Some("bye all".into())
            }
        );
    }

    #[test]
    fn local_answers() {
        assert_eq!(parse("/help"), Input::Help);
        assert_eq!(
            sent("/kick bob  spamming links"),
            Command::Kick {
                nick: "bob".into(),
                reason: Some("spamming links".into())
            }
        );
        assert_eq!(
            sent("/kick bob"),
            Command::Kick {
                nick: "bob".into(),
                reason: None
            }
        );
        assert_eq!(parse("/kick"), Input::Usage(Usage::Kick));
        assert_eq!(sent("/ban bob"), Command::Ban { nick: "bob".into() });
        assert_eq!(parse("/ban a b"), Input::Usage(Usage::Ban));
        assert_eq!(
            sent("/deop bob"),
            Command::SetMemberMode {
                nick: "bob".into(),
                mode: MemberMode::Operator,
                on: false
            }
        );
        assert_eq!(
            sent("/voice bob"),
            Command::SetMemberMode {
                nick: "bob".into(),
                mode: MemberMode::Voice,
                on: true
            }
        );
        assert_eq!(sent("/invite bob"), Command::Invite { nick: "bob".into() });
        assert_eq!(sent("/whois bob"), Command::Whois { nick: "bob".into() });
        assert_eq!(parse("/whois"), Input::Usage(Usage::Whois));
        assert_eq!(sent("/mode +m "), Command::RawMode { args: "+m".into() });
        assert_eq!(parse("/foo bar"), Input::Unknown("foo".into()));
        assert_eq!(parse("/"), Input::Unknown(String::new()));
        assert_eq!(parse("/nick"), Input::Usage(Usage::Nick));
        assert_eq!(parse("/nick 9lives"), Input::InvalidNick("9lives".into()));
        assert_eq!(
            parse("/nick two words"),
            Input::InvalidNick("two words".into())
        );
        assert_eq!(parse("/me "), Input::Usage(Usage::Me));
        assert_eq!(parse("/msg bob"), Input::Usage(Usage::Msg));
        assert_eq!(parse("/msg bob   "), Input::Usage(Usage::Msg));
        assert_eq!(parse("/topic"), Input::Usage(Usage::Topic));
        assert_eq!(parse("   "), Input::Nothing);
        assert_eq!(parse(""), Input::Nothing);
    }

    #[test]
    fn unknown_text_names_the_command() {
        assert!(unknown_text("foo").contains("/foo"));
        assert!(invalid_nick_text("9").contains("“9”"));
    }
}
