//! The transaction commands: `MULTI`, `EXEC`, `DISCARD`, `WATCH`,
//! `UNWATCH`, with Redis 7.0's replies (`multi.c`).
//!
//! # Queuing
//!
//! A client's [`MultiState`] lives in its [`ClientState`]. While it is in
//! `MULTI`, the dispatcher (`dispatch::execute`) runs the checks Redis's
//! `processCommand` makes (lookup, arity, authentication, commands flagged
//! `no_multi`, `MISCONF`) and then, for anything but `EXEC`, `DISCARD`,
//! `MULTI`, `WATCH`, `QUIT` and `RESET`, queues the command and answers
//! `QUEUED`. A rejection while queuing flags the transaction
//! ([`MultiState::flag`], Redis's `CLIENT_DIRTY_EXEC`): `EXEC` then answers
//! `EXECABORT` and runs nothing. A flagged (or watch-dirty) transaction
//! stops keeping what it queues, as Redis's `queueMultiCommand` does.
//!
//! # EXEC
//!
//! `EXEC` runs each queued command through the dispatcher's
//! [`call`](super::dispatch::call) (the handler, statistics, lazy-expiry
//! propagation) while [`MultiState::in_exec`] is set. Everything happens
//! inside the one `EXEC` command, under the dataset lock that the
//! connection holds for its batch, so no other client's command can run in
//! between. A runtime error of one command is its element of the reply and
//! the others still run.
//!
//! Inside `EXEC` blocking commands must not block:
//! [`ExecContext::deny_blocking`] tells them to answer as with a zero
//! timeout (Redis's `CLIENT_DENY_BLOCKING`).
//!
//! # Propagation and durability
//!
//! The queued commands record their writes as usual; the dispatcher wraps
//! the records of one top-level command in `MULTI`/`EXEC` when there is
//! more than one (Redis 7.0's `propagatePendingCommands`), and commands
//! inside `EXEC` do not wrap their own. So a transaction of reads logs
//! nothing, one with a single write logs that write alone (as Redis 7.0),
//! and one with several writes, lazy-expiry `DEL`s included, logs them in
//! exactly one `MULTI`/`EXEC`. The records reach the AOF with the batch
//! that ran `EXEC`, and its reply waits for them as any write's reply does
//! (fsynced first under `appendfsync always`).
//!
//! # WATCH
//!
//! The keys and the dirty marks are kept by [`crate::watch`]; see there
//! for which changes count.

mod specs;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use redigo_store::Store;

use super::context::ExecContext;
use super::spec::CommandSpec;
use crate::client::ClientState;
use crate::state::ServerState;

pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// `EXEC` after an error while queuing.
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// Most bytes of arguments one transaction may queue. Redis 7.0 has no
/// limit of its own (only `maxmemory-clients`, off by default), so a client
/// could grow a queue without bound; this cap is the size of Redis's
/// default `client-query-buffer-limit` (1 GiB), far above any real
/// transaction. Past it the queue is freed and the transaction doomed, as
/// a rejection while queuing dooms it.
pub const MAX_QUEUED_BYTES: usize = 1 << 30;

/// The error of a command that would queue past [`MAX_QUEUED_BYTES`].
const QUEUE_TOO_BIG: &str = "ERR MULTI queue limit exceeded: the transaction is discarded at EXEC";

/// Commands that run at once even inside `MULTI` (Redis's `processCommand`
/// exceptions): the transaction commands themselves, `QUIT` and `RESET`.
const NOT_QUEUED: [&str; 6] = ["exec", "discard", "multi", "watch", "quit", "reset"];

/// One queued command.
#[derive(Debug)]
struct Queued {
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
}

