//! One client connection: read, decode, execute in batches, write.
//!
//! The loop reads what the socket has, decodes every complete request in the
//! buffer, takes the dataset lock once, runs them all in order, does the
//! end-of-batch bookkeeping, releases the lock and writes all the replies
//! with one write. A pipeline of N commands therefore costs one lock and one
//! write per read, not N. A long pipeline run among other clients' writes
//! at the end of the runtime's turn instead, with theirs, as Redis writes
//! in `beforeSleep` (see [`super::reply_deferral`]).
//!
//! Before a client has authenticated (with `requirepass` set) requests are
//! decoded one at a time, because `AUTH` lifts the decoder's
//! unauthenticated limits for the requests after it, as in Redis.
//!
//! A protocol error ends the batch: the requests before it run and get their
//! replies, then the error reply is sent and the connection closed.
//!
//! With the AOF on, a batch's replies go out only once every write they
//! could show is committed (written, and fsynced under `appendfsync
//! always`): the connection's own writes and those of other clients it
//! read. A read with nothing pending does not wait; see [`execute_batch`]
//! and `docs/aof.md`. Replies sent outside a batch (a protocol error)
//! show no data.
//!
//! # Output for other clients
//!
//! What a batch queues for other clients (pub/sub messages, tracking
//! invalidations, `MONITOR` lines, with the AOF off the replies of blocked
//! clients it served) is written by this task at the end of the batch,
//! straight to the sockets of the clients that are idle (see
//! [`crate::delivery`]). In turn, while this connection waits with nothing
//! of its own unsent (for a request in [`Conn::read_more`], for a serve in
//! [`Conn::wait_unblocked`]), it lends its socket to those writers, and
//! takes it back, under its state lock, before it writes anything itself.
//! The socket is therefore shared (`Arc<TcpStream>`) and read and written
//! through `&TcpStream` (`readable`/`try_read_buf`, `writable`/`try_write`).
//!
//! # Slow and stuck clients
//!
//! Output is bounded in bytes: a batch stops running requests once
//! [`MAX_BATCH_OUTPUT`] bytes of replies wait, and they are written before
//! anything else runs or is read. A client that does not read its replies
//! therefore holds at most that much plus one reply, and the rest of its
//! pipeline stays in the kernel's socket buffers (Redis instead keeps
//! buffering up to `client-output-buffer-limit`, unbounded by default).
//!
//! Every wait on the socket, reading or writing, also waits for each way a
//! client can be closed: `CLIENT KILL` (the handle's kill
//! [`Signal`](crate::client::Signal)), server shutdown (which also raises
//! every client's kill signal), the `timeout` idle limit, and, while a
//! write is blocked, a periodic check of `client-output-buffer-limit`
//! (whose soft limit needs time to pass while nothing else happens). So a
//! client that stopped reading is removed as promptly as an idle one. As in
//! Redis's `clientsCronHandleTimeout`, `timeout` counts from the client's
//! last interaction: data read from it or written to it.
//!
//! The limits themselves are checked after every command, as Redis checks
//! them whenever a reply is added: a client over a limit runs nothing more
//! and is closed without being sent anything else, with Redis's log line.
//!
//! Buffers do not keep their peak: a reply buffer grown by one huge reply is
//! freed once written, and after [`IDLE_BUFFER_RELEASE`] without traffic a
//! connection gives back the spare room of its query and reply buffers, as
//! Redis's `clientsCron` resizes them. The buffers' real sizes are published
//! to [`ClientState`] for `CLIENT LIST`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use redigo_resp::{Limits, ProtocolError, Request, RequestCodec};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

use crate::aof::Aof;
use crate::blocking::BlockWait;
use crate::client::{ClientHandle, ClientState, REPLY_CHUNK_BYTES};
use crate::commands::{self, Effects, ExecContext};
use crate::dataset::{self, SharedDataset};
use crate::network::reply_deferral::ReplyDeferral;
use crate::shared::{ServerState, unix_time_us};

/// Initial capacity of a connection's read buffer (Redis's `PROTO_IOBUF_LEN`).
const READ_BUFFER_LEN: usize = 16 * 1024;
/// Most requests executed under one lock: bounds how long one pipelining
/// client holds the dataset while others wait.
const MAX_BATCH: usize = 1024;
/// Once this much reply data waits, a batch stops running requests and the
/// replies are written before anything else runs: the bound on what a
/// client that does not read can make the server hold (plus one reply).
const MAX_BATCH_OUTPUT: usize = 4 * 1024 * 1024;
/// A reply buffer that grew beyond this (one huge reply) is freed as soon
/// as it has been written instead of waiting for the connection to idle.
const MAX_RETAINED_REPLY_BUFFER: usize = 2 * MAX_BATCH_OUTPUT;
/// A batch that queued output for at least this many other clients (a
/// publish to a large channel) writes its own replies before theirs, when
/// nothing holds them, as Redis's pending-write list (which takes clients
/// at its head) writes a publisher before its subscribers: its client can
/// send its next requests while the messages are written, instead of
/// waiting for a thousand writes. For a few clients the messages go first,
/// which delivers them sooner. Measured with `examples/pubsub_fanout.rs`
/// (docs/pubsub.md): with 1,000 subscribers, replies first gave 1.2x the
/// messages per second of messages first; with 10 subscribers per channel,
/// messages first gave the lower latencies.
const REPLIES_FIRST_FROM: usize = 64;
/// After this long without input or output a connection releases the spare
/// room of its buffers (Redis's `clientsCron` trims a query buffer idle for
/// over 2 seconds; its reply buffer shrinks within seconds too).
const IDLE_BUFFER_RELEASE: Duration = Duration::from_secs(2);
/// Spare room beyond which an idle query buffer is trimmed (and to which
/// it is trimmed: enough for the next read).
const IDLE_READ_SPARE: usize = READ_BUFFER_LEN;
/// How often a connection whose write is blocked checks its output limits
/// and the idle timeout again (both may be changed by `CONFIG SET` too).
const BLOCKED_WRITE_CHECK: Duration = Duration::from_millis(100);

