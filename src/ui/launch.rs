//! What the command line asks for, checked before anything starts. GTK-free:
//! the application copies GApplication's parsed options into [`Options`].

use std::net::IpAddr;

use super::validate;
use crate::i18n::{gettext, gettext_f};
use crate::protocol::is_valid_server_name;
use crate::server::{
    motd_lines, Announce, HistoryConfig, ServerConfig, TlsConfig, DEFAULT_HISTORY_LINES,
};

/// The options as parsed, before any checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub serve: bool,
    pub bind: Option<String>,
    /// Text, not a number: GApplication cannot tell `--port 0` from no port.
    pub port: Option<String>,
    pub room: Option<String>,
    pub password: Option<String>,
    /// `--password-file FILE`: the password on the file's first line.
    pub password_file: Option<String>,
    /// The password from [`PASSWORD_ENV`], if set.
    pub password_env: Option<String>,
    pub max_clients: Option<String>,
    /// `--max-per-address N`: connections one address may keep open (`0`: no limit).
    pub max_per_address: Option<String>,
    pub no_flood_control: bool,
    /// Lines of history kept per room (`0`: none), as text.
    pub history: Option<String>,
    pub state_dir: Option<String>,
    /// `--tls-only`: plain-text clients are refused.
    pub tls_only: bool,
    /// `--no-announce`: keep the `--serve` room off the local network's lists.
    pub no_announce: bool,
    /// `--server-name NAME`: the `--serve` host's name in IRC replies.
    pub server_name: Option<String>,
    /// `--motd FILE`: the `--serve` host's message of the day.
    pub motd: Option<String>,
    pub host: bool,
    pub connect: Option<String>,
    pub nick: Option<String>,
    /// Arguments that are not options: `irc://` links.
    pub links: Vec<String>,
}

/// What the window should do once it is shown. Missing nicks and rooms come
/// from the remembered settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Window,
    Host {
        port: u16,
        nick: Option<String>,
        room: Option<String>,
    },
    Connect {
        address: String,
        nick: Option<String>,
        room: Option<String>,
    },
}

/// Where `--serve` also finds the room password: unlike `--password`, the
/// environment is not shown to other users (`/proc/PID/cmdline` is).
pub const PASSWORD_ENV: &str = "TCP_CHAT_PASSWORD";

/// The help text of `--password`.
pub fn password_help() -> String {
    gettext_f(
        "With --serve: require this password (other users of this computer can read it in the process list: prefer --password-file or {env})",
        &[("env", PASSWORD_ENV)],
    )
}

/// The room password of `--serve`: `--password`, else `--password-file`'s
/// first line, else [`PASSWORD_ENV`]; trimmed like every password.
fn serve_password(options: &Options) -> Result<Option<String>, String> {
    if let Some(file) = &options.password_file {
        if options.password.is_some() {
            return Err(gettext("Give --password or --password-file, not both"));
        }
        let text = std::fs::read_to_string(file).map_err(|err| {
            gettext_f(
                "Cannot read the password file {file}: {error}",
                &[("file", file), ("error", &err.to_string())],
            )
        })?;
        let first = text.lines().next().unwrap_or_default();
        // An empty file must not leave the room open by mistake.
        return validate::password(first).map(Some).ok_or_else(|| {
            gettext_f(
                "The password file {file} has no password on its first line",
                &[("file", file)],
            )
        });
    }
    let given = options
        .password
        .as_deref()
        .or(options.password_env.as_deref());
    Ok(given.and_then(validate::password))
}

/// Most of a MOTD file read: [`motd_lines`] keeps far less, and a file
/// such as `/dev/zero` must not fill the memory.
const MOTD_READ_LIMIT: u64 = 1 << 20;

/// `--motd FILE`'s lines (none without the option).
fn serve_motd(options: &Options) -> Result<Vec<String>, String> {
    use std::io::Read;
    let Some(file) = &options.motd else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MOTD_READ_LIMIT).read_to_end(&mut bytes))
        .map_err(|err| {
            gettext_f(
                "Cannot read the MOTD file {file}: {error}",
                &[("file", file), ("error", &err.to_string())],
            )
        })?;
    Ok(motd_lines(&String::from_utf8_lossy(&bytes)))
}

