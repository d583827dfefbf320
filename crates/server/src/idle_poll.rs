//! [`IdlePoll`]: after a tick that ran commands, the I/O thread polls its
//! sockets for a short, adaptive while before it sleeps
//! (`idle-poll-max-us`, a Redigo extension; 0 turns it off).
//!
//! ## Why
//! A server that has run out of work sleeps in `epoll_wait`; the next
//! request must then wake it, and on a virtual machine without guest halt
//! polling (the kernel's `haltpoll.guest_halt_poll_ns=0`, as on the
//! machines the benchmarks ran on) that wake-up is an inter-processor
//! interrupt and a VM exit, paid by the *client's* `sendto`. The faster the
//! server, the more often it has run out of work when the next request
//! comes: with `redis-benchmark -t lrange_600 -P 1` Redigo slept about
//! 0.7 times per request against Redis's 0.34, its CPU per request was
//! 0.71x Redis's, and yet its throughput was 0.94x, because the client,
//! the bottleneck at `-P 1`, spent longer in `sendto` waking it. Polling
//! a little before sleeping removes most of those wake-ups (figures in
//! `docs/store.md`): what Seastar's reactor, the kernel's `busy_poll` and
//! its cpuidle `haltpoll` governor do.
//!
//! ## How
//! With one I/O thread (see [`runtime`](crate::runtime)) connections call
//! [`IdlePoll::note_work`] after each batch. The runtime's park hook
//! ([`IdlePoll::on_park`]) sees whether a batch ran since it last ran; if
//! one did, an idle period begins, and if the poll window is open and the
//! budget allows, it wakes the poller task ([`IdlePoll::poller`]) instead
//! of letting the thread sleep. The poller yields in a loop: each yield is
//! one non-blocking `epoll_wait` by the runtime and a run of every
//! connection with input. Work seen restarts the window; a window that
//! passes without work ends the polling and the thread sleeps.
//!
//! The window adapts as the kernel's `haltpoll` governor's does
//! ([`PollWindow`]): an idle period that ended in a sleep, longer than the
//! window but within `idle-poll-max-us`, doubles it (from
//! [`GROW_START_US`]): a slightly longer poll would have caught it. One
//! longer than `idle-poll-max-us` halves it: polling is wasted on a client
//! that slow. So a lightly loaded server soon stops polling at all.
//!
//! On top of that, a [`PollBudget`] bounds the CPU polling costs: time
//! spent polling may not exceed the time spent running the server's own
//! work (awake and not polling), over a window of recent history. At
//! worst, polling doubles the CPU a lightly loaded server uses; under load
//! it replaces sleeps and wake-ups the work itself would have paid for.
//!
//! A client on the same core as the I/O thread is the case polling cannot
//! help: the poll holds the core the client needs to send its next
//! request. The scheduler preempts the poll for the woken client, so each
//! poll then waits for the client's next request and finds it (the round
//! goes on, at no cost but the preemption, which a sleep would have paid
//! too); `CONFIG SET idle-poll-max-us 0` ends such a round at its next poll.
//!
//! With more than one I/O thread there is no park hook (see
//! [`runtime`](crate::runtime)) and no idle polling.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::Notify;

/// The default `idle-poll-max-us`: the longest an idle period may be for
/// polling to be worth it, and the widest the window grows. The kernel's
/// `haltpoll` governor's default `guest_halt_poll_ns` is the same 200 µs.
pub const DEFAULT_IDLE_POLL_MAX_US: u64 = 200;

/// The largest `idle-poll-max-us` `CONFIG SET` accepts (10 ms): longer
/// polls only burn CPU the budget would refuse anyway.
pub const MAX_IDLE_POLL_MAX_US: u64 = 10_000;

/// The window an idle period that ended in a sleep opens or doubles to at
/// least (the kernel's `guest_halt_poll_grow_start`, 50 µs), capped at
/// `idle-poll-max-us`.
pub const GROW_START_US: u64 = 50;

