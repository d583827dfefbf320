//! The string commands: `SET` and its variants (`SETNX`, `SETEX`, `PSETEX`,
//! `GETSET`, `MSET`, `MSETNX`), the reads (`GET`, `GETDEL`, `GETEX`, `MGET`,
//! `STRLEN`, `GETRANGE`, `SUBSTR`, `LCS`), the counters (`INCR`, `DECR`, `INCRBY`,
//! `DECRBY`, `INCRBYFLOAT`) and the in-place edits (`APPEND`, `SETRANGE`).
//!
//! The store owns what each command means and words its errors
//! ([`StoreError`]); the handlers here read the arguments in Redis 7.0's order
//! (so that when several things are wrong the same error wins), reply,
//! count keyspace hits and misses for reads, and propagate each effective
//! write in deterministic form: relative expiry becomes `SET k v PXAT <ms>`
//! or `PEXPIREAT`, `INCRBYFLOAT` becomes `SET k <value> KEEPTTL`, `GETDEL`
//! becomes `DEL`, `GETSET` becomes `SET`.
//!
//! `LCS` is here too (Redis's string group); its algorithm is in `lcs`.
//!
//! The option grammar of `SET` and `GETEX` is in `set_options`; the
//! `COMMAND INFO`/`DOCS` metadata, generated from the oracle by
//! `tools/gen_command_specs.py`, in `specs`.

mod lcs;
mod set_options;
mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::{DbHandle, GetExEffect, GetExTtl, SetOptions, SetTtl, StoreError};

use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::commands::arguments::{integer, is_keyword};
use crate::pubsub::notifications::EventClass;
use set_options::{Grammar, StringOptions};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Counts a keyspace hit or miss for a read of one key.
fn count_lookup(ctx: &mut ExecContext<'_>, key: &[u8], found: bool) {
    ctx.count_lookup(key, found);
}

/// Whether a read found its key. A wrong-type key was found: Redis counts
/// the hit before it checks the type.
fn is_found<T>(result: &Result<Option<T>, StoreError>) -> bool {
    !matches!(result, Ok(None))
}

/// Replies with a value, nil, or the store's error.
fn reply_value(ctx: &mut ExecContext<'_>, result: Result<Option<Bytes>, StoreError>) {
    match result {
        Ok(Some(value)) => ctx.reply_bulk(&value),
        Ok(None) => ctx.reply_null(),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// Propagates `SET key value PXAT deadline`.
fn propagate_set_pxat(ctx: &mut ExecContext<'_>, key: &[u8], value: &[u8], deadline: u64) {
    ctx.propagate(|| Record::set_with_deadline(key, value, deadline));
}

fn handle_get(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx
        .db()
        .get(&args[1])
        .map(|v| v.map(Bytes::copy_from_slice));
    count_lookup(ctx, &args[1], is_found(&result));
    reply_value(ctx, result);
}

fn handle_set(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(options) = set_options::parse(args, Grammar::Set) else {
        ctx.reply_error(errors::SYNTAX);
        return;
    };
    let StringOptions {
        condition,
        get,
        keep_ttl,
        expire,
        ..
    } = options;
    let ttl = match expire {
        Some((unit, amount)) => match integer(amount) {
            Some(amount) => SetTtl::Expire(unit.expiry(amount)),
            None => {
                ctx.reply_error(errors::NOT_INTEGER);
                return;
            }
        },
        None if keep_ttl => SetTtl::Keep,
        None => SetTtl::Clear,
    };
    let (key, value) = (&args[1], &args[2]);
    let fresh = ctx.creates_key(key);
    let outcome = ctx.db().set(
        key,
        value,
        SetOptions {
            condition,
            ttl,
            get,
        },
    );
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // With GET, a wrong-type key was looked up (a hit); an invalid
            // expire time is found before any lookup.
            if get && error == StoreError::WrongType {
                ctx.keyspace_hit();
            }
            ctx.reply_error(&error.to_string());
            return;
        }
    };
    if get {
        count_lookup(ctx, &args[1], outcome.previous.is_some());
    }
    if outcome.written {
        notify_set(ctx, key, fresh, expire.is_some());
        match outcome.expire_at_ms {
            Some(deadline) if expire.is_some() => propagate_set_pxat(ctx, key, value, deadline),
            _ => {
                // Redis propagates `SET ... GET` without `GET`: a replica or
                // an AOF replay has no use for the old value.
                ctx.propagate(|| {
                    Record::from_args(
                        args[..3]
                            .iter()
                            .chain(args[3..].iter().filter(|opt| !is_keyword(opt, "GET"))),
                    )
                });
            }
        }
    }
    match (get, outcome.written) {
        (true, _) => reply_value(ctx, Ok(outcome.previous)),
        (false, true) => ctx.reply_ok(),
        (false, false) => ctx.reply_null(),
    }
}

