//! The numeric replies the session acts on, read once from a [`Message`]
//! with their parameter count checked here, so the session matches names
//! and never counts parameters itself.

use crate::protocol::{numeric, Message};

/// Why the server refused a nickname during registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NickRefusal {
    /// 433: someone has it.
    InUse,
    /// 432: not a valid nick there (too long, bad characters).
    Erroneous,
    /// 437: held for a while.
    Unavailable,
}

/// A numeric reply, its parameters named. The first parameter of every
/// numeric (our own nick) is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 001, with the nick the server registered us as.
    Welcome { nick: String },
    /// 005: `TOKEN` or `TOKEN=value` words (the trailing text included).
    ISupport { tokens: Vec<String> },
    /// 433/432/437, with what followed our nick (for the error text when it
    /// comes after registration).
    NickRefused {
        refusal: NickRefusal,
        rest: Vec<String>,
    },
    /// 464.
    PasswordMismatch,
    /// 301: `nick` is away.
    Away { nick: String, reason: String },
    /// 305: we are back.
    UnAway,
    /// 306: we are away.
    NowAway,
    /// 352: one member of a WHO listing.
    WhoEntry { nick: String, flags: String },
    /// 332.
    Topic { room: String, topic: String },
    /// 333: who set the topic (`nick` or `nick!user@host`).
    TopicWhoTime { setter: String },
    /// 353: the last parameter's space-separated entries.
    Names { names: String },
    /// 366.
    EndOfNames { room: String },
    /// 324: the room's modes and their arguments.
    ChannelModes {
        room: String,
        modes: String,
        args: Vec<String>,
    },
    /// 311.
    WhoisUser {
        nick: String,
        user: String,
        host: String,
        realname: String,
    },
    /// 312.
    WhoisServer { nick: String, server: String },
    /// 317: idle seconds and, when given, sign-on time (Unix seconds).
    WhoisIdle {
        nick: String,
        idle_secs: u64,
        signon: Option<i64>,
    },
    /// 319: channels with their prefixes.
    WhoisChannels { nick: String, channels: String },
    /// 318.
    EndOfWhois { nick: String },
    /// 341: the server passed our invitation on.
    Inviting { nick: String, room: String },
    /// 422: "no MOTD", an error only in name.
    NoMotd,
    /// Any other 4xx/5xx: its code and the parameters after our nick.
    Error { code: String, rest: Vec<String> },
}

