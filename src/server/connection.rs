//! One connection from accept to close: tell TLS from plain text (when
//! the host speaks TLS) and IRC from plain text, run the matching session
//! over the plain or encrypted stream, then say goodbye and let the
//! others know.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::addresses::{AddressSlot, Addresses};
use super::guard::PasswordGuard;
use super::hub::{ClientId, Departure, Hub, Style};
use super::input::{Ending, Input, Next};
use super::send_queue::{self, SendQueue};
use super::tls::{self, Hello, Tls};
use super::{irc, listen, plain, ServerConfig};
use crate::protocol::{Line, Message};
use crate::transport::{self, ReadHalf, WriteHalf};

/// How long a closing connection may take to hand over its last lines.
const FLUSH_GRACE: Duration = Duration::from_secs(5);
/// The kernel's send buffer per client. Left to autotuning it grows to
/// megabytes, which a client that stopped reading soaks up for minutes
/// before its send queue even starts to fill; chat needs little.
const SOCKET_SEND_BUFFER_BYTES: usize = 64 * 1024;

/// What every connection task shares.
pub(super) struct Shared {
    pub config: ServerConfig,
    /// `None`: plain text only.
    pub tls: Option<Tls>,
    pub hub: Hub,
    /// The room password's rule, for both front-ends.
    pub guard: PasswordGuard,
    pub shutdown: CancellationToken,
    /// Open connections, for `max_clients`.
    pub connections: Arc<AtomicUsize>,
    /// Open connections and recent ones per address.
    pub addresses: Arc<Addresses>,
    /// `max_clients` fitted to the open-file limit.
    pub max_clients: usize,
}

/// One connected client as its session sees it.
pub(super) struct Client<'a> {
    pub shared: &'a Shared,
    pub id: ClientId,
    /// The peer's address as written in prefixes.
    pub host: String,
    /// The peer's address, for counting its wrong passwords.
    pub ip: IpAddr,
    pub queue: SendQueue,
    /// Replies that found the client's queue full, queued with waiting
    /// before its next line is read: a long WHO may not overflow the
    /// client's own queue.
    replies: Mutex<Vec<Vec<u8>>>,
}

impl Client<'_> {
    pub fn send(&self, message: &Message) {
        self.reply(message.to_bytes());
    }

    /// A line for a plain-text user.
    pub fn say(&self, text: &str) {
        self.reply(plain::line(text));
    }

    /// A line already in wire form (line ending included).
    pub fn reply_bytes(&self, line: Vec<u8>) {
        self.reply(line);
    }

    /// Straight into the queue while it has room and nothing waits before
    /// this line (keeping replies and relayed lines in order); else held.
    fn reply(&self, line: Vec<u8>) {
        let mut pending = self.pending();
        if !pending.is_empty() || self.queue.try_push(&line).is_err() {
            pending.push(line);
        }
    }

    fn pending(&self) -> MutexGuard<'_, Vec<Vec<u8>>> {
        self.replies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands over the pending replies, then reads the next line.
    pub async fn next(&self, input: &mut Input) -> Next {
        let replies = std::mem::take(&mut *self.pending());
        for line in replies {
            // Boxed: rare (the queue was full), and inline its wait would
            // be room in every idle connection's task.
            if let Err(ending) = Box::pin(input.deliver(&line)).await {
                return Next::End(ending);
            }
        }
        input.next().await
    }

    pub fn server_name(&self) -> &str {
        &self.shared.config.server_name
    }
}

/// Counts a connection for `max_clients` while it lives.
pub(super) struct Slot(Arc<AtomicUsize>);

