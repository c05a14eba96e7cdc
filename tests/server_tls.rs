//! TLS and plain text on the host's one port, over real loopback sockets:
//! a TLS client (trusting exactly the host's certificate fingerprint) and
//! a plain one chat together; the certificate outlives restarts; `--tls-only`
//! refuses plain text with one line; junk, half handshakes and stalled
//! handshakes leave the host serving; `openssl s_client` and WeeChat get in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::programs::ChildProcess;
use support::{start_host, tls_config, within, RawClient, TlsRawClient};
use tcp_chat::protocol::trust::Fingerprint;
use tcp_chat::server::{CERT_FILE, KEY_FILE};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The start of a TLS ClientHello record: handshake, TLS 1.0 record
/// version, a length of 512, then the message cut short.
const HALF_CLIENT_HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03];

/// Reads until the host closes; returns what came.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    // A reset ends it as a close does.
    let _ = within("the host closing", stream.read_to_end(&mut rest)).await;
    rest
}

#[tokio::test]
async fn tls_and_plain_clients_chat_on_one_port() {
    let state = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(state.path(), false)).await;
    let fingerprint = *host.fingerprint().expect("a TLS host has a fingerprint");
    let mut secure = TlsRawClient::register_tls(addr, "secure", &fingerprint).await;
    let mut plain = RawClient::register(addr, "plain").await;
    secure.expect_command("JOIN").await;

    secure.send("PRIVMSG #chat :hello over TLS").await;
    let heard = plain.expect_command("PRIVMSG").await;
    assert_eq!(
        heard.prefix.as_deref().map(|p| p.starts_with("secure!")),
        Some(true)
    );
    assert_eq!(heard.params, ["#chat", "hello over TLS"]);
    plain.send("PRIVMSG #chat :hello in plain text").await;
    let heard = secure.expect_command("PRIVMSG").await;
    assert_eq!(heard.params, ["#chat", "hello in plain text"]);

    // An `nc` user on the same port, silent at first, is greeted as ever,
    // and so is one who types over TLS (`openssl s_client`).
    let mut nc = RawClient::connect(addr, "nc").await;
    nc.expect_containing("What's your name?").await;
    nc.send("carol").await;
    nc.expect_containing("* carol joined").await;
    let mut typed = TlsRawClient::connect_tls(addr, "typed", &fingerprint).await;
    typed.expect_containing("What's your name?").await;
    typed.send("dave").await;
    typed.expect_containing("* dave joined").await;
    typed.send("hi all").await;
    let heard = secure.expect_command("PRIVMSG").await;
    assert_eq!(heard.params, ["#chat", "hi all"]);
    nc.expect_containing("hi all").await;

    // Shown to guests as the same certificate, digits and all.
    let code = host.safety_code().unwrap();
    assert_eq!(code, fingerprint.safety_code());
    secure.send("QUIT :bye").await;
    secure.expect_closed().await;
    host.shutdown().await;
}

#[tokio::test]
async fn the_certificate_outlives_a_restart_and_belongs_to_its_state_dir() {
    let state = tempfile::tempdir().unwrap();
    let (host, _) = start_host(tls_config(state.path(), false)).await;
    let first = *host.fingerprint().unwrap();
    host.shutdown().await;

    let key = state.path().join(KEY_FILE);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", key.display());
    let pem = std::fs::read(state.path().join(CERT_FILE)).unwrap();
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(&pem).unwrap();
    let on_disk: rustls::pki_types::CertificateDer = der;
    assert_eq!(Fingerprint::of_certificate(&on_disk), first);

    let (again, addr) = start_host(tls_config(state.path(), false)).await;
    assert_eq!(again.fingerprint(), Some(&first));
    // A client that remembered the fingerprint gets in after the restart.
    TlsRawClient::register_tls(addr, "returning", &first).await;
    again.shutdown().await;

    let other = tempfile::tempdir().unwrap();
    let (elsewhere, addr) = start_host(tls_config(other.path(), false)).await;
    let second = *elsewhere.fingerprint().unwrap();
    assert_ne!(second, first);
    assert_ne!(second.safety_code(), first.safety_code());
    // And one that trusts the old certificate is refused by its own check.
    let refused = support::tls::connect(addr, &first).await;
    assert!(refused.is_err(), "trusted a different certificate");
    elsewhere.shutdown().await;
}

