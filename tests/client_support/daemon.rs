//! Real IRC servers as child processes, and one chat scenario every one
//! of them must carry.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{wait_connected, wait_disconnected, wait_for};
use tcp_chat::client::{Session, SessionCommand, SessionConfig, Timing};
use tcp_chat::network::{DisconnectReason, Event};

/// How to run one kind of server.
pub struct DaemonSpec {
    pub program: &'static str,
    pub package: &'static str,
    /// The config file's text for a port and a private directory.
    pub config: fn(port: u16, dir: &Path) -> String,
    /// Command-line arguments, given the config file's path.
    pub args: fn(config: &Path) -> Vec<OsString>,
    /// A line the server prints on stdout once it accepts connections.
    pub ready_marker: &'static str,
}

/// A server child process with its own config and directory; killed on drop.
pub struct Daemon {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Daemon {
    pub fn start(spec: &DaemonSpec) -> Daemon {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let dir = std::env::temp_dir().join(format!(
            "tcp-chat-{}-{}-{port}",
            spec.program,
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        // Started as root, a server may drop to `nobody`, which must still
        // write its PID file here.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let config_path = dir.join(format!("{}.conf", spec.program));
        std::fs::write(&config_path, (spec.config)(port, &dir)).unwrap();
        let mut child = match Command::new(spec.program)
            .args((spec.args)(&config_path))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(child) => child,
            Err(err) => panic!(
                "cannot run {} ({err}): install it with `apt-get install {}` (make deps-test)",
                spec.program, spec.package
            ),
        };
        // Wait for the server to say it listens, not for time to pass.
        let stdout = child.stdout.take().unwrap();
        let mut log = String::new();
        let mut lines = BufReader::new(stdout).lines();
        let ready = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    log.push_str(&line);
                    log.push('\n');
                    if line.contains(spec.ready_marker) {
                        break true;
                    }
                }
                _ => break false,
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let daemon = Daemon { child, dir, port };
        assert!(ready, "{} did not start:\n{log}", spec.program);
        daemon
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn session(
        &self,
        nick: &str,
        password: Option<&str>,
    ) -> (Session, async_channel::Receiver<Event>) {
        let (sender, events) = async_channel::unbounded();
        let config = SessionConfig {
            address: self.address(),
            nick: nick.to_owned(),
            room: "#interop".to_owned(),
            password: password.map(str::to_owned),
            timing: Timing::default(),
        };
        (Session::start(config, sender), events)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn members(events: &async_channel::Receiver<Event>) -> Vec<String> {
    match wait_for(events, |e| matches!(e, Event::Members { .. })).await {
        Event::Members { mut nicks, .. } => {
            nicks.sort();
            nicks
        }
        other => unreachable!("{other:?}"),
    }
}

/// The next chat event (message or action), skipping notices and the like.
async fn next_chat(events: &async_channel::Receiver<Event>) -> Event {
    wait_for(events, |e| {
        matches!(
            e,
            Event::Message { own: false, .. } | Event::Action { own: false, .. }
        )
    })
    .await
}

/// Two people (and a third with a taken nick) chatting through a real server:
/// join, members, messages both ways, /me, private, long text, nick, topic, quit.
pub async fn two_sessions_chat(server: &Daemon) {
    let (alice, alice_events) = server.session("alice", None);
    let alice_joined = wait_connected(&alice_events).await;
    assert_eq!(
        (alice_joined.nick.as_str(), alice_joined.room.as_str()),
        ("alice", "#interop")
    );
    assert_eq!(members(&alice_events).await, ["alice"]);

    let (bob, bob_events) = server.session("bob", None);
    wait_connected(&bob_events).await;
    assert_eq!(members(&bob_events).await, ["alice", "bob"]);
    wait_for(
        &alice_events,
        |e| matches!(e, Event::Joined { nick, own: false, .. } if nick == "bob"),
    )
    .await;

    let s = String::from;
    alice.send(SessionCommand::Message(s("hello bob, 你好")));
    assert_eq!(
        next_chat(&bob_events).await,
        Event::Message {
            from: s("alice"),
            target: s("#interop"),
            text: s("hello bob, 你好"),
            own: false,
            private: false
        }
    );
    bob.send(SessionCommand::Message(s("hi alice")));
    bob.send(SessionCommand::Action(s("waves")));
    bob.send(SessionCommand::Private {
        nick: s("alice"),
        text: s("psst"),
    });
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Message {
            from: s("bob"),
            target: s("#interop"),
            text: s("hi alice"),
            own: false,
            private: false
        }
    );
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Action {
            from: s("bob"),
            target: s("#interop"),
            text: s("waves"),
            own: false
        }
    );
    assert_eq!(
        next_chat(&alice_events).await,
        Event::Message {
            from: s("bob"),
            target: s("alice"),
            text: s("psst"),
            own: false,
            private: true
        }
    );

    // Long text: the server relays every piece, which reassemble exactly.
    let long = "Lorem ipsum 长文本 dolor sit amet. "
        .repeat(60)
        .trim_end()
        .to_owned();
    alice.send(SessionCommand::Message(long.clone()));
    let mut received = String::new();
    while received.len() < long.len() {
        match next_chat(&bob_events).await {
            Event::Message { text, .. } => received.push_str(&text),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, long);

    alice.send(SessionCommand::ChangeNick(s("alicia")));
    assert_eq!(
        wait_for(&alice_events, |e| matches!(e, Event::NickChanged { .. })).await,
        Event::NickChanged {
            old: s("alice"),
            new: s("alicia"),
            own: true
        }
    );
    assert_eq!(
        wait_for(&bob_events, |e| matches!(e, Event::NickChanged { .. })).await,
        Event::NickChanged {
            old: s("alice"),
            new: s("alicia"),
            own: false
        }
    );

    alice.send(SessionCommand::SetTopic(s("interop works")));
    assert_eq!(
        wait_for(&bob_events, |e| matches!(e, Event::Topic { .. })).await,
        Event::Topic {
            room: s("#interop"),
            topic: s("interop works"),
            set_by: Some(s("alicia"))
        }
    );

    // A third person asking for a taken nick gets another one.
    let (carol, carol_events) = server.session("alicia", None);
    assert_eq!(
        wait_for(&carol_events, |e| matches!(e, Event::NickInUse { .. })).await,
        Event::NickInUse {
            requested: s("alicia"),
            using: s("alicia_")
        }
    );
    wait_connected(&carol_events).await;
    assert_eq!(
        wait_for(&carol_events, |e| matches!(e, Event::Topic { .. })).await,
        Event::Topic {
            room: s("#interop"),
            topic: s("interop works"),
            set_by: Some(s("alicia"))
        }
    );
    carol.leave(None).await;

    bob.leave(Some(s("bye now"))).await;
    assert_eq!(wait_disconnected(&bob_events).await, DisconnectReason::Left);
    match wait_for(
        &alice_events,
        |e| matches!(e, Event::Quit { nick, .. } if nick == "bob"),
    )
    .await
    {
        Event::Quit { reason, .. } => assert!(reason.unwrap_or_default().contains("bye now")),
        other => unreachable!("{other:?}"),
    }
    alice.leave(None).await;
    assert_eq!(
        wait_disconnected(&alice_events).await,
        DisconnectReason::Left
    );
}
