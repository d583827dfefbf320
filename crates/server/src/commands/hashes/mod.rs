//! The hash commands: `HSET`, `HSETNX`, `HMSET`, the reads (`HGET`,
//! `HMGET`, `HEXISTS`, `HLEN`, `HSTRLEN`, `HKEYS`, `HVALS`, `HGETALL`,
//! `HRANDFIELD`, `HSCAN`), `HDEL` and the counters (`HINCRBY`,
//! `HINCRBYFLOAT`).
//!
//! The store owns what each command means, the encodings and the error
//! texts of the values (`ops::hashes` of redigo-store); the handlers here
//! read the arguments in Redis 7.0's order (`t_hash.c`: an increment or a
//! count is read before the key is looked up, so a bad number wins over
//! `WRONGTYPE`), reply, count keyspace hits and misses for the reads, and
//! propagate each effective write: every one as sent (they are
//! deterministic), except `HINCRBYFLOAT`, which propagates as
//! `HSET key field <new value>` as Redis rewrites it, so that a replay never
//! depends on float arithmetic. `HSETNX` of an existing field and `HDEL`
//! of nothing propagate nothing. A hash whose last field goes is deleted by
//! the store; the command itself deletes it again on replay.
//!
//! `specs` holds the `COMMAND INFO`/`DOCS` metadata generated from the
//! oracle.

mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_resp::encode;

