//! The TTL commands: `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT` (with `NX`,
//! `XX`, `GT`, `LT`), `TTL`, `PTTL`, `EXPIRETIME`, `PEXPIRETIME` and
//! `PERSIST`.
//!
//! An `EXPIRE`-family command propagates as `PEXPIREAT key <ms>` whatever
//! its unit, or as `DEL key` when the deadline is not in the future and the
//! key was deleted, as Redis does. The time-reading commands are reads:
//! they count a keyspace hit or miss.

mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::{DbHandle, ExpireCondition, ExpireOutcome, Expiry};

use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::commands::arguments::{c_str, integer, is_keyword};
use crate::pubsub::notifications::EventClass;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// The flags of an `EXPIRE`-family command. Redis accepts any repetition
/// and combination that its compatibility rules allow, so `XX` may come with
/// `GT` or `LT`.
#[derive(Clone, Copy, Debug, Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// `parseExtendedExpireArgumentsOrReply`: the flags after the time, or the
/// error text (raw bytes: `Unsupported option` quotes the client's option
/// as it is, not necessarily UTF-8).
fn parse_flags(args: &[Bytes]) -> Result<ExpireFlags, Vec<u8>> {
    let mut flags = ExpireFlags::default();
    for opt in &args[3..] {
        if is_keyword(opt, "NX") {
            flags.nx = true;
        } else if is_keyword(opt, "XX") {
            flags.xx = true;
        } else if is_keyword(opt, "GT") {
            flags.gt = true;
        } else if is_keyword(opt, "LT") {
            flags.lt = true;
        } else {
            return Err([&b"ERR Unsupported option "[..], c_str(opt)].concat());
        }
    }
    if flags.nx && (flags.xx || flags.gt || flags.lt) {
        return Err(NX_CONFLICT.as_bytes().to_vec());
    }
    if flags.gt && flags.lt {
        return Err(GT_LT_CONFLICT.as_bytes().to_vec());
    }
    Ok(flags)
}

/// `NX` with any other flag.
const NX_CONFLICT: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
/// `GT` with `LT`.
const GT_LT_CONFLICT: &str = "ERR GT and LT options at the same time are not compatible";

/// An error reply whose text may not be UTF-8. `ExecContext::reply_error`
/// takes `&str`, so this counts the error the same way and encodes the
/// bytes itself.
fn reply_error_bytes(ctx: &mut ExecContext<'_>, message: &[u8]) {
    ctx.server.stats.count_error("ERR");
    redigo_resp::encode::error(ctx.out, message);
}

/// The store's single condition for the flags. `XX` with `GT` is `GT`
/// (which already needs a TTL); `XX` with `LT` is handled by the caller,
/// since `LT` alone accepts a key without TTL.
fn condition(flags: ExpireFlags) -> ExpireCondition {
    if flags.nx {
        ExpireCondition::IfNoTtl
    } else if flags.gt {
        ExpireCondition::IfGreater
    } else if flags.lt {
        ExpireCondition::IfLess
    } else if flags.xx {
        ExpireCondition::IfTtl
    } else {
        ExpireCondition::Always
    }
}

/// `PTTL`'s answer for a key without TTL.
const NO_TTL: i64 = -1;

fn expire_generic(ctx: &mut ExecContext<'_>, args: &[Bytes], expiry: fn(i64) -> Expiry) {
    let flags = match parse_flags(args) {
        Ok(flags) => flags,
        Err(error) => {
            reply_error_bytes(ctx, &error);
            return;
        }
    };
    let Some(amount) = integer(&args[2]) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let key = &args[1];
    let mut db = ctx.db();
    // XX LT: the key must have a TTL, and the new one be earlier. The
    // deadline is still validated first, as Redis does.
    let outcome = if flags.xx && flags.lt && db.pttl(key) == NO_TTL {
        db.expire(key, expiry(amount), ExpireCondition::IfTtl)
    } else {
        db.expire(key, expiry(amount), condition(flags))
    };
    match outcome {
        Ok(ExpireOutcome::NotSet) => ctx.reply_integer(0),
        Ok(ExpireOutcome::Set(deadline)) => {
            ctx.notify(EventClass::GENERIC, "expire", key);
            ctx.propagate(|| Record::pexpireat(key, deadline));
            ctx.reply_integer(1);
        }
        Ok(ExpireOutcome::Deleted) => {
            ctx.notify(EventClass::GENERIC, "del", key);
            ctx.propagate(|| Record::del(key));
            ctx.reply_integer(1);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_expire(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    expire_generic(ctx, args, Expiry::Seconds);
}

fn handle_pexpire(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    expire_generic(ctx, args, Expiry::Millis);
}

fn handle_expireat(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    expire_generic(ctx, args, Expiry::UnixSeconds);
}

fn handle_pexpireat(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    expire_generic(ctx, args, Expiry::UnixMillis);
}

/// The TTL-family reply for a missing key.
const MISSING_KEY: i64 = -2;

/// Replies with a TTL-family answer (`read` on the key), counting the
/// lookup.
fn reply_time(ctx: &mut ExecContext<'_>, key: &[u8], read: fn(&mut DbHandle<'_>, &[u8]) -> i64) {
    let answer = read(&mut ctx.db(), key);
    if answer == MISSING_KEY {
        ctx.keyspace_miss(key);
    } else {
        ctx.keyspace_hit();
    }
    ctx.reply_integer(answer);
}

fn handle_ttl(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_time(ctx, &args[1], |db, key| db.ttl(key));
}

fn handle_pttl(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_time(ctx, &args[1], |db, key| db.pttl(key));
}

fn handle_expiretime(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_time(ctx, &args[1], |db, key| db.expire_time(key));
}

fn handle_pexpiretime(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_time(ctx, &args[1], |db, key| db.pexpire_time(key));
}

fn handle_persist(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let removed = ctx.db().persist(&args[1]);
    if removed {
        ctx.notify(EventClass::GENERIC, "persist", &args[1]);
        ctx.propagate(|| Record::persist(&args[1]));
    }
    ctx.reply_integer(i64::from(removed));
}
