//! The words of an announcement: the instance name a person reads, the
//! host name in its SRV record, and its TXT record read back into a
//! [`NearbyRoom`], checked as coming from anyone on the network.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use super::{SERVICE_TYPE, TXT_VERSION};
use crate::protocol::names::{is_channel_name, is_valid_nick, truncate_utf8};

/// Rooms a browser keeps track of; announcements of more are ignored.
pub const MAX_ROOMS: usize = 200;
/// Addresses kept per room.
pub const MAX_ADDRESSES: usize = 16;
/// An instance name is one DNS label.
pub const MAX_INSTANCE_LEN: usize = 63;
/// A SHA-256 fingerprint as `AB:CD:…` is 95 bytes; room for SHA-512 hex.
pub const MAX_FINGERPRINT_LEN: usize = 128;

/// A room someone announces on the local network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearbyRoom {
    /// The DNS-SD instance name, e.g. `#chat by mei on mei-laptop`: what a
    /// list shows, and the key [`BrowseEvent::Lost`](super::BrowseEvent::Lost) names.
    pub instance: String,
    /// The room to join, e.g. `#chat`.
    pub room: String,
    /// Who hosts it, when the host says.
    pub nick: Option<String>,
    /// Where to connect (IPv4 first, then IPv6; link-local IPv6 with its
    /// interface), all with `port`. Never empty.
    pub addresses: Vec<SocketAddr>,
    pub port: u16,
    /// The port speaks TLS.
    pub tls: bool,
    /// The certificate fingerprint the host announces (`fp`), to check
    /// against what the TLS handshake shows.
    pub fingerprint: Option<String>,
    /// Hosted on this computer by this user (it announces our own
    /// certificate, e.g. a `--serve` beside the window): set by the
    /// network thread, never taken from the announcement.
    pub ours: bool,
}

/// Why an announcement was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not a `_irc._tcp.local.` instance.
    NotOurType,
    /// Empty, too long, or with control characters.
    Instance,
    /// `v` missing, or a version we do not read.
    Version,
    /// `room` missing or not a channel name.
    Room,
    /// `nick` present but not a nickname.
    Nick,
    /// `tls` neither `0` nor `1`.
    Tls,
    /// `fp` present but not hex digits and colons of a sane length.
    Fingerprint,
    /// Port 0.
    Port,
    /// No address one could connect to.
    NoAddress,
}

/// The instance name a person reads in a list of rooms:
/// `#chat by mei on mei-laptop`, or `#chat on mei-laptop` without a nick.
/// Control characters, `.` and `\` are left out (so the name needs no
/// escaping in DNS) and it is cut to one DNS label (63 bytes) on a
/// character boundary.
pub fn instance_name(room: &str, nick: Option<&str>, host: &str) -> String {
    let host = host_label(host);
    let text = match nick.filter(|nick| !nick.trim().is_empty()) {
        Some(nick) => format!("{room} by {nick} on {host}"),
        None => format!("{room} on {host}"),
    };
    let safe: String = text
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '.' || c == '\\' { '-' } else { c })
        .collect();
    let name = truncate_utf8(safe.trim(), MAX_INSTANCE_LEN).trim_end();
    if name.is_empty() {
        "TCP Chat".to_owned()
    } else {
        name.to_owned()
    }
}

/// The machine's name as people know it: the first label of `hostname`
/// (`mei-laptop` for `mei-laptop.example.org`), or `computer`.
pub fn host_label(hostname: &str) -> String {
    let label = hostname.trim().split('.').next().unwrap_or_default();
    let label: String = label.chars().filter(|c| !c.is_control()).collect();
    if label.is_empty() {
        "computer".to_owned()
    } else {
        truncate_utf8(&label, MAX_INSTANCE_LEN).to_owned()
    }
}

/// The host name our SRV record points at: `mei-laptop-tcp-chat.local.`.
/// Not the machine's own `mei-laptop.local.`: avahi-daemon may publish that
/// one with other addresses, and two answers for one name are a conflict
/// that makes one of them rename itself.
pub fn srv_host_name(hostname: &str) -> String {
    const SUFFIX: &str = "-tcp-chat";
    let label: String = host_label(hostname)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let label = label.trim_matches('-');
    let label = truncate_utf8(label, MAX_INSTANCE_LEN - SUFFIX.len()).trim_end_matches('-');
    let label = if label.is_empty() { "host" } else { label };
    format!("{label}{SUFFIX}.local.")
}

