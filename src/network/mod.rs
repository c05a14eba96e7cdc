//! The network thread: a tokio runtime on its own OS thread that owns every
//! socket. The window talks to it only through two `async_channel`s carrying
//! [`Command`] (in) and [`Event`] (out). GTK-free.

mod dispatcher;
mod interfaces;

pub use crate::api::{
    Command, ConnectRequest, DisconnectReason, Event, HostError, HostRequest, Presence, TypingState,
};
pub use interfaces::shareable_addresses;

/// The window's end of the network thread.
pub struct NetworkHandle {
    pub commands: async_channel::Sender<Command>,
    pub events: async_channel::Receiver<Event>,
}

/// Events that may wait for the window at most. When it is full the
/// session stops reading from the host until the window catches up, so a
/// host that floods cannot fill this process's memory. Two of the window's
/// batches: it never waits for the network while taking one.
pub const EVENT_QUEUE_CAPACITY: usize = 1024;

/// Worker threads for the runtime: chat traffic for one window needs few.
const WORKER_THREADS: usize = 2;

/// Where the network thread keeps what lasts (the history of rooms we
/// host), and whether the rooms we host are announced on the local network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub state_dir: std::path::PathBuf,
    /// Announce hosted rooms over mDNS (see [`crate::discovery`]). Tests
    /// turn it off: their rooms are no business of the machine's network.
    pub announce: bool,
    /// Listen for rooms others announce (and tell the window, as
    /// [`Event::NearbyRoom`]). Tests turn it off: browsing sends queries.
    ///
    /// [`Event::NearbyRoom`]: crate::api::Event::NearbyRoom
    pub browse: bool,
}

/// Set (to anything) in the environment, the app neither announces nor
/// browses: for checks that run the installed app on a machine whose
/// network is not theirs to use.
pub const NO_DISCOVERY_ENV: &str = "TCP_CHAT_NO_DISCOVERY";

impl Default for Settings {
    fn default() -> Self {
        let discovery = std::env::var_os(NO_DISCOVERY_ENV).is_none();
        Settings {
            state_dir: crate::server::default_state_dir(),
            announce: discovery,
            browse: discovery,
        }
    }
}

/// Starts the network thread with the default [`Settings`].
pub fn spawn() -> std::io::Result<NetworkHandle> {
    spawn_with(Settings::default())
}

/// Starts the network thread. It ends after [`Command::Shutdown`] or when
/// the command sender is dropped.
pub fn spawn_with(settings: Settings) -> std::io::Result<NetworkHandle> {
    let (commands, command_receiver) = async_channel::unbounded();
    let (event_sender, events) = async_channel::bounded(EVENT_QUEUE_CAPACITY);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("tcp-chat-net")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("tcp-chat-network".to_owned())
        .spawn(move || {
            runtime.block_on(dispatcher::run(settings, command_receiver, event_sender));
            log::debug!("network thread finished");
        })?;
    Ok(NetworkHandle { commands, events })
}
