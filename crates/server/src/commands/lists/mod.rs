//! The list commands: the pushes (`LPUSH`, `RPUSH`, `LPUSHX`, `RPUSHX`),
//! the pops (`LPOP`, `RPOP` with a count, `LMPOP`), the moves (`LMOVE`,
//! `RPOPLPUSH`), the reads (`LLEN`, `LRANGE`, `LINDEX`, `LPOS`) and the
//! edits (`LSET`, `LINSERT`, `LREM`, `LTRIM`).
//!
//! The store owns what each command means (`ops::lists` of redigo-store);
//! the handlers read the arguments in Redis 7.0's order (`t_list.c`:
//! numbers, `BEFORE|AFTER`, `LEFT|RIGHT` and options before any key is
//! looked up), reply, count keyspace hits and misses for the reads, and
//! propagate each effective write as Redis 7.0's AOF shows it:
//!
//! * `LMPOP` as `LPOP|RPOP key <number popped>` (Redis's
//!   `rewriteClientCommandVector` in `mpopGenericCommand`);
//! * every other write as sent, when it changed something: a push always,
//!   a pop or move that found its key, `LSET` always, `LINSERT` when the
//!   pivot was there, `LREM`/`LTRIM` when they removed elements; `LPOP
//!   key 0`, `LPUSHX` of a missing key and the like propagate nothing.
//!
//! Each effective write fires Redis's keyspace events in `t_list.c`'s order
//! ([`notify_popped`], [`notify_moved`]; `LTRIM` fires `ltrim` whenever the
//! list exists, even when it trimmed nothing, as Redis does).
//!
//! `specs` holds the `COMMAND INFO`/`DOCS` metadata generated from the
//! oracle.

mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::{Bytes, BytesMut};
use redigo_aof::Record;
use redigo_resp::encode;
use redigo_store::StoreError;
use redigo_store::ops::lists::{End, InsertWhere, ListPopped, RangeSink};

use super::arguments::{integer, is_keyword, positive_or_reply, range_or_reply};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::pubsub::notifications::EventClass;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// A count as an integer reply.
fn count_reply(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `getListPositionFromObjectOrReply`: `LEFT` or `RIGHT`, else a syntax
/// error.
pub(crate) fn end_or_reply(arg: &[u8]) -> Result<End, &'static str> {
    if is_keyword(arg, "LEFT") {
        Ok(End::Left)
    } else if is_keyword(arg, "RIGHT") {
        Ok(End::Right)
    } else {
        Err(errors::SYNTAX)
    }
}

/// `getLongFromObjectOrReply`.
fn long_or_reply(arg: &[u8]) -> Result<i64, &'static str> {
    integer(arg).ok_or(errors::NOT_INTEGER)
}

/// A count read from a client as `usize`.
fn to_count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The event of a push or pop at `end` (`lpush`/`rpush`, `lpop`/`rpop`).
pub(crate) fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Left, true) => "lpush",
        (End::Right, true) => "rpush",
        (End::Left, false) => "lpop",
        (End::Right, false) => "rpop",
    }
}