#[tokio::test]
async fn tls_only_refuses_plain_text_with_one_line_and_takes_tls() {
    let state = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(state.path(), true)).await;
    let fingerprint = *host.fingerprint().unwrap();

    // An IRC client that starts talking at once.
    let mut irc = RawClient::connect(addr, "irc").await;
    irc.send("NICK irc").await;
    irc.send("USER irc 0 * :I").await;
    let said = irc.expect_closed().await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("ERROR :"), "{said:?}");
    assert!(
        said[0].contains("TLS") && said[0].contains("same port"),
        "{said:?}"
    );

    // An `nc` user, waiting to be greeted.
    let mut nc = RawClient::connect(addr, "nc").await;
    assert_eq!(nc.expect_closed().await, said);

    let mut secure = TlsRawClient::register_tls(addr, "secure", &fingerprint).await;
    secure.send("PRIVMSG #chat :still here").await;
    secure.sync("alive").await;
    host.shutdown().await;
}

#[tokio::test]
async fn junk_and_half_handshakes_leave_the_host_serving() {
    let state = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(state.path(), false)).await;
    let fingerprint = *host.fingerprint().unwrap();
    let mut watcher = RawClient::register(addr, "watcher").await;

    // Binary junk: a plain-text connection like any other, told off or ignored.
    let mut junk = TcpStream::connect(addr).await.unwrap();
    junk.write_all(&[0x00, 0xff, 0x80, 0x7f, 0x1b, 0x9b, 0xfe, b'\n'])
        .await
        .unwrap();
    junk.write_all(&(0u8..=255).collect::<Vec<_>>())
        .await
        .unwrap();
    drop(junk);

    // A ClientHello cut short, then the connection closed.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(HALF_CLIENT_HELLO).await.unwrap();
    drop(half);

    // A handshake record that is no ClientHello: the host gives up on it.
    let mut bogus = TcpStream::connect(addr).await.unwrap();
    bogus
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef])
        .await
        .unwrap();
    read_to_close(&mut bogus).await;

    let mut secure = TlsRawClient::register_tls(addr, "secure", &fingerprint).await;
    let mut plain = RawClient::register(addr, "plain").await;
    secure.send("PRIVMSG #chat :after the junk").await;
    let heard = plain.expect_command("PRIVMSG").await;
    assert_eq!(heard.params, ["#chat", "after the junk"]);
    watcher.expect_containing("after the junk").await;
    host.shutdown().await;
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_like_a_silent_client() {
    let state = tempfile::tempdir().unwrap();
    let mut config = tls_config(state.path(), false);
    config.limits.registration_timeout = Duration::from_millis(300);
    let (host, addr) = start_host(config).await;
    let fingerprint = *host.fingerprint().unwrap();

    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(HALF_CLIENT_HELLO).await.unwrap();
    // Never more: the host closes it once registration time is up.
    read_to_close(&mut stalled).await;

    // Registered in time, a TLS client stays.
    let mut secure = TlsRawClient::register_tls(addr, "secure", &fingerprint).await;
    secure.sync("still here").await;
    host.shutdown().await;
}

#[tokio::test]
async fn openssl_s_client_registers_and_is_welcomed() {
    let state = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(state.path(), true)).await;
    let mut watcher =
        TlsRawClient::register_tls(addr, "watcher", host.fingerprint().unwrap()).await;
    let (openssl, mut stdin) = ChildProcess::spawn_with_input(
        Command::new("openssl")
            .args(["s_client", "-quiet", "-connect"])
            .arg(addr.to_string())
            // Its notes on the self-signed certificate.
            .stderr(Stdio::null()),
        "openssl",
    );
    stdin
        .write_all(b"NICK ossl\r\nUSER ossl 0 * :OpenSSL\r\n")
        .unwrap();
    stdin.flush().unwrap();
    let openssl = tokio::task::spawn_blocking(move || {
        openssl.wait_for_output(" 001 ossl ");
        openssl
    })
    .await
    .unwrap();
    let join = watcher.expect_command("JOIN").await;
    assert_eq!(
        join.prefix.as_deref().map(|p| p.starts_with("ossl!")),
        Some(true)
    );
    stdin
        .write_all(b"PRIVMSG #chat :hi from openssl\r\n")
        .unwrap();
    stdin.flush().unwrap();
    watcher.expect_containing("hi from openssl").await;
    drop((stdin, openssl));
    host.shutdown().await;
}