/// Why a connection ends.
#[derive(Debug)]
enum Close {
    /// The peer closed or the socket failed.
    Peer,
    /// `QUIT`, a protocol error, `CLIENT KILL`, the idle timeout, an output
    /// limit, shutdown.
    Server,
}

/// Runs a connection until it closes. The client is registered by the caller
/// and unregistered here.
pub(crate) async fn serve(
    socket: TcpStream,
    server: Arc<ServerState>,
    dataset: SharedDataset,
    handle: ClientHandle,
) {
    let id = handle.lock().id;
    // Shared so that it can be lent to other tasks while the connection is
    // idle (see `crate::delivery`).
    let socket = Arc::new(socket);
    let outcome = run(&socket, &server, &dataset, &handle).await;
    tracing::debug!(client = id, ?outcome, "connection closed");
    // Every wait takes the socket back; this only makes sure of it.
    handle.lock().idle_socket = None;
    if handle.lock().blocked {
        // Closed while blocked: it leaves no trace in the blocking registry.
        leave_blocking(&dataset, &handle, id);
    }
    // Its watched keys go with it (dataset lock first, as for a batch).
    {
        let mut data = dataset::lock(&dataset);
        commands::transactions::release_client(&server, &mut data.store, &handle.lock());
        // And its tracking mode (Redis's `freeClient` → `disableTracking`).
        server.tracking.disable(&mut data.store, &mut handle.lock());
    }
    // Unregistered first, so a peer that sees the connection end never finds
    // it still listed.
    server.clients.unregister(id);
    server.monitors.remove(id);
    server.pubsub.forget_client(&handle);
    if let Ok(mut socket) = Arc::try_unwrap(socket) {
        let _ = socket.shutdown().await;
    }
}

fn limits_for(server: &ServerState) -> Limits {
    Limits {
        max_bulk_len: server.config().proto_max_bulk_len,
        ..Limits::default()
    }
}

/// What the batch loop knows of the query buffer, published to
/// [`ClientState`] by [`execute_batch`].
struct QueryBufferFigures {
    len: usize,
    free: usize,
    argv_mem: usize,
    /// When the connection last read or wrote (Redis's `lastinteraction`,
    /// set by its reads and writes): no clock read per batch.
    last_activity: Instant,
}

