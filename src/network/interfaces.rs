//! The addresses friends on the local network can use to reach our host.

use std::net::{IpAddr, SocketAddr};

/// This machine's non-loopback interface addresses with `port`, IPv4 first.
/// IPv6 link-local addresses are left out: they only work with a scope id
/// that differs from machine to machine.
pub fn shareable_addresses(port: u16) -> Vec<SocketAddr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            log::warn!("listing network interfaces: {err}");
            return Vec::new();
        }
    };
    let mut addresses: Vec<SocketAddr> = interfaces
        .iter()
        .filter(|interface| !interface.is_loopback())
        .map(|interface| interface.ip())
        .filter(|ip| match ip {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => !v6.is_unicast_link_local(),
        })
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    addresses.sort_by_key(|address| (address.is_ipv6(), *address));
    addresses.dedup();
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_loopback_and_ipv4_first() {
        let addresses = shareable_addresses(4242);
        assert!(addresses
            .iter()
            .all(|a| a.port() == 4242 && !a.ip().is_loopback()));
        let first_v6 = addresses.iter().position(SocketAddr::is_ipv6);
        if let Some(first_v6) = first_v6 {
            assert!(addresses[first_v6..].iter().all(SocketAddr::is_ipv6));
        }
    }
}
