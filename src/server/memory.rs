//! Giving memory back to the system once a burst is over.
//!
//! An allocator keeps what a burst freed: after thousands of clients join
//! one room (each JOIN announced to everyone already in it, megabytes of
//! queued lines), the freed pages stay resident, most of what the host
//! then holds. jemalloc gives them back by itself only some seconds later
//! and only while the process allocates, which an idle host does not; a
//! purge returns them at once. Purging during the storm would only fault
//! the pages back in, so it runs once a burst has settled, when a good
//! amount is free and the heap has changed since the last purge.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the heap is looked at (three `mallctl` reads: cheap).
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// Free bytes the allocator may keep resident without a purge: less is
/// not worth the system calls.
const FREE_KEPT_BYTES: usize = 256 * 1024;
/// How much the heap must have changed since the last purge for another
/// (an idle host is purged once, not every second), and the most it may
/// change between two looks to count as settled (giving pages back in the
/// middle of a join storm cost more CPU than the storm: they come back).
const CHANGED_BY_BYTES: usize = 256 * 1024;

/// Purges the heap once a burst has settled, until `shutdown`.
pub(super) async fn give_back_after_bursts(shutdown: CancellationToken) {
    let mut after_last_purge: Option<Usage> = None;
    let mut last_look: Option<Usage> = None;
    let mut ticks = tokio::time::interval(LOOK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some(now) = heap::usage() else {
            return;
        };
        let settled = last_look
            .replace(now)
            .is_some_and(|last| !changed(now, last));
        if settled && worth_purging(now, after_last_purge) {
            heap::purge();
            log::debug!(
                "heap: {} KiB in use, {} KiB held: free pages given back",
                now.in_use / 1024,
                now.held / 1024
            );
            after_last_purge = heap::usage();
        }
    }
}

/// What the allocator holds.
#[derive(Debug, Clone, Copy)]
struct Usage {
    /// Bytes handed out and not had back.
    in_use: usize,
    /// Bytes in resident pages, free ones included.
    held: usize,
}

/// Enough is free to be worth a purge, and the heap has changed since the
/// last (else an idle host would be purged every second for nothing).
fn worth_purging(now: Usage, after_last_purge: Option<Usage>) -> bool {
    after_last_purge.is_none_or(|last| changed(now, last))
        && now.held.saturating_sub(now.in_use) >= FREE_KEPT_BYTES
}

fn changed(now: Usage, before: Usage) -> bool {
    now.in_use.abs_diff(before.in_use) >= CHANGED_BY_BYTES
        || now.held.abs_diff(before.held) >= CHANGED_BY_BYTES
}

/// jemalloc, the process's allocator (see `src/lib.rs`).
#[allow(unsafe_code)] // the purge has no safe wrapper
mod heap {
    use super::Usage;
    use tikv_jemalloc_ctl::{epoch, stats};

    pub(super) fn usage() -> Option<Usage> {
        // The statistics are a snapshot, refreshed by a new epoch.
        epoch::advance().ok()?;
        Some(Usage {
            in_use: stats::allocated::read().ok()?,
            held: stats::resident::read().ok()?,
        })
    }

    pub(super) fn purge() {
        // 4096 is MALLCTL_ARENAS_ALL: every arena.
        const PURGE_ALL: &[u8] = b"arena.4096.purge\0";
        // SAFETY: a NUL-terminated name, and the null pointers and zero
        // length this mallctl takes: it reads and writes no value.
        let failed = unsafe {
            tikv_jemalloc_sys::mallctl(
                PURGE_ALL.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        if failed != 0 {
            log::debug!("heap: jemalloc's purge failed ({failed})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options in `src/lib.rs` reach jemalloc (it looks for them by
    /// symbol name: a misspelt one would be silently ignored).
    #[test]
    #[allow(unsafe_code)] // jemalloc's own statistics: no safe wrapper for this one
    fn jemalloc_runs_with_the_apps_options() {
        // SAFETY: `opt.dirty_decay_ms` is an ssize_t, read into one.
        let decay = unsafe { tikv_jemalloc_ctl::raw::read::<isize>(b"opt.dirty_decay_ms\0") };
        assert_eq!(decay.ok(), Some(1000));
    }

    const MIB: usize = 1024 * 1024;

    fn usage(in_use: usize, held: usize) -> Usage {
        Usage { in_use, held }
    }

    #[test]
    fn a_heap_with_much_free_is_purged_once_until_it_changes() {
        let after_storm = usage(10 * MIB, 40 * MIB);
        assert!(worth_purging(after_storm, None));
        // Purged, and nothing has moved since.
        assert!(!worth_purging(after_storm, Some(after_storm)));
        let next_burst = usage(10 * MIB, 41 * MIB);
        assert!(worth_purging(next_burst, Some(after_storm)));
    }

    #[test]
    fn little_free_is_not_worth_a_purge() {
        assert!(!worth_purging(usage(10 * MIB, 10 * MIB + MIB / 8), None));
    }
}
