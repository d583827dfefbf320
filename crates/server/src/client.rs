//! Per-connection state and the registry of connected clients.
//!
//! Each connection's [`ClientState`] sits in an `Arc<Mutex<_>>` shared with
//! the [`ClientRegistry`], so `CLIENT LIST` and `CLIENT KILL` can see other
//! clients. Lock order (deadlock freedom): a connection locks its own state
//! only while it holds the keyspace lock, and code that holds no keyspace
//! lock only ever takes a client lock as a leaf (nothing else is locked
//! while holding it). `CLIENT LIST` runs under the keyspace lock, so every
//! other client's state is either unlocked or about to be released by a
//! leaf section.
//!
//! The connection task owns its buffers and publishes their sizes here
//! (`qbuf`, `rbs`, unsent output...) whenever they change in a way
//! `CLIENT LIST` should see: after each batch, before it waits to read and
//! after each partial write. [`ClientState::output_limit_reached`] applies
//! `client-output-buffer-limit` to those figures.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::task::AtomicWaker;

use crate::commands::MultiState;
use crate::config::{ClassLimit, ClientClass};
use crate::pubsub::ClientPubSub;
use crate::stats::Stats;

/// Size of Redis's per-client static reply buffer (`PROTO_REPLY_CHUNK_BYTES`).
/// Redigo keeps a client's replies in one contiguous buffer; `CLIENT LIST`
/// shows the first this-many unsent bytes as `obl` (Redis's static buffer)
/// and the rest as `omem` (Redis's reply list). Output limits, like Redis's,
/// apply to the `omem` part only, so they trip at the same point.
pub const REPLY_CHUNK_BYTES: usize = 16 * 1024;

/// The state of one connection.
#[derive(Debug)]
pub struct ClientState {
    /// Unique, increasing id (`CLIENT ID`).
    pub id: u64,
    /// The peer's address.
    pub addr: SocketAddr,
    /// Our local address of the connection.
    pub laddr: SocketAddr,
    /// The socket's file descriptor where there is one (-1 elsewhere).
    pub fd: i64,
    /// `CLIENT SETNAME` name, empty when unset.
    pub name: String,
    /// The selected database.
    pub db: usize,
    /// Whether the client may run commands that need authentication.
    pub authenticated: bool,
    /// The protocol version (always 2: RESP3 is refused by `HELLO`).
    pub resp: u8,
    /// When the connection was accepted.
    pub created: Instant,
    /// When the client last sent a command.
    pub last_interaction: Instant,
    /// Full name of the last command run (`cmd=` in `CLIENT LIST`).
    pub last_command: &'static str,
    /// The top-level command this client's last request named: tried
    /// before the command table's hash lookup (see
    /// [`CommandTable::lookup_hinted`](crate::commands::CommandTable::lookup_hinted)).
    pub command_hint: Option<&'static crate::commands::CommandSpec>,
    /// Bytes waiting in the query buffer (`qbuf=`).
    pub query_buffer_len: usize,
    /// Free capacity of the query buffer (`qbuf-free=`).
    pub query_buffer_free: usize,
    /// Bytes of the arguments of requests decoded but not run yet, and of a
    /// request still arriving (`argv-mem=`).
    pub argv_mem: usize,
    /// Allocated size of the reply buffer (`rbs=`).
    pub reply_buffer_size: usize,
    /// Most reply bytes the buffer held since it was last released (`rbp=`).
    pub reply_buffer_peak: usize,
    /// Reply bytes not written to the socket yet.
    pub output_pending: usize,
    /// Since when the unsent output has been at or above the soft limit
    /// (Redis's `obuf_soft_limit_reached_time`).
    pub soft_limit_since: Option<Instant>,
    /// Set by `CLIENT KILL` or an output limit: the connection closes
    /// without sending anything more.
    pub kill_requested: bool,
    /// Blocked by a blocking command (`flags=b`); cleared by the connection
    /// once the wait is over.
    pub blocked: bool,
    /// The wait a blocking command just began, for the connection to take
    /// (see [`crate::blocking`]).
    pub block_wait: Option<crate::blocking::BlockWait>,
    /// Pub/sub subscriptions and the messages published to this client
    /// not yet moved to its reply buffer (see [`crate::pubsub`]).
    pub pubsub: ClientPubSub,
    /// `MULTI`/`EXEC`/`WATCH` state (see `commands::transactions`).
    pub multi: MultiState,
    /// `CLIENT REPLY` state (see [`ReplyControl`]).
    pub reply: ReplyControl,
    /// In `MONITOR` mode (Redis's `CLIENT_MONITOR`, flag `O`): every
    /// executed command is streamed to it through its outbox
    /// ([`ClientPubSub::queued`]); see [`crate::monitor`].
    pub monitor: bool,
    /// `CLIENT NO-EVICT on` (flag `e`).
    pub no_evict: bool,
    /// Waiting for a `CLIENT PAUSE` to end before its next command runs
    /// (Redis blocks it with `BLOCKED_POSTPONE`: flag `b`).
    pub postponed: bool,
    /// `CLIENT TRACKING` mode (see [`crate::tracking`]).
    pub tracking: crate::tracking::ClientTracking,
    /// The connection's socket, lent while the connection waits with
    /// nothing of its own unsent, so that another task can write this
    /// client's outbox directly; taken back as soon as the connection
    /// wakes (see [`crate::delivery`]).
    pub idle_socket: Option<Arc<tokio::net::TcpStream>>,
    /// On the server's pending-write list (Redis's `CLIENT_PENDING_WRITE`).
    pub write_pending: bool,
}

