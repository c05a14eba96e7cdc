//! Opening the listening sockets: one dual-stack `[::]` socket for "every
//! interface", falling back to `0.0.0.0` where IPv6 is unavailable.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

use super::StartError;

/// Enough for thousands of clients connecting at once (the kernel caps it
/// at `net.core.somaxconn` anyway).
const BACKLOG: i32 = 4096;

/// Binds `bind` (or every interface when `None`) on `port`.
pub(super) fn bind(bind: Option<IpAddr>, port: u16) -> Result<TcpListener, StartError> {
    match bind {
        Some(ip) => listen_on(SocketAddr::new(ip, port)),
        None => {
            let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
            match listen_on(any6) {
                Err(StartError::Io(_, err)) if ipv6_unavailable(&err) => {
                    log::info!("IPv6 unavailable ({err}); listening on IPv4 only");
                    listen_on(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
                }
                other => other,
            }
        }
    }
}

fn ipv6_unavailable(err: &io::Error) -> bool {
    // EAFNOSUPPORT (no IPv6 in the kernel) or EADDRNOTAVAIL (disabled).
    matches!(err.raw_os_error(), Some(97 | 99)) || err.kind() == io::ErrorKind::AddrNotAvailable
}

fn listen_on(addr: SocketAddr) -> Result<TcpListener, StartError> {
    let socket = open(addr).map_err(|err| match err.kind() {
        io::ErrorKind::AddrInUse => StartError::AddrInUse(addr),
        io::ErrorKind::PermissionDenied => StartError::PermissionDenied(addr),
        _ => StartError::Io(addr, err),
    })?;
    TcpListener::from_std(socket.into()).map_err(|err| StartError::Io(addr, err))
}

fn open(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        // Accept IPv4 too (as IPv4-mapped addresses) whatever the sysctl says.
        socket.set_only_v6(false)?;
    }
    // Lets the host restart at once on a port still in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket)
}

/// The peer's address as people read it: IPv4-mapped IPv6 back to IPv4.
pub(super) fn canonical_peer(addr: SocketAddr) -> IpAddr {
    addr.ip().to_canonical()
}

/// Descriptors kept for everything but clients: the listener, the history
/// database and its journal, the TLS files read at start, mDNS sockets,
/// the accept loop's reserve, and the window's own when it hosts.
const FDS_KEPT: usize = 64;

/// Raises the soft open-file limit to the hard one (1,024 is a common soft
/// limit, far below what a host needs) and returns `wanted` lowered to what
/// the limit leaves for clients: a host that promised more would run out
/// of descriptors and fail to accept instead of saying it is full.
pub(super) fn fit_max_clients(wanted: usize) -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX)
        // RLIM_INFINITY as the hard limit cannot be set: try the kernel's usual cap.
        .or_else(|_| rlimit::increase_nofile_limit(1 << 20))
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft));
    let soft = match soft {
        Ok(soft) => usize::try_from(soft).unwrap_or(usize::MAX),
        Err(err) => {
            log::warn!("cannot read the open-file limit: {err}");
            return wanted;
        }
    };
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let room = soft.saturating_sub(open + FDS_KEPT).max(1);
    if room < wanted {
        log::warn!(
            "allowing at most {room} clients: the open-file limit is {soft} \
             (raise it with `ulimit -n` or LimitNOFILE=)"
        );
    }
    wanted.min(room)
}

/// A descriptor held in reserve: given up when the process has run out, to accept the waiting newcomer and tell it the host is full.
pub(super) fn reserve_fd() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

/// Whether accepting failed for want of file descriptors (EMFILE, ENFILE).
pub(super) fn out_of_fds(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(24 | 23))
}