async fn run(
    socket: &Arc<TcpStream>,
    server: &ServerState,
    dataset: &SharedDataset,
    handle: &ClientHandle,
) -> Close {
    let mut shutdown = server.shutdown_receiver();
    if shutdown.borrow().is_some() {
        // Accepted just as the server began shutting down.
        return Close::Server;
    }
    let mut conn = Conn {
        socket,
        server,
        handle,
        watch: Watch {
            shutdown: Box::pin(async move {
                // A dropped sender (never, while the server runs) also ends
                // the wait: the connection closes either way.
                let _ = shutdown.wait_for(Option::is_some).await;
            }),
            idle: Timer::default(),
            release: Timer::default(),
        },
        read_buf: BytesMut::with_capacity(READ_BUFFER_LEN),
        out: BytesMut::new(),
        out_peak: 0,
        last_activity: Instant::now(),
    };
    let mut codec = RequestCodec::with_limits(limits_for(server));
    let mut requests: Vec<Request> = Vec::new();
    let mut deferral = ReplyDeferral::default();
    let client_id = handle.lock().id;

    loop {
        codec.set_limits(limits_for(server));
        codec.set_auth_required(!handle.lock().authenticated && server.auth_required());

        // Decode and execute everything complete in the buffer.
        let mut protocol_error: Option<ProtocolError> = None;
        loop {
            if protocol_error.is_none() {
                let batch_limit = if codec.auth_required() { 1 } else { MAX_BATCH };
                while requests.len() < batch_limit {
                    match codec.decode(&mut conn.read_buf) {
                        Ok(Some(request)) => requests.push(request),
                        Ok(None) => break,
                        Err(err) => {
                            protocol_error = Some(err);
                            break;
                        }
                    }
                }
            }
            if requests.is_empty() {
                break;
            }
            let figures = QueryBufferFigures {
                len: conn.read_buf.len(),
                free: conn.read_buf.capacity() - conn.read_buf.len(),
                argv_mem: codec.partial_args_len()
                    + requests
                        .iter()
                        .flat_map(|r| r.args())
                        .map(|a| a.len())
                        .sum::<usize>(),
                last_activity: conn.last_activity,
            };
            let batch_len = requests.len();
            let (effects, hold) = execute_batch(
                server,
                dataset,
                handle,
                &mut requests,
                &mut conn.out,
                figures,
            );
            // Output this batch queued for other clients (messages, served
            // replies) goes out now (see `crate::delivery`), before this
            // client's replies, unless it is for so many clients that the
            // client would sit idle meanwhile: see [`REPLIES_FIRST_FROM`].
            // Replies of served clients always go first.
            if server.pending_writes.len() >= REPLIES_FIRST_FROM
                && hold.is_none()
                && !effects.served_blocked
                && conn.out.len() <= REPLY_CHUNK_BYTES
                && let Err(close) = conn.write_now()
            {
                return close;
            }
            server.pending_writes.flush(&server.stats);
            if let Some(idle_poll) = server.idle_poll() {
                deferral.ran(
                    batch_len,
                    effects.batch_us,
                    idle_poll.defer_min_batch_us(),
                    idle_poll.note_work(),
                );
            }
            if let Some(tick) = server.tick_commit() {
                // A runtime kept busy never reaches its park hook: commit
                // here once replies have waited too long for it.
                tick.run_if_overdue();
            }
            if let Some(hold) = hold {
                // Reply only once every write the replies could show is in
                // the AOF (and on disk under `always`); this task writes the
                // queue itself when no one else is, covering other clients'
                // batches too.
                deferral.held();
                let writer = hold.wrote.then_some(client_id);
                // A client held by a failing disk can still be closed: its
                // replies are then never sent, as none of them is durable.
                tokio::select! {
                    _ = hold.aof.hold_reply(hold.seq, writer) => {}
                    _ = handle.kill.notified() => return Close::Server,
                    _ = &mut conn.watch.shutdown => return Close::Server,
                }
            }
            if effects.served_blocked {
                // Clients this batch served (blocked on a key it pushed
                // to) are woken; their connections run before this one
                // writes, as Redis writes the clients it served ahead of
                // the one that served them (its pending-write list takes
                // them at its head). With the AOF on they write their
                // replies now; with it off their replies went out above
                // and they go on with their pipelines: without this turn
                // the pushers of a busy queue outran its consumers (the
                // queue bench's list grew to thousands of jobs).
                tokio::task::yield_now().await;
            }
            if handle.lock().kill_requested {
                // Over an output limit: closed without another byte, as
                // Redis frees such a client without writing to it.
                return Close::Server;
            }
            if effects.postponed {
                // CLIENT PAUSE holds the next request: the replies before
                // it go out, then it waits (without the dataset lock) for
                // the pause to end and runs through every check again.
                if let Err(close) = conn.write_out().await {
                    return close;
                }
                tokio::select! {
                    _ = server.pause.wait() => {}
                    _ = handle.kill.notified() => return Close::Server,
                    _ = &mut conn.watch.shutdown => return Close::Server,
                }
                continue;
            }
            if let Some(mode) = effects.shutdown {
                server.request_shutdown(mode);
                // Best effort: the write gives up as shutdown is under way.
                let _ = conn.write_out().await;
                return Close::Server;
            }
            if effects.close_after_reply {
                let _ = conn.write_out().await;
                return Close::Server;
            }
            let block_wait = handle.lock().block_wait.take();
            if let Some(wait) = block_wait {
                // Replies before the blocking command go out now; its own
                // comes when it is served, unblocked or timed out.
                if let Err(close) = conn.write_out().await {
                    return close;
                }
                if let Err(close) = conn.wait_unblocked(wait, dataset, client_id).await {
                    return close;
                }
            }
            codec.set_auth_required(!handle.lock().authenticated && server.auth_required());
            if conn.out.len() >= MAX_BATCH_OUTPUT
                && let Err(close) = conn.write_out().await
            {
                return close;
            }
        }
        if let Some(err) = protocol_error {
            tracing::debug!(client = %handle.lock().addr, %err, "protocol error");
            err.encode_reply(&mut conn.out);
            let _ = conn.write_out().await;
            return Close::Server;
        }
        if deferral.take() && !conn.out.is_empty() {
            // The replies of a pipeline among other clients' go out at the
            // end of the turn, with theirs (see `reply_deferral`).
            if let Some(idle_poll) = server.idle_poll() {
                idle_poll.note_deferred_write();
            }
            tokio::select! {
                biased;
                _ = handle.kill.notified() => return Close::Server,
                _ = &mut conn.watch.shutdown => return Close::Server,
                _ = tokio::task::yield_now() => {}
            }
        }
        // Messages published to this client since its last batch follow
        // that batch's replies.
        handle.lock().pubsub.drain_into(&mut conn.out);
        if let Err(close) = conn.write_out().await {
            return close;
        }
        if let Err(close) = conn.read_more(&codec).await {
            return close;
        }
    }
}

/// The socket and buffers of a connection, and what it must watch while it
/// waits on the socket.
struct Conn<'a> {
    socket: &'a Arc<TcpStream>,
    server: &'a ServerState,
    handle: &'a ClientHandle,
    /// The waits for every reason to close or wake the connection.
    watch: Watch<'a>,
    read_buf: BytesMut,
    /// Replies not yet written.
    out: BytesMut,
    /// Most bytes `out` held since its last release (`rbp`).
    out_peak: usize,
    /// The last time data was read from or written to the client.
    last_activity: Instant,
}

