//! When a connection's replies wait for the end of the runtime's turn.
//!
//! Redis writes no reply where it runs the command: it queues the client
//! and writes every queued client in `beforeSleep`, once the event loop has
//! run every connection with input. A connection task here writes its
//! replies as soon as its batch ran, which is the lowest latency, but costs
//! the client a wake-up per reply when the server is the bottleneck: while
//! a batch of 16 `ZADD`s or `ZPOPMIN`s on a big sorted set runs (tens of
//! µs), the client reads the previous connection's replies and goes back to
//! sleep, so the next write must wake it again. On a VM each such wake-up
//! is an inter-processor interrupt and a VM exit inside the server's
//! `send`: profiled under `redis-benchmark -P 16 -r 1000000 -t zpopmin`,
//! 15% of the server's CPU against Redis's 3%.
//!
//! So a connection whose replies would otherwise go out one by one among
//! others' yields once before writing ([`tokio::task::yield_now`], which
//! the current-thread runtime resumes only after every ready task ran and
//! the driver was polled): the replies of one turn then go out together,
//! as Redis's do, and the client wakes once for them. The extra turn costs
//! the server a task poll and a non-blocking `epoll_wait`, which pays only
//! where writes would wake a sleeping client, so a connection defers only
//! when all of these hold:
//!
//! * another connection ran a batch since this one's last (a lone client
//!   has no one to share a wake-up with);
//! * the batch was a pipeline, more than one request (measured at depth 1
//!   with 50 clients, deferring cost throughput);
//! * its commands ran at least [`DEFER_MIN_BATCH_US`]: after a shorter
//!   batch the next write comes before the client is done with the
//!   previous replies, so it is awake anyway. `redis-benchmark -P 16`
//!   takes about 13 µs of its own CPU per batch of 16; `ZPOPMIN` of a
//!   missing key runs 16 in 2-3 µs (the client is the bottleneck and never
//!   sleeps: measured, deferring those cost throughput), of a member of a
//!   3-million-member set in about 20.
//!
//! Only the single I/O thread defers (it is the one with an
//! [`IdlePoll`](crate::idle_poll::IdlePoll), whose batch count this
//! reads). Replies held for the AOF already wait for the end of the turn
//! (the tick's commit) and are not deferred again.

/// The least time (µs) a pipeline's commands must run for its replies to
/// wait for the end of the turn (see the module docs); the I/O thread's
/// [`IdlePoll`](crate::idle_poll::IdlePoll) holds the value in force, which
/// tests change (a batch's duration in a loaded debug build is no
/// measure of anything).
pub(crate) const DEFER_MIN_BATCH_US: u64 = 10;

/// A connection's view of the batches run on its I/O thread, deciding
/// whether its pending replies wait for the end of the turn.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplyDeferral {
    /// The thread's batch count after this connection's last batch.
    last_seq: Option<u64>,
    /// The replies pending since the last write qualify.
    defer: bool,
}

impl ReplyDeferral {
    /// Records a batch of `requests` this connection ran for `busy_us`,
    /// long enough to defer from `min_busy_us`; `seq_before` is the
    /// thread's batch count just before it was counted (so other
    /// connections ran batches since this one's last exactly when it
    /// moved).
    pub(crate) fn ran(&mut self, requests: usize, busy_us: u64, min_busy_us: u64, seq_before: u64) {
        let others_ran = self.last_seq.is_some_and(|last| last != seq_before);
        self.last_seq = Some(seq_before.wrapping_add(1));
        self.defer |= requests > 1 && busy_us >= min_busy_us && others_ran;
    }

    /// The replies were held for the AOF: they already waited for the end
    /// of the turn.
    pub(crate) fn held(&mut self) {
        self.defer = false;
    }

    /// Whether to yield before writing the pending replies; resets for the
    /// next ones.
    pub(crate) fn take(&mut self) -> bool {
        std::mem::take(&mut self.defer)
    }
}

#[cfg(test)]
mod tests {
    use super::{DEFER_MIN_BATCH_US, ReplyDeferral};

    const MIN: u64 = DEFER_MIN_BATCH_US;
    const LONG: u64 = MIN;

    #[test]
    fn a_lone_client_never_defers() {
        let mut d = ReplyDeferral::default();
        for seq in 0..5 {
            // Nobody else bumps the count between this client's batches.
            d.ran(16, LONG, MIN, seq);
            assert!(!d.take());
        }
    }

    #[test]
    fn a_pipeline_among_other_clients_defers() {
        let mut d = ReplyDeferral::default();
        d.ran(16, LONG, MIN, 0);
        // The first batch has no history: written at once.
        assert!(!d.take());
        // Three other connections ran batches (1, 2, 3) meanwhile.
        d.ran(16, LONG, MIN, 4);
        assert!(d.take());
        // `take` resets.
        assert!(!d.take());
    }

    #[test]
    fn single_requests_are_written_at_once() {
        let mut d = ReplyDeferral::default();
        d.ran(1, LONG, MIN, 0);
        d.ran(1, LONG, MIN, 10);
        assert!(!d.take());
    }

    #[test]
    fn short_batches_are_written_at_once() {
        let mut d = ReplyDeferral::default();
        d.ran(16, LONG, MIN, 0);
        d.ran(16, LONG - 1, MIN, 10);
        assert!(!d.take());
        d.ran(16, LONG, MIN, 20);
        assert!(d.take());
    }

    #[test]
    fn held_replies_are_not_deferred_again() {
        let mut d = ReplyDeferral::default();
        d.ran(16, LONG, MIN, 0);
        d.ran(16, LONG, MIN, 7);
        d.held();
        assert!(!d.take());
    }

    #[test]
    fn any_qualifying_batch_before_the_write_defers_it() {
        let mut d = ReplyDeferral::default();
        d.ran(1, LONG, MIN, 0);
        d.ran(8, LONG, MIN, 5); // qualifies
        d.ran(1, LONG, MIN, 6); // no one else ran since: still deferred
        assert!(d.take());
    }
}
