//! Resolving a name and opening the TCP connection, with each failure
//! turned into a reason a person can act on.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::address::Target;
use crate::api::DisconnectReason;

/// Resolves `target` and tries every address it has in turn, each within
/// `timeout`. The first connection that opens wins.
pub async fn open(target: &Target, timeout: Duration) -> Result<TcpStream, DisconnectReason> {
    let not_resolved = || DisconnectReason::NotResolved {
        host: target.host.clone(),
    };
    if is_reserved_invalid(&target.host) {
        return Err(not_resolved());
    }
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    let addresses: Vec<SocketAddr> = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(found)) => found.collect(),
        Ok(Err(err)) => {
            log::info!("resolving {}: {err}", target.host);
            return Err(not_resolved());
        }
        Err(_) => return Err(not_resolved()),
    };
    let mut failure = None;
    for address in addresses {
        let reason = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                if let Err(err) = stream.set_nodelay(true) {
                    log::debug!("TCP_NODELAY on {address}: {err}");
                }
                return Ok(stream);
            }
            Ok(Err(err)) => {
                log::info!("connecting to {address}: {err}");
                connect_failure(&err)
            }
            Err(_) => DisconnectReason::TimedOut,
        };
        // "Refused" says most: something answered at that machine.
        if failure.is_none() || reason == DisconnectReason::Refused {
            failure = Some(reason);
        }
    }
    Err(failure.unwrap_or_else(not_resolved))
}

/// RFC 6761 §6.4: names under `.invalid` never resolve, so we answer at
/// once instead of asking a DNS server.
fn is_reserved_invalid(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

/// Why a connection attempt failed, in the window's terms.
pub fn connect_failure(err: &io::Error) -> DisconnectReason {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => DisconnectReason::Refused,
        io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::AddrNotAvailable => DisconnectReason::Unreachable,
        io::ErrorKind::TimedOut => DisconnectReason::TimedOut,
        _ => DisconnectReason::ConnectionLost {
            detail: err.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_tld_is_recognised() {
        assert!(is_reserved_invalid("nothing.invalid"));
        assert!(is_reserved_invalid("Nothing.INVALID."));
        assert!(!is_reserved_invalid("invalid.example"));
    }

    #[test]
    fn failures_map_to_reasons() {
        let reason = |kind| connect_failure(&io::Error::from(kind));
        assert_eq!(
            reason(io::ErrorKind::ConnectionRefused),
            DisconnectReason::Refused
        );
        assert_eq!(
            reason(io::ErrorKind::NetworkUnreachable),
            DisconnectReason::Unreachable
        );
        assert_eq!(
            reason(io::ErrorKind::HostUnreachable),
            DisconnectReason::Unreachable
        );
        assert_eq!(reason(io::ErrorKind::TimedOut), DisconnectReason::TimedOut);
        assert!(matches!(
            reason(io::ErrorKind::PermissionDenied),
            DisconnectReason::ConnectionLost { .. }
        ));
    }
}