use super::collection_reply::{reply_collection_scan, reply_random_members, reply_removed};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::commands::arguments::integer;
use crate::pubsub::notifications::EventClass;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// A count as an integer reply.
fn count_reply(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The field/value pairs of `HSET`/`HMSET` (`args[2..]`), or `None` for an
/// odd count (Redis's `addReplyErrorArity`).
fn field_pairs(args: &[Bytes]) -> Option<Vec<(&Bytes, &Bytes)>> {
    let rest = &args[2..];
    (rest.len() % 2 == 0).then(|| rest.chunks_exact(2).map(|p| (&p[0], &p[1])).collect())
}

/// `HSET` and `HMSET`: `hmset` replies `OK` instead of the count.
fn hset(ctx: &mut ExecContext<'_>, args: &[Bytes], name: &str, hmset: bool) {
    let Some(pairs) = field_pairs(args) else {
        return ctx.reply_error(&errors::wrong_arity(name));
    };
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().hset(&args[1], &pairs) {
        Ok(added) => {
            if fresh {
                ctx.notify_new(&args[1]);
            }
            ctx.notify(EventClass::HASH, "hset", &args[1]);
            ctx.propagate(|| Record::from_args(args));
            if hmset {
                ctx.reply_ok();
            } else {
                ctx.reply_integer(count_reply(added));
            }
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_hset(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    hset(ctx, args, "hset", false);
}

fn handle_hmset(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    hset(ctx, args, "hmset", true);
}

fn handle_hsetnx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().hsetnx(&args[1], &args[2], &args[3]) {
        Ok(set) => {
            if set {
                if fresh {
                    ctx.notify_new(&args[1]);
                }
                ctx.notify(EventClass::HASH, "hset", &args[1]);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(i64::from(set));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_hget(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    let value = ctx
        .db()
        .hget(key, &args[2])
        .map(|v| v.map(Bytes::copy_from_slice));
    match value {
        Ok(Some(value)) => {
            ctx.keyspace_hit();
            ctx.reply_bulk(&value);
        }
        Ok(None) => {
            ctx.count_key_lookup(key);
            ctx.reply_null();
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_hmget(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    match ctx.db().hmget(key, &args[2..]) {
        Ok(values) => {
            if values.iter().any(Option::is_some) {
                ctx.keyspace_hit();
            } else {
                ctx.count_key_lookup(key);
            }
            ctx.reply_array_len(values.len());
            for value in values {
                match value {
                    Some(value) => ctx.reply_bulk(&value),
                    None => ctx.reply_null(),
                }
            }
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_hdel(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().hdel(&args[1], &args[2..]);
    reply_removed(ctx, args, result, (EventClass::HASH, "hdel"));
}

/// A read answering a number or a boolean: `exists` tells whether the
/// result proves the key exists (otherwise it is looked up for the stats).
fn reply_count_read(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    result: Result<i64, redigo_store::StoreError>,
    proves_key: impl Fn(i64) -> bool,
) {
    match result {
        Ok(n) => {
            if proves_key(n) {
                ctx.keyspace_hit();
            } else {
                ctx.count_key_lookup(key);
            }
            ctx.reply_integer(n);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_hexists(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().hexists(&args[1], &args[2]).map(i64::from);
    reply_count_read(ctx, &args[1], result, |n| n > 0);
}

fn handle_hlen(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().hlen(&args[1]).map(count_reply);
    // An empty hash does not exist: 0 is a miss.
    match result {
        Ok(n) => {
            ctx.count_lookup(&args[1], n > 0);
            ctx.reply_integer(n);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_hstrlen(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().hstrlen(&args[1], &args[2]).map(count_reply);
    reply_count_read(ctx, &args[1], result, |n| n > 0);
}

/// What a whole-hash read replies with for each pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairPart {
    /// `HGETALL`: field, value.
    Both,
    /// `HKEYS`.
    Field,
    /// `HVALS`.
    Value,
}

/// `HGETALL`, `HKEYS`, `HVALS`: the pairs are encoded into the reply
/// straight from the store's encoding, with no intermediate copy of each
/// element (a 100-field `HGETALL` would otherwise allocate 200 buffers per
/// call). A missing key is an empty array.
fn reply_whole_hash(ctx: &mut ExecContext<'_>, key: &[u8], part: PairPart) {
    let (mut db, out) = ctx.db_and_reply();
    let result = db.hash_pairs_with(key, |len, pairs| {
        let per_pair = if part == PairPart::Both { 2 } else { 1 };
        encode::array_header(out, len * per_pair);
        for (field, value) in pairs {
            if part != PairPart::Value {
                encode::bulk(out, field);
            }
            if part != PairPart::Field {
                encode::bulk(out, value);
            }
        }
    });
    match result {
        Ok(found) => {
            if found.is_none() {
                ctx.reply_array_len(0);
            }
            ctx.count_lookup(key, found.is_some());
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_hkeys(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_whole_hash(ctx, &args[1], PairPart::Field);
}

fn handle_hvals(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_whole_hash(ctx, &args[1], PairPart::Value);
}

fn handle_hgetall(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_whole_hash(ctx, &args[1], PairPart::Both);
}

fn handle_hincrby(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(delta) = integer(&args[3]) else {
        return ctx.reply_error(errors::NOT_INTEGER);
    };
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().hincrby(&args[1], &args[2], delta) {
        Ok(value) => {
            if fresh {
                ctx.notify_new(&args[1]);
            }
            ctx.notify(EventClass::HASH, "hincrby", &args[1]);
            ctx.propagate(|| Record::from_args(args));
            ctx.reply_integer(value);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_hincrbyfloat(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (key, field) = (&args[1], &args[2]);
    let fresh = ctx.creates_key(key);
    match ctx.db().hincrbyfloat(key, field, &args[3]) {
        Ok(value) => {
            if fresh {
                ctx.notify_new(key);
            }
            ctx.notify(EventClass::HASH, "hincrbyfloat", key);
            // Redis rewrites the command as `HSET key field <result>`.
            ctx.propagate(|| Record::new("HSET").arg(key).arg(field).arg(&value));
            ctx.reply_bulk(&value);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `HRANDFIELD key [count [WITHVALUES]]`, read as Redis 7.0's
/// `hrandfieldCommand` (shared with `ZRANDMEMBER`): the count
/// (`-LONG_MAX..=LONG_MAX`), then the keyword, then the halved range under
/// `WITHVALUES`, all before the key.
fn handle_hrandfield(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_random_members(
        ctx,
        args,
        "WITHVALUES",
        |db, key| db.hrandfield(key),
        |db, key, count, with_values, sink| db.hrandfield_with_count(key, count, with_values, sink),
    );
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`, in Redis's order: the
/// cursor, then the key (a missing one answers an empty page whatever the
/// options), then its type, then the options.
fn handle_hscan(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_collection_scan(
        ctx,
        args,
        redigo_store::ValueKind::Hash,
        |db, key, cursor, pattern, count| db.hscan(key, cursor, pattern, count),
    );
}