/// WeeChat (Debian's weechat-headless) joins an encrypted-only room over
/// TLS, trusting the host's certificate by its SHA-256 fingerprint as a
/// person would set it up (in plain text it would be refused).
#[tokio::test]
async fn weechat_joins_over_tls_with_the_pinned_fingerprint() {
    let state = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(state.path(), true)).await;
    let fingerprint = *host.fingerprint().unwrap();
    let mut watcher = TlsRawClient::register_tls(addr, "watcher", &fingerprint).await;
    let home = support::programs::scratch_dir("weechat");
    let pinned = fingerprint.hex().replace(':', "");
    // Said once registered (the server's `command` option), so the room
    // hears the line only after WeeChat got in; `\;` keeps `--run` from
    // splitting the option's two commands.
    let tls = weechat_tls_option();
    let setup = format!(
        "/server add room {}/{} -{tls} -{tls}_fingerprint={pinned} -nicks=wee -autojoin=#chat; \
         /connect room",
        addr.ip(),
        addr.port()
    );
    let _weechat = ChildProcess::spawn(
        Command::new("weechat-headless")
            .arg("--dir")
            .arg(home.path())
            .args(["--run", &setup])
            .stderr(Stdio::null()),
        "weechat-headless",
    );
    let join = watcher.expect_command("JOIN").await;
    assert_eq!(
        join.prefix.as_deref().map(|p| p.starts_with("wee!")),
        Some(true),
        "{join:?}"
    );
    host.shutdown().await;
}

/// WeeChat 4 renamed its server options `ssl*` to `tls*` (Debian 12 has
/// 3.8); an unknown one would be ignored and WeeChat would connect in
/// plain text, which the encrypted-only host refuses.
fn weechat_tls_option() -> &'static str {
    support::programs::require_program("weechat-headless", "weechat-headless");
    let version = Command::new("weechat-headless")
        .arg("--version")
        .output()
        .expect("weechat-headless --version");
    let version = String::from_utf8_lossy(&version.stdout);
    let major: u32 = version
        .trim()
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or_else(|| panic!("no version in {version:?}"));
    if major >= 4 {
        "tls"
    } else {
        "ssl"
    }
}

#[tokio::test]
async fn a_full_host_never_answers_a_tls_client_in_plain_text() {
    let state = tempfile::tempdir().unwrap();
    let mut config = tls_config(state.path(), false);
    config.limits.max_clients = 1;
    let (host, addr) = start_host(config).await;
    let fingerprint = *host.fingerprint().unwrap();
    let mut inside = RawClient::register(addr, "inside").await;

    // A ClientHello's first bytes: whatever comes back must be TLS, not
    // the plain-text "Server full" line a TLS client cannot read. Being
    // closed without a word is the answer.
    let mut hello = TcpStream::connect(addr).await.unwrap();
    hello.write_all(HALF_CLIENT_HELLO).await.unwrap();
    let answer = read_to_close(&mut hello).await;
    assert!(
        answer.is_empty(),
        "a TLS client was answered with {:?}",
        String::from_utf8_lossy(&answer)
    );
    // A real TLS client is refused by its handshake failing.
    assert!(support::tls::connect(addr, &fingerprint).await.is_err());

    // Plain text on the same full port is still told why.
    let mut plain = RawClient::connect(addr, "plain").await;
    plain.send("NICK plain").await;
    assert_eq!(plain.expect_closed().await, ["ERROR :Server full"]);
    let mut silent = RawClient::connect(addr, "silent").await;
    assert_eq!(silent.expect_closed().await, ["ERROR :Server full"]);

    // A place freed is a place a TLS client can take.
    inside.send("QUIT").await;
    inside.expect_closed().await;
    within("the freed place", async {
        while support::tls::connect(addr, &fingerprint).await.is_err() {
            // The slot is given back just after the socket closes.
            tokio::task::yield_now().await;
        }
    })
    .await;
    host.shutdown().await;
}