/// Redis's `listElementsRemoved`: the pop event, then `del` when the pop
/// emptied (and so deleted) the list.
pub(crate) fn notify_popped(ctx: &mut ExecContext<'_>, key: &[u8], end: End, key_deleted: bool) {
    ctx.notify(EventClass::LIST, end_event(end, false), key);
    if key_deleted {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
}

/// A move's events in Redis's order (`lmoveGenericCommand`): `new` for a
/// created destination, its push event, the source's pop event, `del` when
/// the source was emptied.
pub(crate) fn notify_moved(
    ctx: &mut ExecContext<'_>,
    (source, destination): (&[u8], &[u8]),
    (from, to): (End, End),
    moved: &redigo_store::ops::lists::Moved,
) {
    if moved.destination_created {
        ctx.notify_new(destination);
    }
    ctx.notify(EventClass::LIST, end_event(to, true), destination);
    notify_popped(ctx, source, from, moved.source_deleted);
}

fn push(ctx: &mut ExecContext<'_>, args: &[Bytes], end: End, only_existing: bool) {
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().list_push(&args[1], end, &args[2..], only_existing) {
        Ok(len) => {
            if len > 0 {
                if fresh {
                    ctx.notify_new(&args[1]);
                }
                ctx.notify(EventClass::LIST, end_event(end, true), &args[1]);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(count_reply(len));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_lpush(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    push(ctx, args, End::Left, false);
}

fn handle_rpush(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    push(ctx, args, End::Right, false);
}

fn handle_lpushx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    push(ctx, args, End::Left, true);
}

fn handle_rpushx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    push(ctx, args, End::Right, true);
}

/// `LPOP`/`RPOP key [count]` (Redis's `popGenericCommand`).
fn pop(ctx: &mut ExecContext<'_>, args: &[Bytes], end: End) {
    if args.len() > 3 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        return ctx.reply_error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => match positive_or_reply(arg, None) {
            Ok(n) => Some(to_count(n)),
            Err(error) => return ctx.reply_error(&error),
        },
    };
    match ctx.db().list_pop(&args[1], end, count) {
        Ok(None) => match count {
            None => ctx.reply_null(),
            Some(_) => ctx.reply_null_array(),
        },
        Ok(Some(popped)) => {
            if !popped.elements.is_empty() {
                notify_popped(ctx, &args[1], end, popped.key_deleted);
                ctx.propagate(|| Record::from_args(args));
            }
            match count {
                None => match popped.elements.first() {
                    Some(element) => ctx.reply_bulk(element),
                    None => ctx.reply_null(),
                },
                Some(_) => ctx.reply_bulk_array(popped.elements),
            }
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_lpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    pop(ctx, args, End::Left);
}

fn handle_rpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    pop(ctx, args, End::Right);
}

/// Replies to a read of one key: a hit when it exists (whatever its kind,
/// as Redis's `lookupKeyRead` counts), a miss otherwise.
fn reply_read_error(ctx: &mut ExecContext<'_>, error: StoreError) {
    ctx.keyspace_hit();
    ctx.reply_error(&error.to_string());
}

fn handle_llen(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match ctx.db().llen(&args[1]) {
        Ok(len) => {
            ctx.count_lookup(&args[1], len > 0);
            ctx.reply_integer(count_reply(len));
        }
        Err(error) => reply_read_error(ctx, error),
    }
}

/// Streams `LRANGE` elements straight into the reply buffer.
struct ReplyRange<'a> {
    out: &'a mut BytesMut,
}

impl RangeSink for ReplyRange<'_> {
    fn begin(&mut self, count: usize) {
        encode::array_header(self.out, count);
    }

    fn element(&mut self, element: &[u8]) {
        encode::bulk(self.out, element);
    }
}

fn handle_lrange(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (start, stop) = match (long_or_reply(&args[2]), long_or_reply(&args[3])) {
        (Ok(start), Ok(stop)) => (start, stop),
        (Err(error), _) | (_, Err(error)) => return ctx.reply_error(error),
    };
    let Ok(mut db) = ctx.store.db(ctx.client.db, ctx.now_ms) else {
        return ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
    };
    let mut sink = ReplyRange { out: ctx.out };
    match db.lrange_into(&args[1], start, stop, &mut sink) {
        Ok(found) => ctx.count_lookup(&args[1], found),
        Err(error) => reply_read_error(ctx, error),
    }
}

/// `LINDEX` and `LSET` look their key up before reading the index (Redis's
/// order): with an index that is not a number, a missing key answers
/// `missing`, a key of another kind `WRONGTYPE`, a list the number error.
fn index_after_lookup(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    missing: impl FnOnce(&mut ExecContext<'_>),
) -> Option<i64> {
    if let Ok(index) = long_or_reply(&args[2]) {
        return Some(index);
    }
    match ctx.db().llen(&args[1]) {
        Ok(0) => missing(ctx),
        Ok(_) => ctx.reply_error(errors::NOT_INTEGER),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
    None
}

fn handle_lindex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(index) = index_after_lookup(ctx, args, |ctx| {
        ctx.keyspace_miss(&args[1]);
        ctx.reply_null();
    }) else {
        return;
    };
    match ctx.db().lindex(&args[1], index) {
        Ok(Some(element)) => {
            ctx.keyspace_hit();
            ctx.reply_bulk(&element);
        }
        Ok(None) => {
            ctx.count_key_lookup(&args[1]);
            ctx.reply_null();
        }
        Err(error) => reply_read_error(ctx, error),
    }
}

fn handle_lset(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(index) = index_after_lookup(ctx, args, |ctx| {
        ctx.reply_error(errors::NO_SUCH_KEY);
    }) else {
        return;
    };
    match ctx.db().lset(&args[1], index, &args[3]) {
        Ok(()) => {
            ctx.notify(EventClass::LIST, "lset", &args[1]);
            ctx.propagate(|| Record::from_args(args));
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_linsert(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let place = if is_keyword(&args[2], "AFTER") {
        InsertWhere::After
    } else if is_keyword(&args[2], "BEFORE") {
        InsertWhere::Before
    } else {
        return ctx.reply_error(errors::SYNTAX);
    };
    match ctx.db().linsert(&args[1], place, &args[3], &args[4]) {
        Ok(len) => {
            if len > 0 {
                ctx.notify(EventClass::LIST, "linsert", &args[1]);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(len);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_lrem(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let count = match long_or_reply(&args[2]) {
        Ok(count) => count,
        Err(error) => return ctx.reply_error(error),
    };
    let result = ctx.db().lrem(&args[1], count, &args[3]);
    // `lrem`, then `del` if the list went (Redis's lremCommand).
    super::collection_reply::reply_removed(ctx, args, result, (EventClass::LIST, "lrem"));
}

fn handle_ltrim(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (start, stop) = match (long_or_reply(&args[2]), long_or_reply(&args[3])) {
        (Ok(start), Ok(stop)) => (start, stop),
        (Err(error), _) | (_, Err(error)) => return ctx.reply_error(error),
    };
    match ctx.db().ltrim(&args[1], start, stop) {
        Ok(trimmed) => {
            // Redis fires `ltrim` whenever the list exists, even when
            // nothing was trimmed, then `del` if nothing is left.
            if trimmed.removed > 0
                || (ctx.notifications_on() && ctx.db().type_of(&args[1]).is_some())
            {
                ctx.notify(EventClass::LIST, "ltrim", &args[1]);
            }
            if trimmed.key_deleted {
                ctx.notify(EventClass::GENERIC, "del", &args[1]);
            }
            if trimmed.removed > 0 {
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// The options of `LPOS`, as Redis 7.0's `lposCommand` reads them.
struct LposOptions {
    rank: i64,
    /// `None` when `COUNT` was not given.
    count: Option<usize>,
    maxlen: usize,
}

fn lpos_options(args: &[Bytes]) -> Result<LposOptions, String> {
    let mut options = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        let option = &args[i];
        if more && is_keyword(option, "RANK") {
            i += 1;
            options.rank = long_or_reply(&args[i])?;
            if options.rank == 0 {
                return Err(
                    "ERR RANK can't be zero: use 1 to start from the first match, \
                            2 from the second ... or use negative to start from the end of the list"
                        .to_string(),
                );
            }
        } else if more && is_keyword(option, "COUNT") {
            i += 1;
            options.count = Some(to_count(positive_or_reply(
                &args[i],
                Some("COUNT can't be negative"),
            )?));
        } else if more && is_keyword(option, "MAXLEN") {
            i += 1;
            options.maxlen = to_count(positive_or_reply(
                &args[i],
                Some("MAXLEN can't be negative"),
            )?);
        } else {
            return Err(errors::SYNTAX.to_string());
        }
        i += 1;
    }
    Ok(options)
}

fn handle_lpos(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let options = match lpos_options(args) {
        Ok(options) => options,
        Err(error) => return ctx.reply_error(&error),
    };
    // Without COUNT, Redis stops at the first match of the rank.
    let count = options.count.unwrap_or(1);
    match ctx
        .db()
        .lpos(&args[1], &args[2], options.rank, count, options.maxlen)
    {
        Ok(None) => {
            ctx.keyspace_miss(&args[1]);
            match options.count {
                Some(_) => ctx.reply_array_len(0),
                None => ctx.reply_null(),
            }
        }
        Ok(Some(matches)) => {
            ctx.keyspace_hit();
            match options.count {
                Some(_) => {
                    ctx.reply_array_len(matches.len());
                    for index in matches {
                        ctx.reply_integer(count_reply(index));
                    }
                }
                None => match matches.first() {
                    Some(&index) => ctx.reply_integer(count_reply(index)),
                    None => ctx.reply_null(),
                },
            }
        }
        Err(error) => reply_read_error(ctx, error),
    }
}

fn moved(ctx: &mut ExecContext<'_>, args: &[Bytes], from: End, to: End) {
    match ctx.db().lmove(&args[1], &args[2], from, to) {
        Ok(Some(moved)) => {
            notify_moved(ctx, (&args[1], &args[2]), (from, to), &moved);
            ctx.propagate(|| Record::from_args(args));
            ctx.reply_bulk(&moved.element);
        }
        Ok(None) => ctx.reply_null(),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_lmove(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (from, to) = match (end_or_reply(&args[3]), end_or_reply(&args[4])) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) | (_, Err(error)) => return ctx.reply_error(error),
    };
    moved(ctx, args, from, to);
}

fn handle_rpoplpush(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    moved(ctx, args, End::Right, End::Left);
}

/// The arguments of `LMPOP numkeys key ... LEFT|RIGHT [COUNT count]` from
/// `args[numkeys_at..]`, read as Redis 7.0's `lmpopGenericCommand` does
/// (`BLMPOP` has its timeout first: `numkeys_at` is 2 there): the keys, the
/// end and the count (1 when not given).
pub(crate) fn lmpop_arguments(
    args: &[Bytes],
    numkeys_at: usize,
) -> Result<(&[Bytes], End, usize), String> {
    let numkeys = range_or_reply(
        &args[numkeys_at],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )?;
    let first_key = numkeys_at + 1;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| first_key.checked_add(n))
        .filter(|&at| at < args.len())
        .ok_or_else(|| errors::SYNTAX.to_string())?;
    let end = end_or_reply(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && i + 1 < args.len() && is_keyword(&args[i], "COUNT") {
            i += 1;
            count = Some(range_or_reply(
                &args[i],
                1,
                i64::MAX,
                Some("count should be greater than 0"),
            )?);
        } else {
            return Err(errors::SYNTAX.to_string());
        }
        i += 1;
    }
    Ok((&args[first_key..where_at], end, count.map_or(1, to_count)))
}

/// The record Redis writes for a served `LMPOP`/`BLMPOP`: `LPOP|RPOP key
/// <number popped>`.
pub(crate) fn mpop_record(key: &[u8], end: End, popped: &ListPopped) -> Record {
    let name = match end {
        End::Left => "LPOP",
        End::Right => "RPOP",
    };
    Record::new(name)
        .arg(key)
        .arg(popped.elements.len().to_string())
}

/// The `LMPOP` reply: `[key, [elements...]]`.
pub(crate) fn reply_mpop(ctx: &mut ExecContext<'_>, key: &[u8], popped: ListPopped) {
    ctx.reply_array_len(2);
    ctx.reply_bulk(key);
    ctx.reply_bulk_array(popped.elements);
}

fn handle_lmpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (keys, end, count) = match lmpop_arguments(args, 1) {
        Ok(parsed) => parsed,
        Err(error) => return ctx.reply_error(&error),
    };
    match ctx.db().lmpop(keys, end, count) {
        Ok(Some((key, popped))) => {
            notify_popped(ctx, &key, end, popped.key_deleted);
            ctx.propagate(|| mpop_record(&key, end, &popped));
            reply_mpop(ctx, &key, popped);
        }
        Ok(None) => ctx.reply_null_array(),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}
