//! Per-address limits, the way ngircd (`MaxConnectionsIP`), InspIRCd
//! (`connflood`, `localmax`) and Ergo (`ip-limits`) keep one machine from
//! taking the room: at most so many connections open at once, and a token
//! bucket for new ones, so a burst of reconnects cannot each bring a fresh
//! flood allowance and a fresh JOIN/QUIT for everyone.
//!
//! An IPv6 address counts by its /64 (one host usually owns the whole /64);
//! loopback counts like any other address. The map is bounded and forgets
//! an address once it has nothing open and its bucket is full again.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::Limits;

/// Above this many addresses the idle ones are looked at for forgetting
/// (then again at twice as many as were left, so a crowd of busy addresses
/// is not scanned at every connection).
const PRUNE_FROM: usize = 1024;
/// Addresses remembered with nothing open (their buckets refilling); past
/// it, idle addresses are forgotten early (a flood of addresses gains at
/// most a fresh bucket each, never a way to grow the map).
const MAX_IDLE: usize = 65_536;

/// Why a connection is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The address already has `max` connections open.
    TooMany { max: usize },
    /// The address connects too often; another fits in `retry_after`.
    TooFast { retry_after: Duration },
}

impl Refusal {
    /// The IRC `ERROR` text a refused client reads.
    pub fn text(self) -> String {
        match self {
            Refusal::TooMany { max } => {
                format!("Too many connections from your address (at most {max})")
            }
            Refusal::TooFast { retry_after } => {
                // Rounded up: "in 0 seconds" would invite the next refusal.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let unit = if secs == 1 { "second" } else { "seconds" };
                format!("Connecting too often from your address: try again in {secs} {unit}")
            }
        }
    }
}

#[derive(Debug)]
struct Entry {
    open: usize,
    /// Connections it may still open at once (fractional while refilling).
    tokens: f64,
    refilled_at: Instant,
}

/// Connection counts and buckets of every address seen lately.
#[derive(Debug)]
pub(super) struct Addresses {
    max_open: usize,
    /// `(burst, one more every)`; `None`: connect as often as you like.
    throttle: Option<(f64, Duration)>,
    map: Mutex<Tracked>,
}

#[derive(Debug, Default)]
struct Tracked {
    entries: HashMap<IpAddr, Entry>,
    /// Prune when `entries` reaches this many.
    prune_at: usize,
}