/// `--server-name NAME`, else the default (this machine's host name).
fn serve_server_name(options: &Options, default: String) -> Result<String, String> {
    match options.server_name.as_deref().map(str::trim) {
        None => Ok(default),
        Some(name) if is_valid_server_name(name) => Ok(name.to_owned()),
        Some(name) => Err(gettext_f(
            "--server-name needs a host name such as irc.example.org, not “{name}”",
            &[("name", name)],
        )),
    }
}

/// The help text of `--tls-only`.
pub fn tls_only_help() -> String {
    gettext(
        "With --serve: accept only encrypted (TLS) connections; plain-text clients are told so and closed",
    )
}

/// The headless host's configuration for `--serve`.
pub fn serve_config(options: &Options) -> Result<ServerConfig, String> {
    let defaults = ServerConfig::default();
    let bind = match options.bind.as_deref() {
        None => None,
        Some(text) => Some(text.trim().parse::<IpAddr>().map_err(|_| {
            gettext_f(
                "--bind needs an IP address such as 0.0.0.0 or ::, not “{text}”",
                &[("text", text)],
            )
        })?),
    };
    let mut limits = defaults.limits;
    if let Some(max) = &options.max_clients {
        limits.max_clients = max
            .trim()
            .parse()
            .ok()
            .filter(|max| *max > 0)
            .ok_or_else(|| gettext("--max-clients needs a number above 0"))?;
    }
    if let Some(max) = &options.max_per_address {
        limits.max_per_address = max
            .trim()
            .parse()
            .map_err(|_| gettext("--max-per-address needs a number (0 for no limit)"))?;
    }
    limits.flood_control = !options.no_flood_control;
    // Headless hosts may ask for port 0 to get any free port.
    let port = match &options.port {
        None => defaults.port,
        Some(port) => port.trim().parse().map_err(|_| port_error(port))?,
    };
    let keep = match &options.history {
        None => DEFAULT_HISTORY_LINES,
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| gettext("--history needs a number of lines (0 keeps none)"))?,
    };
    let state_dir = options.state_dir.as_deref().map(std::path::Path::new);
    let history = (keep > 0).then(|| HistoryConfig::in_state_dir(state_dir, port, keep));
    // `--nick` names who hosts the room in its announcement.
    let nick = checked_nick(options.nick.as_deref())?;
    let announce = (!options.no_announce).then_some(Announce { nick });
    Ok(ServerConfig {
        bind,
        port,
        server_name: serve_server_name(options, defaults.server_name)?,
        motd: serve_motd(options)?,
        room: checked_room(options.room.as_deref())?.unwrap_or(defaults.room),
        password: serve_password(options)?,
        history,
        // TLS on the same port as plain text, with a certificate kept in
        // the state directory (made the first time).
        tls: Some(TlsConfig {
            required: options.tls_only,
            ..TlsConfig::in_state_dir(state_dir)
        }),
        limits,
        announce,
    })
}

/// What a GUI launch asks for.
pub fn plan(options: &Options) -> Result<Launch, String> {
    let nick = checked_nick(options.nick.as_deref())?;
    let room = checked_room(options.room.as_deref())?;
    if let Some(link) = options.links.iter().find(|link| !is_irc_link(link)) {
        return Err(gettext_f(
            "Unknown argument “{arg}”: give an irc:// link or an option",
            &[("arg", link)],
        ));
    }
    let mut addresses = options.connect.iter().chain(&options.links);
    let address = addresses.next();
    if addresses.next().is_some() || (options.host && address.is_some()) {
        return Err(gettext("Host one room or connect to one, not several"));
    }
    if let Some(address) = address {
        let address = validate::address(address)
            .ok_or_else(|| gettext_f("“{text}” is not an address", &[("text", address)]))?;
        return Ok(Launch::Connect {
            address,
            nick,
            room,
        });
    }
    if options.host {
        let port = match &options.port {
            None => validate::DEFAULT_PORT,
            Some(port) => validate::port(port).ok_or_else(|| port_error(port))?,
        };
        return Ok(Launch::Host { port, nick, room });
    }
    Ok(Launch::Window)
}