impl Slot {
    pub fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        let before = count.fetch_add(1, Ordering::AcqRel);
        if before >= max {
            count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(Arc::clone(count)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Turns away a connection over a limit: one IRC `ERROR` line with `text`
/// for plain text. A client that opens with a TLS ClientHello cannot read that
/// line, so it is closed without a word instead of being given a
/// handshake: a full host spends no key exchange and signature on clients
/// it cannot take, so a flood of them costs a peek each, never more than
/// `plain_text_wait` to wait for the first byte (a TLS client sends it at
/// once). Closing with the ClientHello unread resets the connection: the
/// client hears of it at once and the host keeps no TIME_WAIT.
pub(super) async fn refuse(mut stream: TcpStream, shared: &Shared, text: &str) {
    if shared.tls.is_some() {
        let until = Instant::now() + shared.config.limits.plain_text_wait;
        if let Hello::Tls = tls::sniff(&stream, until, &shared.shutdown).await {
            return;
        }
    }
    let line = Message::new("ERROR", [text]).to_bytes();
    let goodbye = async {
        stream.write_all(&line).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(FLUSH_GRACE, goodbye).await;
}

/// What an admitted connection holds while it lives, to give back when it
/// ends: its places in the host-wide and per-address counts, and the
/// host's wait for its tasks.
pub(super) struct Admitted {
    _slot: Slot,
    _address: AddressSlot,
    _alive: mpsc::Sender<()>,
}

impl Admitted {
    pub fn new(slot: Slot, address: AddressSlot, alive: mpsc::Sender<()>) -> Self {
        Admitted {
            _slot: slot,
            _address: address,
            _alive: alive,
        }
    }
}

/// Tells TLS from plain text by the first byte, then runs the session
/// over whichever it is (or refuses what the host does not speak).
///
/// A plain function returning a block, not an `async fn`: an `async fn`
/// moves its arguments from one slot of its state into another when it
/// starts, and both slots stay in the task's memory for the connection's
/// whole life.
#[allow(clippy::manual_async_fn)] // An `async fn` would hold its arguments twice.
pub(super) fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    admitted: Admitted,
) -> impl Future<Output = ()> + Send {
    async move {
        // Held (and so given back) until the session is over.
        let _ = &admitted;
        let limits = &shared.config.limits;
        let accepted = Instant::now();
        // A handshake that stalls is a client that never registers.
        let registration_deadline = accepted + limits.registration_timeout;
        let greet_at = accepted + limits.plain_text_wait;
        let times = |greet_at| Times {
            accepted,
            registration_deadline,
            greet_at,
        };
        // Chat lines are small and latency matters; the writer batches anyway.
        let _ = stream.set_nodelay(true);
        // Before the session is known: plain-text users (TLS ones too) need it.
        plain::keep_alive(&stream, limits);
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SOCKET_SEND_BUFFER_BYTES);
        match (
            tls::sniff(&stream, greet_at, &shared.shutdown).await,
            &shared.tls,
        ) {
            (Hello::Tls, Some(tls)) => {
                // Boxed while it lasts: inline, rustls's handshake state would
                // size the connection's task for its whole life.
                let handshake =
                    tls.handshake(stream, peer, registration_deadline, &shared.shutdown);
                // Not `if let`: its scrutinee, the whole TLS stream, would
                // keep its room in the task through the session.
                let Some(encrypted) = Box::pin(handshake).await else {
                    return;
                };
                log::debug!("TLS connection from {peer}");
                // Its first line is awaited afresh: the handshake took time.
                let greet_at = Instant::now() + limits.plain_text_wait;
                let (read, write) = transport::tls(encrypted);
                session(read, write, peer, &shared, times(greet_at)).await;
            }
            (Hello::Tls, None) => {
                // Said at once, so a client trying TLS first falls back now.
                log::info!("refusing TLS from {peer}: this host speaks plain text only");
                tls::refuse(stream, &tls::tls_unavailable_line(), &shared.shutdown).await;
            }
            (Hello::Other, Some(tls)) if tls.required => {
                log::info!("refusing plain-text connection from {peer}: TLS only");
                tls::refuse(stream, &tls::tls_required_line(), &shared.shutdown).await;
            }
            (Hello::Other, _) => {
                let (read, write) = transport::plain(stream);
                session(read, write, peer, &shared, times(greet_at)).await;
            }
        }
    }
}

/// When a connection came, and what it must do by when.
struct Times {
    accepted: Instant,
    registration_deadline: Instant,
    /// Silent until then: a plain-text user.
    greet_at: Instant,
}

/// One connection's session, plain or encrypted, from its first line to close.
#[allow(clippy::manual_async_fn)] // An `async fn` would hold its arguments twice.
fn session<'a>(
    read: ReadHalf,
    write: WriteHalf,
    peer: SocketAddr,
    shared: &'a Shared,
    times: Times,
) -> impl Future<Output = ()> + Send + 'a {
    // Set up before the block, so the block keeps only what the session
    // needs (not the halves and times it was built from, next to it); not
    // an `async fn`, for the reason given at [`serve`].
    let limits = &shared.config.limits;
    let ip = listen::canonical_peer(peer);
    let (queue, writer) = send_queue::spawn(
        write,
        limits.send_queue_bytes,
        Arc::clone(shared.hub.backlog()),
        limits.ping_timeout,
    );
    let mut input = Input::new(
        read,
        queue.clone(),
        shared.shutdown.clone(),
        times.registration_deadline,
        limits.flood_control,
    );
    let client = Client {
        shared,
        id: shared.hub.new_id(),
        host: host_name(ip),
        ip,
        queue,
        replies: Mutex::default(),
    };
    log::debug!("connection from {peer}");
    let Times {
        accepted, greet_at, ..
    } = times;
    async move {
        let (style, ending) = match input.first(greet_at).await {
            Err(ending) => (Style::Irc, ending),
            Ok(Some(Line::Text(first))) if irc::is_registration(&first) => {
                (Style::Irc, irc::run(&client, &mut input, first).await)
            }
            // Boxed: plain-text users are few, and their session is the
            // larger of the two, which would size every IRC client's task.
            Ok(first) => (
                Style::Plain,
                Box::pin(plain::run(&client, &mut input, first)).await,
            ),
        };
        let who = shared
            .hub
            .identity(client.id)
            .map_or_else(|| format!("[{}]", client.host), |i| i.prefix());
        match &ending {
            Ending::Overflow => log::warn!("dropping {who}: it stopped reading (send queue full)"),
            Ending::Stalled => log::warn!(
                "dropping {who}: it stopped reading (nothing could be written to it for {:?})",
                shared.config.limits.ping_timeout
            ),
            ending => log::info!("{who} left: {ending:?}"),
        }
        for line in std::mem::take(&mut *client.pending()) {
            client.queue.push(&line);
        }
        if let Some(line) = farewell(style, &ending) {
            client.queue.push(&line);
        }
        // A young connection's reason is not relayed: else connecting, saying
        // something in the QUIT and leaving again reaches everyone each time.
        let young = accepted.elapsed() < limits.quit_reason_after;
        shared.hub.remove(client.id, departure(&ending, young));
        drop(input);
        drop(client);
        writer.finish(FLUSH_GRACE).await;
    }
}

