//! Giving memory back to the system once a burst is over.
//!
//! glibc's malloc keeps what a burst freed: after thousands of clients join
//! one room (each JOIN announced to everyone already in it, megabytes of
//! queued lines), the freed space stays resident in the arenas, which is
//! most of what the host then holds (`make bench`: about 20 KiB per idle
//! client before, of which some 5 KiB was in use). `malloc_trim` returns
//! the free pages, including those between live blocks. It walks the
//! heap's free blocks, so it runs only once a burst has settled, when malloc
//! holds a good amount free and the heap has changed since the last trim.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the heap is looked at (one `mallinfo2` call: cheap).
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// Free bytes malloc may hold without a trim: less is not worth a walk
/// over the heap.
const FREE_KEPT_BYTES: usize = 256 * 1024;
/// How much the heap must have changed since the last trim for another
/// (an idle host is trimmed once, not every second), and the most it may
/// change between two looks to count as settled (trimming in the middle
/// of a join storm cost more CPU than the storm: the pages come back).
const CHANGED_BY_BYTES: usize = 256 * 1024;

/// Trims the heap once a burst has settled, until `shutdown`.
pub(super) async fn give_back_after_bursts(shutdown: CancellationToken) {
    let mut after_last_trim: Option<Usage> = None;
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
        if settled && worth_trimming(now, after_last_trim) {
            heap::trim();
            log::debug!(
                "heap: {} KiB in use, {} KiB held: free pages given back",
                now.in_use / 1024,
                now.held / 1024
            );
            after_last_trim = heap::usage();
        }
    }
}

/// What malloc holds.
#[derive(Debug, Clone, Copy)]
struct Usage {
    /// Bytes handed out and not had back (arenas and mmaps).
    in_use: usize,
    /// Bytes taken from the system, free ones included.
    held: usize,
}

/// Enough is free to be worth a walk, and the heap has changed since the
/// last trim (else an idle host would be trimmed every second for nothing).
fn worth_trimming(now: Usage, after_last_trim: Option<Usage>) -> bool {
    after_last_trim.is_none_or(|last| changed(now, last))
        && now.held.saturating_sub(now.in_use) >= FREE_KEPT_BYTES
}

fn changed(now: Usage, before: Usage) -> bool {
    now.in_use.abs_diff(before.in_use) >= CHANGED_BY_BYTES
        || now.held.abs_diff(before.held) >= CHANGED_BY_BYTES
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // glibc's own statistics and trim: no Rust API
mod heap {
    use super::Usage;

    pub(super) fn usage() -> Option<Usage> {
        // SAFETY: mallinfo2 only reads malloc's statistics; no arguments.
        let info = unsafe { libc::mallinfo2() };
        Some(Usage {
            in_use: info.uordblks + info.hblkhd,
            held: info.arena + info.hblkhd,
        })
    }

    pub(super) fn trim() {
        // SAFETY: malloc_trim takes the arenas' locks itself; 0 keeps no
        // extra padding at the top of the heap.
        unsafe { libc::malloc_trim(0) };
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod heap {
    use super::Usage;

    /// Other allocators have their own ways: nothing to look at here.
    pub(super) fn usage() -> Option<Usage> {
        None
    }

    pub(super) fn trim() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    fn usage(in_use: usize, held: usize) -> Usage {
        Usage { in_use, held }
    }

    #[test]
    fn a_heap_with_much_free_is_trimmed_once_until_it_changes() {
        let after_storm = usage(10 * MIB, 40 * MIB);
        assert!(worth_trimming(after_storm, None));
        // Trimmed: malloc still counts the pages as held, but nothing moved.
        assert!(!worth_trimming(after_storm, Some(after_storm)));
        let next_burst = usage(10 * MIB, 41 * MIB);
        assert!(worth_trimming(next_burst, Some(after_storm)));
    }

    #[test]
    fn little_free_is_not_worth_a_walk() {
        assert!(!worth_trimming(usage(10 * MIB, 10 * MIB + MIB / 8), None));
    }
}