fn checked_nick(nick: Option<&str>) -> Result<Option<String>, String> {
    nick.map(|text| {
        validate::nick(text)
            .ok_or_else(|| gettext_f("“{text}” cannot be a nickname", &[("text", text)]))
    })
    .transpose()
}

fn checked_room(room: Option<&str>) -> Result<Option<String>, String> {
    room.map(|text| {
        validate::room(text)
            .ok_or_else(|| gettext_f("“{text}” cannot be a room name", &[("text", text)]))
    })
    .transpose()
}

fn port_error(port: &str) -> String {
    gettext_f("“{port}” is not a port: use 1 to 65535", &[("port", port)])
}

fn is_irc_link(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("irc://") || lower.starts_with("ircs://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_opens_the_window() {
        assert_eq!(plan(&Options::default()), Ok(Launch::Window));
    }

    #[test]
    fn host_with_defaults_and_overrides() {
        let host = Options {
            host: true,
            ..Options::default()
        };
        assert_eq!(
            plan(&host),
            Ok(Launch::Host {
                port: 6667,
                nick: None,
                room: None
            })
        );
        let custom = Options {
            host: true,
            port: Some("7000".into()),
            nick: Some("ann".into()),
            room: Some("games".into()),
            ..Options::default()
        };
        assert_eq!(
            plan(&custom),
            Ok(Launch::Host {
                port: 7000,
                nick: Some("ann".into()),
                room: Some("#games".into())
            })
        );
        assert!(plan(&Options {
            host: true,
            port: Some("70000".into()),
            ..Options::default()
        })
        .is_err());
        assert!(plan(&Options {
            host: true,
            port: Some("0".into()),
            ..Options::default()
        })
        .is_err());
    }

    #[test]
    fn connect_by_option_or_link() {
        let by_option = Options {
            connect: Some("pc:6667".into()),
            ..Options::default()
        };
        assert_eq!(
            plan(&by_option),
            Ok(Launch::Connect {
                address: "pc:6667".into(),
                nick: None,
                room: None
            })
        );
        let by_link = Options {
            links: vec!["irc://pc:6667/#chat".into()],
            ..Options::default()
        };
        assert!(
            matches!(plan(&by_link), Ok(Launch::Connect { address, .. }) if address == "irc://pc:6667/#chat")
        );
    }

    #[test]
    fn contradictions_and_junk_are_refused() {
        let both = Options {
            host: true,
            connect: Some("pc".into()),
            ..Options::default()
        };
        assert!(plan(&both).is_err());
        let junk = Options {
            links: vec!["file.txt".into()],
            ..Options::default()
        };
        assert!(plan(&junk).is_err());
        let bad_nick = Options {
            nick: Some("1x".into()),
            ..Options::default()
        };
        assert!(plan(&bad_nick).is_err());
    }

    #[test]
    fn the_serve_password_comes_from_the_option_a_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, " from file \nsecond line\n").unwrap();
        let password = |options: Options| serve_config(&options).unwrap().password;
        let from_file = Options {
            password_file: Some(file.display().to_string()),
            password_env: Some("from env".into()),
            ..Options::default()
        };
        assert_eq!(password(from_file).as_deref(), Some("from file"));
        let from_env = Options {
            password_env: Some(" from env\n".into()),
            ..Options::default()
        };
        assert_eq!(password(from_env).as_deref(), Some("from env"));
        let option_first = Options {
            password: Some("given".into()),
            password_env: Some("from env".into()),
            ..Options::default()
        };
        assert_eq!(password(option_first).as_deref(), Some("given"));
        let blank = Options {
            password: Some("  ".into()),
            ..Options::default()
        };
        assert_eq!(password(blank), None);
    }

    #[test]
    fn serve_options_make_a_config() {
        let options = Options {
            serve: true,
            bind: Some("127.0.0.1".into()),
            port: Some("0".into()),
            room: Some("lobby".into()),
            password: Some("s3cret".into()),
            max_clients: Some("50".into()),
            max_per_address: Some("3".into()),
            no_flood_control: true,
            ..Options::default()
        };
        let config = serve_config(&options).unwrap();
        assert_eq!(config.bind, Some("127.0.0.1".parse().unwrap()));
        assert_eq!((config.port, config.room.as_str()), (0, "#lobby"));
        assert_eq!(config.password.as_deref(), Some("s3cret"));
        assert_eq!(config.limits.max_clients, 50);
        assert_eq!(config.limits.max_per_address, 3);
        assert!(!config.limits.flood_control);
        let plain = serve_config(&Options::default()).unwrap();
        let history = plain.history.clone().unwrap();
        assert_eq!(history.keep_per_room, DEFAULT_HISTORY_LINES);
        assert!(history.path.ends_with("tcp-chat/history-6667.sqlite3"));
        let tls = plain.tls.clone().unwrap();
        assert!(tls.dir.ends_with("tcp-chat") && !tls.required);
        assert_eq!(plain.announce, Some(Announce { nick: None }));
        assert_eq!(
            ServerConfig {
                history: None,
                tls: None,
                announce: None,
                ..plain
            },
            ServerConfig::default()
        );
        let announced = Options {
            nick: Some("mei".into()),
            ..Options::default()
        };
        assert_eq!(
            serve_config(&announced).unwrap().announce,
            Some(Announce {
                nick: Some("mei".into())
            })
        );
        let quiet = Options {
            no_announce: true,
            ..Options::default()
        };
        assert_eq!(serve_config(&quiet).unwrap().announce, None);
        let named = Options {
            server_name: Some("irc.example.org".into()),
            ..Options::default()
        };
        assert_eq!(serve_config(&named).unwrap().server_name, "irc.example.org");
        let motd_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(motd_file.path(), "Welcome!\nBe kind.\n").unwrap();
        let with_motd = Options {
            motd: Some(motd_file.path().display().to_string()),
            ..Options::default()
        };
        assert_eq!(
            serve_config(&with_motd).unwrap().motd,
            ["Welcome!", "Be kind."]
        );
        let chosen = Options {
            history: Some("50".into()),
            state_dir: Some("/srv/chat".into()),
            ..Options::default()
        };
        let history = serve_config(&chosen).unwrap().history.unwrap();
        assert_eq!(
            history.path,
            std::path::Path::new("/srv/chat/history-6667.sqlite3")
        );
        assert_eq!(history.keep_per_room, 50);
        let tls_only = Options {
            tls_only: true,
            state_dir: Some("/srv/chat".into()),
            ..Options::default()
        };
        assert_eq!(
            serve_config(&tls_only).unwrap().tls,
            Some(TlsConfig {
                dir: "/srv/chat".into(),
                required: true,
            })
        );
        let none = Options {
            history: Some("0".into()),
            ..Options::default()
        };
        assert_eq!(serve_config(&none).unwrap().history, None);
        for bad in [
            Options {
                password: Some("a".into()),
                password_file: Some("/dev/null".into()),
                ..Options::default()
            },
            Options {
                password_file: Some("/dev/null".into()),
                ..Options::default()
            },
            Options {
                password_file: Some("/nonexistent/password".into()),
                ..Options::default()
            },
            Options {
                history: Some("lots".into()),
                ..Options::default()
            },
            Options {
                bind: Some("nowhere".into()),
                ..Options::default()
            },
            Options {
                port: Some("-1".into()),
                ..Options::default()
            },
            Options {
                max_clients: Some("0".into()),
                ..Options::default()
            },
            Options {
                max_per_address: Some("-1".into()),
                ..Options::default()
            },
            Options {
                room: Some("a b".into()),
                ..Options::default()
            },
            Options {
                nick: Some("1x".into()),
                ..Options::default()
            },
            Options {
                server_name: Some("my pc".into()),
                ..Options::default()
            },
            Options {
                motd: Some("/nonexistent/motd".into()),
                ..Options::default()
            },
        ] {
            assert!(serve_config(&bad).is_err(), "{bad:?}");
        }
    }
}