impl Reply {
    /// The reply `message` is, if it is one the session knows and has the
    /// parameters it needs; `None` for other commands and malformed replies.
    pub fn read(message: &Message) -> Option<Reply> {
        let code = message.command.as_str();
        if !is_numeric(code) {
            return None;
        }
        let needed = match code {
            numeric::RPL_AWAY | numeric::RPL_TOPICWHOTIME | numeric::RPL_NAMREPLY => 3,
            numeric::RPL_WHOREPLY => 7,
            numeric::RPL_TOPIC | numeric::RPL_ENDOFNAMES | numeric::RPL_ENDOFWHOIS => 2,
            numeric::RPL_CHANNELMODEIS | numeric::RPL_WHOISCHANNELS | numeric::RPL_INVITING => 3,
            numeric::RPL_WHOISSERVER | numeric::RPL_WHOISIDLE => 3,
            numeric::RPL_WHOISUSER => 6,
            _ => 0,
        };
        if message.params.len() < needed {
            log::debug!("ignoring malformed {message}");
            return None;
        }
        // Parameters after our own nick, missing ones empty.
        let p = |i: usize| message.params.get(i + 1).cloned().unwrap_or_default();
        let rest = || message.params.iter().skip(1).cloned().collect::<Vec<_>>();
        let refused = |refusal| Reply::NickRefused {
            refusal,
            rest: rest(),
        };
        Some(match code {
            numeric::RPL_WELCOME => Reply::Welcome {
                nick: message.params.first().cloned().unwrap_or_default(),
            },
            numeric::RPL_ISUPPORT => Reply::ISupport { tokens: rest() },
            numeric::ERR_NICKNAMEINUSE => refused(NickRefusal::InUse),
            numeric::ERR_ERRONEUSNICKNAME => refused(NickRefusal::Erroneous),
            numeric::ERR_UNAVAILRESOURCE => refused(NickRefusal::Unavailable),
            numeric::ERR_PASSWDMISMATCH => Reply::PasswordMismatch,
            numeric::RPL_AWAY => Reply::Away {
                nick: p(0),
                reason: p(1),
            },
            numeric::RPL_UNAWAY => Reply::UnAway,
            numeric::RPL_NOWAWAY => Reply::NowAway,
            // me channel user host server nick flags :hops realname
            numeric::RPL_WHOREPLY => Reply::WhoEntry {
                nick: p(4),
                flags: p(5),
            },
            numeric::RPL_TOPIC => Reply::Topic {
                room: p(0),
                topic: p(1),
            },
            numeric::RPL_TOPICWHOTIME => Reply::TopicWhoTime { setter: p(1) },
            // The names are always last (old servers leave out the
            // channel-type symbol before the channel).
            numeric::RPL_NAMREPLY => Reply::Names {
                names: message.params.last().cloned().unwrap_or_default(),
            },
            numeric::RPL_ENDOFNAMES => Reply::EndOfNames { room: p(0) },
            numeric::RPL_CHANNELMODEIS => Reply::ChannelModes {
                room: p(0),
                modes: p(1),
                args: message.params.iter().skip(3).cloned().collect(),
            },
            numeric::RPL_WHOISUSER => Reply::WhoisUser {
                nick: p(0),
                user: p(1),
                host: p(2),
                realname: p(4),
            },
            numeric::RPL_WHOISSERVER => Reply::WhoisServer {
                nick: p(0),
                server: p(1),
            },
            numeric::RPL_WHOISIDLE => Reply::WhoisIdle {
                nick: p(0),
                idle_secs: p(1).parse().unwrap_or(0),
                signon: p(2).parse().ok(),
            },
            numeric::RPL_WHOISCHANNELS => Reply::WhoisChannels {
                nick: p(0),
                channels: p(1),
            },
            numeric::RPL_ENDOFWHOIS => Reply::EndOfWhois { nick: p(0) },
            numeric::RPL_INVITING => Reply::Inviting {
                nick: p(0),
                room: p(1),
            },
            numeric::ERR_NOMOTD => Reply::NoMotd,
            code if matches!(code.as_bytes()[0], b'4' | b'5') => Reply::Error {
                code: code.to_owned(),
                rest: rest(),
            },
            _ => return None,
        })
    }
}

fn is_numeric(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> Option<Reply> {
        Reply::read(&Message::parse(line).ok()?)
    }

    #[test]
    fn replies_are_named_and_short_ones_dropped() {
        assert_eq!(
            read(":s 301 me bob :lunch"),
            Some(Reply::Away {
                nick: "bob".into(),
                reason: "lunch".into()
            })
        );
        assert_eq!(read(":s 301 me bob"), None);
        assert_eq!(
            read(":s 341 me bob #room"),
            Some(Reply::Inviting {
                nick: "bob".into(),
                room: "#room".into()
            })
        );
        assert_eq!(read(":s 341 me bob"), None);
        assert_eq!(read(":s 352 me #r u h s bob"), None);
        assert_eq!(
            read(":s 433 * ann :taken"),
            Some(Reply::NickRefused {
                refusal: NickRefusal::InUse,
                rest: vec!["ann".into(), "taken".into()]
            })
        );
        assert_eq!(
            read(":s 324 me #r +kl key 5"),
            Some(Reply::ChannelModes {
                room: "#r".into(),
                modes: "+kl".into(),
                args: vec!["key".into(), "5".into()]
            })
        );
    }

    #[test]
    fn error_numerics() {
        assert!(matches!(read(":s 401 me x :no"), Some(Reply::Error { .. })));
        assert!(matches!(read(":s 502 me :no"), Some(Reply::Error { .. })));
        assert_eq!(read(":s 366 me"), None);
        assert_eq!(read(":s 4x1 me"), None);
        assert_eq!(read(":s PRIVMSG me :hi"), None);
        assert_eq!(read(":s 399 me :unknown"), None);
    }
}