/// Reads one resolved announcement: `fullname` (`INSTANCE._irc._tcp.local.`),
/// its SRV port, its addresses (with the IPv6 scope: the index of the
/// interface they were heard on) and its TXT entries in the order received
/// (the first of a repeated key counts, as RFC 6763 §6.4 says).
pub fn parse_room(
    fullname: &str,
    port: u16,
    addresses: &[(IpAddr, u32)],
    txt: &[(&str, Option<&[u8]>)],
) -> Result<NearbyRoom, Malformed> {
    let instance = instance_of(fullname)?;
    let value = |key: &str| -> Result<Option<&str>, ()> {
        match txt.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            None | Some((_, None)) => Ok(None),
            Some((_, Some(bytes))) => std::str::from_utf8(bytes).map(Some).map_err(|_| ()),
        }
    };
    if value("v") != Ok(Some(TXT_VERSION)) {
        return Err(Malformed::Version);
    }
    let room = value("room")
        .ok()
        .flatten()
        .filter(|room| is_channel_name(room))
        .ok_or(Malformed::Room)?;
    let nick = match value("nick").map_err(|()| Malformed::Nick)? {
        None => None,
        Some(nick) if is_valid_nick(nick) => Some(nick.to_owned()),
        Some(_) => return Err(Malformed::Nick),
    };
    let tls = match value("tls").map_err(|()| Malformed::Tls)? {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => return Err(Malformed::Tls),
    };
    let fingerprint = match value("fp").map_err(|()| Malformed::Fingerprint)? {
        None => None,
        Some(fp)
            if !fp.is_empty()
                && fp.len() <= MAX_FINGERPRINT_LEN
                && fp.chars().all(|c| c.is_ascii_hexdigit() || c == ':') =>
        {
            Some(fp.to_owned())
        }
        Some(_) => return Err(Malformed::Fingerprint),
    };
    if port == 0 {
        return Err(Malformed::Port);
    }
    let mut usable: Vec<SocketAddr> = addresses
        .iter()
        .filter(|(ip, _)| reachable(ip))
        .map(|&(ip, scope)| match ip {
            IpAddr::V6(v6) => {
                let scope = if is_link_local(&v6) { scope } else { 0 };
                SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope))
            }
            IpAddr::V4(_) => SocketAddr::new(ip, port),
        })
        .collect();
    usable.sort_by_key(|addr| (addr.is_ipv6(), *addr));
    usable.dedup();
    usable.truncate(MAX_ADDRESSES);
    if usable.is_empty() {
        return Err(Malformed::NoAddress);
    }
    Ok(NearbyRoom {
        instance,
        room: room.to_owned(),
        nick,
        addresses: usable,
        port,
        tls,
        fingerprint,
        ours: false,
    })
}

/// `INSTANCE` of `INSTANCE._irc._tcp.local.`, with DNS escapes (`\.`, `\\`) undone.
fn instance_of(fullname: &str) -> Result<String, Malformed> {
    let cut = fullname
        .len()
        .checked_sub(SERVICE_TYPE.len() + 1)
        .filter(|&cut| fullname.is_char_boundary(cut))
        .ok_or(Malformed::NotOurType)?;
    let (escaped, rest) = fullname.split_at(cut);
    if !rest.eq_ignore_ascii_case(&format!(".{SERVICE_TYPE}")) {
        return Err(Malformed::NotOurType);
    }
    let mut instance = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        instance.push(if c == '\\' {
            chars.next().ok_or(Malformed::Instance)?
        } else {
            c
        });
    }
    if instance.trim().is_empty()
        || instance.len() > MAX_INSTANCE_LEN
        || instance.chars().any(char::is_control)
    {
        return Err(Malformed::Instance);
    }
    Ok(instance)
}

/// An address a neighbour could mean: not our own loopback, not a
/// wildcard, multicast or broadcast address.
fn reachable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast())
        }
        IpAddr::V6(v6) => !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast()),
    }
}

