//! Running one request: the checks Redis's `processCommand` makes before a
//! handler is called, in the same order, with the same error texts.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::context::ExecContext;
use super::errors;
use super::spec::{CommandSpec, Flag};
use super::table::Lookup;
use super::transactions;
use crate::state::unix_time_us;

/// Commands Redis treats as a cross-protocol attack (an HTTP request sent to
/// the Redis port): the connection is closed without a reply.
const CROSS_PROTOCOL_NAMES: [&[u8]; 2] = [b"post", b"host:"];

/// Redis 7.0's `CMD_MAY_REPLICATE` commands (of its JSON command files),
/// which `COMMAND INFO` hides on purpose, so the generated specs cannot
/// carry the flag: `CLIENT PAUSE WRITE` holds them and a monitor may not
/// run them. Commands Redigo lacks are listed for when they arrive.
const MAY_REPLICATE: [&str; 6] = ["publish", "spublish", "pfcount", "eval", "evalsha", "fcall"];

/// Whether `spec` may replicate (see [`MAY_REPLICATE`]).
fn may_replicate(spec: &CommandSpec) -> bool {
    spec.has(Flag::MayReplicate) || MAY_REPLICATE.contains(&spec.name)
}

/// Commands that may lazily expire arbitrary keys (Redis 7.0's
/// `CMD_TOUCHES_ARBITRARY_KEYS`): run directly, their `DEL`s are not
/// wrapped in `MULTI`/`EXEC` (`propagatePendingCommands`), as the active
/// cycle's are not; inside `EXEC` they are wrapped with the transaction.
const TOUCHES_ARBITRARY_KEYS: [&str; 2] = ["randomkey", "scan"];

/// Counts the keys the command found expired (`expired_keys`) and records a
/// `DEL` for each ahead of the command's own records (see
/// [`PropagationLog::insert_expired_before`](crate::propagation::PropagationLog::insert_expired_before)).
fn propagate_lazy_expiry(ctx: &mut ExecContext<'_>, records_start: usize) {
    let expired = ctx.store.drain_expired();
    if expired.is_empty() {
        return;
    }
    ctx.server
        .stats
        .expired_keys
        .fetch_add(expired.len() as u64, Ordering::Relaxed);
    ctx.propagation
        .insert_expired_before(records_start, &expired);
}

/// Blocked clients (see [`crate::blocking`]): a write may have created a
/// key some client waits on, so its keys (by its key specs, as Redis's
/// `dbAdd` signals) are queued as ready; then, unless the command is part of
/// a larger unit (`deny_blocking`: `EXEC` or a script serves once it is
/// over), the ready keys are served. One load when nobody is blocked.
fn serve_blocked_clients(
    ctx: &mut ExecContext<'_>,
    spec: &'static super::CommandSpec,
    args: &[Bytes],
) {
    if spec.has(Flag::Write) && ctx.blocking.has_waiters() {
        let keys = super::introspection::key_positions(spec, args);
        ctx.blocking
            .signal_keys(keys.iter().map(|&(index, _)| &args[index]));
    }
    if !ctx.deny_blocking() && ctx.blocking.has_ready() {
        let served = crate::blocking::serve_ready(
            ctx.blocking,
            ctx.store,
            ctx.propagation,
            ctx.now_ms,
            ctx.server,
        );
        ctx.effects.served_blocked |= served > 0;
    }
}

/// Runs `args` (a decoded request, never empty) on the context: lookup,
/// arity, authentication, then the handler. Exactly one reply is written,
/// except for a cross-protocol attack, which only closes the connection,
/// and while `CLIENT REPLY OFF|SKIP` drops it.
pub fn execute(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let reply_start = ctx.out.len();
    // CLIENT PAUSE also pauses lazy expiry (see `client_pause`).
    ctx.store
        .set_expiry_paused(ctx.server.pause.mode().is_some());
    process(ctx, args);
    if ctx.effects.postponed {
        // Not run yet (CLIENT PAUSE): it comes back through here.
        return;
    }
    // CLIENT REPLY: what a command added while replies are off or skipped
    // is dropped (Redis's `prepareClientToWrite` refuses it); then a SKIP
    // ends, or begins for the next command (Redis's `resetClient`).
    // Subscription replies are pushed (Redis 7.0.15's `CLIENT_PUSHING`)
    // and pass, as published messages do.
    if ctx.client.reply.suppressed() && !pushed_reply(args, &ctx.out[reply_start..]) {
        ctx.out.truncate(reply_start);
    }
    ctx.client.reply.command_done();
    // CLIENT CACHING applies to the next command, or to the transaction
    // it precedes, and survives other CLIENT subcommands (Redis's
    // `resetClient`).
    if ctx.client.tracking.caching
        && !ctx.client.multi.in_multi()
        && !args[0].eq_ignore_ascii_case(b"client")
    {
        ctx.client.tracking.caching = false;
    }
}

