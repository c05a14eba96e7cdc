//! The network thread's loop: takes the window's commands one at a time and
//! keeps at most one session (and, when hosting, our host) alive.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::interfaces::shareable_addresses;
use super::Settings;
use crate::api::{
    Command, ConnectRequest, Event, ExpectedIdentity, Fingerprint, HostError, HostRequest,
    WINDOW_PATIENCE,
};
use crate::client::{room_or_default, Session, SessionConfig, Timing};
use crate::server::{
    self, Announce, HistoryConfig, RunningHost, ServerConfig, StartError, TlsConfig,
    DEFAULT_HISTORY_LINES,
};

/// The window has gone away: nobody is left to serve.
struct WindowGone;

struct Dispatcher {
    settings: Settings,
    events: async_channel::Sender<Event>,
    session: Option<Session>,
    host: Option<RunningHost>,
}

/// Serves commands until [`Command::Shutdown`], the command channel closing,
/// or the event channel closing; then leaves the room and stops hosting.
pub async fn run(
    settings: Settings,
    commands: async_channel::Receiver<Command>,
    events: async_channel::Sender<Event>,
) {
    if settings.browse {
        browse_nearby_rooms(events.clone(), settings.state_dir.clone());
    }
    let mut dispatcher = Dispatcher {
        settings,
        events,
        session: None,
        host: None,
    };
    loop {
        let command = tokio::select! {
            command = commands.recv() => command,
            () = session_end(&mut dispatcher.session) => {
                dispatcher.session_ended().await;
                continue;
            }
        };
        let Ok(command) = command else { break };
        if dispatcher.handle(command).await.is_err() {
            break;
        }
    }
    // Commands sent from now on fail instead of waiting unanswered.
    commands.close();
    dispatcher.leave(None).await;
}

/// Tells the window about rooms announced on the local network, for as
/// long as it listens, marking those that show this user's certificate
/// (kept in `state_dir`). A network without multicast only means an empty
/// list.
fn browse_nearby_rooms(events: async_channel::Sender<Event>, state_dir: std::path::PathBuf) {
    let browser = match crate::discovery::Browser::start() {
        Ok(browser) => browser,
        Err(err) => {
            log::info!("not looking for rooms on the local network: {err}");
            return;
        }
    };
    tokio::spawn(async move {
        while let Ok(heard) = browser.events().recv().await {
            let event = match heard {
                crate::discovery::BrowseEvent::Found(mut room) => {
                    // Read afresh (a small file; rooms come and go rarely):
                    // the certificate is made on first hosting.
                    let own = server::existing_fingerprint(&state_dir);
                    let announced = room.fingerprint.as_deref().and_then(Fingerprint::from_hex);
                    room.ours = own.is_some() && announced == own;
                    Event::NearbyRoom(room)
                }
                crate::discovery::BrowseEvent::Lost(instance) => Event::NearbyRoomGone { instance },
            };
            if events.send(event).await.is_err() {
                return;
            }
        }
    });
}

impl Dispatcher {
    /// `Err` when the loop should end.
    async fn handle(&mut self, command: Command) -> Result<(), WindowGone> {
        match command {
            Command::Shutdown => return Err(WindowGone),
            Command::Host(request) => {
                self.leave(None).await;
                self.host(request).await?;
            }
            Command::Connect(request) => {
                self.leave(None).await;
                self.connect(request);
            }
            Command::Leave { message } => self.leave(message).await,
            Command::ClearHistory => self.clear_history().await?,
            chat => self.forward(chat),
        }
        Ok(())
    }

    /// Waits while the window's channel is full (the window takes events
    /// without waiting for us, so this ends), but not forever.
    async fn emit(&self, event: Event) -> Result<(), WindowGone> {
        match tokio::time::timeout(WINDOW_PATIENCE, self.events.send(event)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => {
                log::info!("the window is gone; stopping the network thread");
                Err(WindowGone)
            }
        }
    }

