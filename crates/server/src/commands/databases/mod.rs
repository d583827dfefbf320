//! The commands that work on whole databases or move keys between them:
//! `SELECT`, `SWAPDB`, `MOVE`, `DBSIZE`, `FLUSHDB` and `FLUSHALL`.
//!
//! A database index is read as Redis's `getIntFromObjectOrReply` reads it
//! (see [`crate::commands::arguments`]) and must name an existing database.
//! `SWAPDB`, `MOVE` and the flushes propagate as sent (a flush without its
//! `ASYNC`/`SYNC` option); a `MOVE` that moved nothing propagates nothing.

mod specs;

use bytes::Bytes;
use redigo_aof::Record;

use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::commands::arguments::{int_or_reply, parse_int};
use crate::pubsub::notifications::EventClass;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Parses a database index as `getIntFromObjectOrReply` would, then checks
/// it exists. Redis reports a negative index as out of range.
fn parse_db_index(ctx: &ExecContext<'_>, arg: &[u8]) -> Result<usize, &'static str> {
    let index = int_or_reply(arg)?;
    usize::try_from(index)
        .ok()
        .filter(|&i| i < ctx.store.databases())
        .ok_or(errors::DB_INDEX_OUT_OF_RANGE)
}

fn handle_select(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match parse_db_index(ctx, &args[1]) {
        Ok(index) => {
            ctx.client.db = index;
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(error),
    }
}

fn handle_swapdb(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(first) = parse_int(&args[1]) else {
        ctx.reply_error("ERR invalid first DB index");
        return;
    };
    let Some(second) = parse_int(&args[2]) else {
        ctx.reply_error("ERR invalid second DB index");
        return;
    };
    let databases = ctx.store.databases();
    let in_range = |i: i32| usize::try_from(i).ok().filter(|&i| i < databases);
    let (Some(a), Some(b)) = (in_range(first), in_range(second)) else {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    if ctx.store.swap_db(a, b).is_err() {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    }
    ctx.propagate(|| Record::swapdb(&args[1], &args[2]));
    // Clients blocked in either database stay there and are served from
    // what it holds now (Redis's `scanDatabaseForReadyKeys`).
    ctx.blocking.signal_database(a);
    ctx.blocking.signal_database(b);
    ctx.reply_ok();
}

fn handle_move(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let target = match int_or_reply(&args[2]) {
        Ok(target) => target,
        Err(error) => {
            ctx.reply_error(error);
            return;
        }
    };
    let Ok(target) = usize::try_from(target) else {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    let moved = match ctx.store.db(ctx.client.db, ctx.now_ms) {
        Ok(mut db) => db.move_key(&args[1], target),
        Err(err) => Err(err),
    };
    match moved {
        Ok(true) => {
            // Redis's moveCommand: added to the target (`new`), then
            // `move_from` in the source database and `move_to` in the target.
            let source = ctx.client.db;
            ctx.notify_in_db(EventClass::NEW, "new", &args[1], target);
            ctx.notify_in_db(EventClass::GENERIC, "move_from", &args[1], source);
            ctx.notify_in_db(EventClass::GENERIC, "move_to", &args[1], target);
            ctx.propagate(|| Record::move_key(&args[1], &args[2]));
            ctx.reply_integer(1);
        }
        Ok(false) => ctx.reply_integer(0),
        Err(err) => ctx.reply_error(&err.to_string()),
    }
}

fn handle_dbsize(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let size = ctx
        .store
        .db(ctx.client.db, ctx.now_ms)
        .map(|db| db.dbsize())
        .unwrap_or(0);
    ctx.reply_integer(size as i64);
}

/// `FLUSHDB`/`FLUSHALL` accept one optional `ASYNC` or `SYNC`. Freeing is
/// always synchronous here (the old tables are dropped in place), which is
/// what both options promise to the client: the data is gone on `+OK`.
fn flush_mode_ok(args: &[Bytes]) -> bool {
    match args {
        [_] => true,
        [_, mode] => mode.eq_ignore_ascii_case(b"ASYNC") || mode.eq_ignore_ascii_case(b"SYNC"),
        _ => false,
    }
}

fn handle_flushdb(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if !flush_mode_ok(args) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    let before = ctx.store.used_memory();
    ctx.store.flush_db(ctx.client.db);
    // Every tracking client is told all keys changed (a null).
    ctx.server
        .tracking
        .flush(ctx.server, ctx.store, Some(ctx.client));
    note_freed(ctx, before);
    ctx.propagate(Record::flushdb);
    ctx.reply_ok();
}

fn handle_flushall(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if !flush_mode_ok(args) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    let before = ctx.store.used_memory();
    ctx.store.flush_all();
    // Every tracking client is told all keys changed (a null).
    ctx.server
        .tracking
        .flush(ctx.server, ctx.store, Some(ctx.client));
    note_freed(ctx, before);
    ctx.propagate(Record::flushall);
    ctx.reply_ok();
}

/// Tells the cron how much a flush freed, so it can give the memory back
/// to the system (see [`crate::memory_release`]).
fn note_freed(ctx: &ExecContext<'_>, used_before: usize) {
    let freed = used_before.saturating_sub(ctx.store.used_memory());
    ctx.server.memory_release.freed(freed as u64);
}

#[cfg(test)]
mod tests;