impl Addresses {
    pub fn new(limits: &Limits) -> Self {
        let throttle = (limits.flood_control && !limits.connect_every.is_zero())
            .then(|| (f64::from(limits.connect_burst.max(1)), limits.connect_every));
        Addresses {
            max_open: limits.max_per_address,
            throttle,
            map: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tracked> {
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a new connection from `ip`, or says why it is refused (a
    /// refused connection spends nothing: retrying later works).
    pub fn admit(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<AddressSlot, Refusal> {
        if self.max_open == 0 && self.throttle.is_none() {
            return Ok(AddressSlot(None));
        }
        let key = key(ip);
        let mut tracked = self.lock();
        if tracked.entries.len() >= tracked.prune_at.max(PRUNE_FROM)
            && !tracked.entries.contains_key(&key)
        {
            self.prune(&mut tracked.entries, now);
            tracked.prune_at = tracked.entries.len() * 2;
        }
        let map = &mut tracked.entries;
        let burst = self.throttle.map_or(1.0, |(burst, _)| burst);
        let entry = map.entry(key).or_insert(Entry {
            open: 0,
            tokens: burst,
            refilled_at: now,
        });
        if let Some((burst, every)) = self.throttle {
            let elapsed = now.saturating_duration_since(entry.refilled_at);
            entry.tokens = (entry.tokens + elapsed.as_secs_f64() / every.as_secs_f64()).min(burst);
            entry.refilled_at = now;
        }
        if self.max_open > 0 && entry.open >= self.max_open {
            return Err(Refusal::TooMany { max: self.max_open });
        }
        if let Some((_, every)) = self.throttle {
            if entry.tokens < 1.0 {
                let retry_after = every.mul_f64(1.0 - entry.tokens);
                return Err(Refusal::TooFast { retry_after });
            }
            entry.tokens -= 1.0;
        }
        entry.open += 1;
        Ok(AddressSlot(Some((Arc::clone(self), key))))
    }

    /// Forgets idle addresses whose bucket is full again; if that is not
    /// enough, every idle one.
    fn prune(&self, map: &mut HashMap<IpAddr, Entry>, now: Instant) {
        let refilled = |entry: &Entry| match self.throttle {
            None => true,
            Some((burst, every)) => {
                let elapsed = now.saturating_duration_since(entry.refilled_at);
                entry.tokens + elapsed.as_secs_f64() / every.as_secs_f64() >= burst
            }
        };
        map.retain(|_, entry| entry.open > 0 || !refilled(entry));
        let idle = map.values().filter(|entry| entry.open == 0).count();
        if idle >= MAX_IDLE {
            map.retain(|_, entry| entry.open > 0);
        }
    }

    fn release(&self, key: IpAddr) {
        let mut tracked = self.lock();
        let map = &mut tracked.entries;
        if let Some(entry) = map.get_mut(&key) {
            entry.open = entry.open.saturating_sub(1);
            // Without a bucket to refill there is nothing to remember.
            if entry.open == 0 && self.throttle.is_none() {
                map.remove(&key);
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().entries.len()
    }
}

/// One connection counted against its address while it lives.
#[derive(Debug)]
pub(super) struct AddressSlot(Option<(Arc<Addresses>, IpAddr)>);

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Some((addresses, key)) = self.0.take() {
            addresses.release(key);
        }
    }
}

/// What counts as one address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by
/// its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, burst: u32, every_ms: u64) -> Limits {
        Limits {
            max_per_address: max,
            connect_burst: burst,
            connect_every: Duration::from_millis(every_ms),
            ..Limits::default()
        }
    }

    #[test]
    fn at_most_max_open_per_address_and_others_unaffected() {
        let addresses = Arc::new(Addresses::new(&limits(2, 100, 1000)));
        let now = Instant::now();
        let one: IpAddr = "127.0.0.1".parse().unwrap();
        let two: IpAddr = "127.0.0.2".parse().unwrap();
        let a = addresses.admit(one, now).unwrap();
        let _b = addresses.admit(one, now).unwrap();
        assert_eq!(
            addresses.admit(one, now).unwrap_err(),
            Refusal::TooMany { max: 2 }
        );
        assert!(addresses.admit(two, now).is_ok());
        drop(a);
        assert!(addresses.admit(one, now).is_ok());
    }

    #[test]
    fn reconnects_spend_a_bucket_that_refills_and_refusals_spend_nothing() {
        let addresses = Arc::new(Addresses::new(&limits(0, 3, 1000)));
        let now = Instant::now();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            drop(addresses.admit(ip, now).unwrap());
        }
        for _ in 0..100 {
            assert!(matches!(
                addresses.admit(ip, now),
                Err(Refusal::TooFast { .. })
            ));
        }
        assert_eq!(
            addresses.admit(ip, now).unwrap_err().text(),
            "Connecting too often from your address: try again in 1 second"
        );
        // One second later exactly one more fits: the refusals cost nothing.
        let later = now + Duration::from_secs(1);
        assert!(addresses.admit(ip, later).is_ok());
        assert!(addresses.admit(ip, later).is_err());
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            key("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            key("2001:db8:1:2::1".parse().unwrap()),
            key("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            key("::ffff:127.0.0.1".parse().unwrap()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let addresses = Arc::new(Addresses::new(&limits(10, 2, 10)));
        let now = Instant::now();
        for n in 0..PRUNE_FROM as u32 {
            drop(addresses.admit(IpAddr::from(n.to_be_bytes()), now).unwrap());
        }
        assert_eq!(addresses.tracked(), PRUNE_FROM);
        // Their buckets are full again a moment later.
        let later = now + Duration::from_secs(1);
        let _kept = addresses
            .admit("192.0.2.1".parse().unwrap(), later)
            .unwrap();
        assert_eq!(addresses.tracked(), 1);
        let unthrottled = Arc::new(Addresses::new(&Limits {
            flood_control: false,
            ..limits(10, 2, 10)
        }));
        drop(
            unthrottled
                .admit("192.0.2.1".parse().unwrap(), now)
                .unwrap(),
        );
        assert_eq!(unthrottled.tracked(), 0);
    }
}