/// The last line a client gets, in its own style.
fn farewell(style: Style, ending: &Ending) -> Option<Vec<u8>> {
    let (irc, human) = match ending {
        // Banned: the front-end has said why, in its own words.
        Ending::PeerClosed | Ending::Overflow | Ending::Stalled | Ending::Banned => return None,
        Ending::Quit(_) => ("Closing link: quit", "Bye!"),
        Ending::HostClosing => (
            "Closing link: host is closing the room",
            "The host is closing the room. Bye!",
        ),
        Ending::RegistrationTimeout => (
            "Closing link: registration timed out",
            "You took too long to answer. Bye!",
        ),
        Ending::PingTimeout => (
            "Closing link: ping timeout",
            "You were silent too long. Bye!",
        ),
        Ending::BadPassword => ("Closing link: password incorrect", "Wrong password. Bye!"),
    };
    Some(match style {
        Style::Irc => Message::new("ERROR", [irc]).to_bytes(),
        Style::Plain => plain::line(human),
    })
}

/// Why the others are told the client left (without its own words when
/// it has only just come).
fn departure(ending: &Ending, young: bool) -> Departure<'_> {
    match ending {
        Ending::Quit(words) => {
            Departure::Quit(words.as_deref().filter(|w| !w.is_empty() && !young))
        }
        Ending::HostClosing => Departure::HostClosing,
        Ending::Overflow => Departure::SendQueueFull,
        Ending::Stalled => Departure::StoppedReading,
        Ending::PingTimeout => Departure::PingTimeout,
        Ending::PeerClosed | Ending::RegistrationTimeout | Ending::BadPassword | Ending::Banned => {
            Departure::ConnectionClosed
        }
    }
}

/// An address as a prefix host: IPv6 `::1` would start with `:`, which
/// would end a parameter list on the wire, so it is written `0::1`.
fn host_name(ip: IpAddr) -> String {
    let text = ip.to_string();
    if text.starts_with(':') {
        format!("0{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_never_start_with_a_colon() {
        assert_eq!(host_name("::1".parse().unwrap()), "0::1");
        assert_eq!(host_name("127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(host_name("fe80::1".parse().unwrap()), "fe80::1");
    }

    #[test]
    fn slots_are_capped_and_given_back() {
        let count = Arc::new(AtomicUsize::new(0));
        let first = Slot::take(&count, 1);
        assert!(first.is_some());
        assert!(Slot::take(&count, 1).is_none());
        drop(first);
        assert!(Slot::take(&count, 1).is_some());
    }
}
