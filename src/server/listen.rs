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
