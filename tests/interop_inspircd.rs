//! Two client sessions chatting through a real InspIRCd on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ffi::OsString;
use std::path::Path;

use support::daemons::{two_sessions_chat, Daemon, DaemonSpec};

fn inspircd_config(port: u16, dir: &Path) -> String {
    // No DNS lookups of clients: nothing may leave the machine.
    format!(
        "<server name=\"irc.test\" description=\"TCP Chat interop test\" network=\"Test\">\n\
         <admin name=\"test\" nick=\"test\" email=\"test@irc.test\">\n\
         <bind address=\"127.0.0.1\" port=\"{port}\" type=\"clients\">\n\
         <connect allow=\"*\" timeout=\"60\" threshold=\"10\" pingfreq=\"120\" \
         hardsendq=\"262144\" softsendq=\"8192\" recvq=\"8192\" localmax=\"10\" globalmax=\"10\">\n\
         <pid file=\"{pid}\">\n\
         <performance nouserdns=\"yes\">\n\
         <options prefixquit=\"Quit: \">\n",
        pid = dir.join("inspircd.pid").display(),
    )
}

fn inspircd_args(config: &Path) -> Vec<OsString> {
    let mut config_arg = OsString::from("--config=");
    config_arg.push(config);
    // Tests run as root in CI; InspIRCd refuses root unless told.
    vec!["--nofork".into(), "--runasroot".into(), config_arg]
}

const INSPIRCD: DaemonSpec = DaemonSpec {
    program: "inspircd",
    package: "inspircd",
    config: inspircd_config,
    args: inspircd_args,
    ready_marker: "is now running as",
};

#[tokio::test]
async fn two_sessions_chat_through_inspircd() {
    two_sessions_chat(&Daemon::start(&INSPIRCD)).await;
}