    async fn host(&mut self, request: HostRequest) -> Result<(), WindowGone> {
        let room = room_or_default(&request.room);
        let config = ServerConfig {
            bind: None,
            port: request.port,
            room: room.clone(),
            password: request.password.clone(),
            history: Some(HistoryConfig::in_state_dir(
                Some(&self.settings.state_dir),
                request.port,
                DEFAULT_HISTORY_LINES,
            )),
            // Guests may come over TLS too (same port), to a certificate
            // kept beside the history.
            tls: Some(TlsConfig {
                required: request.encrypted_only,
                ..TlsConfig::in_state_dir(Some(&self.settings.state_dir))
            }),
            announce: self.settings.announce.then(|| Announce {
                nick: Some(request.nick.clone()),
            }),
            ..ServerConfig::default()
        };
        let host = match server::start(config).await {
            Ok(host) => host,
            Err(err) => {
                log::warn!("cannot host: {err}");
                return self.emit(Event::HostFailed(host_error(err))).await;
            }
        };
        let port = host
            .local_addrs()
            .first()
            .map_or(request.port, SocketAddr::port);
        let own_address = loopback_for(host.local_addrs(), port);
        // The host's own session proves it is the host's person with the
        // host's secret owner key (which also stands for the room
        // password): it runs the hosted room as its operator.
        let own_password = host.owner_key().map(str::to_owned).or(request.password);
        let own_identity = host
            .fingerprint()
            .map_or(ExpectedIdentity::Unknown, |fingerprint| {
                ExpectedIdentity::Own(*fingerprint)
            });
        self.host = Some(host);
        self.emit(Event::Hosting {
            port,
            addresses: shareable_addresses(port),
            fingerprint: self
                .host
                .as_ref()
                .and_then(|host| host.fingerprint().copied()),
        })
        .await?;
        self.session = Some(Session::start(
            SessionConfig {
                request: ConnectRequest {
                    address: own_address.to_string(),
                    nick: request.nick,
                    room,
                    password: own_password,
                    identity: own_identity,
                },
                timing: Timing::default(),
                known_hosts: Some(self.known_hosts()),
            },
            self.events.clone(),
        ));
        Ok(())
    }

    fn connect(&mut self, request: ConnectRequest) {
        self.session = Some(Session::start(
            SessionConfig {
                request: ConnectRequest {
                    room: room_or_default(&request.room),
                    ..request
                },
                timing: Timing::default(),
                known_hosts: Some(self.known_hosts()),
            },
            self.events.clone(),
        ));
    }

    fn known_hosts(&self) -> std::path::PathBuf {
        self.settings
            .state_dir
            .join(crate::client::known_hosts::FILE_NAME)
    }

    async fn clear_history(&mut self) -> Result<(), WindowGone> {
        let Some(host) = &self.host else {
            return self
                .emit(Event::HistoryCleared {
                    error: Some("this window is not hosting a room".to_owned()),
                })
                .await;
        };
        let error = host.clear_history().await.err().map(|err| err.to_string());
        self.emit(Event::HistoryCleared { error }).await
    }

    /// Quits the session (it reports `Disconnected`) and stops our host.
    async fn leave(&mut self, message: Option<String>) {
        if let Some(session) = self.session.take() {
            session.leave(message).await;
        }
        if let Some(host) = self.host.take() {
            host.shutdown().await;
        }
    }

    /// Our session ended by itself (it has said why). A room we host
    /// would go on without us, unseen: close it too.
    async fn session_ended(&mut self) {
        self.session = None;
        if let Some(host) = self.host.take() {
            log::info!("our own session ended; closing the room we host");
            host.shutdown().await;
        }
    }

    fn forward(&mut self, command: Command) {
        match &self.session {
            Some(session) if session.send(command) => {}
            _ => log::debug!("no session for a chat command"),
        }
    }
}

/// Completes when the session (if any) has ended.
async fn session_end(session: &mut Option<Session>) {
    match session {
        Some(session) => session.finished().await,
        None => std::future::pending().await,
    }
}

/// Where our own session reaches our host: the loopback address of a
/// family the host listens on.
fn loopback_for(bound: &[SocketAddr], port: u16) -> SocketAddr {
    let listens_on_v4 = bound.is_empty() || bound.iter().any(SocketAddr::is_ipv4);
    let ip = if listens_on_v4 {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    };
    SocketAddr::new(ip, port)
}

fn host_error(err: StartError) -> HostError {
    match err {
        StartError::AddrInUse(addr) => HostError::PortInUse { port: addr.port() },
        StartError::PermissionDenied(addr) => HostError::PermissionDenied { port: addr.port() },
        StartError::Io(_, err) => HostError::Other(err.to_string()),
        StartError::History(err) => HostError::Other(err.to_string()),
        StartError::Tls(err) => HostError::Other(err.to_string()),
    }
}
