//! Encryption and trust on first use, from the client's side: TLS first,
//! the host's certificate pinned on the first visit, a changed one refused
//! before a single line is sent, plain text only for hosts never seen
//! speaking TLS, `ircs://` checked against the system's authorities.

mod support;

use std::path::PathBuf;

use support::tls_host::{first_line, received, TlsFakeHost};
use support::{start_host, start_session, test_config, tls_config, wait_connected, wait_for};
use tcp_chat::api::{
    CertificateProblem, DisconnectReason, Event, ExpectedIdentity, Fingerprint, Security, Trust,
};
use tcp_chat::client::known_hosts::{KnownHosts, FILE_NAME};
use tcp_chat::client::SessionConfig;

/// A session to `address` as `nick`, remembering hosts in `dir`.
fn config(address: &str, identity: ExpectedIdentity, dir: &tempfile::TempDir) -> SessionConfig {
    let mut config = support::session_config(address, "alice", "#room");
    config.request.identity = identity;
    config.known_hosts = Some(known_hosts(dir));
    config
}

fn known_hosts(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(FILE_NAME)
}

/// The first event of a session is how it is protected, or why it ended.
async fn security_or_end(
    events: &async_channel::Receiver<Event>,
) -> Result<Security, DisconnectReason> {
    match wait_for(events, |e| {
        matches!(e, Event::Security(_) | Event::Disconnected { .. })
    })
    .await
    {
        Event::Security(security) => Ok(security),
        Event::Disconnected { reason } => Err(reason),
        other => unreachable!("{other:?}"),
    }
}

#[tokio::test]
async fn a_changed_certificate_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let host = TlsFakeHost::bind().await;
    let address = host.addr.to_string();
    let first = host.fingerprint();

    // First visit: pinned, and the session goes on to register.
    let (session, events) = start_session(config(&address, ExpectedIdentity::Unknown, &dir));
    let mut guest = host.accept().await;
    assert_eq!(
        security_or_end(&events).await,
        Ok(Security::Pinned {
            fingerprint: first,
            trust: Trust::FirstUse
        })
    );
    assert_eq!(first_line(&mut guest).await, "CAP LS 302");
    drop(session);

    // The host made a new certificate: nothing at all reaches it.
    let second = host.change_certificate();
    let (_session, events) = start_session(config(&address, ExpectedIdentity::Unknown, &dir));
    let mut guest = host.accept().await;
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::IdentityChanged {
            expected: first,
            presented: second
        })
    );
    assert_eq!(
        received(&mut guest).await,
        b"",
        "sent to an unverified host"
    );

    // The person compared safety codes and trusts the new one.
    let (session, events) =
        start_session(config(&address, ExpectedIdentity::Accepted(second), &dir));
    let mut guest = host.accept().await;
    assert_eq!(
        security_or_end(&events).await,
        Ok(Security::Pinned {
            fingerprint: second,
            trust: Trust::Accepted
        })
    );
    assert_eq!(first_line(&mut guest).await, "CAP LS 302");
    drop(session);

    // …and it stays trusted.
    let (_session, events) = start_session(config(&address, ExpectedIdentity::Unknown, &dir));
    let _guest = host.accept().await;
    assert_eq!(
        security_or_end(&events).await,
        Ok(Security::Pinned {
            fingerprint: second,
            trust: Trust::Remembered
        })
    );
}

#[tokio::test]
async fn our_host_is_joined_over_tls_and_pinned() {
    let certificate = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(certificate.path(), false)).await;
    let fingerprint = *host.fingerprint().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_session, events) =
        start_session(config(&addr.to_string(), ExpectedIdentity::Unknown, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Ok(Security::Pinned {
            fingerprint,
            trust: Trust::FirstUse
        })
    );
    wait_connected(&events).await;
    let hosts = KnownHosts::open(&known_hosts(&dir)).unwrap();
    assert_eq!(
        hosts.pinned("127.0.0.1", addr.port()).unwrap(),
        Some(fingerprint)
    );
}