fn is_link_local(ip: &Ipv6Addr) -> bool {
    (ip.segments()[0] & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt<'a>(pairs: &'a [(&'a str, &'a str)]) -> Vec<(&'a str, Option<&'a [u8]>)> {
        pairs
            .iter()
            .map(|(k, v)| (*k, Some(v.as_bytes())))
            .collect()
    }

    const GOOD: &[(&str, &str)] = &[("v", "1"), ("room", "#chat"), ("nick", "mei"), ("tls", "0")];

    fn lan() -> Vec<(IpAddr, u32)> {
        vec![
            ("fe80::1".parse().unwrap(), 3),
            ("192.168.1.20".parse().unwrap(), 3),
            ("2001:db8::20".parse().unwrap(), 3),
        ]
    }

    fn parse(fullname: &str, pairs: &[(&str, &str)]) -> Result<NearbyRoom, Malformed> {
        parse_room(fullname, 6667, &lan(), &txt(pairs))
    }

    #[test]
    fn instance_names_read_well_and_fit_a_label() {
        assert_eq!(
            instance_name("#chat", Some("mei"), "mei-laptop.example.org"),
            "#chat by mei on mei-laptop"
        );
        assert_eq!(instance_name("#chat", None, "pc"), "#chat on pc");
        assert_eq!(instance_name("#chat", Some("  "), ""), "#chat on computer");
        let long = instance_name(&format!("#{}", "é".repeat(40)), Some("mei"), "pc");
        assert!(long.len() <= MAX_INSTANCE_LEN, "{long}");
        assert!(long.starts_with("#éé"));
        let hostile = instance_name("#a.b\\c", Some("x\u{7}y"), "h\n.evil");
        assert_eq!(hostile, "#a-b-c by xy on h");
        assert_eq!(instance_name("", None, ""), "on computer");
    }

    #[test]
    fn srv_host_names_are_plain_labels_of_their_own() {
        assert_eq!(
            srv_host_name("Mei-Laptop.lan"),
            "mei-laptop-tcp-chat.local."
        );
        assert_eq!(srv_host_name("мой_пк"), "host-tcp-chat.local.");
        assert_eq!(srv_host_name("a b"), "a-b-tcp-chat.local.");
        let long = srv_host_name(&"x".repeat(200));
        assert!(long.len() <= MAX_INSTANCE_LEN + ".local.".len(), "{long}");
    }

    #[test]
    fn a_good_record_is_read_whole() {
        let room = parse("#chat by mei on pc._irc._tcp.local.", GOOD).unwrap();
        assert_eq!(
            room,
            NearbyRoom {
                instance: "#chat by mei on pc".into(),
                room: "#chat".into(),
                nick: Some("mei".into()),
                addresses: vec![
                    "192.168.1.20:6667".parse().unwrap(),
                    "[2001:db8::20]:6667".parse().unwrap(),
                    SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 6667, 0, 3)),
                ],
                port: 6667,
                tls: false,
                fingerprint: None,
                ours: false,
            }
        );
        let escaped = parse("a\\.b._IRC._tcp.local.", GOOD).unwrap();
        assert_eq!(escaped.instance, "a.b");
        let tls = parse(
            "x._irc._tcp.local.",
            &[("v", "1"), ("room", "#r"), ("tls", "1"), ("fp", "AB:cd:01")],
        )
        .unwrap();
        assert_eq!(
            (tls.tls, tls.nick, tls.fingerprint.as_deref()),
            (true, None, Some("AB:cd:01"))
        );
        // The first of a repeated key counts; keys ignore case.
        let repeated = parse(
            "x._irc._tcp.local.",
            &[("V", "1"), ("room", "#first"), ("ROOM", "#second")],
        )
        .unwrap();
        assert_eq!(repeated.room, "#first");
    }

    #[test]
    fn hostile_records_are_ignored() {
        let long_fp = "a".repeat(MAX_FINGERPRINT_LEN + 1);
        let long_room = format!("#{}", "r".repeat(300));
        /// A full name, its TXT entries, and why it is refused.
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Malformed);
        let cases: Vec<Case> = vec![
            ("x._http._tcp.local.", GOOD.to_vec(), Malformed::NotOurType),
            ("._irc._tcp.local.", GOOD.to_vec(), Malformed::Instance),
            ("_irc._tcp.local.", GOOD.to_vec(), Malformed::NotOurType),
            (
                "a\u{1b}[31m._irc._tcp.local.",
                GOOD.to_vec(),
                Malformed::Instance,
            ),
            (
                "trailing\\._irc._tcp.local.",
                GOOD.to_vec(),
                Malformed::Instance,
            ),
            (
                "x._irc._tcp.local.",
                vec![("room", "#chat")],
                Malformed::Version,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "2"), ("room", "#chat")],
                Malformed::Version,
            ),
            ("x._irc._tcp.local.", vec![("v", "1")], Malformed::Room),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "chat")],
                Malformed::Room,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "#a b")],
                Malformed::Room,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", &long_room)],
                Malformed::Room,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "#r"), ("nick", "1mei")],
                Malformed::Nick,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "#r"), ("tls", "yes")],
                Malformed::Tls,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "#r"), ("fp", "zz")],
                Malformed::Fingerprint,
            ),
            (
                "x._irc._tcp.local.",
                vec![("v", "1"), ("room", "#r"), ("fp", &long_fp)],
                Malformed::Fingerprint,
            ),
        ];
        for (fullname, pairs, why) in cases {
            assert_eq!(parse(fullname, &pairs), Err(why), "{fullname} {pairs:?}");
        }
        let long_instance = format!("{}._irc._tcp.local.", "x".repeat(64));
        assert_eq!(parse(&long_instance, GOOD), Err(Malformed::Instance));
        let not_utf8: &[(&str, Option<&[u8]>)] =
            &[("v", Some(b"1")), ("room", Some(b"#\xff")), ("nick", None)];
        assert_eq!(
            parse_room("x._irc._tcp.local.", 6667, &lan(), not_utf8),
            Err(Malformed::Room)
        );
        assert_eq!(
            parse_room("x._irc._tcp.local.", 0, &lan(), &txt(GOOD)),
            Err(Malformed::Port)
        );
        let useless: Vec<(IpAddr, u32)> =
            ["127.0.0.1", "0.0.0.0", "224.0.0.251", "::1", "ff02::fb"]
                .iter()
                .map(|ip| (ip.parse().unwrap(), 0))
                .collect();
        assert_eq!(
            parse_room("x._irc._tcp.local.", 6667, &useless, &txt(GOOD)),
            Err(Malformed::NoAddress)
        );
    }

    #[test]
    fn addresses_are_bounded() {
        let many: Vec<(IpAddr, u32)> = (1..=100u8)
            .map(|n| (IpAddr::from([10, 0, 0, n]), 0))
            .collect();
        let room = parse_room("x._irc._tcp.local.", 6667, &many, &txt(GOOD)).unwrap();
        assert_eq!(room.addresses.len(), MAX_ADDRESSES);
    }
}
