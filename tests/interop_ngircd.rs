//! Two client sessions chatting through a real ngircd on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ffi::OsString;
use std::path::Path;

use support::conformance::{
    channel_operators_work_like_the_specs, multi_prefix_shows_every_prefix,
    queries_answer_like_the_specs, Server,
};
use support::daemons::{operator_controls, two_sessions_chat, Daemon, DaemonSpec};
use support::{wait_connected, wait_disconnected};
use tcp_chat::network::DisconnectReason;

fn ngircd_config(port: u16, dir: &Path, password: Option<&str>) -> String {
    let password_line = password
        .map(|p| format!("\tPassword = {p}\n"))
        .unwrap_or_default();
    // As root, ngircd switches to `nobody` by itself; no PAM, DNS or ident
    // so nothing leaves the machine.
    format!(
        "[Global]\n\tName = irc.test\n\tInfo = TCP Chat interop test\n\
         \tAdminInfo1 = test\n\tAdminInfo2 = loopback\n\tAdminEMail = test@irc.test\n\
         \tListen = 127.0.0.1\n\tPorts = {port}\n\tMotdPhrase = \"hello\"\n\
         \tPidFile = {pid}\n{password_line}\
         [Limits]\n\tMaxNickLength = 30\n\
         [Options]\n\tDNS = no\n\tIdent = no\n\tPAM = no\n",
        pid = dir.join("ngircd.pid").display(),
    )
}

fn ngircd_args(config: &Path) -> Vec<OsString> {
    vec!["-n".into(), "-f".into(), config.into()]
}

const NGIRCD: DaemonSpec = DaemonSpec {
    program: "ngircd",
    package: "ngircd",
    config: |port, dir| ngircd_config(port, dir, None),
    args: ngircd_args,
    ready_marker: "Now listening on",
};

const NGIRCD_WITH_PASSWORD: DaemonSpec = DaemonSpec {
    config: |port, dir| ngircd_config(port, dir, Some("sesame")),
    ..NGIRCD
};

#[tokio::test]
async fn two_sessions_chat_through_ngircd() {
    two_sessions_chat(&Daemon::start(&NGIRCD)).await;
}

#[tokio::test]
async fn ngircd_password_is_checked() {
    let server = Daemon::start(&NGIRCD_WITH_PASSWORD);
    let (_wrong, wrong_events) = server.session("mallory", Some("guess"));
    let reason = wait_disconnected(&wrong_events).await;
    // ngircd answers a bad PASS with ERROR alone, no 464.
    assert_eq!(reason, DisconnectReason::WrongPassword);
    let (_right, right_events) = server.session("trent", Some("sesame"));
    wait_connected(&right_events).await;
}

/// The checks `server_conformance` runs against our host, against ngircd.
#[tokio::test]
async fn ngircd_answers_queries_like_the_specs() {
    let daemon = Daemon::start(&NGIRCD);
    queries_answer_like_the_specs(&Server::daemon(&daemon)).await;
}

/// The channel operator checks `server_conformance` runs against our host.
#[tokio::test]
async fn ngircd_runs_channel_operators_like_the_specs() {
    let daemon = Daemon::start(&NGIRCD);
    channel_operators_work_like_the_specs(&Server::daemon(&daemon)).await;
}

#[tokio::test]
async fn ngircd_shows_every_prefix_with_multi_prefix() {
    let daemon = Daemon::start(&NGIRCD);
    multi_prefix_shows_every_prefix(&Server::daemon(&daemon)).await;
}

/// Our client sessions as operator and operated on, the same scenario as
/// against InspIRCd (`tests/support/daemons.rs`).
#[tokio::test]
async fn client_operator_controls_through_ngircd() {
    operator_controls(&Daemon::start(&NGIRCD)).await;
}
