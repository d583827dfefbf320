//! Under `appendfsync always`, a connection that is the only one writing
//! fsyncs its own records instead of handing them to the fsync thread.
//!
//! Group commit needs the fsync thread so that one client's fsync never
//! holds back the writes of others, and many clients' writes share each
//! fsync. A client that writes alone has nobody to share with, and the
//! hand-off then only costs: two thread wake-ups per request (the fsync
//! thread's, then the connection's), measured at 15-20% of a lone client's
//! throughput against redis-server, which fsyncs on its one thread.
//!
//! [`LoneWriter`] recognises that case: the same connection wrote last and
//! no other connection wrote for [`LONE_WRITER_QUIET`]. A write by any other
//! connection ends it at once (that write and the next
//! [`LONE_WRITER_QUIET`] of writes go through the fsync thread), so another
//! client waits behind at most the one inline fsync already running, as it
//! would behind Redis's. An inline fsync blocks the runtime thread it runs
//! on, so it is only done while fsyncs are fast: one slower than
//! [`MAX_INLINE_FSYNC`] sends the following ones back to the fsync thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long no other connection may have written for a connection to count
/// as the only writer.
pub const LONE_WRITER_QUIET: Duration = Duration::from_millis(100);

/// The longest an fsync may have taken for the next to run inline, on the
/// connection's runtime thread (other connections on that thread wait, as
/// all of Redis's clients wait for its fsync): an SSD or a spinning disk
/// stays under it, a stalling disk is left to the fsync thread.
pub const MAX_INLINE_FSYNC: Duration = Duration::from_millis(10);

/// No connection has written yet.
const NO_WRITER: u64 = u64::MAX;

/// Tracks whether one connection writes alone. See the module docs.
#[derive(Debug)]
pub struct LoneWriter {
    epoch: Instant,
    last_writer: AtomicU64,
    /// When a connection other than the previous writer last wrote (µs
    /// since `epoch`).
    other_writer_at_us: AtomicU64,
    /// How long the last fsync took (µs), by whichever path.
    last_fsync_us: AtomicU64,
    /// fsyncs done inline.
    inline_fsyncs: AtomicU64,
}

impl Default for LoneWriter {
    fn default() -> LoneWriter {
        LoneWriter {
            epoch: Instant::now(),
            last_writer: AtomicU64::new(NO_WRITER),
            other_writer_at_us: AtomicU64::new(0),
            last_fsync_us: AtomicU64::new(0),
            inline_fsyncs: AtomicU64::new(0),
        }
    }
}

impl LoneWriter {
    /// Records a write by connection `writer` and returns whether it may
    /// fsync inline: it has been the only writer for [`LONE_WRITER_QUIET`]
    /// and the last fsync was fast.
    pub fn note_write(&self, writer: u64) -> bool {
        self.note_write_at(writer, Instant::now())
    }

    /// [`LoneWriter::note_write`] at `now`.
    pub fn note_write_at(&self, writer: u64, now: Instant) -> bool {
        let now = micros(now.saturating_duration_since(self.epoch));
        if self.last_writer.swap(writer, Ordering::Relaxed) != writer {
            self.other_writer_at_us.store(now, Ordering::Relaxed);
            return false;
        }
        let quiet = now.saturating_sub(self.other_writer_at_us.load(Ordering::Relaxed));
        quiet >= micros(LONE_WRITER_QUIET)
            && self.last_fsync_us.load(Ordering::Relaxed) <= micros(MAX_INLINE_FSYNC)
    }

    /// Records how long an fsync took.
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

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_writer_alone_for_the_quiet_period_goes_inline() {
        let lone = LoneWriter::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let quiet = u64::try_from(LONE_WRITER_QUIET.as_millis()).unwrap();
        assert!(
            !lone.note_write_at(1, at(1)),
            "the first write starts the quiet period"
        );
        assert!(
            !lone.note_write_at(1, at(quiet)),
            "not quiet long enough yet"
        );
        assert!(lone.note_write_at(1, at(quiet + 1)));
        assert!(
            !lone.note_write_at(2, at(quiet + 2)),
            "another writer ends it at once"
        );
        assert!(
            !lone.note_write_at(1, at(quiet + 3)),
            "and restarts the quiet period"
        );
        assert!(!lone.note_write_at(1, at(2 * quiet + 2)));
        assert!(lone.note_write_at(1, at(2 * quiet + 3)));
        lone.note_fsync(MAX_INLINE_FSYNC + Duration::from_micros(1));
        assert!(
            !lone.note_write_at(1, at(2 * quiet + 4)),
            "a slow fsync sends writes back to the thread"
        );
        lone.note_inline_fsync(Duration::from_micros(200));
        assert!(lone.note_write_at(1, at(2 * quiet + 5)));
        assert_eq!(lone.inline_fsyncs(), 1);
    }
}