/// A client's transaction state: Redis's `mstate` and the `CLIENT_MULTI`,
/// `CLIENT_DIRTY_EXEC` and `CLIENT_DIRTY_CAS` flags.
#[derive(Debug, Default)]
pub struct MultiState {
    /// The commands queued since `MULTI`; `None` outside a transaction.
    queued: Option<Vec<Queued>>,
    /// A command was rejected while queuing: `EXEC` answers `EXECABORT`.
    dirty_exec: bool,
    /// A watched key changed; set by the watch registry, which shares it.
    dirty_cas: Arc<AtomicBool>,
    /// `EXEC` is running the queued commands.
    in_exec: bool,
    /// How many commands the running `EXEC` has (`multi=` meanwhile).
    exec_len: usize,
    /// Some queued command is flagged `write` (`EXEC` is then refused with
    /// `MISCONF` as a write, as Redis's `processCommand` treats it).
    queued_write: bool,
    /// Bytes of the queued arguments (`multi-mem` of `CLIENT LIST`).
    queued_bytes: usize,
    /// The client may watch keys (a hint so that `RESET`, `UNWATCH` and
    /// disconnection skip the registry for clients that never watched).
    watching: bool,
}

impl MultiState {
    /// Whether the client is in `MULTI` (flag `x`), `EXEC` included, as
    /// Redis leaves `CLIENT_MULTI` set until the queued commands have run.
    pub fn in_multi(&self) -> bool {
        self.queued.is_some() || self.in_exec
    }

    /// Whether `EXEC` is running this client's queued commands.
    pub fn in_exec(&self) -> bool {
        self.in_exec
    }

    /// Whether a watched key changed (flag `d`).
    pub fn dirty_cas(&self) -> bool {
        self.dirty_cas.load(Ordering::Relaxed)
    }

    /// `multi=` of `CLIENT LIST`: the queued commands, or -1 outside
    /// `MULTI`.
    pub fn queued_count(&self) -> i64 {
        if self.in_exec {
            return self.exec_len as i64;
        }
        self.queued.as_ref().map_or(-1, |q| q.len() as i64)
    }

    /// `multi-mem=` of `CLIENT LIST`: the queued arguments and the queue.
    pub fn memory(&self) -> usize {
        self.queued_bytes
            + self
                .queued
                .as_ref()
                .map_or(0, |q| q.capacity() * std::mem::size_of::<Queued>())
    }

    /// Flags the transaction after a rejection while queuing (Redis's
    /// `flagTransaction`); nothing outside `MULTI`.
    pub fn flag(&mut self) {
        if self.in_multi() {
            self.dirty_exec = true;
        }
    }

    /// Whether a queued `EXEC` would write (see [`MultiState::queued_write`]).
    pub fn exec_writes(&self) -> bool {
        self.in_multi() && self.queued_write
    }

    /// Leaves `MULTI`, dropping the queue and both dirty flags (Redis's
    /// `discardTransaction` without the unwatch).
    fn reset(&mut self) {
        self.queued = None;
        self.dirty_exec = false;
        self.in_exec = false;
        self.exec_len = 0;
        self.queued_write = false;
        self.queued_bytes = 0;
        self.dirty_cas.store(false, Ordering::Relaxed);
    }
}

/// Whether `spec` is queued inside `MULTI` (see [`NOT_QUEUED`]).
pub(crate) fn is_queued(spec: &CommandSpec) -> bool {
    !NOT_QUEUED.contains(&spec.name)
}

/// Queues `args` (already checked) and answers `QUEUED`. A transaction
/// already doomed keeps nothing, as in Redis.
pub(crate) fn queue(ctx: &mut ExecContext<'_>, spec: &'static CommandSpec, args: &[Bytes]) {
    let state = &mut ctx.client.multi;
    if !state.dirty_exec && !state.dirty_cas() {
        // As Redis's `argv_len_sums`: the bytes and one pointer each.
        let bytes = args
            .iter()
            .map(|arg| arg.len() + std::mem::size_of::<usize>())
            .sum::<usize>();
        if state.queued_bytes + bytes > MAX_QUEUED_BYTES {
            state.dirty_exec = true;
            state.queued = Some(Vec::new());
            state.queued_bytes = 0;
            ctx.reply_error(QUEUE_TOO_BIG);
            return;
        }
        state.queued_bytes += bytes;
        state.queued_write |= spec.has(super::spec::Flag::Write);
        if let Some(queued) = state.queued.as_mut() {
            queued.push(Queued {
                spec,
                args: args.to_vec(),
            });
        }
    }
    ctx.reply_simple("QUEUED");
}

