//! The set commands: `SADD`, `SREM`, `SMOVE`, `SPOP`, the reads (`SCARD`,
//! `SISMEMBER`, `SMISMEMBER`, `SMEMBERS`, `SRANDMEMBER`, `SSCAN`), and the
//! set algebra (`SINTER`, `SINTERCARD`, `SUNION`, `SDIFF` and their
//! `*STORE` forms).
//!
//! The store owns what each command means and the encodings (`ops::sets`
//! of redigo-store); the handlers read the arguments in Redis 7.0's order
//! (`t_set.c`: counts, `numkeys` and `LIMIT` before any key is looked up),
//! reply, count keyspace hits and misses for the reads, and propagate each
//! effective write in deterministic form, as Redis does:
//!
//! * `SADD`, `SREM`, `SMOVE` and the `*STORE` commands as sent, when they
//!   changed something (a `*STORE` with an empty result deletes its
//!   destination, which the replayed command does too; with no destination
//!   to delete it changed nothing);
//! * `SPOP` exactly as Redis 7.0.15 writes it to its AOF: `SREM key
//!   member` without a count; with a count, one `SREM key member` per
//!   popped member, wrapped in `MULTI`/`EXEC` when there are several (so a
//!   replay removes all or none), or `DEL key` when the count took the
//!   whole set;
//! * `SRANDMEMBER` nothing (it writes nothing).
//!
//! `specs` holds the `COMMAND INFO`/`DOCS` metadata generated from the
//! oracle.

mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::ops::sets::Stored;
use redigo_store::{DbHandle, StoreError, ValueKind};

use super::arguments::{is_keyword, positive_or_reply, range_or_reply};
use super::collection_reply::{
    reply_collection_scan, reply_one_pick, reply_random_picks, reply_removed,
};
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

