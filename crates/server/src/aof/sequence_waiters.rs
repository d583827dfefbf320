//! [`SequenceWaiters`]: tasks waiting for a sequence number, woken exactly
//! when it is reached.
//!
//! Under `appendfsync always` every connection with a write in flight waits
//! for the fsync that covers it. A broadcast ("something changed, look
//! again") would wake all of them at every fsync, and most would go back
//! to sleep: with 50 clients that was most of the wake-ups. Here each
//! waiter is filed under its sequence number and [`SequenceWaiters::advance`]
//! wakes only those it satisfies.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::appender::lock;

/// See the module docs.
#[derive(Debug, Default)]
pub struct SequenceWaiters {
    reached: AtomicU64,
    waiting: Mutex<BTreeMap<u64, Vec<oneshot::Sender<()>>>>,
}

impl SequenceWaiters {
    /// The highest sequence reached so far.
    pub fn reached(&self) -> u64 {
        self.reached.load(Ordering::Acquire)
    }

    /// Records that every sequence up to `seq` is reached and wakes their
    /// waiters.
    pub fn advance(&self, seq: u64) {
        let previous = self.reached.fetch_max(seq, Ordering::AcqRel);
        if seq <= previous {
            return;
        }
        // `reached` is raised before the lock is taken; `wait` checks it
        // under the lock, so a waiter either sees it or is found here.
        let ready = {
            let mut waiting = lock(&self.waiting);
            let later = match seq.checked_add(1) {
                Some(next) => waiting.split_off(&next),
                None => BTreeMap::new(),
            };
            std::mem::replace(&mut *waiting, later)
        };
        for sender in ready.into_values().flatten() {
            let _ = sender.send(());
        }
    }

    /// Waits until `seq` is reached.
    pub async fn wait(&self, seq: u64) {
        if self.reached() >= seq {
            return;
        }
        let (sender, receiver) = oneshot::channel();
        {
            let mut waiting = lock(&self.waiting);
            if self.reached() >= seq {
                return;
            }
            waiting.entry(seq).or_default().push(sender);
        }
        let _ = receiver.await;
    }

    /// How many waiters are filed (for tests).
    pub fn waiting(&self) -> usize {
        lock(&self.waiting).values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn wakes_exactly_the_waiters_a_sequence_satisfies() {
        let waiters = Arc::new(SequenceWaiters::default());
        let tasks: Vec<_> = [1u64, 2, 3, 5]
            .into_iter()
            .map(|seq| {
                let waiters = Arc::clone(&waiters);
                tokio::spawn(async move { waiters.wait(seq).await })
            })
            .collect();
        while waiters.waiting() < 4 {
            tokio::task::yield_now().await;
        }
        waiters.advance(2);
        let mut tasks = tasks.into_iter();
        tasks.next().unwrap().await.unwrap();
        tasks.next().unwrap().await.unwrap();
        assert_eq!(waiters.waiting(), 2, "3 and 5 still wait");
        waiters.advance(1);
        assert_eq!(waiters.reached(), 2, "never goes back");
        waiters.advance(5);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(waiters.waiting(), 0);
        // Already reached: returns at once.
        waiters.wait(4).await;
        // Releasing everyone (the AOF was turned off).
        let last = {
            let waiters = Arc::clone(&waiters);
            tokio::spawn(async move { waiters.wait(1_000).await })
        };
        while waiters.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        waiters.advance(u64::MAX);
        last.await.unwrap();
    }
}
