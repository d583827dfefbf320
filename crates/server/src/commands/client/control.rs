//! The client-control subcommands: `CLIENT REPLY`, `CLIENT PAUSE`,
//! `CLIENT UNPAUSE`, `CLIENT NO-EVICT`, and `MONITOR`, with Redis 7.0's
//! replies and error texts (`clientCommand` and `monitorCommand` in
//! networking.c and replication.c). The state they set lives in
//! [`crate::client::ClientState`] (reply mode, monitor, no-evict) and
//! [`crate::client_pause`]; the dispatcher applies it (see
//! `commands::dispatch`).

use bytes::Bytes;

use crate::client_pause::PauseMode;
use crate::commands::context::ExecContext;
use crate::commands::errors;

/// `CLIENT REPLY ON|OFF|SKIP`: `ON` answers `OK`; `OFF` and `SKIP` answer
/// nothing (the dispatcher drops the output of a command run while replies
/// are off or skipped), and `SKIP` under `OFF` does nothing.
pub(crate) fn handle_client_reply(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mode = &args[2];
    let reply = &mut ctx.client.reply;
    if mode.eq_ignore_ascii_case(b"on") {
        reply.skip = false;
        reply.off = false;
        ctx.reply_ok();
    } else if mode.eq_ignore_ascii_case(b"off") {
        reply.off = true;
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if !reply.off {
            reply.skip_next = true;
        }
    } else {
        ctx.reply_error(errors::SYNTAX);
    }
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`: the mode is checked before the
/// timeout, as in Redis; the timeout is milliseconds
/// (`getTimeoutFromObjectOrReply` with `UNIT_MILLISECONDS`).
pub(crate) fn handle_client_pause(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mode = match args.get(3) {
        None => PauseMode::All,
        Some(word) if word.eq_ignore_ascii_case(b"write") => PauseMode::Write,
        Some(word) if word.eq_ignore_ascii_case(b"all") => PauseMode::All,
        Some(_) => {
            ctx.reply_error("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    };
    let Some(timeout) = redigo_store::numeric::parse_i64(&args[2]) else {
        ctx.reply_error("ERR timeout is not an integer or out of range");
        return;
    };
    if timeout < 0 {
        ctx.reply_error("ERR timeout is negative");
        return;
    }
    // Redis 7.0 adds the timeout to the current Unix time in milliseconds
    // without an overflow check: a sum past `i64::MAX` wraps to an end in
    // the past, so the pause ends at once (its mode still applies to a
    // pause already in force, as here).
    let duration_ms = if timeout > i64::MAX - ctx.now_ms as i64 {
        0
    } else {
        timeout as u64
    };
    ctx.server.pause.pause(mode, duration_ms);
    ctx.reply_ok();
}

/// `CLIENT UNPAUSE`: lifts any pause; postponed clients run at once.
pub(crate) fn handle_client_unpause(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.server.pause.unpause();
    ctx.reply_ok();
}

/// `CLIENT NO-EVICT ON|OFF`: sets the `e` flag (Redigo never evicts
/// clients for `maxmemory-clients`, so it changes nothing else yet).
pub(crate) fn handle_client_no_evict(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let value = &args[2];
    if value.eq_ignore_ascii_case(b"on") {
        ctx.client.no_evict = true;
        ctx.reply_ok();
    } else if value.eq_ignore_ascii_case(b"off") {
        ctx.client.no_evict = false;
        ctx.reply_ok();
    } else {
        ctx.reply_error(errors::SYNTAX);
    }
}

/// `MONITOR`: the client enters monitor mode and answers `OK`; a client
/// already monitoring gets no reply at all, as in Redis (it is a replica
/// there, which `monitorCommand` ignores).
pub(crate) fn handle_monitor(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    if ctx.client.monitor {
        return;
    }
    // A client the registry does not know (an in-process harness) cannot
    // be streamed to: it is flagged only.
    if let Some(handle) = ctx.server.clients.get(ctx.client.id) {
        ctx.server.monitors.add(ctx.client.id, handle);
    }
    ctx.client.monitor = true;
    ctx.reply_ok();
}