/// The (un)subscribe commands, whose replies Redis 7.0.15 pushes past
/// `CLIENT REPLY OFF|SKIP` (`addReplyPubsub*Subscribed` set
/// `CLIENT_PUSHING`).
const PUSHING_COMMANDS: [&[u8]; 6] = [
    b"subscribe",
    b"unsubscribe",
    b"psubscribe",
    b"punsubscribe",
    b"ssubscribe",
    b"sunsubscribe",
];

/// Whether `reply`, the output of `args`, is pushed: a subscription
/// command that ran (its rejections are plain errors).
fn pushed_reply(args: &[Bytes], reply: &[u8]) -> bool {
    reply.first() == Some(&b'*')
        && args.first().is_some_and(|name| {
            PUSHING_COMMANDS
                .iter()
                .any(|command| name.eq_ignore_ascii_case(command))
        })
}

/// Redis's `processCommand`: the checks, then the call or the queueing.
fn process(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(name) = args.first() else {
        return;
    };
    let spec = match ctx
        .server
        .commands
        .lookup_hinted(args, &mut ctx.client.command_hint)
    {
        Lookup::Found(spec) => spec,
        // Redis checks for these names before looking the command up; no
        // command has them, so checking only names the table lacks is the
        // same and spares every known command the comparisons.
        Lookup::UnknownCommand
            if CROSS_PROTOCOL_NAMES
                .iter()
                .any(|attack| name.eq_ignore_ascii_case(attack)) =>
        {
            tracing::warn!(
                client = %ctx.client.addr,
                "possible SECURITY ATTACK detected: a client sent an HTTP request to the Redis port; connection aborted"
            );
            ctx.effects.close_after_reply = true;
            return;
        }
        Lookup::UnknownCommand => {
            // Every rejection inside MULTI dooms the transaction (Redis's
            // `rejectCommand` calls `flagTransaction`).
            ctx.client.multi.flag();
            ctx.reply_error(&errors::unknown_command(args));
            return;
        }
        Lookup::UnknownSubcommand(container) => {
            ctx.client.multi.flag();
            let sub = ExecContext::arg(args, 1);
            ctx.reply_error(&errors::unknown_subcommand(sub, container.name.as_bytes()));
            return;
        }
    };
    // EXEC counts as a write when it would run one (Redis's
    // `processCommand`), so a failing AOF refuses it as a whole.
    let writes = spec.has(Flag::Write) || (spec.name == "exec" && ctx.client.multi.exec_writes());
    let rejection = if !spec.arity_ok(args.len()) {
        Some(errors::wrong_arity(spec.name))
    } else if !ctx.client.authenticated && !spec.has(Flag::NoAuth) && ctx.server.auth_required() {
        Some(errors::NOAUTH.to_string())
    } else if spec.has(Flag::NoMulti) && ctx.client.multi.in_multi() {
        Some("ERR Command not allowed inside a transaction".to_string())
    } else if writes || spec.name == "ping" {
        // Writes (and PING, as in Redis's `processCommand`) are refused
        // while the AOF cannot be written: one atomic load while it can.
        ctx.propagation
            .aof()
            .and_then(|live| live.aof.write_error())
            .map(|reason| format!("MISCONF Errors writing to the AOF file: {reason}"))
    } else if ctx.client.monitor && (writes || spec.has(Flag::Readonly) || may_replicate(spec)) {
        // A monitor is a replica to Redis, which may not touch keys (its
        // queue cannot hold any: they are refused while queuing).
        Some("ERR Replica can't interact with the keyspace".to_string())
    } else {
        None
    };
    // A subscribed RESP2 client may only (un)subscribe, PING, QUIT, RESET.
    let rejection = rejection.or_else(|| crate::pubsub::context_rejection(ctx.client, spec.name));
    if let Some(error) = rejection {
        if let Some(counters) = ctx.server.command_stats.of(spec) {
            counters.rejected_calls.fetch_add(1, Ordering::Relaxed);
        }
        ctx.client.multi.flag();
        if spec.name == "exec" {
            transactions::abort_exec(ctx, &error);
        } else {
            ctx.reply_error(&error);
        }
        return;
    }

    // Client tracking keeps its table within `tracking-table-max-keys`
    // (Redis's `processCommand` calls `trackingLimitUsedSlots`).
    if ctx.server.tracking.client_count() > 0 {
        let max_keys = ctx.server.config().tracking_table_max_keys;
        ctx.server
            .tracking
            .limit(ctx.server, ctx.store, max_keys, Some(ctx.client));
    }
    ctx.client.last_command = spec.name;
    // CLIENT PAUSE holds every command, or (WRITE) those that may write or
    // replicate; never a monitor (a replica to Redis). See `client_pause`.
    let may_write = writes || may_replicate(spec);
    if !ctx.client.monitor && ctx.server.pause.postpones(may_write) {
        ctx.client.postponed = true;
        ctx.effects.postponed = true;
        return;
    }
    ctx.client.postponed = false;
    // Inside MULTI, commands wait for EXEC (see `transactions`).
    if ctx.client.multi.in_multi() && transactions::is_queued(spec) {
        transactions::queue(ctx, spec, args);
        return;
    }
    call(ctx, spec, args);
}