/// The factor a window grows by (the kernel's `guest_halt_poll_grow`).
const GROW_FACTOR: u64 = 2;

/// The factor a window shrinks by (the kernel's `guest_halt_poll_shrink`).
const SHRINK_FACTOR: u64 = 2;

/// The awake time (µs) past which the budget halves its history, so that
/// it follows the last few hundred milliseconds of load, not all of it.
const BUDGET_HISTORY_US: u64 = 200_000;

/// The poll window: how long to poll after the last work before sleeping.
/// Pure arithmetic, the kernel `haltpoll` governor's `adjust_poll_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollWindow {
    /// The current window (µs); 0 = do not poll.
    pub window_us: u64,
}

impl PollWindow {
    /// Adapts the window to an idle period of `idle_us` that ended in a
    /// sleep, under `max_us` (`idle-poll-max-us`). A period that polling
    /// caught (shorter than the window) never gets here: it changes nothing.
    pub fn after_sleep(&mut self, idle_us: u64, max_us: u64) {
        if idle_us > self.window_us && idle_us <= max_us {
            self.window_us = (self.window_us * GROW_FACTOR)
                .max(GROW_START_US)
                .min(max_us);
        } else if idle_us > max_us {
            self.window_us /= SHRINK_FACTOR;
        }
        self.window_us = self.window_us.min(max_us);
    }
}

/// How much polling the recent work pays for: see the module docs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollBudget {
    /// Time the thread was awake (running tasks or polling), µs.
    pub awake_us: u64,
    /// Of that, time spent polling without work, µs.
    pub polled_us: u64,
}

impl PollBudget {
    /// Counts `us` of awake time.
    pub fn add_awake(&mut self, us: u64) {
        self.awake_us += us;
        if self.awake_us > BUDGET_HISTORY_US {
            self.awake_us /= 2;
            self.polled_us /= 2;
        }
    }

    /// Counts `us` of polling that found no work (also awake time, which
    /// [`PollBudget::add_awake`] counts separately).
    pub fn add_polled(&mut self, us: u64) {
        self.polled_us += us;
    }

    /// Whether polling may go on: it has cost no more than the work.
    pub fn allows(&self) -> bool {
        self.polled_us <= self.awake_us.saturating_sub(self.polled_us)
    }
}

/// Idle polling's counters, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdlePollStats {
    /// Batches of commands connections reported ([`IdlePoll::note_work`]).
    pub batches: u64,
    /// Polling rounds started by the park hook.
    pub rounds: u64,
    /// Non-blocking polls made.
    pub polls: u64,
    /// Polls that found a batch had run.
    pub hits: u64,
    /// Rounds that ended with no work for a whole window (the thread
    /// then slept).
    pub misses: u64,
    /// Rounds the budget refused.
    pub refused: u64,
    /// Reply writes deferred to the end of a turn (see
    /// [`ReplyDeferral`](crate::network::reply_deferral::ReplyDeferral)).
    pub deferred_writes: u64,
}

/// See the module docs. Shared by the runtime's park hooks, the poller
/// task and the connections (through the server state).
#[derive(Debug)]
pub struct IdlePoll {
    epoch: Instant,
    /// `idle-poll-max-us`.
    max_us: AtomicU64,
    /// Bumped by every batch ([`IdlePoll::note_work`]).
    work_seq: AtomicU64,
    /// The `work_seq` the hook or the poller last saw.
    seen_seq: AtomicU64,
    /// µs since `epoch` (plus one; 0 = none) when the current idle period
    /// began: the end of the last work seen.
    idle_since: AtomicU64,
    /// µs since `epoch` (plus one; 0 = none) when the thread last woke
    /// from a sleep in the current idle period.
    woke_at: AtomicU64,
    /// µs since `epoch` (plus one) when the thread last woke (awake time).
    awake_since: AtomicU64,
    /// Set by the park hook when it lets the thread sleep.
    sleeping: AtomicBool,
    /// [`PollWindow::window_us`].
    window_us: AtomicU64,
    /// [`PollBudget`]'s two fields.
    budget_awake_us: AtomicU64,
    budget_polled_us: AtomicU64,
    rounds: AtomicU64,
    polls: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    refused: AtomicU64,
    deferred_writes: AtomicU64,
    /// [`DEFER_MIN_BATCH_US`](crate::network::reply_deferral::DEFER_MIN_BATCH_US)
    /// in force.
    defer_min_batch_us: AtomicU64,
    /// Wakes the poller task.
    start: Notify,
}

