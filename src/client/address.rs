//! What a person types in the Connect box: `host`, `host:port`, `[v6]:port`,
//! a bare IPv6 address, or an `irc://host[:port]/#room` URL (`ircs://`:
//! TLS verified by a certificate authority, port 6697 by default).

use std::fmt;
use std::net::Ipv6Addr;

use percent_encoding::percent_decode_str;

pub use crate::protocol::{DEFAULT_PORT, DEFAULT_ROOM, DEFAULT_TLS_PORT};

/// A parsed address: where to connect, and the room if a URL named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// A name or an IP literal, IPv6 without brackets.
    pub host: String,
    pub port: u16,
    /// The room from an `irc://` URL, already starting with `#` or `&`.
    pub room: Option<String>,
    /// An `ircs://` URL or port 6697, where public servers speak TLS:
    /// their certificate must be signed by an authority the system trusts,
    /// for this host name (not pinned on first use), and never plain text.
    pub authority_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    Empty,
    /// A scheme other than `irc://` and `ircs://`.
    UnsupportedScheme(String),
    InvalidHost(String),
    InvalidPort(String),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Empty => write!(f, "no address given"),
            AddressError::UnsupportedScheme(scheme) => write!(f, "unsupported scheme {scheme}://"),
            AddressError::InvalidHost(host) => write!(f, "invalid host name {host:?}"),
            AddressError::InvalidPort(port) => write!(f, "invalid port {port:?}"),
        }
    }
}

impl std::error::Error for AddressError {}

/// Parses what a person typed. Surrounding white space is ignored.
pub fn parse_address(input: &str) -> Result<Target, AddressError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AddressError::Empty);
    }
    let (authority, room, tls_url) = match input.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("irc") => {
            let (authority, room) = split_url(rest);
            (authority, room, false)
        }
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ircs") => {
            let (authority, room) = split_url(rest);
            (authority, room, true)
        }
        Some((scheme, _)) => return Err(AddressError::UnsupportedScheme(scheme.to_owned())),
        None => (input, None, false),
    };
    let default_port = if tls_url {
        DEFAULT_TLS_PORT
    } else {
        DEFAULT_PORT
    };
    let (host, port) = split_host_port(authority, default_port)?;
    if !is_valid_host(host) {
        return Err(AddressError::InvalidHost(host.to_owned()));
    }
    Ok(Target {
        host: host.to_owned(),
        port,
        room,
        authority_verified: tls_url || port == DEFAULT_TLS_PORT,
    })
}

/// `host:port/#room,flags` → (`host:port`, room). The path is the room,
/// percent-decoded; `,isnick`-style flags after a comma are ignored.
fn split_url(rest: &str) -> (&str, Option<String>) {
    let Some((authority, path)) = rest.split_once('/') else {
        return (rest, None);
    };
    let path = path.split(',').next().unwrap_or_default();
    let path = percent_decode_str(path).decode_utf8_lossy();
    let room = normalize_room(&path);
    (authority, (!room.is_empty()).then_some(room))
}

/// A room name as IRC wants it: `chat` becomes `#chat`; `#chat` and `&chat`
/// stay; an empty or blank name stays empty.
pub fn normalize_room(room: &str) -> String {
    let room = room.trim();
    if room.is_empty() || room.starts_with(['#', '&']) {
        room.to_owned()
    } else {
        format!("#{room}")
    }
}

/// [`normalize_room`], with [`DEFAULT_ROOM`] for a blank name.
pub fn room_or_default(room: &str) -> String {
    let room = normalize_room(room);
    if room.is_empty() {
        DEFAULT_ROOM.to_owned()
    } else {
        room
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(&str, u16), AddressError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| AddressError::InvalidHost(authority.to_owned()))?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(AddressError::InvalidHost(host.to_owned()));
        }
        return match after {
            "" => Ok((host, default_port)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, parse_port(port)?)),
                None => Err(AddressError::InvalidHost(authority.to_owned())),
            },
        };
    }
    // Two or more colons without brackets can only be a bare IPv6 address.
    if authority.matches(':').count() > 1 {
        return match authority.parse::<Ipv6Addr>() {
            Ok(_) => Ok((authority, default_port)),
            Err(_) => Err(AddressError::InvalidHost(authority.to_owned())),
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Ok((host, parse_port(port)?)),
        None => Ok((authority, default_port)),
    }
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    match port.parse::<u16>() {
        Ok(number) if number != 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(number),
        _ => Err(AddressError::InvalidPort(port.to_owned())),
    }
}

