//! [`InlineFsync`]: when an fsync may run on a runtime thread instead of
//! the fsync thread, and how many did.
//!
//! Redis fsyncs on its one thread under `appendfsync always`, and so do
//! Redigo's two fast paths: the end of a runtime tick
//! ([`tick_commit`](super::tick_commit)) and a connection writing alone
//! ([`lone_writer`](super::lone_writer)). An fsync there blocks every
//! connection on that thread, readers too, for as long as it takes, which
//! is fine on a disk that answers in a fraction of a millisecond and not on
//! one that stalls. So both paths ask [`InlineFsync::allowed`] first: after
//! an fsync slower than [`MAX_INLINE_FSYNC`], by either path, the next ones
//! go to the fsync thread until one is fast again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The longest an fsync may have taken for the next to run inline, on a
/// runtime thread (other connections on that thread wait, as all of
/// Redis's clients wait for its fsync): an SSD or a spinning disk stays
/// under it, a stalling disk is left to the fsync thread.
pub const MAX_INLINE_FSYNC: Duration = Duration::from_millis(10);

/// See the module docs.
#[derive(Debug)]
pub struct InlineFsync {
    /// The slowest an fsync may be for the next to run inline (µs):
    /// [`MAX_INLINE_FSYNC`] unless set otherwise.
    limit_us: AtomicU64,
    /// How long the last fsync took (µs), by whichever path.
    last_fsync_us: AtomicU64,
    /// fsyncs done inline.
    inline_fsyncs: AtomicU64,
}

impl Default for InlineFsync {
    fn default() -> InlineFsync {
        InlineFsync {
            limit_us: AtomicU64::new(micros(MAX_INLINE_FSYNC)),
            last_fsync_us: AtomicU64::new(0),
            inline_fsyncs: AtomicU64::new(0),
        }
    }
}

impl InlineFsync {
    /// Whether the next fsync may run inline: the last one was fast.
    pub fn allowed(&self) -> bool {
        self.last_fsync_us.load(Ordering::Relaxed) <= self.limit_us.load(Ordering::Relaxed)
    }

    /// Replaces [`MAX_INLINE_FSYNC`] (see
    /// [`AofOptions::max_inline_fsync`](super::AofOptions::max_inline_fsync)).
    pub fn set_limit(&self, limit: Duration) {
        self.limit_us.store(micros(limit), Ordering::Relaxed);
    }

    /// Records how long an fsync on the fsync thread took.
    pub fn note_fsync(&self, took: Duration) {
        self.last_fsync_us.store(micros(took), Ordering::Relaxed);
    }

    /// Records an fsync done inline.
    pub fn note_inline_fsync(&self, took: Duration) {
        self.note_fsync(took);
        self.inline_fsyncs.fetch_add(1, Ordering::Relaxed);
    }

    /// fsyncs done inline so far.
    pub fn inline_fsyncs(&self) -> u64 {
        self.inline_fsyncs.load(Ordering::Relaxed)
    }
}

pub(crate) fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_fsync_stops_inline_fsyncs_until_a_fast_one() {
        let inline = InlineFsync::default();
        assert!(inline.allowed(), "no fsync yet");
        inline.note_fsync(MAX_INLINE_FSYNC);
        assert!(inline.allowed(), "the limit itself is still fast");
        inline.note_fsync(MAX_INLINE_FSYNC + Duration::from_micros(1));
        assert!(!inline.allowed());
        assert_eq!(inline.inline_fsyncs(), 0);
        inline.note_inline_fsync(Duration::from_micros(200));
        assert!(inline.allowed());
        assert_eq!(inline.inline_fsyncs(), 1);
    }

    #[test]
    fn the_limit_can_be_raised() {
        let inline = InlineFsync::default();
        inline.note_fsync(MAX_INLINE_FSYNC * 3);
        assert!(!inline.allowed());
        inline.set_limit(MAX_INLINE_FSYNC * 3);
        assert!(inline.allowed());
        inline.note_fsync(MAX_INLINE_FSYNC * 3 + Duration::from_micros(1));
        assert!(!inline.allowed());
    }
}