/// The events of a string write by `SET` and its variants (Redis's
/// `setGenericCommand`): `new` if it created the key, `set`, and `expire`
/// when it gave the key a TTL.
fn notify_set(ctx: &mut ExecContext<'_>, key: &[u8], fresh: bool, expire: bool) {
    if fresh {
        ctx.notify_new(key);
    }
    ctx.notify(EventClass::STRING, "set", key);
    if expire {
        ctx.notify(EventClass::GENERIC, "expire", key);
    }
}

fn handle_setnx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    let written = ctx.db().set_nx(&args[1], &args[2]);
    if written {
        notify_set(ctx, &args[1], fresh, false);
        ctx.propagate(|| Record::setnx(&args[1], &args[2]));
    }
    ctx.reply_integer(i64::from(written));
}

/// `SETEX key seconds value` / `PSETEX key milliseconds value`.
fn set_with_expire(ctx: &mut ExecContext<'_>, args: &[Bytes], millis: bool) {
    let Some(amount) = integer(&args[2]) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let (key, value) = (&args[1], &args[3]);
    let fresh = ctx.creates_key(key);
    let result = if millis {
        ctx.db().pset_ex(key, amount, value)
    } else {
        ctx.db().set_ex(key, amount, value)
    };
    match result {
        Ok(deadline) => {
            notify_set(ctx, key, fresh, true);
            propagate_set_pxat(ctx, key, value, deadline);
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_setex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_with_expire(ctx, args, false);
}

fn handle_psetex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    set_with_expire(ctx, args, true);
}

fn handle_getset(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    let result = ctx.db().get_set(&args[1], &args[2]);
    count_lookup(ctx, &args[1], is_found(&result));
    if result.is_ok() {
        notify_set(ctx, &args[1], fresh, false);
        ctx.propagate(|| Record::set(&args[1], &args[2]));
    }
    reply_value(ctx, result);
}

fn handle_getdel(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().get_del(&args[1]);
    count_lookup(ctx, &args[1], is_found(&result));
    if matches!(result, Ok(Some(_))) {
        ctx.notify(EventClass::GENERIC, "del", &args[1]);
        ctx.propagate(|| Record::del(&args[1]));
    }
    reply_value(ctx, result);
}

fn handle_getex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(options) = set_options::parse(args, Grammar::GetEx) else {
        ctx.reply_error(errors::SYNTAX);
        return;
    };
    let key = &args[1];
    // Redis looks the key up (nil, WRONGTYPE) before reading the expire
    // time as an integer.
    let found = ctx.db().get(key).map(|v| v.is_some());
    count_lookup(ctx, key, !matches!(found, Ok(false)));
    match found {
        Ok(false) => {
            ctx.reply_null();
            return;
        }
        Err(error) => {
            ctx.reply_error(&error.to_string());
            return;
        }
        Ok(true) => {}
    }
    let ttl = match options.expire {
        Some((unit, amount)) => match integer(amount) {
            Some(amount) => GetExTtl::Expire(unit.expiry(amount)),
            None => {
                ctx.reply_error(errors::NOT_INTEGER);
                return;
            }
        },
        None if options.persist => GetExTtl::Persist,
        None => GetExTtl::Unchanged,
    };
    let (value, effect) = match ctx.db().get_ex(key, ttl) {
        Ok(outcome) => outcome,
        Err(error) => {
            ctx.reply_error(&error.to_string());
            return;
        }
    };
    match effect {
        GetExEffect::None => {}
        GetExEffect::Expire(deadline) => {
            ctx.notify(EventClass::GENERIC, "expire", key);
            ctx.propagate(|| Record::pexpireat(key, deadline));
        }
        GetExEffect::Persisted => {
            ctx.notify(EventClass::GENERIC, "persist", key);
            ctx.propagate(|| Record::persist(key));
        }
        GetExEffect::Deleted => {
            ctx.notify(EventClass::GENERIC, "del", key);
            ctx.propagate(|| Record::del(key));
        }
    }
    reply_value(ctx, Ok(value));
}