/// A DNS name (letters, digits, `-`, `_`, dots between labels) or an IP literal.
fn is_valid_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16, room: Option<&str>) -> Target {
        Target {
            host: host.to_owned(),
            port,
            room: room.map(str::to_owned),
            authority_verified: port == DEFAULT_TLS_PORT,
        }
    }

    #[test]
    fn plain_hosts_and_ports() {
        assert_eq!(
            parse_address("example.org"),
            Ok(target("example.org", 6667, None))
        );
        assert_eq!(
            parse_address(" chat.lan:7000 "),
            Ok(target("chat.lan", 7000, None))
        );
        assert_eq!(
            parse_address("192.168.1.5:6697"),
            Ok(target("192.168.1.5", 6697, None))
        );
        assert_eq!(
            parse_address("localhost"),
            Ok(target("localhost", 6667, None))
        );
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(parse_address("::1"), Ok(target("::1", 6667, None)));
        assert_eq!(parse_address("[::1]:7000"), Ok(target("::1", 7000, None)));
        assert_eq!(
            parse_address("[fe80::1]"),
            Ok(target("fe80::1", 6667, None))
        );
        assert_eq!(
            parse_address("fe80::1:2:3"),
            Ok(target("fe80::1:2:3", 6667, None))
        );
    }

    #[test]
    fn irc_urls() {
        let expected = target("irc.test", 6667, Some("#rust"));
        assert_eq!(parse_address("irc://irc.test/#rust"), Ok(expected.clone()));
        assert_eq!(parse_address("irc://irc.test/rust"), Ok(expected.clone()));
        assert_eq!(
            parse_address("IRC://irc.test/%23rust"),
            Ok(expected.clone())
        );
        assert_eq!(parse_address("irc://irc.test/#rust,needkey"), Ok(expected));
        assert_eq!(
            parse_address("irc://[::1]:7000/#%E4%BD%A0"),
            Ok(target("::1", 7000, Some("#你")))
        );
        assert_eq!(
            parse_address("irc://irc.test:7000"),
            Ok(target("irc.test", 7000, None))
        );
        assert_eq!(
            parse_address("irc://irc.test/"),
            Ok(target("irc.test", 6667, None))
        );
    }

    #[test]
    fn ircs_urls_and_port_6697_want_a_verified_certificate() {
        let verified = |address: &str| parse_address(address).map(|t| t.authority_verified);
        assert_eq!(
            parse_address("ircs://irc.test/#rust"),
            Ok(target("irc.test", 6697, Some("#rust")))
        );
        let on_7000 = parse_address("IRCS://irc.test:7000").unwrap();
        assert_eq!((on_7000.port, on_7000.authority_verified), (7000, true));
        assert_eq!(verified("irc.test:6697"), Ok(true));
        assert_eq!(verified("irc://irc.test:6697"), Ok(true));
        assert_eq!(verified("irc.test"), Ok(false));
    }

    #[test]
    fn rejects_nonsense() {
        assert_eq!(parse_address("  "), Err(AddressError::Empty));
        assert_eq!(
            parse_address("https://irc.test"),
            Err(AddressError::UnsupportedScheme("https".to_owned()))
        );
        for port in ["0", "70000", "abc", "", "+1"] {
            assert_eq!(
                parse_address(&format!("host:{port}")),
                Err(AddressError::InvalidPort(port.to_owned())),
                "{port}"
            );
        }
        for host in [
            "a b", "bad!host", "-x.org", "a..b", ":::::", "[nope]:1", "[::1]x", ":7000",
        ] {
            assert!(
                matches!(parse_address(host), Err(AddressError::InvalidHost(_))),
                "{host}: {:?}",
                parse_address(host)
            );
        }
    }

    #[test]
    fn room_normalisation() {
        assert_eq!(normalize_room("chat"), "#chat");
        assert_eq!(normalize_room(" #chat "), "#chat");
        assert_eq!(normalize_room("&local"), "&local");
        assert_eq!(normalize_room(""), "");
        assert_eq!(room_or_default(" "), DEFAULT_ROOM);
    }
}