/// `CLIENT REPLY ON|OFF|SKIP`, as Redis 7.0's `CLIENT_REPLY_OFF`,
/// `CLIENT_REPLY_SKIP` and `CLIENT_REPLY_SKIP_NEXT` flags: while `off` or
/// `skip` is set nothing is added to the client's output (replies, errors,
/// monitor lines) but pushed pub/sub replies and messages. `SKIP` sets
/// `skip_next`, which becomes `skip` for the one command after it
/// ([`ReplyControl::command_done`], Redis's `resetClient`).
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplyControl {
    /// `CLIENT REPLY OFF` is in force.
    pub off: bool,
    /// The current command's reply is dropped.
    pub skip: bool,
    /// The next command's reply is dropped.
    pub skip_next: bool,
}

impl ReplyControl {
    /// Whether output is dropped now.
    pub fn suppressed(&self) -> bool {
        self.off || self.skip
    }

    /// After each command, processed or rejected: the skip of this
    /// command ends and a `SKIP` just run applies to the next one.
    pub fn command_done(&mut self) {
        self.skip = std::mem::take(&mut self.skip_next);
    }
}

impl ClientState {
    /// A fresh client.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i64, authenticated: bool) -> Self {
        let now = Instant::now();
        ClientState {
            id,
            addr,
            laddr,
            fd,
            name: String::new(),
            db: 0,
            authenticated,
            resp: 2,
            created: now,
            last_interaction: now,
            last_command: "NULL",
            command_hint: None,
            query_buffer_len: 0,
            query_buffer_free: 0,
            argv_mem: 0,
            reply_buffer_size: 0,
            reply_buffer_peak: 0,
            output_pending: 0,
            soft_limit_since: None,
            kill_requested: false,
            blocked: false,
            block_wait: None,
            pubsub: ClientPubSub::default(),
            multi: MultiState::default(),
            reply: ReplyControl::default(),
            monitor: false,
            no_evict: false,
            postponed: false,
            tracking: Default::default(),
            idle_socket: None,
            write_pending: false,
        }
    }

    /// Unsent output: replies not yet written plus published messages not
    /// yet moved to the reply buffer (Redis has both in one buffer).
    pub fn unsent_output(&self) -> usize {
        self.output_pending + self.pubsub.queued.len()
    }

    /// Unsent output that does not fit Redis's static buffer (`omem=`; see
    /// [`REPLY_CHUNK_BYTES`]).
    pub fn output_list_bytes(&self) -> usize {
        self.unsent_output().saturating_sub(REPLY_CHUNK_BYTES)
    }

    /// The `client-output-buffer-limit` class this client falls in now:
    /// `pubsub` while it is subscribed, as Redis's `getClientType`.
    pub fn limit_class(&self) -> ClientClass {
        if self.pubsub.is_subscribed() {
            ClientClass::Pubsub
        } else {
            ClientClass::Normal
        }
    }

    /// Redis's `checkClientOutputBufferLimits` for this client's `limit`,
    /// plus the rule Redis 7.0.15 as Debian ships it adds for
    /// CVE-2025-21605: a client that still has to authenticate
    /// (`auth_pending`) may not have output beyond the static buffer (Redis
    /// closes it above 1,024 bytes of reply list, whose first block alone
    /// is 16 KiB, so any overflow). Tracks how long the soft limit has been
    /// exceeded; true when the client must be closed.
    pub fn output_limit_reached(
        &mut self,
        limit: &ClassLimit,
        auth_pending: bool,
        now: Instant,
    ) -> bool {
        let used = self.output_list_bytes() as u64;
        if auth_pending && used > 0 {
            return true;
        }
        if limit.hard_bytes > 0 && used >= limit.hard_bytes {
            return true;
        }
        if limit.soft_bytes > 0 && used >= limit.soft_bytes {
            match self.soft_limit_since {
                None => {
                    self.soft_limit_since = Some(now);
                    false
                }
                // Redis counts whole seconds past the limit's duration.
                Some(since) => now.duration_since(since).as_secs() > limit.soft_seconds,
            }
        } else {
            self.soft_limit_since = None;
            false
        }
    }

    /// The `flags=` letters, in Redis 7.0's order (`catClientInfoString`):
    /// `O` a monitor, `P` subscribed, `x` in `MULTI`, `b` postponed by a
    /// pause, `t` tracking, `R` its redirection broken, `B` broadcast
    /// tracking, `d` a watched key changed, `e` no-evict; `N` when none
    /// applies.
    fn flags(&self) -> String {
        let mut flags = String::new();
        if self.monitor {
            flags.push('O');
        }
        // Redis's order: P (subscribed) comes before x.
        if self.pubsub.is_subscribed() {
            flags.push('P');
        }
        if self.multi.in_multi() {
            flags.push('x');
        }
        if self.blocked || self.postponed {
            flags.push('b');
        }
        if self.tracking.on {
            flags.push('t');
        }
        if self.tracking.broken_redirect() {
            flags.push('R');
        }
        if self.tracking.bcast {
            flags.push('B');
        }
        if self.multi.dirty_cas() {
            flags.push('d');
        }
        if self.no_evict {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        flags
    }

    /// One `CLIENT LIST` / `CLIENT INFO` line (without the trailing newline),
    /// with Redis 7.0's fields in Redis 7.0's order. The buffer figures are
    /// the connection's real ones as last published (see the module docs):
    /// `qbuf` what was received and not yet parsed (a bulk still arriving
    /// included), `rbs`/`rbp` the reply buffer's size and recent peak,
    /// `obl`/`oll`/`omem` the unsent replies (split as Redis's static buffer
    /// and reply list, the list being one contiguous block here), `tot-mem`
    /// all of the connection's buffers, and `events=rw` while replies wait
    /// for the socket.
    pub fn describe(&self, now: Instant) -> String {
        let age = now.duration_since(self.created).as_secs();
        let idle = now.duration_since(self.last_interaction).as_secs();
        let omem = self.output_list_bytes();
        let tot = self.query_buffer_len
            + self.query_buffer_free
            + self.reply_buffer_size
            + self.argv_mem
            + self.pubsub.queued.capacity()
            + std::mem::size_of::<ClientState>();
        format!(
            "id={id} addr={addr} laddr={laddr} fd={fd} name={name} age={age} idle={idle} \
             flags={flags} db={db} sub={sub} psub={psub} ssub={ssub} multi={multi} qbuf={qbuf} qbuf-free={qfree} \
             argv-mem={argv} multi-mem={multi_mem} rbs={rbs} rbp={rbp} obl={obl} oll={oll} omem={omem} \
             tot-mem={tot} events={events} cmd={cmd} user=default redir={redir} resp={resp}",
            id = self.id,
            addr = self.addr,
            laddr = self.laddr,
            fd = self.fd,
            name = self.name,
            flags = self.flags(),
            db = self.db,
            sub = self.pubsub.channel_count(),
            psub = self.pubsub.pattern_count(),
            ssub = self.pubsub.shard_channel_count(),
            multi = self.multi.queued_count(),
            multi_mem = self.multi.memory(),
            qbuf = self.query_buffer_len,
            qfree = self.query_buffer_free,
            argv = self.argv_mem,
            rbs = self.reply_buffer_size,
            rbp = self.reply_buffer_peak,
            obl = self.unsent_output().min(REPLY_CHUNK_BYTES),
            oll = usize::from(omem > 0),
            events = if self.unsent_output() > 0 { "rw" } else { "r" },
            cmd = self.last_command,
            redir = self.tracking.redirect_field(),
            resp = self.resp,
        )
    }
}

