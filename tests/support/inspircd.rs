//! InspIRCd (Debian's `inspircd`) for the tests: one server, or two linked
//! through the sample configs the README points at
//! (`data/inspircd-two-servers/`).

use std::ffi::OsString;
use std::path::Path;

use super::daemons::{Daemon, DaemonSpec};
use super::free_loopback_ports;

/// What every test server adds to its config: its pid file in its own
/// directory, and no DNS lookups of clients (nothing may leave the machine).
fn test_settings(dir: &Path) -> String {
    format!(
        "<pid file=\"{pid}\">\n<performance nouserdns=\"yes\">\n",
        pid = dir.join("inspircd.pid").display(),
    )
}

/// One server taking clients on 127.0.0.1:`port`.
pub fn config(port: u16, dir: &Path) -> String {
    format!(
        "<server name=\"irc.test\" description=\"TCP Chat interop test\" network=\"Test\">\n\
         <admin name=\"test\" nick=\"test\" email=\"test@irc.test\">\n\
         <bind address=\"127.0.0.1\" port=\"{port}\" type=\"clients\">\n\
         <connect allow=\"*\" timeout=\"60\" threshold=\"10\" pingfreq=\"120\" \
         hardsendq=\"262144\" softsendq=\"8192\" recvq=\"8192\" localmax=\"10\" globalmax=\"10\">\n\
         <options prefixquit=\"Quit: \">\n{settings}",
        settings = test_settings(dir),
    )
}

fn args(config: &Path) -> Vec<OsString> {
    let mut config_arg = OsString::from("--config=");
    config_arg.push(config);
    // Tests run as root in CI; InspIRCd refuses root unless told.
    vec!["--nofork".into(), "--runasroot".into(), config_arg]
}

pub const INSPIRCD: DaemonSpec = DaemonSpec {
    program: "inspircd",
    package: "inspircd",
    config,
    args,
    ready_marker: "is now running as",
};

/// The sample configs, as shipped.
const HUB_SAMPLE: &str = include_str!("../../data/inspircd-two-servers/irc1.conf");
const LEAF_SAMPLE: &str = include_str!("../../data/inspircd-two-servers/irc2.conf");

/// Two InspIRCd servers linked on loopback, each with a client port: the
/// sample configs with only their `<define>`d addresses, ports, password and
/// retry changed.
pub struct LinkedPair {
    pub hub: Daemon,
    pub leaf: Daemon,
}

impl LinkedPair {
    /// Starts both and returns once each has received the other's burst
    /// (its users and channels): from then on they relay everything.
    pub fn start() -> LinkedPair {
        let [hub_port, hub_link, leaf_port, leaf_link] = free_loopback_ports();
        let hub = Daemon::start_with(&INSPIRCD, hub_port, |dir| {
            linked_config(HUB_SAMPLE, hub_port, hub_link, leaf_link, dir)
        });
        let leaf = Daemon::start_with(&INSPIRCD, leaf_port, |dir| {
            // The leaf's first attempt waits one retry period: keep it short.
            let config = set_define(LEAF_SAMPLE, "retry", "1s");
            linked_config(&config, leaf_port, leaf_link, hub_link, dir)
        });
        // Each has one peer; InspIRCd prints its name in bold (^B), hence
        // the marker without it.
        leaf.wait_for_output("Received end of netburst from");
        hub.wait_for_output("Received end of netburst from");
        LinkedPair { hub, leaf }
    }
}

fn linked_config(
    sample: &str,
    port: u16,
    link_port: u16,
    peer_link_port: u16,
    dir: &Path,
) -> String {
    let mut config = sample.to_owned();
    for (name, value) in [
        ("listenaddress", "127.0.0.1".to_owned()),
        ("clientport", port.to_string()),
        ("linkport", link_port.to_string()),
        ("peeraddress", "127.0.0.1".to_owned()),
        ("peerlinkport", peer_link_port.to_string()),
        ("linkpassword", "linked-test-password".to_owned()),
    ] {
        config = set_define(&config, name, &value);
    }
    // Its log on stdout (flushed at every line) is how the test sees the link.
    config.push_str(
        "<log method=\"file\" type=\"LINK\" level=\"default\" target=\"/dev/stdout\" flush=\"1\">\n",
    );
    config.push_str(&test_settings(dir));
    config
}

/// `config` with the value of its `<define name="NAME" ...>` line replaced.
fn set_define(config: &str, name: &str, value: &str) -> String {
    let start = format!("<define name=\"{name}\" value=\"");
    let mut found = false;
    let lines: Vec<String> = config
        .lines()
        .map(|line| {
            if line.starts_with(&start) {
                found = true;
                format!("{start}{value}\">")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "the sample config defines no {name:?}");
    lines.join("\n") + "\n"
}
