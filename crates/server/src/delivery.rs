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

use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// How many clients `list` holds: one load for a batch that queued
    /// nothing.
    len: AtomicUsize,
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
        let mut list = self.lock();
        list.push(handle.clone());
        self.len.store(list.len(), Ordering::Release);
    }

    /// How many clients are on the list.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no client is on the list.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the outboxes of the clients on the list (see the module docs).
    /// Call with no dataset or client lock held. Returns how many clients
    /// could not be written in full and were woken to finish themselves.
    pub fn flush(&self, stats: &Stats) -> usize {
        if self.is_empty() {
            return 0;
        }
        let pending = {
            let mut list = self.lock();
            self.len.store(0, Ordering::Release);
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::config::{ClassLimit, Config};
    use crate::state::ServerState;

    /// A connected pair: the server side (tokio, as a connection holds it)
    /// and the peer (std, read by the test).
    fn pair(
        runtime: &tokio::runtime::Runtime,
    ) -> (Arc<tokio::net::TcpStream>, std::net::TcpStream) {
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            peer.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let (socket, _) = listener.accept().await.unwrap();
            (Arc::new(socket), peer)
        })
    }

    /// A server and a client of it that waits idle, its socket lent (as
    /// its connection does), with the peer end for the test to read.
    fn idle_client(
        runtime: &tokio::runtime::Runtime,
    ) -> (ServerState, ClientHandle, std::net::TcpStream) {
        let server = ServerState::new(Config::default(), None, None);
        let handle = ClientHandle::detached();
        let (socket, peer) = pair(runtime);
        handle.lock().idle_socket = Some(socket);
        (server, handle, peer)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Whether the handle's connection has a wake-up waiting.
    fn woken(runtime: &tokio::runtime::Runtime, handle: &ClientHandle) -> bool {
        runtime.block_on(async {
            tokio::time::timeout(Duration::ZERO, handle.messages.notified())
                .await
                .is_ok()
        })
    }

    fn queue(server: &ServerState, handle: &ClientHandle, bytes: &[u8]) {
        let unlimited = ClassLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_seconds: 0,
        };
        let mut state = handle.lock();
        crate::pubsub::queue_message(server, handle, &mut state, bytes, &unlimited);
    }

    #[test]
    fn an_idle_client_is_written_by_the_flush_without_being_woken() {
        let runtime = runtime();
        let (server, handle, mut peer) = idle_client(&runtime);
        queue(&server, &handle, b"+one\r\n");
        queue(&server, &handle, b"+two\r\n");
        assert!(handle.lock().write_pending);
        assert_eq!(server.pending_writes.flush(&server.stats), 0);
        let mut received = [0u8; 12];
        peer.read_exact(&mut received).unwrap();
        assert_eq!(&received, b"+one\r\n+two\r\n", "one write, in order");
        let state = handle.lock();
        assert!(state.pubsub.queued.is_empty() && !state.write_pending);
        assert!(state.idle_socket.is_some(), "still idle");
        drop(state);
        assert!(!woken(&runtime, &handle));
        assert_eq!(
            server.stats.total_net_output_bytes.load(Ordering::Relaxed),
            12
        );
        // Nothing queued since: a second flush does nothing.
        assert_eq!(server.pending_writes.flush(&server.stats), 0);
    }

    #[test]
    fn a_busy_client_keeps_its_output_and_is_woken() {
        let runtime = runtime();
        let server = ServerState::new(Config::default(), None, None);
        let handle = ClientHandle::detached();
        queue(&server, &handle, b"+one\r\n");
        assert_eq!(server.pending_writes.flush(&server.stats), 1);
        assert_eq!(&handle.lock().pubsub.queued[..], b"+one\r\n");
        assert!(woken(&runtime, &handle));
    }

    #[test]
    fn a_full_socket_keeps_the_rest_and_goes_back_to_its_connection() {
        let runtime = runtime();
        let (server, handle, _peer) = idle_client(&runtime);
        // Far more than the kernel's buffers take from a peer that does not
        // read.
        let burst = vec![b'x'; 64 * 1024 * 1024];
        queue(&server, &handle, &burst);
        assert_eq!(server.pending_writes.flush(&server.stats), 1);
        let state = handle.lock();
        let left = state.pubsub.queued.len();
        assert!(
            left > 0 && left < burst.len(),
            "written in part: {left} left"
        );
        assert!(
            state.idle_socket.is_none(),
            "the connection writes the rest"
        );
        drop(state);
        assert!(woken(&runtime, &handle));
        // Later output is queued behind the rest, not written past it.
        queue(&server, &handle, b"+after\r\n");
        assert_eq!(server.pending_writes.flush(&server.stats), 1);
        assert!(handle.lock().pubsub.queued.ends_with(b"+after\r\n"));
    }

    #[test]
    fn a_killed_client_gets_nothing_more() {
        let runtime = runtime();
        let (server, handle, mut peer) = idle_client(&runtime);
        queue(&server, &handle, b"+one\r\n");
        {
            let mut state = handle.lock();
            handle.request_kill(&mut state);
        }
        assert_eq!(server.pending_writes.flush(&server.stats), 0);
        peer.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        assert_eq!(
            peer.read(&mut byte).map_err(|e| e.kind()),
            Err(std::io::ErrorKind::WouldBlock),
            "nothing was written"
        );
    }
}