/// A wake-up for the one task serving a connection: raised by others
/// (`CLIENT KILL`, a publisher), awaited by that task. It behaves as
/// `tokio::sync::Notify` with `notify_one`: a signal raised while nobody
/// waits is kept for the next wait, and one wait consumes it. But waiting
/// takes no lock and joins no list: a flag and an [`AtomicWaker`] holding
/// the last waker, which is enough because only the connection's own task
/// waits. A connection waits on its socket once per request at pipeline
/// depth 1, with a `Notify` that was two locks and a waiter-list insertion
/// and removal per wait for each signal.
#[derive(Debug, Default)]
pub struct Signal {
    raised: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    /// Raises the signal and wakes the waiting task, if any.
    pub fn notify_one(&self) {
        self.raised.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Waits until the signal is raised (at once if it already is), and
    /// lowers it.
    pub fn notified(&self) -> Notified<'_> {
        Notified(self)
    }

    /// Lowers the signal if it is raised; returns whether it was.
    fn take(&self) -> bool {
        self.raised.load(Ordering::Acquire) && self.raised.swap(false, Ordering::AcqRel)
    }
}

/// The future of [`Signal::notified`].
#[derive(Debug)]
pub struct Notified<'a>(&'a Signal);

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let signal = self.0;
        if signal.take() {
            return Poll::Ready(());
        }
        // Registered before the second look: a signal raised after the
        // first look either is seen now or wakes this waker.
        signal.waker.register(cx.waker());
        if signal.take() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A registered client: its state and the signal that wakes its task when
