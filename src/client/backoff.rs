//! How long to wait before reconnecting: doubling from a base up to a cap,
//! with jitter so a room full of clients that lost the same host do not all
//! knock at the same instant when it comes back.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// The wait before reconnection `attempt` (1, 2, …): about `base`, `2 base`,
/// `4 base` … up to `cap`, each within ±20%.
pub fn delay(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    let nominal = base.saturating_mul(doubling).min(cap);
    // A fresh random number from the standard library's hasher keys.
    let random = RandomState::new().hash_one(attempt);
    let per_mille = 800 + (random % 401); // 0.8 … 1.2
    let per_mille = u32::try_from(per_mille).unwrap_or(1000);
    nominal * per_mille / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let (base, cap) = (Duration::from_secs(1), Duration::from_secs(30));
        for (attempt, nominal) in [
            (1, 1.0),
            (2, 2.0),
            (3, 4.0),
            (5, 16.0),
            (6, 30.0),
            (40, 30.0),
        ] {
            for _ in 0..50 {
                let wait = delay(attempt, base, cap).as_secs_f64();
                assert!(
                    wait >= nominal * 0.8 - 1e-9 && wait <= nominal * 1.2 + 1e-9,
                    "attempt {attempt}: {wait}"
                );
            }
        }
    }

    #[test]
    fn waits_are_spread() {
        let waits: std::collections::HashSet<Duration> = (0..20)
            .map(|_| delay(3, Duration::from_secs(1), Duration::from_secs(30)))
            .collect();
        assert!(waits.len() > 1);
    }
}