/// `EXEC` refused by a check of the dispatcher (wrong arity, `MISCONF`),
/// in `MULTI` or not: the transaction, if any, is discarded and the reason
/// given after `EXECABORT` (Redis's `rejectCommand` calls
/// `execCommandAbort` for `EXEC`; a generic error's `ERR ` code is not
/// repeated, as Redis formats it before adding one).
pub(crate) fn abort_exec(ctx: &mut ExecContext<'_>, error: &str) {
    discard(ctx);
    let reason = error.strip_prefix("ERR ").unwrap_or(error);
    ctx.reply_error(&format!(
        "EXECABORT Transaction discarded because of: {reason}"
    ));
}

/// Leaves `MULTI` and forgets the watched keys (Redis's
/// `discardTransaction`); also what `RESET` does.
pub(crate) fn discard(ctx: &mut ExecContext<'_>) {
    ctx.client.multi.reset();
    unwatch_all(ctx);
}

/// Forgets every key the client watches.
fn unwatch_all(ctx: &mut ExecContext<'_>) {
    if std::mem::take(&mut ctx.client.multi.watching) {
        ctx.server.watches.unwatch_all(ctx.store, ctx.client.id);
    }
}

/// Forgets what a closing client watches (called by its connection under
/// the dataset lock).
pub(crate) fn release_client(server: &ServerState, store: &mut Store, client: &ClientState) {
    if client.multi.watching {
        server.watches.unwatch_all(store, client.id);
    }
}

fn handle_multi(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    if ctx.client.multi.in_multi() {
        ctx.reply_error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.multi.queued = Some(Vec::new());
    ctx.reply_ok();
}

fn handle_discard(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    if !ctx.client.multi.in_multi() {
        ctx.reply_error("ERR DISCARD without MULTI");
        return;
    }
    discard(ctx);
    ctx.reply_ok();
}

fn handle_exec(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    if !ctx.client.multi.in_multi() {
        ctx.reply_error("ERR EXEC without MULTI");
        return;
    }
    // Changes made outside commands (the active expiry cycle) are applied
    // before judging the watched keys.
    crate::watch::apply_key_signals(ctx.server, ctx.store, false, ctx.now_ms, Some(ctx.client));
    if ctx.client.multi.watching
        && ctx
            .server
            .watches
            .watched_key_expired(ctx.store, ctx.client.id, ctx.now_ms)
    {
        ctx.client.multi.dirty_cas.store(true, Ordering::Relaxed);
    }
    if ctx.client.multi.dirty_exec {
        discard(ctx);
        ctx.reply_error(EXECABORT);
        return;
    }
    if ctx.client.multi.dirty_cas() {
        discard(ctx);
        ctx.reply_null_array();
        return;
    }
    // Unwatch at once: nothing the transaction does can fail it now.
    unwatch_all(ctx);
    let queued = ctx.client.multi.queued.take().unwrap_or_default();
    ctx.client.multi.in_exec = true;
    ctx.client.multi.exec_len = queued.len();
    ctx.reply_array_len(queued.len());
    for command in &queued {
        super::dispatch::call(ctx, command.spec, &command.args);
    }
    ctx.client.multi.reset();
}

fn handle_watch(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if ctx.client.multi.in_multi() {
        ctx.reply_error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    // Signals left by changes outside commands (the active expiry cycle)
    // belong to the watches before this one.
    crate::watch::apply_key_signals(ctx.server, ctx.store, false, ctx.now_ms, Some(ctx.client));
    // No point in watching once dirty (as Redis).
    if !ctx.client.multi.dirty_cas() {
        ctx.client.multi.watching = true;
        let dirty = Arc::clone(&ctx.client.multi.dirty_cas);
        for key in &args[1..] {
            ctx.server.watches.watch(
                ctx.store,
                ctx.client.id,
                &dirty,
                ctx.client.db,
                key,
                ctx.now_ms,
            );
        }
    }
    ctx.reply_ok();
}

fn handle_unwatch(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    unwatch_all(ctx);
    ctx.client.multi.dirty_cas.store(false, Ordering::Relaxed);
    ctx.reply_ok();
}