/// Runs a checked command: the handler, then lazy-expiry propagation, the
/// watched keys it touched, and the statistics (Redis's `call`). `EXEC`
/// calls it for each queued command.
pub(crate) fn call(ctx: &mut ExecContext<'_>, spec: &'static CommandSpec, args: &[Bytes]) {
    let counters = ctx.server.command_stats.of(spec);
    if spec.has(Flag::Write) || spec.has(Flag::Readonly) {
        ctx.effects.touched_keyspace = true;
    }
    let reply_start = ctx.out.len();
    let records_start = ctx.propagation.mark();
    let writes_before = ctx.propagation.writes();
    // Timed from `call_clock_us` (the end of the previous command of the
    // batch, or the batch's own clock read) to here: one clock read per
    // command where Redis's `call` makes two. On the 2-core VM of the
    // benchmarks a read costs enough to show in a profile.
    let started_us = ctx.call_clock_us;
    (spec.handler)(ctx, args);
    let ended_us = unix_time_us();
    ctx.call_clock_us = ended_us;
    let elapsed_us = ended_us.saturating_sub(started_us);
    // `expired` events of keys the handler found expired and did not
    // announce through a notification of its own.
    ctx.announce_lazy_expiry();
    propagate_lazy_expiry(ctx, records_start);
    // A command's records are one unit: wrapped in MULTI/EXEC when there
    // are several, except inside EXEC, whose own call wraps them all.
    if !ctx.client.multi.in_exec() && !TOUCHES_ARBITRARY_KEYS.contains(&spec.name) {
        ctx.propagation.wrap_since(records_start);
    }
    // WATCH and client tracking: mark the clients watching what changed
    // and invalidate what others may cache (a no-op write in place counts
    // only if the command propagated something).
    let wrote = ctx.propagation.writes() != writes_before;
    crate::watch::apply_key_signals(ctx.server, ctx.store, wrote, ctx.now_ms, Some(ctx.client));
    // Client tracking remembers the keys a read-only command fetched
    // (Redis's `call` runs `trackingRememberKeys`).
    if ctx.client.tracking.on
        && !ctx.client.tracking.bcast
        && spec.has(Flag::Readonly)
        && !spec.has(Flag::Pubsub)
    {
        let keys = super::introspection::key_positions(spec, args);
        ctx.server.tracking.remember(
            ctx.store,
            ctx.client,
            keys.iter().map(|&(index, _)| &args[index]),
        );
    }
    // MONITOR sees the command once it ran, unless it is an admin command
    // or hidden from monitors (Redis's `call`).
    if ctx.server.monitors.any() && !spec.has(Flag::SkipMonitor) && !spec.has(Flag::Admin) {
        crate::monitor::feed(ctx.server, ctx.client, args);
    }
    // After the command's own records are wrapped: what serving blocked
    // clients logs is separate, as Redis propagates it after the command.
    let writes_before_serving = ctx.propagation.writes();
    serve_blocked_clients(ctx, spec, args);
    // What serving blocked clients changed (their pops).
    let served = ctx.propagation.writes() != writes_before_serving;
    crate::watch::apply_key_signals(ctx.server, ctx.store, served, ctx.now_ms, Some(ctx.client));
    ctx.server
        .stats
        .total_commands_processed
        .fetch_add(1, Ordering::Relaxed);
    if let Some(counters) = counters {
        counters.calls.fetch_add(1, Ordering::Relaxed);
        counters.usec.fetch_add(elapsed_us, Ordering::Relaxed);
        if ctx.out.get(reply_start) == Some(&b'-') {
            counters.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
    }
}