/// What ended a wait on the socket.
enum Wake {
    /// The socket made progress (bytes read or written).
    Io(usize),
    /// The socket failed or the peer closed it.
    Failed,
    /// `CLIENT KILL`, an output limit, shutdown or the idle timeout.
    Closed,
    /// Time to check limits again or to release buffers.
    Tick,
    /// Output queued for the client by another task is left for the
    /// connection to write.
    Messages,
    /// The idle `timeout` may have passed.
    Idle,
}

/// What a connection waits on besides its socket and its client's signals
/// (`CLIENT KILL` and queued messages, lock-free
/// [`Signal`](crate::client::Signal)s), kept for the connection's lifetime
/// rather than made anew for every wait: at pipeline depth 1 a connection
/// waits once per request, and a fresh shutdown `wait_for` costs a lock to
/// join the watch's waiter list and another to leave it, a fresh `Sleep` a
/// timer-wheel insertion and removal. The kept shutdown wait stays in the
/// list until it fires; a kept timer moves later in place. Every wait of
/// the connection but the wait for input (see `Conn::read_more`) polls
/// the same shutdown future.
struct Watch<'a> {
    /// The server is shutting down.
    shutdown: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    /// The idle `timeout`.
    idle: Timer,
    /// When an idle connection gives back its buffers' spare room.
    release: Timer,
}

/// A deadline kept across waits, moved later lazily. The deadlines it
/// holds (the idle `timeout`, the buffer release) move later with every
/// read and write, that is once per request; so the registered timer is
/// left where it is when the deadline only moves later, and when it fires
/// early it is re-armed at the deadline then in force instead of ending the
/// wait. A deadline moved earlier, or set after the timer fired, re-arms it
/// at once. So a busy connection touches tokio's timer wheel about once per
/// deadline period rather than twice per request.
///
/// Nor is the timer polled at every wait: once a poll has registered the
/// task's waker with it (`registered`), the timer wakes the task when it
/// fires, and until then (`Sleep::is_elapsed`, an atomic load, is false)
/// polling it again would only re-register the same waker. Every wait of
/// a connection is polled by the connection's one task.
#[derive(Default)]
struct Timer {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The deadline in force; `None`: waiting on this timer never ends.
    deadline: Option<tokio::time::Instant>,
    /// The sleep holds this task's waker and has not fired since.
    registered: bool,
}

impl Timer {
    /// Sets the deadline (`None` to disarm it).
    fn set(&mut self, deadline: Option<tokio::time::Instant>) {
        self.deadline = deadline;
        let Some(at) = deadline else {
            return;
        };
        match &mut self.sleep {
            // Fires no later than `at`; `wait` moves it on then.
            Some(sleep) if sleep.deadline() <= at && !sleep.is_elapsed() => {}
            Some(sleep) => {
                sleep.as_mut().reset(at);
                self.registered = false;
            }
            None => {
                self.sleep = Some(Box::pin(tokio::time::sleep_until(at)));
                self.registered = false;
            }
        }
    }

    /// Ends when the deadline in force passes; never while disarmed.
    fn wait(&mut self) -> TimerWait<'_> {
        TimerWait(self)
    }
}

/// The future of [`Timer::wait`].
struct TimerWait<'a>(&'a mut Timer);

impl Future for TimerWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        use std::task::Poll;
        let timer = &mut *self.get_mut().0;
        loop {
            // Disarmed: only this task re-arms it, before its next wait.
            let (Some(at), Some(sleep)) = (timer.deadline, &mut timer.sleep) else {
                return Poll::Pending;
            };
            if timer.registered && !sleep.is_elapsed() {
                return Poll::Pending;
            }
            match sleep.as_mut().poll(cx) {
                Poll::Pending => {
                    timer.registered = true;
                    return Poll::Pending;
                }
                Poll::Ready(()) => {
                    timer.registered = false;
                    if sleep.deadline() >= at {
                        return Poll::Ready(());
                    }
                    // Fired at an earlier deadline since moved later.
                    sleep.as_mut().reset(at);
                }
            }
        }
    }
}

