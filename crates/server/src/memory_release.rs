//! Giving freed memory back to the operating system after large frees.
//!
//! Redis links jemalloc, which returns the pages of freed memory to the
//! system in the background: after `FLUSHALL` its RSS drops. Redigo uses
//! the system allocator; glibc's malloc keeps freed small blocks in its
//! arenas and only returns memory at the top of the main heap, so after
//! freeing millions of small entries the RSS stayed at its peak.
//!
//! Rather than swap the global allocator (a new dependency with its own
//! build on every platform), the server calls glibc's `malloc_trim(0)`,
//! which releases the free pages of every arena. It walks the whole heap,
//! so it is not run on the command path: commands that free a lot at once
//! (`FLUSHALL`, `FLUSHDB`) record how much they freed ([`MemoryRelease::
//! freed`]), and the server cron trims once at least [`TRIM_MIN_FREED`]
//! bytes were freed, on a blocking thread, holding no lock. Elsewhere than
//! Linux with glibc this does nothing (other allocators, such as macOS's
//! and Windows's, return memory on their own).

use std::sync::atomic::{AtomicU64, Ordering};

/// Freed bytes that make a trim worth its cost (a walk of the heap).
pub const TRIM_MIN_FREED: u64 = 16 * 1024 * 1024;

/// Bytes freed by large frees since the last trim. See the module docs.
#[derive(Debug, Default)]
pub struct MemoryRelease {
    pending: AtomicU64,
    trims: AtomicU64,
}

impl MemoryRelease {
    /// Records that about `bytes` were just freed.
    pub fn freed(&self, bytes: u64) {
        self.pending.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Whether enough was freed for a trim; if so, resets the count.
    pub fn take_due(&self) -> bool {
        self.pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |pending| {
                (pending >= TRIM_MIN_FREED).then_some(0)
            })
            .is_ok()
    }

    /// Returns free memory to the system (see the module docs); blocking.
    pub fn trim(&self) {
        self.trims.fetch_add(1, Ordering::Relaxed);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `malloc_trim` only reorganizes the allocator's free lists;
        // it is thread-safe and takes no pointers.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// How many trims ran.
    pub fn trims(&self) -> u64 {
        self.trims.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_is_due_only_after_enough_was_freed() {
        let release = MemoryRelease::default();
        assert!(!release.take_due());
        release.freed(TRIM_MIN_FREED / 2);
        assert!(!release.take_due());
        release.freed(TRIM_MIN_FREED / 2);
        assert!(release.take_due());
        assert!(!release.take_due(), "the count starts over");
        release.trim();
        assert_eq!(release.trims(), 1);
    }
}
