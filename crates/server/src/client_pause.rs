//! `CLIENT PAUSE` / `CLIENT UNPAUSE`: the server-wide pause of Redis 7.0's
//! `pauseClients`.
//!
//! # Design
//!
//! One [`ClientPause`] lives in the server state: the pause mode (`WRITE`
//! or `ALL`) and when it ends, behind a mutex, plus an atomic flag so that
//! the check each command makes costs one load while nothing is paused.
//! As in Redis, a new pause never shortens or weakens one in force: the
//! later end and the stronger mode win.
//!
//! The dispatcher asks [`ClientPause::postpones`] after a command passed
//! every check (Redis's `processCommand` blocks the client with
//! `BLOCKED_POSTPONE` at the same point). A postponed command is not run:
//! the connection leaves it at the head of its pipeline, writes the replies
//! before it, and waits in [`ClientPause::wait`] (without the dataset lock,
//! so every other client goes on) until the pause ends, by its timeout or
//! `CLIENT UNPAUSE`; then the command runs through every check again.
//! Under `WRITE`, only commands that may write or replicate are postponed
//! (`write` and `may_replicate` commands, and `EXEC` of a transaction
//! holding one); reads go on.
//!
//! While any pause is in force the active expiry cycle does nothing, as in
//! Redis (`checkClientPauseTimeoutAndReturnIfPaused`): keys are not
//! removed, so the dataset does not change under the pause.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The longest pause representable here: `CLIENT PAUSE` accepts any
/// millisecond count Redis accepts (up to `LLONG_MAX` minus now), and one
/// that would overflow an `Instant` lasts this long instead (forever, for
/// any practical purpose).
const LONGEST_PAUSE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// What a pause holds back (Redis's `CLIENT_PAUSE_WRITE` / `CLIENT_PAUSE_ALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Commands that may write or replicate.
    Write,
    /// Every command.
    All,
}

#[derive(Debug, Clone, Copy)]
struct Pause {
    mode: PauseMode,
    until: Instant,
}

/// The server-wide client pause.
#[derive(Debug, Default)]
pub struct ClientPause {
    active: AtomicBool,
    pause: Mutex<Option<Pause>>,
    /// Woken when the pause is lifted by `CLIENT UNPAUSE`.
    lifted: Notify,
}

impl ClientPause {
    fn lock(&self) -> MutexGuard<'_, Option<Pause>> {
        self.pause.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pauses clients in `mode` for `duration_ms` milliseconds (Redis's
    /// `pauseClients`: the later end and the stronger mode of this pause
    /// and one already in force apply).
    pub fn pause(&self, mode: PauseMode, duration_ms: u64) {
        let now = Instant::now();
        let until = now
            .checked_add(Duration::from_millis(duration_ms))
            .filter(|_| Duration::from_millis(duration_ms) <= LONGEST_PAUSE)
            .unwrap_or(now + LONGEST_PAUSE);
        let mut pause = self.lock();
        *pause = Some(match *pause {
            Some(old) => Pause {
                mode: old.mode.max(mode),
                until: old.until.max(until),
            },
            None => Pause { mode, until },
        });
        self.active.store(true, Ordering::Release);
    }

    /// Lifts the pause (`CLIENT UNPAUSE`), waking every postponed client.
    pub fn unpause(&self) {
        *self.lock() = None;
        self.active.store(false, Ordering::Release);
        self.lifted.notify_waiters();
    }

    /// The mode in force now, if any (a pause past its end is lifted here).
    pub fn mode(&self) -> Option<PauseMode> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let mut pause = self.lock();
        match *pause {
            Some(p) if p.until > Instant::now() => Some(p.mode),
            _ => {
                *pause = None;
                self.active.store(false, Ordering::Release);
                None
            }
        }
    }

    /// Whether a command must wait for the pause to end: every command
    /// under `ALL`, one that `may_write` under `WRITE`.
    pub fn postpones(&self, may_write: bool) -> bool {
        match self.mode() {
            Some(PauseMode::All) => true,
            Some(PauseMode::Write) => may_write,
            None => false,
        }
    }

    /// Waits until no pause is in force (its end, or `CLIENT UNPAUSE`).
    pub async fn wait(&self) {
        loop {
            let lifted = self.lifted.notified();
            tokio::pin!(lifted);
            // Registered before the state is read, so an unpause between
            // the read and the wait is not missed.
            lifted.as_mut().enable();
            let current = *self.lock();
            let until = match current {
                Some(p) if p.until > Instant::now() => p.until,
                _ => {
                    // Clears a pause past its end.
                    let _ = self.mode();
                    return;
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(until)) => {}
                _ = lifted => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pause_keeps_the_later_end_and_the_stronger_mode() {
        let pause = ClientPause::default();
        assert_eq!(pause.mode(), None);
        pause.pause(PauseMode::All, 60_000);
        pause.pause(PauseMode::Write, 1);
        assert_eq!(pause.mode(), Some(PauseMode::All));
        assert!(pause.postpones(false));
        pause.unpause();
        assert_eq!(pause.mode(), None);
        pause.pause(PauseMode::Write, 60_000);
        assert!(pause.postpones(true));
        assert!(!pause.postpones(false));
        // Redis accepts up to LLONG_MAX - now milliseconds.
        pause.pause(PauseMode::Write, i64::MAX as u64 / 2);
        assert_eq!(pause.mode(), Some(PauseMode::Write));
    }

    #[test]
    fn a_pause_past_its_end_is_lifted() {
        let pause = ClientPause::default();
        pause.pause(PauseMode::All, 0);
        assert_eq!(pause.mode(), None);
        assert!(!pause.postpones(true));
    }
}
