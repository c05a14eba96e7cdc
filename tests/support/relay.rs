//! A TCP relay on loopback that a test can cut and restore, standing for a
//! network between a client and its host: connections through it can be
//! broken (optionally leaving the host's side open, a "ghost" the host
//! has not noticed yet), new ones refused while it is down, and the way
//! back from the host can be held shut while the way there stays open.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Control {
    /// Bumped by every cut: connections of an older generation end.
    generation: u64,
    /// New connections are closed at once while down.
    down: bool,
    /// Bytes from the host are dropped instead of forwarded.
    downstream_held: bool,
    /// A cut leaves the host's side of each connection open.
    leave_ghosts: bool,
}

pub struct Relay {
    pub addr: SocketAddr,
    control: watch::Sender<Control>,
    /// Host-side halves of cut connections, kept open as ghosts.
    ghosts: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// Relays every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (control, watcher) = watch::channel(Control {
            generation: 0,
            down: false,
            downstream_held: false,
            leave_ghosts: false,
        });
        let ghosts = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&ghosts);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let watcher = watcher.clone();
                let kept = Arc::clone(&kept);
                tokio::spawn(relay_one(client, upstream, watcher, kept));
            }
        });
        Relay {
            addr,
            control,
            ghosts,
        }
    }

    /// Breaks every connection and refuses new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.control.send_modify(|c| {
            c.generation += 1;
            c.down = true;
            c.leave_ghosts = false;
        });
    }

    /// Like [`Relay::cut`], but the host's side stays open: the host still
    /// sees the old connection until its ping timeout.
    pub fn cut_leaving_ghosts(&self) {
        self.control.send_modify(|c| {
            c.generation += 1;
            c.down = true;
            c.leave_ghosts = true;
        });
    }

    pub fn restore(&self) {
        self.control.send_modify(|c| {
            c.down = false;
            c.downstream_held = false;
        });
    }

    /// From now on nothing the host sends reaches the client.
    pub fn hold_downstream(&self) {
        self.control.send_modify(|c| c.downstream_held = true);
    }

    /// Closes the ghosts left by [`Relay::cut_leaving_ghosts`].
    pub fn drop_ghosts(&self) {
        self.ghosts.lock().unwrap().clear();
    }
}

async fn relay_one(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut control: watch::Receiver<Control>,
    ghosts: Arc<Mutex<Vec<TcpStream>>>,
) {
    let start = *control.borrow_and_update();
    if start.down {
        return; // dropping the socket closes it
    }
    let Ok(mut host) = TcpStream::connect(upstream).await else {
        return;
    };
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_host = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            changed = control.changed() => {
                let now = *control.borrow_and_update();
                if changed.is_err() || now.generation != start.generation {
                    if now.leave_ghosts {
                        ghosts.lock().unwrap().push(host);
                    }
                    return;
                }
            }
            read = client.read(&mut from_client) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if host.write_all(&from_client[..n]).await.is_err() {
                        return;
                    }
                }
            },
            read = host.read(&mut from_host) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if control.borrow().downstream_held {
                        continue;
                    }
                    if client.write_all(&from_host[..n]).await.is_err() {
                        return;
                    }
                }
            },
        }
    }
}