impl Conn<'_> {
    /// When the idle `timeout` closes this client, if one is set. As in
    /// Redis's `clientsCronHandleTimeout`, subscribers (`CLIENT_PUBSUB`)
    /// and monitors (`CLIENT_SLAVE`) never time out; nor do blocked
    /// clients, whose wait has no idle deadline.
    fn idle_deadline(&self) -> Option<tokio::time::Instant> {
        let timeout = self.server.config().timeout;
        if timeout == 0 {
            return None;
        }
        let exempt = {
            let state = self.handle.lock();
            state.pubsub.is_subscribed() || state.monitor
        };
        (!exempt).then(|| {
            tokio::time::Instant::from_std(self.last_activity + Duration::from_secs(timeout))
        })
    }

    /// Publishes the buffers' sizes for `CLIENT LIST`, with `pending` reply
    /// bytes not yet written.
    fn publish(&self, codec: Option<&RequestCodec>, pending: usize) {
        self.publish_to(&mut self.handle.lock(), codec, pending);
    }

    /// [`Conn::publish`] to the already locked `state`.
    fn publish_to(&self, state: &mut ClientState, codec: Option<&RequestCodec>, pending: usize) {
        state.query_buffer_len = self.read_buf.len();
        state.query_buffer_free = self.read_buf.capacity() - self.read_buf.len();
        if let Some(codec) = codec {
            state.argv_mem = codec.partial_args_len();
        }
        state.reply_buffer_size = self.out.capacity();
        state.reply_buffer_peak = self.out_peak;
        state.output_pending = pending;
        state.last_interaction = self.last_activity;
    }

    /// Writes and clears `out`, giving up when the client is to be closed.
    async fn write_out(&mut self) -> Result<(), Close> {
        if self.out.is_empty() {
            return Ok(());
        }
        self.out_peak = self.out_peak.max(self.out.len());
        let mut written = 0;
        // The socket usually takes everything at once: no timers then.
        while written < self.out.len() {
            match self.socket.try_write(&self.out[written..]) {
                Ok(0) => return Err(Close::Peer),
                Ok(n) => written += self.wrote(n),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    self.write_blocked(written).await?;
                    break;
                }
                Err(_) => return Err(Close::Peer),
            }
        }
        self.out.clear();
        if self.out.capacity() > MAX_RETAINED_REPLY_BUFFER {
            self.out = BytesMut::new();
            self.out_peak = 0;
        }
        Ok(())
    }

    /// Writes what the socket takes of `out` without waiting; the rest
    /// stays in `out`.
    fn write_now(&mut self) -> Result<(), Close> {
        self.out_peak = self.out_peak.max(self.out.len());
        while !self.out.is_empty() {
            match self.socket.try_write(&self.out) {
                Ok(0) => return Err(Close::Peer),
                Ok(n) => {
                    self.wrote(n);
                    self.out.advance(n);
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Err(Close::Peer),
            }
        }
        Ok(())
    }

    /// Counts `n` bytes written; returns `n`.
    fn wrote(&mut self, n: usize) -> usize {
        self.server
            .stats
            .total_net_output_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        self.last_activity = Instant::now();
        n
    }

    /// Finishes writing `out` from `written` while the socket is full,
    /// watching every reason to close the client meanwhile.
    async fn write_blocked(&mut self, mut written: usize) -> Result<(), Close> {
        let mut check = tokio::time::interval(BLOCKED_WRITE_CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while written < self.out.len() {
            let pending = self.out.len() - written;
            self.publish(None, pending);
            if self.handle.lock().kill_requested {
                return Err(Close::Server);
            }
            let idle_deadline = self.idle_deadline();
            let wake = tokio::select! {
                result = write_some(self.socket, &self.out[written..]) => match result {
                    Ok(0) | Err(_) => Wake::Failed,
                    Ok(n) => Wake::Io(n),
                },
                _ = self.handle.kill.notified() => Wake::Closed,
                _ = &mut self.watch.shutdown => Wake::Closed,
                _ = sleep_until(idle_deadline) => {
                    tracing::debug!(client = %self.handle.lock().addr, "closing idle client");
                    Wake::Closed
                }
                _ = check.tick() => Wake::Tick,
            };
            match wake {
                Wake::Io(n) => written += self.wrote(n),
                Wake::Failed => return Err(Close::Peer),
                Wake::Closed => return Err(Close::Server),
                Wake::Tick => {
                    if self.output_limit_reached(pending) {
                        return Err(Close::Server);
                    }
                }
                // Left queued until this write is done (counted meanwhile
                // by the publishers' limit checks).
                Wake::Messages | Wake::Idle => {}
            }
        }
        self.publish(None, 0);
        Ok(())
    }

    /// Checks `client-output-buffer-limit` with `pending` bytes unsent
    /// (logging as Redis does when the client must go).
    fn output_limit_reached(&self, pending: usize) -> bool {
        let limits = self.server.config().client_output_buffer_limit;
        let auth_required = self.server.auth_required();
        let mut state = self.handle.lock();
        state.output_pending = pending;
        let limit = limits.get(state.limit_class());
        let auth_pending = auth_required && !state.authenticated;
        if state.output_limit_reached(&limit, auth_pending, Instant::now()) {
            self.handle
                .close_for_output_limit(&mut state, &self.server.stats);
            return true;
        }
        false
    }

    /// Waits for more input, watching every reason to close the client and
    /// releasing the buffers' spare room once the connection idles.
    ///
    /// This is the wait every request goes through at pipeline depth 1, so
    /// it is kept cheap (see [`Watch`] and [`Timer`]): the socket is polled
    /// first (`biased`), the client's kill and message signals take no
    /// lock, and the timers are kept across waits, moved later lazily and
    /// polled only until they hold the task's waker. The socket being polled
    /// first cannot starve the rest: `run` checks `kill_requested` after
    /// every batch and drains queued messages before every write, and a
    /// shutdown is checked here before each wait. This wait does not poll
    /// the shutdown watch (a lock per poll): a shutdown request raises every
    /// client's kill signal, which this wait polls (lock-free).
    async fn read_more(&mut self, codec: &RequestCodec) -> Result<(), Close> {
        if self.read_buf.capacity() - self.read_buf.len() < READ_BUFFER_LEN / 2 {
            // Without spare room BytesMut would grow by tiny steps and a
            // large request would arrive in many small reads.
            self.read_buf.reserve(READ_BUFFER_LEN);
        }
        loop {
            if self.server.shutdown_requested().is_some() {
                return Err(Close::Server);
            }
            if !self.go_idle(Some(codec)) {
                // Output was queued for the client meanwhile: the loop
                // writes it.
                return Ok(());
            }
            let idle_deadline = self.idle_deadline();
            self.watch.idle.set(idle_deadline);
            let release_deadline = self
                .has_spare_room()
                .then(|| tokio::time::Instant::from_std(self.last_activity + IDLE_BUFFER_RELEASE));
            self.watch.release.set(release_deadline);
            let wake = tokio::select! {
                biased;
                read = read_some(self.socket, &mut self.read_buf) => match read {
                    Ok(0) | Err(_) => Wake::Failed,
                    Ok(n) => Wake::Io(n),
                },
                // Also raised for every client by a shutdown request (see
                // `ServerState::request_shutdown`), checked above.
                _ = self.handle.kill.notified() => Wake::Closed,
                _ = self.handle.messages.notified() => Wake::Messages,
                _ = self.watch.idle.wait() => Wake::Idle,
                _ = self.watch.release.wait() => Wake::Tick,
            };
            self.wake_up();
            match wake {
                Wake::Io(n) => {
                    self.server
                        .stats
                        .total_net_input_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    self.last_activity = Instant::now();
                    return Ok(());
                }
                Wake::Failed => return Err(Close::Peer),
                Wake::Closed => return Err(Close::Server),
                Wake::Idle => {
                    // Unless another task wrote to the client meanwhile.
                    if self
                        .idle_deadline()
                        .is_some_and(|deadline| deadline <= tokio::time::Instant::now())
                    {
                        tracing::debug!(client = %self.handle.lock().addr, "closing idle client");
                        return Err(Close::Server);
                    }
                }
                Wake::Tick => {
                    self.release_spare_room();
                    // Fired: not armed again until there is room to release.
                    self.watch.release.set(None);
                }
                // Back to the loop, which writes them.
                Wake::Messages => return Ok(()),
            }
        }
    }

    /// Begins a wait with nothing of the connection's own unsent:
    /// publishes the buffers' sizes and lends the socket to the tasks that
    /// queue output for the client (see [`crate::delivery`]). False, lending
    /// nothing, when output is already queued (for the connection to write).
    fn go_idle(&self, codec: Option<&RequestCodec>) -> bool {
        let mut state = self.handle.lock();
        self.publish_to(&mut state, codec, 0);
        if !state.pubsub.queued.is_empty() {
            return false;
        }
        state.idle_socket = Some(Arc::clone(self.socket));
        true
    }

    /// Ends a wait begun by [`Conn::go_idle`]: takes the socket back, before
    /// the connection writes anything, and counts what other tasks wrote to
    /// the client meanwhile as activity.
    fn wake_up(&mut self) {
        let mut state = self.handle.lock();
        state.idle_socket = None;
        if state.last_interaction > self.last_activity {
            self.last_activity = state.last_interaction;
        }
    }

    /// Whether the buffers hold more room than an idle connection keeps.
    fn has_spare_room(&self) -> bool {
        self.read_buf.capacity() - self.read_buf.len() > 2 * IDLE_READ_SPARE
            || self.out.capacity() > REPLY_CHUNK_BYTES
            || self.out_peak > 0
    }

    /// Gives back the buffers' spare room (the query buffer keeps what it
    /// holds, such as a request still arriving, plus room for one read).
    fn release_spare_room(&mut self) {
        if self.read_buf.capacity() - self.read_buf.len() > 2 * IDLE_READ_SPARE {
            let mut trimmed = BytesMut::with_capacity(self.read_buf.len() + IDLE_READ_SPARE);
            trimmed.extend_from_slice(&self.read_buf);
            self.read_buf = trimmed;
        }
        if self.out.capacity() > REPLY_CHUNK_BYTES {
            self.out = BytesMut::new();
        }
        self.out_peak = 0;
    }
}

/// Ends client `id`'s wait in the blocking registry (if it is still there)
/// and clears its `flags=b`. Returns whether it was still blocked: if not, it
/// was served or unblocked and its reply is in its channel.
fn leave_blocking(dataset: &SharedDataset, handle: &ClientHandle, id: u64) -> bool {
    let was_blocked = dataset::lock(dataset).blocking.unblock(id);
    handle.lock().blocked = false;
    was_blocked
}

/// Most bytes a blocked client's query buffer takes in while it waits: the
/// socket is still read, to see the peer close, but a client that keeps
/// sending is left in the kernel's buffers beyond this.
const MAX_READ_WHILE_BLOCKED: usize = 1024 * 1024;

impl Conn<'_> {
    /// Waits until the blocked client is served, unblocked or times out,
    /// and puts its reply in `out`; gives up when the client is to be
    /// closed (killed, shutdown, the peer gone), leaving the registry. No
    /// idle `timeout` applies meanwhile, as in Redis.
    async fn wait_unblocked(
        &mut self,
        mut wait: BlockWait,
        dataset: &SharedDataset,
        id: u64,
    ) -> Result<(), Close> {
        let deadline = wait.deadline.map(tokio::time::Instant::from_std);
        // Lent while blocked: a served reply (with the AOF off) is written
        // by the task that served it.
        self.go_idle(None);
        let outcome = loop {
            let reading = self.read_buf.len() < MAX_READ_WHILE_BLOCKED;
            if self.read_buf.capacity() - self.read_buf.len() < READ_BUFFER_LEN / 2 {
                self.read_buf.reserve(READ_BUFFER_LEN);
            }
            tokio::select! {
                reply = &mut wait.reply => {
                    // A dropped sender would be a registry bug: answer as a
                    // timeout rather than hang.
                    break Ok(reply.unwrap_or_else(|_| Bytes::from_static(wait.timeout_reply)));
                }
                _ = sleep_until(deadline) => {
                    if leave_blocking(dataset, self.handle, id) {
                        break Ok(Bytes::from_static(wait.timeout_reply));
                    }
                    // Served (or unblocked) just before: the reply is sent.
                    match wait.reply.try_recv() {
                        Ok(reply) => break Ok(reply),
                        Err(_) => break Ok(Bytes::from_static(wait.timeout_reply)),
                    }
                }
                _ = self.handle.kill.notified() => break Err(Close::Server),
                _ = &mut self.watch.shutdown => break Err(Close::Server),
                read = read_some(self.socket, &mut self.read_buf), if reading => match read {
                    Ok(0) | Err(_) => break Err(Close::Peer),
                    Ok(n) => {
                        self.server
                            .stats
                            .total_net_input_bytes
                            .fetch_add(n as u64, Ordering::Relaxed);
                        self.last_activity = Instant::now();
                    }
                },
            }
        };
        self.wake_up();
        let reply = outcome?;
        if reply.is_empty() {
            // Served with the AOF off: the reply went to the outbox, and
            // is written already or follows from there (see
            // `blocking::hand_over`). Nothing to wait for.
            self.handle.lock().blocked = false;
            return Ok(());
        }
        self.handle.lock().blocked = false;
        self.out.extend_from_slice(&reply);
        // A served reply shows what the serve wrote (queued in the AOF by
        // the command that served it): it waits for that as any reply does.
        let hold = dataset::lock(dataset).aof().and_then(|live| {
            let seq = live.aof.queued_seq();
            live.aof
                .reply_must_wait(seq)
                .then(|| (Arc::clone(&live.aof), seq))
        });
        if let Some((aof, seq)) = hold {
            tokio::select! {
                _ = aof.hold_reply(seq, None) => {}
                _ = self.handle.kill.notified() => return Err(Close::Server),
                _ = &mut self.watch.shutdown => return Err(Close::Server),
            }
        }
        Ok(())
    }
}