fn handle_mget(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let keys = &args[1..];
    let mut db = ctx.db();
    // Looked up one by one so that a wrong-type key counts as a hit (it
    // exists) while replying nil, as Redis does.
    let found: Vec<(bool, Option<Bytes>)> = keys
        .iter()
        .map(|key| match db.get(key) {
            Ok(Some(value)) => (true, Some(Bytes::copy_from_slice(value))),
            Ok(None) => (false, None),
            Err(_) => (true, None),
        })
        .collect();
    ctx.reply_array_len(found.len());
    for (key, (exists, value)) in keys.iter().zip(found) {
        count_lookup(ctx, key, exists);
        match value {
            Some(value) => ctx.reply_bulk(&value),
            None => ctx.reply_null(),
        }
    }
}

/// The key/value pairs of `MSET`/`MSETNX`, or `None` for an odd count.
fn pairs(args: &[Bytes]) -> Option<Vec<(&Bytes, &Bytes)>> {
    let rest = &args[1..];
    if rest.len() % 2 != 0 {
        return None;
    }
    Some(rest.chunks_exact(2).map(|p| (&p[0], &p[1])).collect())
}

fn mset_generic(ctx: &mut ExecContext<'_>, args: &[Bytes], only_if_none_exist: bool) {
    let Some(pairs) = pairs(args) else {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        ctx.reply_error(&errors::wrong_arity(&name));
        return;
    };
    // Which keys each write creates, for `new` events (only looked up
    // while those are on): a key repeated in the command is new once.
    let mut fresh = Vec::new();
    if ctx.wants_new_events() {
        let mut seen = std::collections::HashSet::new();
        for (key, _) in &pairs {
            let created = seen.insert(&key[..]) && ctx.creates_key(key);
            fresh.push(created);
        }
    }
    let written = if only_if_none_exist {
        ctx.db().mset_nx(&pairs)
    } else {
        ctx.db().mset(&pairs);
        true
    };
    if written {
        for (i, (key, _)) in pairs.iter().enumerate() {
            notify_set(ctx, key, fresh.get(i).copied().unwrap_or(false), false);
        }
        ctx.propagate(|| Record::from_args(args));
    }
    if only_if_none_exist {
        ctx.reply_integer(i64::from(written));
    } else {
        ctx.reply_ok();
    }
}

fn handle_mset(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    mset_generic(ctx, args, false);
}

fn handle_msetnx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    mset_generic(ctx, args, true);
}

