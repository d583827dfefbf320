//! Cross-client delivery: output one client's command produces for another
//! (pub/sub messages, tracking invalidations, `MONITOR` lines, the reply of
//! a blocked client it served), and how it reaches that client's socket.
//!
//! # Design
//!
//! Such output is appended to the receiver's outbox
//! ([`ClientPubSub::queued`](crate::pubsub::ClientPubSub)) under its state
//! lock, and the receiver is put on the server's [`PendingWrites`] list
//! (once: [`ClientState::write_pending`]). The task that queued it flushes
//! the list at the end of its batch ([`PendingWrites::flush`]), after the
//! dataset lock is released, as Redis writes every client with pending
//! output in `beforeSleep` (`handleClientsWithPendingWrites`) in the same
//! event-loop turn: a burst of messages to one subscriber goes out in one
//! write, and no subscriber's task has to be woken to write it.
//!
//! The flush writes a receiver's outbox itself when the receiver is *idle*:
//! its connection waits (for a request, or for a blocking command to be
//! served) with nothing of its own unsent. An idle connection lends its
//! socket to its state ([`ClientState::idle_socket`]) under the state lock
//! when it starts waiting and takes it back under the same lock as soon as
//! it wakes, before it writes anything. So there is never more than one
//! writer on a socket, and what another task writes cannot overtake the
//! connection's own replies: everything the client was sent before is
//! already on the socket, and everything after waits behind the outbox
//! (each batch moves the outbox into its reply buffer first). What the
//! socket does not take at once (a receiver that stopped reading) stays in
//! the outbox, the socket goes back to the connection, and the connection
//! is woken ([`ClientHandle::messages`]) to finish the write with its own
//! output-limit checks; a receiver that is not idle is only woken.
//!
//! Output limits are unchanged: they are checked when output is queued,
//! on everything unsent, as Redis checks them on every `addReply`. Bytes
//! written directly count in `total_net_output_bytes`, and as the
//! receiver's last interaction (the idle `timeout`).
//!
//! A reply that must wait for the AOF (a served pop under any policy: see
//! `docs/aof.md`) never goes this way: a blocked client is served through
//! its channel while the AOF is on (see [`crate::blocking`]).
//!
//! Every task that can queue output for another client flushes the list:
//! connections after each batch, the active expiry cycle after each round.
//! In-process command harnesses never flush; their receivers keep the
//! output in their outboxes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::client::{ClientHandle, ClientState};
use crate::pubsub::RETAINED_OUTBOX_CAPACITY;
use crate::stats::Stats;

/// The clients with output queued by others and not yet flushed (Redis's
/// `server.clients_pending_write`).
#[derive(Debug, Default)]
pub struct PendingWrites {
    list: Mutex<Vec<ClientHandle>>,
    /// Whether `list` may hold anything: one load for a batch that queued
    /// nothing.
    any: AtomicBool,
}

impl PendingWrites {
    fn lock(&self) -> MutexGuard<'_, Vec<ClientHandle>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that output was queued in the outbox of `handle`, whose
    /// locked state is `state`. The caller holds no other list lock; the
    /// list's lock is a leaf.
    pub fn push(&self, handle: &ClientHandle, state: &mut ClientState) {
        if state.write_pending {
            return;
        }
        state.write_pending = true;
        self.lock().push(handle.clone());
        self.any.store(true, Ordering::Release);
    }

    /// Whether any client may be on the list.
    pub fn any(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Writes the outboxes of the clients on the list (see the module docs).
    /// Call with no dataset or client lock held. Returns how many clients
    /// could not be written in full and were woken to finish themselves.
    pub fn flush(&self, stats: &Stats) -> usize {
        if !self.any.load(Ordering::Acquire) {
            return 0;
        }
        let pending = {
            let mut list = self.lock();
            self.any.store(false, Ordering::Release);
            std::mem::take(&mut *list)
        };
        let mut woken = 0;
        for handle in &pending {
            let mut state = handle.lock();
            state.write_pending = false;
            if state.kill_requested || state.pubsub.queued.is_empty() {
                continue;
            }
            if write_idle(&mut state, stats) {
                continue;
            }
            drop(state);
            handle.messages.notify_one();
            woken += 1;
        }
        woken
    }
}

/// Writes the outbox of an idle client to its socket; true when all of it
/// was written. Otherwise what was written is gone from the outbox and the
/// socket, if it was lent, is given back to the connection (which is then
/// to be woken to write the rest).
fn write_idle(state: &mut ClientState, stats: &Stats) -> bool {
    let Some(socket) = state.idle_socket.as_ref() else {
        return false;
    };
    let mut written = 0;
    let queued = &state.pubsub.queued;
    let complete = loop {
        match socket.try_write(&queued[written..]) {
            Ok(0) => break false,
            Ok(n) => {
                written += n;
                if written == queued.len() {
                    break true;
                }
            }
            // WouldBlock (the socket is full) or an error, which the
            // connection sees itself on its next read or write.
            Err(_) => break false,
        }
    };
    if written > 0 {
        stats
            .total_net_output_bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        state.last_interaction = Instant::now();
    }
    if complete {
        state.pubsub.queued.clear();
        if state.pubsub.queued.capacity() > RETAINED_OUTBOX_CAPACITY {
            state.pubsub.queued = bytes::BytesMut::new();
        }
        return true;
    }
    let _ = state.pubsub.queued.split_to(written);
    // The connection finishes the write, with its limit checks.
    state.idle_socket = None;
    false
}
