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
//! on, so it is only done while fsyncs are fast (see
//! [`inline_fsync`](super::inline_fsync)).
//!
//! With one I/O thread (the default) the end-of-tick commit
//! ([`tick_commit`](super::tick_commit)) already fsyncs on the runtime
//! thread whoever writes; this matters with more I/O threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::inline_fsync::micros;

/// How long no other connection may have written for a connection to count
/// as the only writer.
pub const LONE_WRITER_QUIET: Duration = Duration::from_millis(100);

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
}

impl Default for LoneWriter {
    fn default() -> LoneWriter {
        LoneWriter {
            epoch: Instant::now(),
            last_writer: AtomicU64::new(NO_WRITER),
            other_writer_at_us: AtomicU64::new(0),
        }
    }
}

impl LoneWriter {
    /// Records a write by connection `writer` and returns whether it has
    /// been the only writer for [`LONE_WRITER_QUIET`].
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
    }
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
    }
}
