//! Server administration: TIME, SHUTDOWN, BGREWRITEAOF.

mod specs;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::state::ShutdownMode;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

fn handle_time(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply_array_len(2);
    ctx.reply_bulk(now.as_secs().to_string().as_bytes());
    ctx.reply_bulk(now.subsec_micros().to_string().as_bytes());
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. On success there is no
/// reply: the connection closes as the server stops, as in Redis.
fn handle_shutdown(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut mode = ShutdownMode::default();
    let mut abort = false;
    for option in &args[1..] {
        if option.eq_ignore_ascii_case(b"NOSAVE") {
            mode.nosave = true;
        } else if option.eq_ignore_ascii_case(b"SAVE") {
            mode.save = true;
        } else if option.eq_ignore_ascii_case(b"NOW") {
            mode.now = true;
        } else if option.eq_ignore_ascii_case(b"FORCE") {
            mode.force = true;
        } else if option.eq_ignore_ascii_case(b"ABORT") {
            abort = true;
        } else {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
    }
    if (abort && mode != ShutdownMode::default()) || (mode.nosave && mode.save) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    if abort {
        // Only a shutdown waiting for replicas can be aborted; there are none.
        ctx.reply_error("ERR No shutdown in progress.");
        return;
    }
    ctx.effects.shutdown = Some(mode);
}

/// Rewrites the AOF in the background from a snapshot of the store. With
/// the AOF off, as Redis 7.0 does, the snapshot still replaces the file at
/// the AOF path (see [`crate::aof::offline_rewrite`]).
fn handle_bgrewriteaof(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let server = ctx.server;
    let started = match (ctx.propagation.aof().cloned(), server.aof_runtime()) {
        (Some(live), _) => {
            live.aof
                .start_rewrite(ctx.store, ctx.propagation, ctx.now_ms, live.hooks)
        }
        (None, Some(runtime)) => server.offline_rewrite().start(
            ctx.store,
            runtime.dataset.clone(),
            server.config().aof_path.clone(),
            ctx.now_ms,
        ),
        (None, None) => Err(crate::aof::RewriteStartError::ShuttingDown),
    };
    match started {
        Ok(()) => ctx.reply_simple("Background append only file rewriting started"),
        Err(err) => ctx.reply_error(&err.to_string()),
    }
}

#[cfg(test)]
mod tests;