/// it is killed.
#[derive(Clone, Debug)]
pub struct ClientHandle {
    /// The shared state.
    pub state: Arc<Mutex<ClientState>>,
    /// Notified by `CLIENT KILL`.
    pub kill: Arc<Signal>,
    /// Notified when output queued for the client by another task waits
    /// for its connection to write it (see [`crate::delivery`]).
    pub messages: Arc<Signal>,
}

impl ClientHandle {
    /// A handle for a client no connection serves (in-process command
    /// harnesses): what is delivered to it is never read.
    pub fn detached() -> ClientHandle {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        ClientHandle {
            state: Arc::new(Mutex::new(ClientState::new(
                0,
                unspecified,
                unspecified,
                -1,
                true,
            ))),
            kill: Arc::default(),
            messages: Arc::default(),
        }
    }

    /// Locks the state, ignoring poisoning (a panicked task leaves plain data).
    pub fn lock(&self) -> MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the client's connection to close without sending anything more:
    /// at once when it waits on its socket (a stuck write included). A batch
    /// cannot be in progress: `CLIENT KILL` runs under the dataset lock that
    /// batches hold.
    pub fn request_kill(&self, state: &mut ClientState) {
        state.kill_requested = true;
        self.kill.notify_one();
    }

    /// Closes the client for being over `client-output-buffer-limit`: as
    /// Redis's `closeClientOnOutputBufferLimitReached`, logs it, counts it
    /// (`client_output_buffer_limit_disconnections`) and sends nothing
    /// more; queued messages are freed at once.
    pub fn close_for_output_limit(&self, state: &mut ClientState, stats: &Stats) {
        tracing::warn!(
            "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
            state.describe(Instant::now())
        );
        stats
            .client_output_buffer_limit_disconnections
            .fetch_add(1, Ordering::Relaxed);
        state.pubsub.queued = bytes::BytesMut::new();
        self.request_kill(state);
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, ClientHandle>>,
    next_id: AtomicU64,
}

impl ClientRegistry {
    /// A fresh client id: ids start at 1 and only increase, as in Redis.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a client.
    pub fn register(&self, handle: ClientHandle, id: u64) {
        self.lock().insert(id, handle);
    }

    /// Removes a client.
    pub fn unregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// The client with this id, if connected.
    pub fn get(&self, id: u64) -> Option<ClientHandle> {
        self.lock().get(&id).cloned()
    }

    /// How many clients are connected.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The connected clients, by increasing id.
    pub fn snapshot(&self) -> Vec<(u64, ClientHandle)> {
        self.lock().iter().map(|(&id, h)| (id, h.clone())).collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, ClientHandle>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::Signal;

    #[tokio::test]
    async fn a_signal_raised_before_the_wait_is_kept_for_it_and_consumed() {
        let signal = Signal::default();
        signal.notify_one();
        signal.notify_one();
        // One wait takes both raises, as `Notify::notify_one`'s one permit.
        signal.notified().await;
        let again = tokio::time::timeout(Duration::from_millis(20), signal.notified()).await;
        assert!(again.is_err(), "the signal was consumed");
    }

    #[tokio::test]
    async fn a_signal_raised_during_the_wait_wakes_it_however_often() {
        let signal = Arc::new(Signal::default());
        for _ in 0..100 {
            let raiser = Arc::clone(&signal);
            let task = tokio::spawn(async move {
                tokio::task::yield_now().await;
                raiser.notify_one();
            });
            signal.notified().await;
            task.await.unwrap();
        }
    }

    #[test]
    fn a_signal_raised_from_another_thread_wakes_the_waiting_one() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let signal = Arc::new(Signal::default());
        for _ in 0..100 {
            let raiser = Arc::clone(&signal);
            let thread = std::thread::spawn(move || raiser.notify_one());
            runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), signal.notified())
                    .await
                    .expect("woken");
            });
            thread.join().unwrap();
        }
    }
}