/// Applies an integer increment and replies with the new value; `fresh`
/// when it created the key.
fn increment(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    fresh: bool,
    result: Result<i64, StoreError>,
) {
    match result {
        Ok(value) => {
            if fresh {
                ctx.notify_new(&args[1]);
            }
            ctx.notify(EventClass::STRING, "incrby", &args[1]);
            ctx.propagate(|| Record::from_args(args));
            ctx.reply_integer(value);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_incr(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    let result = ctx.db().incr_by(&args[1], 1);
    increment(ctx, args, fresh, result);
}

fn handle_decr(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let fresh = ctx.creates_key(&args[1]);
    let result = ctx.db().incr_by(&args[1], -1);
    increment(ctx, args, fresh, result);
}

/// `INCRBY`/`DECRBY key delta`: `apply` the integer delta to the key.
fn increment_by(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    apply: fn(&mut DbHandle<'_>, &[u8], i64) -> Result<i64, StoreError>,
) {
    let Some(delta) = integer(&args[2]) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let fresh = ctx.creates_key(&args[1]);
    let result = apply(&mut ctx.db(), &args[1], delta);
    increment(ctx, args, fresh, result);
}

fn handle_incrby(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    increment_by(ctx, args, |db, key, delta| db.incr_by(key, delta));
}

fn handle_decrby(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    increment_by(ctx, args, |db, key, delta| db.decr_by(key, delta));
}

fn handle_incrbyfloat(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    let fresh = ctx.creates_key(key);
    match ctx.db().incr_by_float(key, &args[2]) {
        Ok(value) => {
            if fresh {
                ctx.notify_new(key);
            }
            ctx.notify(EventClass::STRING, "incrbyfloat", key);
            ctx.propagate(|| Record::set_keep_ttl(key, &value));
            ctx.reply_bulk(&value);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// Whether a string of `current + extra` bytes would exceed
/// `proto-max-bulk-len` (Redis's `checkStringLength`). Redis reads the
/// setting at each call, so `CONFIG SET` applies at once, while the store's
/// own limit is fixed when the dataset is created: the handlers check the
/// current setting before calling the store.
fn exceeds_string_limit(ctx: &ExecContext<'_>, current: u64, extra: usize) -> bool {
    let limit = ctx.server.config().proto_max_bulk_len;
    current.saturating_add(u64::try_from(extra).unwrap_or(u64::MAX)) > limit
}

fn handle_append(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (key, value) = (&args[1], &args[2]);
    // A missing key is created whatever the length; an existing one is
    // type-checked, then length-checked.
    let current = match ctx.db().get(key) {
        Ok(current) => current.map(<[u8]>::len),
        Err(error) => {
            ctx.reply_error(&error.to_string());
            return;
        }
    };
    if let Some(current) = current
        && exceeds_string_limit(ctx, length_u64(current), value.len())
    {
        ctx.reply_error(&StoreError::StringTooLong.to_string());
        return;
    }
    match ctx.db().append(key, value) {
        Ok(len) => {
            if current.is_none() {
                ctx.notify_new(key);
            }
            ctx.notify(EventClass::STRING, "append", key);
            ctx.propagate(|| Record::append(key, value));
            ctx.reply_integer(length_reply(len));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// A length as `u64` (lossless on every supported target).
fn length_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// A length as an integer reply (lengths are bounded by the string size
/// limit, far below `i64::MAX`).
fn length_reply(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

fn handle_strlen(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().get(&args[1]).map(|v| v.map(<[u8]>::len));
    count_lookup(ctx, &args[1], is_found(&result));
    match result {
        Ok(len) => ctx.reply_integer(length_reply(len.unwrap_or(0))),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_getrange(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (Some(start), Some(end)) = (integer(&args[2]), integer(&args[3])) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let key = &args[1];
    let mut db = ctx.db();
    let found = db.get(key).map(|v| v.is_some());
    let result = db.get_range(key, start, end).map(Bytes::copy_from_slice);
    count_lookup(ctx, key, !matches!(found, Ok(false)));
    match result {
        Ok(range) => ctx.reply_bulk(&range),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_substr(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    handle_getrange(ctx, args);
}

fn handle_setrange(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(offset) = integer(&args[2]) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let value = &args[3];
    // Only a write of bytes at a valid offset can grow the string; the
    // type is checked before the length, as in Redis.
    if let (Ok(start), false) = (u64::try_from(offset), value.is_empty()) {
        if let Err(error) = ctx.db().get(&args[1]) {
            ctx.reply_error(&error.to_string());
            return;
        }
        if exceeds_string_limit(ctx, start, value.len()) {
            ctx.reply_error(&StoreError::StringTooLong.to_string());
            return;
        }
    }
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().set_range(&args[1], offset, value) {
        Ok(len) => {
            // An empty value changes nothing.
            if !value.is_empty() {
                if fresh {
                    ctx.notify_new(&args[1]);
                }
                ctx.notify(EventClass::STRING, "setrange", &args[1]);
                ctx.propagate(|| Record::setrange(&args[1], &args[2], value));
            }
            ctx.reply_integer(length_reply(len));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `LCS`'s reply when a key holds another kind of value.
const LCS_WRONG_TYPE: &str = "ERR The specified keys must contain string values";
/// `LCS` with both `IDX` and `LEN`.
const LCS_IDX_AND_LEN: &str = "ERR If you want both the length and indexes, please just use IDX.";

/// The options of `LCS`.
#[derive(Default)]
struct LcsOptions {
    idx: bool,
    len: bool,
    with_match_len: bool,
    min_match_len: u64,
}

/// Reads `LCS`'s options as `lcsCommand` does (after the key lookups).
fn parse_lcs_options(args: &[Bytes]) -> Result<LcsOptions, &'static str> {
    let mut options = LcsOptions::default();
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        if is_keyword(opt, "IDX") {
            options.idx = true;
        } else if is_keyword(opt, "LEN") {
            options.len = true;
        } else if is_keyword(opt, "WITHMATCHLEN") {
            options.with_match_len = true;
        } else if is_keyword(opt, "MINMATCHLEN") && j + 1 < args.len() {
            let min = integer(&args[j + 1]).ok_or(errors::NOT_INTEGER)?;
            // Negative means no minimum.
            options.min_match_len = u64::try_from(min).unwrap_or(0);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    if options.idx && options.len {
        return Err(LCS_IDX_AND_LEN);
    }
    Ok(options)
}

fn handle_lcs(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut db = ctx.db();
    let a = db.get(&args[1]).map(|v| v.map(Bytes::copy_from_slice));
    let b = db.get(&args[2]).map(|v| v.map(Bytes::copy_from_slice));
    count_lookup(ctx, &args[1], is_found(&a));
    count_lookup(ctx, &args[2], is_found(&b));
    let (Ok(a), Ok(b)) = (a, b) else {
        ctx.reply_error(LCS_WRONG_TYPE);
        return;
    };
    let options = match parse_lcs_options(args) {
        Ok(options) => options,
        Err(error) => return ctx.reply_error(error),
    };
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let table_limit = ctx.server.config().proto_max_bulk_len;
    let found = match lcs::lcs(&a, &b, options.idx || !options.len, table_limit) {
        Ok(found) => found,
        Err(error) => {
            ctx.reply_error(error.message());
            return;
        }
    };
    if options.idx {
        let ranges: Vec<_> = found
            .ranges
            .iter()
            .filter(|((start, end), _)| u64::from(end - start + 1) >= options.min_match_len)
            .collect();
        // A two-entry map in RESP2: four elements.
        ctx.reply_array_len(4);
        ctx.reply_bulk(b"matches");
        ctx.reply_array_len(ranges.len());
        for ((a_start, a_end), (b_start, b_end)) in ranges {
            ctx.reply_array_len(2 + usize::from(options.with_match_len));
            for (start, end) in [(a_start, a_end), (b_start, b_end)] {
                ctx.reply_array_len(2);
                ctx.reply_integer(i64::from(*start));
                ctx.reply_integer(i64::from(*end));
            }
            if options.with_match_len {
                ctx.reply_integer(i64::from(a_end - a_start + 1));
            }
        }
        ctx.reply_bulk(b"len");
        ctx.reply_integer(i64::from(found.len));
    } else if options.len {
        ctx.reply_integer(i64::from(found.len));
    } else {
        ctx.reply_bulk(&found.sequence);
    }
}