/// Reads what the socket has into `buf`, waiting until it has something
/// (the socket is shared: see [`crate::delivery`]).
///
/// A read that took less than the room it was given emptied the socket, so
/// its readiness is cleared at once (as tokio's own `poll_read` does after a
/// short read): the next wait sleeps until the kernel reports more data
/// instead of beginning with a read that can only fail (`EAGAIN`). The read
/// runs inside `try_io`, which clears the readiness only if no newer event
/// arrived since the read began, so data that came meanwhile is never
/// missed. Leaving the socket ready instead (the first version of the
/// shared socket) cost those failed reads (4,055 of 20,424 `recvfrom`s
/// under the queue bench) and let the saturated queue's list build up to
/// hundreds of jobs in most rounds (p99 17x Redis's); with the readiness
/// cleared the list stays empty (docs/blocking.md).
///
/// The wait is `poll_read_ready`, not `readable()`: only this connection's
/// task reads the socket, so the one reader slot tokio keeps per socket is
/// enough, whereas `readable()` links a waiter into the socket's list and
/// unlinks it when the `select!` around this drops it, every time. That
/// was about 300 of the 4,900 instructions per `GET` at `-P 1` (callgrind;
/// the writers of other tasks keep using `writable()`).
async fn read_some(socket: &TcpStream, buf: &mut BytesMut) -> std::io::Result<usize> {
    use std::io::ErrorKind::WouldBlock;
    loop {
        std::future::poll_fn(|cx| socket.poll_read_ready(cx)).await?;
        let room = buf.capacity() - buf.len();
        let mut read = None;
        let result = socket.try_io(tokio::io::Interest::READABLE, || {
            let n = socket.try_read_buf(buf)?;
            read = Some(n);
            if n > 0 && n < room {
                // Emptied: `try_io` clears the readiness on `WouldBlock`.
                Err(WouldBlock.into())
            } else {
                Ok(n)
            }
        });
        match (result, read) {
            (_, Some(n)) => return Ok(n),
            (Err(err), None) if err.kind() == WouldBlock => continue,
            (result, None) => return result,
        }
    }
}