impl IdlePoll {
    /// Idle polling with `idle-poll-max-us` = `max_us` (0 = off).
    pub fn new(max_us: u64) -> IdlePoll {
        let poll = IdlePoll {
            epoch: Instant::now(),
            max_us: AtomicU64::new(max_us.min(MAX_IDLE_POLL_MAX_US)),
            work_seq: AtomicU64::new(0),
            seen_seq: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            woke_at: AtomicU64::new(0),
            awake_since: AtomicU64::new(0),
            sleeping: AtomicBool::new(false),
            window_us: AtomicU64::new(0),
            budget_awake_us: AtomicU64::new(0),
            budget_polled_us: AtomicU64::new(0),
            rounds: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            deferred_writes: AtomicU64::new(0),
            defer_min_batch_us: AtomicU64::new(crate::network::reply_deferral::DEFER_MIN_BATCH_US),
            start: Notify::new(),
        };
        poll.awake_since.store(poll.now(), Ordering::Relaxed);
        poll
    }

    /// Applies `CONFIG SET idle-poll-max-us`.
    pub fn set_max_us(&self, max_us: u64) {
        let max_us = max_us.min(MAX_IDLE_POLL_MAX_US);
        self.max_us.store(max_us, Ordering::Relaxed);
        let window = self.window_us.load(Ordering::Relaxed).min(max_us);
        self.window_us.store(window, Ordering::Relaxed);
    }

    /// `idle-poll-max-us`.
    pub fn max_us(&self) -> u64 {
        self.max_us.load(Ordering::Relaxed)
    }

