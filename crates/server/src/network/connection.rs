//! One client connection: read, decode, execute in batches, write.
//!
//! The loop reads what the socket has, decodes every complete request in the
//! buffer, takes the dataset lock once, runs them all in order, does the
//! end-of-batch bookkeeping, releases the lock and writes all the replies
//! with one write. A pipeline of N commands therefore costs one lock and one
//! write per read, not N.
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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redigo_resp::{Limits, ProtocolError, Request, RequestCodec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

use crate::aof::Aof;
use crate::client::{ClientHandle, ClientState};
use crate::commands::{self, Effects, ExecContext};
use crate::dataset::{self, SharedDataset};
use crate::shared::{ServerState, unix_time_ms};

/// Initial capacity of a connection's read buffer (Redis's `PROTO_IOBUF_LEN`).
const READ_BUFFER_LEN: usize = 16 * 1024;
/// Most requests executed under one lock: bounds how long one pipelining
/// client holds the dataset while others wait.
const MAX_BATCH: usize = 1024;
/// Above this much reply data a batch stops early and writes, so a pipeline
/// of huge reads cannot build an unbounded output buffer.
const MAX_BATCH_OUTPUT: usize = 4 * 1024 * 1024;

/// Why a connection ends.
#[derive(Debug)]
enum Close {
    /// The peer closed or the socket failed.
    Peer,
    /// `QUIT`, a protocol error, `CLIENT KILL`, the idle timeout, shutdown.
    Server,
}

/// Runs a connection until it closes. The client is registered by the caller
/// and unregistered here.
pub(crate) async fn serve(
    mut socket: TcpStream,
    server: Arc<ServerState>,
    dataset: SharedDataset,
    handle: ClientHandle,
) {
    let id = handle.lock().id;
    let outcome = run(&mut socket, &server, &dataset, &handle).await;
    tracing::debug!(client = id, ?outcome, "connection closed");
    let _ = socket.shutdown().await;
    server.clients.unregister(id);
}

fn limits_for(server: &ServerState) -> Limits {
    Limits {
        max_bulk_len: server.config().proto_max_bulk_len,
        ..Limits::default()
    }
}

async fn run(
    socket: &mut TcpStream,
    server: &ServerState,
    dataset: &SharedDataset,
    handle: &ClientHandle,
) -> Close {
    let mut shutdown = server.shutdown_receiver();
    if shutdown.borrow().is_some() {
        // Accepted just as the server began shutting down: the receiver
        // treats that request as already seen, so act on it here.
        return Close::Server;
    }
    let mut read_buf = BytesMut::with_capacity(READ_BUFFER_LEN);
    let mut out = BytesMut::new();
    let mut codec = RequestCodec::with_limits(limits_for(server));
    let mut requests: Vec<Request> = Vec::new();
    let mut last_activity = Instant::now();
    let client_id = handle.lock().id;

    loop {
        codec.set_limits(limits_for(server));
        codec.set_auth_required(!handle.lock().authenticated && server.auth_required());

        // Decode and execute everything complete in the buffer.
        let mut protocol_error: Option<ProtocolError> = None;
        loop {
            let batch_limit = if codec.auth_required() { 1 } else { MAX_BATCH };
            while requests.len() < batch_limit {
                match codec.decode(&mut read_buf) {
                    Ok(Some(request)) => requests.push(request),
                    Ok(None) => break,
                    Err(err) => {
                        protocol_error = Some(err);
                        break;
                    }
                }
            }
            if requests.is_empty() {
                break;
            }
            let buffered = (read_buf.len(), read_buf.capacity() - read_buf.len());
            let (effects, hold) =
                execute_batch(server, dataset, handle, &mut requests, &mut out, buffered);
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
                let writer = hold.wrote.then_some(client_id);
                hold.aof.hold_reply(hold.seq, writer).await;
            }
            if let Some(mode) = effects.shutdown {
                server.request_shutdown(mode);
                write_out(socket, server, &mut out).await;
                return Close::Server;
            }
            if effects.close_after_reply || handle.lock().kill_requested {
                write_out(socket, server, &mut out).await;
                return Close::Server;
            }
            codec.set_auth_required(!handle.lock().authenticated && server.auth_required());
            if protocol_error.is_some() {
                break;
            }
            if out.len() >= MAX_BATCH_OUTPUT && !write_out(socket, server, &mut out).await {
                return Close::Peer;
            }
        }
        if let Some(err) = protocol_error {
            tracing::debug!(client = %handle.lock().addr, %err, "protocol error");
            err.encode_reply(&mut out);
            write_out(socket, server, &mut out).await;
            return Close::Server;
        }
        if !write_out(socket, server, &mut out).await {
            return Close::Peer;
        }

        if read_buf.capacity() - read_buf.len() < READ_BUFFER_LEN / 2 {
            // Without spare room BytesMut would grow by tiny steps and a
            // large request would arrive in many small reads.
            read_buf.reserve(READ_BUFFER_LEN);
        }
        let timeout = server.config().timeout;
        let idle_deadline = (timeout > 0)
            .then(|| tokio::time::Instant::from_std(last_activity + Duration::from_secs(timeout)));
        tokio::select! {
            read = socket.read_buf(&mut read_buf) => match read {
                Ok(0) | Err(_) => return Close::Peer,
                Ok(n) => {
                    server.stats.total_net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    last_activity = Instant::now();
                }
            },
            _ = shutdown.changed() => return Close::Server,
            _ = handle.kill.notified() => return Close::Server,
            _ = sleep_until(idle_deadline) => {
                tracing::debug!(client = %handle.lock().addr, "closing idle client");
                return Close::Server;
            }
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

/// Runs `requests` under one dataset lock and appends their replies to `out`.
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
    (query_buffer_len, query_buffer_free): (usize, usize),
) -> (Effects, Option<ReplyHold>) {
    let mut effects = Effects::default();
    let mut guard = dataset::lock(dataset);
    let data = &mut *guard;
    let mut client = handle.lock();
    client.last_interaction = Instant::now();
    client.query_buffer_len = query_buffer_len;
    client.query_buffer_free = query_buffer_free;
    for request in requests.drain(..) {
        if effects.close_after_reply || effects.shutdown.is_some() {
            // Redis stops reading a client's buffer once it is to be closed.
            continue;
        }
        let mut ctx = ExecContext {
            store: &mut data.store,
            propagation: &mut data.propagation,
            client: &mut client,
            server,
            now_ms: unix_time_ms(),
            out,
            effects: &mut effects,
        };
        commands::execute(&mut ctx, request.args());
    }
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

/// Writes and clears `out`; false if the peer is gone.
async fn write_out(socket: &mut TcpStream, server: &ServerState, out: &mut BytesMut) -> bool {
    if out.is_empty() {
        return true;
    }
    let ok = socket.write_all(out).await.is_ok();
    if ok {
        server
            .stats
            .total_net_output_bytes
            .fetch_add(out.len() as u64, Ordering::Relaxed);
    }
    out.clear();
    ok
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