/// Writes what the socket takes of `data`, waiting until it takes something.
async fn write_some(socket: &TcpStream, data: &[u8]) -> std::io::Result<usize> {
    loop {
        socket.writable().await?;
        match socket.try_write(data) {
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What a batch's replies must wait for before they are sent: see
/// [`execute_batch`].
struct ReplyHold {
    aof: Arc<Aof>,
    /// The last AOF sequence the replies may show.
    seq: u64,
    /// Whether the batch queued records itself (as opposed to only reading
    /// what others wrote): a connection writing alone may fsync its own
    /// records (see [`crate::aof::lone_writer`]).
    wrote: bool,
}

/// Runs `requests` under one dataset lock and appends their replies to `out`,
/// until they are all run or [`MAX_BATCH_OUTPUT`] bytes of replies wait (the
/// requests not run stay in `requests`). Checks the output limits after each
/// command; a client over one is marked killed and runs nothing more.
///
/// Also returns what the replies must wait for. A reply may show any write
/// whose records were queued before the batch ended (records are queued
/// under the dataset lock this batch holds), its own and other clients'.
/// So, if a command that reads or writes keys ran and the AOF has queued
/// records it has not committed yet (written under `everysec` and `no`,
/// fsynced under `always`), the replies wait for the last sequence queued
/// at the end of the batch: nothing a client saw can be lost by a crash
/// the policy covers. Redis gets the same from sending every reply after
/// its event loop's write and fsync (`beforeSleep`). When everything queued
/// is committed, which is the rule for reads without writes in flight, the
/// check is one atomic comparison and nothing waits. Batches that touched
/// no key (`PING`, `INFO`, `CONFIG`, or writes refused with `MISCONF`) do
/// not wait either, so a failing disk can still be diagnosed.
fn execute_batch(
    server: &ServerState,
    dataset: &SharedDataset,
    handle: &ClientHandle,
    requests: &mut Vec<Request>,
    out: &mut BytesMut,
    figures: QueryBufferFigures,
) -> (Effects, Option<ReplyHold>) {
    let limits = server.config().client_output_buffer_limit;
    let auth_required = server.auth_required();
    let mut effects = Effects::default();
    let mut guard = dataset::lock(dataset);
    let data = &mut *guard;
    let mut client = handle.lock();
    client.last_interaction = figures.last_activity;
    client.query_buffer_len = figures.len;
    client.query_buffer_free = figures.free;
    client.argv_mem = figures.argv_mem;
    // Messages published before this batch precede its replies.
    client.pubsub.drain_into(out);
    let mut ran = 0;
    // The clock of the next command: a command that ran ends with a read of
    // it (`dispatch::call`), which is where the next one starts.
    let mut clock_us = unix_time_us();
    let batch_started_us = clock_us;
    for request in requests.iter() {
        if effects.close_after_reply || effects.shutdown.is_some() {
            // Redis stops reading a client's buffer once it is to be closed.
            ran = requests.len();
            break;
        }
        if out.len() >= MAX_BATCH_OUTPUT {
            break;
        }
        let mut ctx = ExecContext {
            store: &mut data.store,
            propagation: &mut data.propagation,
            client: &mut client,
            server,
            now_ms: clock_us / 1000,
            call_clock_us: clock_us,
            out,
            effects: &mut effects,
            blocking: &mut data.blocking,
            deny_blocking: false,
        };
        commands::execute(&mut ctx, request.args());
        clock_us = if ctx.call_clock_us != clock_us {
            ctx.call_clock_us
        } else {
            // Refused before it ran (no clock read): read one now.
            unix_time_us()
        };
        if effects.postponed {
            // CLIENT PAUSE: this request and those after it wait (`run`).
            break;
        }
        ran += 1;
        if client.block_wait.is_some() {
            // The command blocked the client: the rest of its pipeline
            // waits until the wait is over (see `Conn::wait_unblocked`).
            break;
        }
        // Nothing is over a limit until output overflows Redis's static
        // buffer, and a soft limit's clock only restarts when checked.
        if out.len() > REPLY_CHUNK_BYTES || client.soft_limit_since.is_some() {
            client.output_pending = out.len();
            client.reply_buffer_size = out.capacity();
            let auth_pending = auth_required && !client.authenticated;
            let limit = limits.get(client.limit_class());
            if client.output_limit_reached(&limit, auth_pending, Instant::now()) {
                handle.close_for_output_limit(&mut client, &server.stats);
                ran = requests.len();
                break;
            }
        }
    }
    requests.drain(..ran);
    effects.batch_us = clock_us.saturating_sub(batch_started_us);
    // Broadcast-mode tracking sends the keys changed during the batch
    // (Redis: once per event-loop turn, in `beforeSleep`).
    server.tracking.broadcast(server, Some(&mut client));
    // The sequence the AOF gave this batch's records, if it queued any.
    let appended = data.finish_batch(&server.stats);
    // The AOF in force at the end of the batch: a batch that turned it on
    // waits for the new one, one that turned it off for nothing.
    let hold = data.aof().and_then(|live| {
        let wrote = appended.is_some();
        // A batch that only read may show any record queued before it
        // ended (under the lock it holds): the last one queued.
        let seq = appended.unwrap_or_else(|| live.aof.queued_seq());
        ((effects.touched_keyspace || wrote) && live.aof.reply_must_wait(seq)).then(|| ReplyHold {
            aof: Arc::clone(&live.aof),
            seq,
            wrote,
        })
    });
    (effects, hold)
}

/// Builds the state of a newly accepted connection.
pub(crate) fn new_client(server: &ServerState, socket: &TcpStream) -> std::io::Result<ClientState> {
    let addr = socket.peer_addr()?;
    let laddr = socket.local_addr()?;
    #[cfg(unix)]
    let fd = {
        use std::os::fd::AsRawFd;
        i64::from(socket.as_raw_fd())
    };
    #[cfg(not(unix))]
    let fd = -1;
    let id = server.clients.next_id();
    Ok(ClientState::new(
        id,
        addr,
        laddr,
        fd,
        !server.auth_required(),
    ))
}
