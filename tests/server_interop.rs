//! A real IRC client from Debian (`ii`, driven through its files) joins our
//! host and talks with a raw test client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{require_program, start_host, test_config, TestClient, TIMEOUT};

/// Kills `ii` however the test ends.
struct Ii(Child);

impl Drop for Ii {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ii only reports through files: poll one until `wanted` holds.
async fn wait_for_file(path: &Path, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if wanted(&text) {
                return text;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ii never wrote {what} to {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes one line into one of ii's `in` FIFOs (blocks until ii reads it).
async fn write_fifo(path: PathBuf, line: String) {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut fifo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        writeln!(fifo, "{line}").unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ii_joins_and_exchanges_messages() {
    require_program("ii", "ii");
    let (host, addr) = start_host(test_config()).await;
    let mut alice = TestClient::register(addr, "alice").await;

    let dir = std::env::temp_dir().join(format!("tcp-chat-ii-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let child = Command::new("ii")
        .args([
            "-s",
            "127.0.0.1",
            "-p",
            &addr.port().to_string(),
            "-n",
            "iibot",
            "-i",
        ])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ii starts");
    let _ii = Ii(child);

    let join = alice.expect_command("JOIN").await;
    assert_eq!(join.source_nick(), Some("iibot"));

    let server_dir = dir.join("127.0.0.1");
    write_fifo(server_dir.join("in"), "/j #chat".to_owned()).await;
    let channel_in = server_dir.join("#chat").join("in");
    wait_for_file(&server_dir.join("#chat").join("out"), "the channel", |_| {
        true
    })
    .await;
    let _ = channel_in
        .metadata()
        .expect("ii made the channel's in FIFO");

    write_fifo(channel_in, "hello from ii".to_owned()).await;
    let said = alice.expect_command("PRIVMSG").await;
    assert_eq!(
        (said.source_nick(), said.params.clone()),
        (Some("iibot"), vec!["#chat".into(), "hello from ii".into()])
    );

    alice.send("PRIVMSG #chat :hello ii, from alice").await;
    let out = wait_for_file(
        &server_dir.join("#chat").join("out"),
        "alice's message",
        |text| text.contains("hello ii, from alice"),
    )
    .await;
    assert!(out.contains("<alice> hello ii, from alice"), "{out}");

    host.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