fn handle_sadd(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().sadd(&args[1], &args[2..]) {
        Ok(added) => {
            if added > 0 {
                if fresh {
                    ctx.notify_new(&args[1]);
                }
                ctx.notify(EventClass::SET, "sadd", &args[1]);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(count_reply(added));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_srem(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().srem(&args[1], &args[2..]);
    reply_removed(ctx, args, result, (EventClass::SET, "srem"));
}

/// Replies to a read of one key with a number; `proves_key` tells whether
/// the number shows the key exists (otherwise it is looked up for the
/// stats).
fn reply_count_read(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    result: Result<i64, StoreError>,
    proves_key: bool,
) {
    match result {
        Ok(n) => {
            if proves_key {
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

fn handle_scard(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().scard(&args[1]).map(count_reply);
    match result {
        Ok(n) => {
            // An empty set does not exist: 0 is a miss.
            ctx.count_lookup(&args[1], n > 0);
            ctx.reply_integer(n);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_sismember(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().sismember(&args[1], &args[2]).map(i64::from);
    let proves = matches!(result, Ok(1));
    reply_count_read(ctx, &args[1], result, proves);
}

fn handle_smismember(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    match ctx.db().smismember(key, &args[2..]) {
        Ok(found) => {
            if found.iter().any(|&f| f) {
                ctx.keyspace_hit();
            } else {
                ctx.count_key_lookup(key);
            }
            ctx.reply_array_len(found.len());
            for f in found {
                ctx.reply_integer(i64::from(f));
            }
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_smembers(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match ctx.db().smembers(&args[1]) {
        Ok(members) => {
            ctx.count_lookup(&args[1], !members.is_empty());
            ctx.reply_bulk_array(members);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

/// `SRANDMEMBER key [count]`, as Redis 7.0's `srandmemberCommand`: more
/// than one extra argument is a syntax error; the count
/// (`-LONG_MAX..=LONG_MAX`) is read before the key.
fn handle_srandmember(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    if args.len() > 3 {
        return ctx.reply_error(errors::SYNTAX);
    }
    if args.len() == 2 {
        let picked = ctx.db().srandmember(key);
        return reply_one_pick(ctx, key, picked);
    }
    let count = match range_or_reply(&args[2], -i64::MAX, i64::MAX, None) {
        Ok(count) => count,
        Err(error) => return ctx.reply_error(&error),
    };
    reply_random_picks(ctx, key, count, false, |db, sink| {
        db.srandmember_with_count(key, count, sink)
    });
}

/// `SPOP key [count]`, as Redis 7.0's `spopCommand`: the count (positive)
/// is read before the key. Propagated as Redis 7.0.15 writes it to its
/// AOF: `SREM key member` without a count; with a count, `DEL key` when it
/// took the whole set, else one `SREM key member` per member popped,
/// wrapped in `MULTI`/`EXEC` when there are several (its `alsoPropagate`
/// records).
fn handle_spop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    if args.len() > 3 {
        return ctx.reply_error(errors::SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => match positive_or_reply(arg, None) {
            Ok(count) => Some(usize::try_from(count).unwrap_or(usize::MAX)),
            Err(error) => return ctx.reply_error(&error),
        },
    };
    let popped = match ctx.db().spop(key, count) {
        Ok(popped) => popped,
        Err(error) => return ctx.reply_error(&error.to_string()),
    };
    if !popped.members.is_empty() && ctx.notifications_on() {
        // `spop`, then `del` when the set went (Redis's spop*Command).
        ctx.notify(EventClass::SET, "spop", key);
        if ctx.db().type_of(key).is_none() {
            ctx.notify(EventClass::GENERIC, "del", key);
        }
    }
    if popped.whole_set {
        ctx.propagate(|| Record::del(key));
    } else {
        ctx.propagate_unit(|| {
            popped
                .members
                .iter()
                .map(|member| Record::new("SREM").arg(key).arg(member))
                .collect()
        });
    }
    match count {
        None => match popped.members.first() {
            Some(member) => ctx.reply_bulk(member),
            None => ctx.reply_null(),
        },
        Some(_) => ctx.reply_bulk_array(popped.members),
    }
}

fn handle_smove(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    // What the events need to know, looked up only while they are on: is
    // the destination created, does it gain the member.
    let (fresh, dst_gains) = if ctx.notifications_on() && src != dst {
        let fresh = ctx.creates_key(dst);
        let has = matches!(ctx.db().sismember(dst, member), Ok(true));
        (fresh, !has)
    } else {
        (false, false)
    };
    match ctx.db().smove(src, dst, member) {
        Ok(moved) => {
            // A move within one set answers whether the member is there
            // and changes nothing: Redis propagates nothing.
            if moved && src != dst {
                // Redis's smoveCommand: `srem`, `del` if the source went,
                // `new` if the destination was made, `sadd` if it gained
                // the member.
                ctx.notify(EventClass::SET, "srem", src);
                if ctx.notifications_on() && ctx.db().type_of(src).is_none() {
                    ctx.notify(EventClass::GENERIC, "del", src);
                }
                if fresh {
                    ctx.notify_new(dst);
                }
                if dst_gains {
                    ctx.notify(EventClass::SET, "sadd", dst);
                }
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(i64::from(moved));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// Counts a hit or a miss per key a read of several sets looks up, in
/// order, stopping after the first key of another kind (Redis replies
/// `WRONGTYPE` there and looks no further).
fn count_set_lookups(ctx: &mut ExecContext<'_>, keys: &[Bytes]) {
    for key in keys {
        let kind = ctx.db().type_of(key);
        ctx.count_lookup(key, kind.is_some());
        if kind.is_some_and(|kind| kind != ValueKind::Set) {
            break;
        }
    }
}

/// `SINTER`, `SUNION`, `SDIFF`.
fn set_read(
    ctx: &mut ExecContext<'_>,
    keys: &[Bytes],
    op: fn(&mut DbHandle<'_>, &[Bytes]) -> Result<Vec<Bytes>, StoreError>,
) {
    count_set_lookups(ctx, keys);
    let result = op(&mut ctx.db(), keys);
    match result {
        Ok(members) => ctx.reply_bulk_array(members),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_sinter(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_read(ctx, &args[1..], |db, keys| db.sinter(keys));
}

fn handle_sunion(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_read(ctx, &args[1..], |db, keys| db.sunion(keys));
}

fn handle_sdiff(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_read(ctx, &args[1..], |db, keys| db.sdiff(keys));
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`, read as Redis 7.0's
/// `sinterCardCommand`.
fn handle_sintercard(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let numkeys = match range_or_reply(
        &args[1],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    ) {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(error) => return ctx.reply_error(&error),
    };
    if numkeys > args.len() - 2 {
        return ctx.reply_error("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0;
    let mut j = 2 + numkeys;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is_keyword(&args[j], "LIMIT") && more {
            j += 1;
            match positive_or_reply(&args[j], Some("LIMIT can't be negative")) {
                Ok(n) => limit = usize::try_from(n).unwrap_or(usize::MAX),
                Err(error) => return ctx.reply_error(&error),
            }
        } else {
            return ctx.reply_error(errors::SYNTAX);
        }
        j += 1;
    }
    let keys = &args[2..2 + numkeys];
    count_set_lookups(ctx, keys);
    match ctx.db().sintercard(keys, limit) {
        Ok(n) => ctx.reply_integer(count_reply(n)),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// The store method behind a `*STORE` command.
type StoreOp = fn(&mut DbHandle<'_>, &[u8], &[Bytes]) -> Result<Stored, StoreError>;

/// `SINTERSTORE`, `SUNIONSTORE`, `SDIFFSTORE`: propagated as sent when the
/// destination changed (written, or deleted by an empty result). The
/// sources count as reads (`keyspace_hits`/`misses`, `keymiss`).
fn set_store(ctx: &mut ExecContext<'_>, args: &[Bytes], op: StoreOp, event: &str) {
    let fresh = ctx.creates_key(&args[1]);
    // The sources are read lookups (hits, misses, `keymiss`), as in Redis.
    count_set_lookups(ctx, &args[2..]);
    let result = op(&mut ctx.db(), &args[1], &args[2..]);
    match result {
        Ok(stored) => {
            if stored.len > 0 {
                if fresh {
                    ctx.notify_new(&args[1]);
                }
                ctx.notify(EventClass::SET, event, &args[1]);
            } else if stored.destination_deleted {
                ctx.notify(EventClass::GENERIC, "del", &args[1]);
            }
            if stored.len > 0 || stored.destination_deleted {
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(count_reply(stored.len));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_sinterstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_store(
        ctx,
        args,
        |db, dst, keys| db.sinterstore(dst, keys),
        "sinterstore",
    );
}

fn handle_sunionstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_store(
        ctx,
        args,
        |db, dst, keys| db.sunionstore(dst, keys),
        "sunionstore",
    );
}

fn handle_sdiffstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_store(
        ctx,
        args,
        |db, dst, keys| db.sdiffstore(dst, keys),
        "sdiffstore",
    );
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`, in Redis's order (as
/// `HSCAN`).
fn handle_sscan(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_collection_scan(
        ctx,
        args,
        ValueKind::Set,
        |db, key, cursor, pattern, count| db.sscan(key, cursor, pattern, count),
    );
}