#[tokio::test]
async fn a_host_without_tls_is_joined_in_plain_text_and_not_pinned() {
    let (_host, addr) = start_host(test_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let (_session, events) =
        start_session(config(&addr.to_string(), ExpectedIdentity::Unknown, &dir));
    assert_eq!(security_or_end(&events).await, Ok(Security::Plain));
    wait_connected(&events).await;
    let hosts = KnownHosts::open(&known_hosts(&dir)).unwrap();
    assert_eq!(hosts.pinned("127.0.0.1", addr.port()).unwrap(), None);
}

/// ngircd says nothing to a ClientHello: after the probe's patience the
/// session joins such a new host in plain text, on a fresh connection.
#[tokio::test]
async fn a_silent_plain_server_is_joined_in_plain_text_after_the_probe() {
    let server = support::FakeServer::bind().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&server.address(), ExpectedIdentity::Unknown, &dir);
    config.timing.tls_probe = std::time::Duration::from_millis(100);
    let (_session, events) = start_session(config);
    // The first connection gets a ClientHello and no answer…
    let _probed = server.accept().await;
    // …the second one registers in plain text.
    let mut peer = server.accept().await;
    assert_eq!(peer.message().await.command, "NICK");
    assert_eq!(security_or_end(&events).await, Ok(Security::Plain));
}

#[tokio::test]
async fn a_host_seen_with_tls_is_never_joined_in_plain_text() {
    let (_host, addr) = start_host(test_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let earlier = Fingerprint::of_certificate(b"the certificate of an earlier visit");
    KnownHosts::open(&known_hosts(&dir))
        .unwrap()
        .pin("127.0.0.1", addr.port(), &earlier)
        .unwrap();
    let (_session, events) =
        start_session(config(&addr.to_string(), ExpectedIdentity::Unknown, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::NoLongerEncrypted)
    );
    // Announced as plain does not override what we saw either.
    let (_session, events) =
        start_session(config(&addr.to_string(), ExpectedIdentity::PlainOnly, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::NoLongerEncrypted)
    );
}

#[tokio::test]
async fn a_room_whose_announcement_names_another_certificate_is_refused() {
    let certificate = tempfile::tempdir().unwrap();
    let (host, addr) = start_host(tls_config(certificate.path(), false)).await;
    let presented = *host.fingerprint().unwrap();
    let announced = Fingerprint::of_certificate(b"what the announcement said");
    let dir = tempfile::tempdir().unwrap();
    let identity = ExpectedIdentity::AnnouncedTls(Some(announced));
    let (_session, events) = start_session(config(&addr.to_string(), identity, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::IdentityChanged {
            expected: announced,
            presented
        })
    );
    // Announced right: joined, and pinned like any first visit.
    let identity = ExpectedIdentity::AnnouncedTls(Some(presented));
    let (_session, events) = start_session(config(&addr.to_string(), identity, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Ok(Security::Pinned {
            fingerprint: presented,
            trust: Trust::FirstUse
        })
    );
}

#[tokio::test]
async fn ircs_wants_a_certificate_an_authority_signed() {
    let certificate = tempfile::tempdir().unwrap();
    let (_host, addr) = start_host(tls_config(certificate.path(), false)).await;
    let dir = tempfile::tempdir().unwrap();
    let address = format!("ircs://127.0.0.1:{}/#room", addr.port());
    let (_session, events) = start_session(config(&address, ExpectedIdentity::Unknown, &dir));
    // (`make test` installs ca-certificates: the authorities are there.)
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::CertificateRejected {
            problem: CertificateProblem::UnknownIssuer
        })
    );
    // A plain-text host on an ircs:// address: not TLS, never plain.
    let (_plain, addr) = start_host(test_config()).await;
    let address = format!("ircs://127.0.0.1:{}/#room", addr.port());
    let (_session, events) = start_session(config(&address, ExpectedIdentity::Unknown, &dir));
    assert_eq!(
        security_or_end(&events).await,
        Err(DisconnectReason::CertificateRejected {
            problem: CertificateProblem::NotTls
        })
    );
}
