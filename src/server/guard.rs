//! The room password, one rule for IRC and plain-text users: one guess per
//! connection, judged in constant time; a wrong guess is answered only
//! after a delay; failures are counted per source address, and an address
//! with too many is banned for a while. The front-ends (`irc`, `plain`)
//! only word the answer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::digest::{digest, SHA256};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use super::input::Ending;
use super::Limits;
use crate::protocol::trim_password;

/// Addresses whose failures are remembered at once: an attacker with many
/// addresses cannot grow the map without bound (the entries closest to
/// expiring make room).
const MAX_TRACKED_SOURCES: usize = 10_000;

/// What a guess earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Accepted,
    /// Answered after the delay; the connection ends.
    Wrong,
    /// Too many wrong guesses from this address lately: not even judged.
    Banned,
}

/// Where guesses come from: an IPv4 address, or an IPv6 /64 (one machine
/// usually has a whole /64 to pick addresses from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6(u64),
}

impl Source {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Source::V4(v4.into()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.into()),
                None => Source::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// Failures are forgotten `ban` after the latest one.
    latest: Instant,
    banned_until: Option<Instant>,
}

impl Failures {
    fn expires(&self, ban: Duration) -> Instant {
        let forgotten = self.latest + ban;
        self.banned_until
            .map_or(forgotten, |until| until.max(forgotten))
    }
}

pub(super) struct PasswordGuard {
    /// SHA-256 of the trimmed password: comparing digests of a fixed length
    /// keeps even the password's length out of the comparison's timing.
    expected: Option<[u8; 32]>,
    delay: Duration,
    max_failures: u32,
    ban: Duration,
    failures: Mutex<HashMap<Source, Failures>>,
    /// What the host's own session gives as its PASS to be known as the
    /// host's person (operator of the hosted room): random, never shown, so
    /// no guest can guess it or race for it. `None` if no randomness was
    /// to be had (then nobody is).
    owner_key: Option<String>,
}

/// Random bytes in the owner key (hex on the wire).
const OWNER_KEY_BYTES: usize = 16;

fn new_owner_key() -> Option<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; OWNER_KEY_BYTES];
    match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        Err(_) => {
            log::warn!("no randomness for the owner key: nobody will run the hosted room");
            None
        }
    }
}

impl PasswordGuard {
    /// `password`: the room's, `None` (or blank) for an open room.
    pub fn new(password: Option<&str>, limits: &Limits) -> Self {
        PasswordGuard {
            expected: password
                .map(trim_password)
                .filter(|password| !password.is_empty())
                .map(sha256),
            delay: limits.password_delay,
            max_failures: limits.password_failures.max(1),
            ban: limits.password_ban,
            failures: Mutex::default(),
            owner_key: new_owner_key(),
        }
    }

    /// The key the host's own session gives as its PASS.
    pub fn owner_key(&self) -> Option<&str> {
        self.owner_key.as_deref()
    }

    /// Whether `guess` is the owner key (compared in constant time).
    pub fn is_owner_key(&self, guess: &str) -> bool {
        self.owner_key
            .as_ref()
            .is_some_and(|key| bool::from(key.as_bytes().ct_eq(guess.as_bytes())))
    }

    /// Whether the room has a password at all.
    pub fn required(&self) -> bool {
        self.expected.is_some()
    }

    /// Whether guesses from `ip` are refused for now (so a plain-text user
    /// is told before being asked).
    pub fn is_banned(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let failures = self.lock();
        failures
            .get(&Source::of(ip))
            .and_then(|f| f.banned_until)
            .is_some_and(|until| until > now)
    }

    /// Judges the one guess of a connection from `ip`. A wrong guess is
    /// counted at once (so guesses made in parallel count too) and
    /// answered only after the delay; the host closing cuts the wait.
    pub async fn judge(
        &self,
        ip: IpAddr,
        guess: &str,
        shutdown: &CancellationToken,
    ) -> Result<Verdict, Ending> {
        let verdict = self.judge_now(ip, guess, Instant::now());
        if verdict == Verdict::Wrong {
            tokio::select! {
                () = shutdown.cancelled() => return Err(Ending::HostClosing),
                () = tokio::time::sleep(self.delay) => {}
            }
        }
        Ok(verdict)
    }