    /// The current poll window (µs).
    pub fn window_us(&self) -> u64 {
        self.window_us.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> IdlePollStats {
        IdlePollStats {
            batches: self.work_seq.load(Ordering::Relaxed),
            rounds: self.rounds.load(Ordering::Relaxed),
            polls: self.polls.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            deferred_writes: self.deferred_writes.load(Ordering::Relaxed),
        }
    }

    /// Called by a connection after each batch of commands; returns the
    /// batch count before this one (see
    /// [`ReplyDeferral`](crate::network::reply_deferral::ReplyDeferral)).
    /// Only the I/O thread calls it, so a load and a store (no locked
    /// instruction) do.
    #[inline]
    pub fn note_work(&self) -> u64 {
        let seq = self.work_seq.load(Ordering::Relaxed);
        self.work_seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        seq
    }

    /// The least time (µs) a pipeline must run for its replies to wait for
    /// the end of the turn (see `network::reply_deferral`).
    #[inline]
    pub fn defer_min_batch_us(&self) -> u64 {
        self.defer_min_batch_us.load(Ordering::Relaxed)
    }

    /// Changes [`IdlePoll::defer_min_batch_us`]: for tests, where batch
    /// durations depend on the build and the machine's load.
    pub fn set_defer_min_batch_us(&self, us: u64) {
        self.defer_min_batch_us.store(us, Ordering::Relaxed);
    }

    /// Counts a reply write a connection deferred to the end of the turn.
    #[inline]
    pub fn note_deferred_write(&self) {
        let n = self.deferred_writes.load(Ordering::Relaxed);
        self.deferred_writes.store(n + 1, Ordering::Relaxed);
    }

    /// The runtime's park hook: the thread has no task left to run.
    pub fn on_park(&self) {
        let now = self.now();
        let awake = now.saturating_sub(self.awake_since.load(Ordering::Relaxed));
        let mut budget = self.budget();
        budget.add_awake(awake);
        self.awake_since.store(now, Ordering::Relaxed);

        let seq = self.work_seq.load(Ordering::Relaxed);
        let worked = seq != self.seen_seq.swap(seq, Ordering::Relaxed);
        let max_us = self.max_us();
        if worked {
            // An idle period that ended in a sleep tells the window how
            // long polling would have had to last to catch it.
            let idle_since = self.idle_since.load(Ordering::Relaxed);
            let woke_at = self.woke_at.swap(0, Ordering::Relaxed);
            if idle_since != 0 && woke_at != 0 {
                let mut window = PollWindow {
                    window_us: self.window_us(),
                };
                window.after_sleep(woke_at.saturating_sub(idle_since), max_us);
                self.window_us.store(window.window_us, Ordering::Relaxed);
            }
            self.idle_since.store(now, Ordering::Relaxed);
            if max_us > 0 && self.window_us() > 0 {
                if budget.allows() {
                    self.rounds.fetch_add(1, Ordering::Relaxed);
                    self.store_budget(budget);
                    self.start.notify_one();
                    return;
                }
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.store_budget(budget);
        self.sleeping.store(true, Ordering::Relaxed);
    }

    /// The runtime's unpark hook: the thread is awake again (after a sleep
    /// or after a park the hook turned into a poll).
    pub fn on_unpark(&self) {
        let now = self.now();
        self.awake_since.store(now, Ordering::Relaxed);
        if self.sleeping.swap(false, Ordering::Relaxed) {
            self.woke_at.store(now, Ordering::Relaxed);
        }
    }

    /// The poller task, spawned on the runtime whose park hooks are
    /// [`IdlePoll::on_park`] and [`IdlePoll::on_unpark`]. Each poll ends a
    /// tick as a park would: `end_of_tick` runs what the park hook runs
    /// besides idle polling (the end-of-tick AOF commit), which would
    /// otherwise wait for the polling to stop.
    pub async fn poller(self: std::sync::Arc<Self>, end_of_tick: impl Fn()) {
        loop {
            self.start.notified().await;
            self.poll_round(&end_of_tick).await;
        }
    }

    /// Polls until a whole window passes without work.
    async fn poll_round(&self, end_of_tick: &impl Fn()) {
        let mut last = self.now();
        let mut deadline = last + self.window_us();
        loop {
            // The runtime makes a non-blocking `epoll_wait` and runs every
            // connection with input before this task runs again.
            tokio::task::yield_now().await;
            end_of_tick();
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.max_us() == 0 {
                // Turned off by `CONFIG SET` while this round ran: checked
                // on every poll, as a client whose requests each arrive
                // while the poll waits for a CPU (it shares this thread's)
                // would keep a round going on hits alone.
                return;
            }
            let now = self.now();
            let seq = self.work_seq.load(Ordering::Relaxed);
            if seq != self.seen_seq.swap(seq, Ordering::Relaxed) {
                // Caught: the idle period was shorter than the window.
                self.hits.fetch_add(1, Ordering::Relaxed);
                self.idle_since.store(now, Ordering::Relaxed);
                deadline = now + self.window_us();
            } else {
                let mut budget = self.budget();
                budget.add_polled(now.saturating_sub(last));
                self.store_budget(budget);
                if now >= deadline {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            last = now;
        }
    }

    fn budget(&self) -> PollBudget {
        PollBudget {
            awake_us: self.budget_awake_us.load(Ordering::Relaxed),
            polled_us: self.budget_polled_us.load(Ordering::Relaxed),
        }
    }

    fn store_budget(&self, budget: PollBudget) {
        self.budget_awake_us
            .store(budget.awake_us, Ordering::Relaxed);
        self.budget_polled_us
            .store(budget.polled_us, Ordering::Relaxed);
    }

    /// µs since the epoch, plus one (0 stays "none").
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX - 1) + 1
    }
}

#[cfg(test)]
mod tests;