    fn judge_now(&self, ip: IpAddr, guess: &str, now: Instant) -> Verdict {
        let Some(expected) = &self.expected else {
            return Verdict::Accepted;
        };
        let source = Source::of(ip);
        let mut failures = self.lock();
        if let Some(until) = failures.get(&source).and_then(|f| f.banned_until) {
            if until > now {
                return Verdict::Banned;
            }
        }
        let right: bool = sha256(trim_password(guess)).ct_eq(expected).into();
        if right {
            return Verdict::Accepted;
        }
        let ban = self.ban;
        if !failures.contains_key(&source) && failures.len() >= MAX_TRACKED_SOURCES {
            failures.retain(|_, f| f.expires(ban) > now);
            if failures.len() >= MAX_TRACKED_SOURCES {
                let soonest = failures
                    .iter()
                    .min_by_key(|(_, f)| f.expires(ban))
                    .map(|(source, _)| *source);
                if let Some(soonest) = soonest {
                    failures.remove(&soonest);
                }
            }
        }
        let entry = failures.entry(source).or_insert(Failures {
            count: 0,
            latest: now,
            banned_until: None,
        });
        if entry.expires(ban) <= now {
            // Long ago: start counting afresh.
            *entry = Failures {
                count: 0,
                latest: now,
                banned_until: None,
            };
        }
        entry.count += 1;
        entry.latest = now;
        if entry.count >= self.max_failures {
            entry.banned_until = Some(now + ban);
            log::warn!(
                "{ip}: {} wrong passwords; refusing its guesses for {} s",
                entry.count,
                ban.as_secs()
            );
        }
        Verdict::Wrong
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Source, Failures>> {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(failures: u32) -> PasswordGuard {
        let limits = Limits {
            password_failures: failures,
            password_ban: Duration::from_secs(60),
            ..Limits::default()
        };
        PasswordGuard::new(Some(" sesame\n"), &limits)
    }

    #[test]
    fn passwords_are_trimmed_on_both_sides() {
        let guard = guard(3);
        let ip = IpAddr::from([10, 0, 0, 1]);
        let now = Instant::now();
        assert_eq!(guard.judge_now(ip, "sesame", now), Verdict::Accepted);
        assert_eq!(guard.judge_now(ip, "  sesame ", now), Verdict::Accepted);
        assert_eq!(guard.judge_now(ip, "sesam", now), Verdict::Wrong);
        assert!(!PasswordGuard::new(Some("  "), &Limits::default()).required());
    }

    #[test]
    fn an_address_is_banned_after_its_failures_until_they_expire() {
        let guard = guard(3);
        let ip = IpAddr::from([10, 0, 0, 1]);
        let other = IpAddr::from([10, 0, 0, 2]);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(guard.judge_now(ip, "x", now), Verdict::Wrong);
        }
        assert_eq!(guard.judge_now(ip, "sesame", now), Verdict::Banned);
        assert!(guard.is_banned(ip));
        assert_eq!(guard.judge_now(other, "sesame", now), Verdict::Accepted);
        let later = now + Duration::from_secs(61);
        assert_eq!(guard.judge_now(ip, "sesame", later), Verdict::Accepted);
        assert_eq!(guard.judge_now(ip, "x", later), Verdict::Wrong);
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let c: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(Source::of(a), Source::of(b));
        assert_ne!(Source::of(a), Source::of(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Source::of(mapped), Source::of(IpAddr::from([10, 0, 0, 1])));
    }

    #[test]
    fn the_map_of_failures_is_bounded() {
        let guard = guard(100);
        let now = Instant::now();
        for n in 0..(MAX_TRACKED_SOURCES as u32 + 50) {
            let ip = IpAddr::from((0x0a00_0000 + n).to_be_bytes());
            assert_eq!(guard.judge_now(ip, "x", now), Verdict::Wrong);
        }
        assert_eq!(guard.lock().len(), MAX_TRACKED_SOURCES);
    }
}
