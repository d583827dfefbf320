//! The sorted set commands: `ZADD`, `ZINCRBY`, `ZREM`, the reads (`ZCARD`,
//! `ZSCORE`, `ZMSCORE`, `ZRANK`, `ZREVRANK`, `ZCOUNT`, `ZLEXCOUNT`), the
//! `ZRANGE` family (`ZRANGE` with `BYSCORE BYLEX REV LIMIT WITHSCORES`,
//! `ZRANGESTORE`, and the older `ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
//! ZRANGEBYLEX ZREVRANGEBYLEX`), `ZREMRANGEBYRANK/SCORE/LEX`, the pops
//! (`ZPOPMIN ZPOPMAX ZMPOP`), the algebra (`ZUNION ZINTER ZDIFF`, their
//! `STORE` forms, `ZINTERCARD`), `ZRANDMEMBER` and `ZSCAN`. The blocking
//! pops (`BZPOPMIN BZPOPMAX BZMPOP`) live with the blocking machinery
//! (`commands::blocking`), which shares this module's `ZMPOP` reading.
//!
//! The store owns what each command means and the encodings
//! (`ops::zsets` of redigo-store); the handlers read the arguments in Redis
//! 7.0's order (`t_zset.c`: options, then scores or ranges, then the key),
//! reply, and propagate each effective write as Redis 7.0 does:
//!
//! * `ZADD` (`INCR` included), `ZINCRBY`, `ZREM`, `ZREMRANGEBY*`,
//!   `ZPOPMIN`/`ZPOPMAX` and the `STORE` commands as sent, when they changed
//!   something: each is deterministic given the dataset, and IEEE additions
//!   replay bit for bit (a `*STORE` with an empty result deletes its
//!   destination, which the replayed command does too);
//! * `ZMPOP` as `ZPOPMIN`/`ZPOPMAX key count` of the key it popped from,
//!   with the count it popped, as Redis rewrites it.
//!
//! Scores are replied as Redis's `addReplyDouble` prints them over RESP2
//! ([`score_text`]: `%.17g`, `inf`, `-inf`). Range replies (the `ZRANGE`
//! family) are streamed from the set into the reply buffer, and a read that
//! found its member counts a keyspace hit without looking the key up again.

mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::{Bytes, BytesMut};

use crate::pubsub::notifications::EventClass;
use redigo_aof::Record;
use redigo_resp::encode;
use redigo_store::numeric::{parse_range_bound, parse_score, score_text};
use redigo_store::ops::zsets::{
    Aggregate, LexBound, LexRange, RangeQuery, RangeSpec, ScoreBound, ScoreRange, ScoredMember,
    ScoredSink, ZStored, ZaddFlags, ZsetOp,
};
use redigo_store::{StoreError, ValueKind};

use super::arguments::{integer, is_keyword, positive_or_reply, range_or_reply};
use super::collection_reply::{
    notify_stored, reply_collection_scan, reply_random_members, reply_removed,
};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// `getDoubleFromObjectOrReply`'s default text.
const NOT_A_FLOAT: &str = "ERR value is not a valid float";
/// `zslParseRange` failed.
const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
/// `zslParseLexRange` failed.
const MIN_MAX_NOT_LEX: &str = "ERR min or max not valid string range item";

/// A count as an integer reply.
fn count_reply(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Replies a flat array of members, with their scores after each under
/// `with_scores`.
fn reply_scored(ctx: &mut ExecContext<'_>, items: &[ScoredMember], with_scores: bool) {
    let mut sink = ScoredReply::new(ctx.out, with_scores);
    sink.begin(items.len());
    for (member, score) in items {
        sink.member(member, *score);
    }
}

/// Writes range replies straight into the reply buffer as the store reads
/// them: each member, and its score after it under `WITHSCORES` (printed on
/// the stack, [`score_text`]), with no copy of either.
struct ScoredReply<'a> {
    out: &'a mut BytesMut,
    with_scores: bool,
}

impl<'a> ScoredReply<'a> {
    fn new(out: &'a mut BytesMut, with_scores: bool) -> ScoredReply<'a> {
        ScoredReply { out, with_scores }
    }
}

impl ScoredSink for ScoredReply<'_> {
    fn begin(&mut self, count: usize) {
        encode::array_header(self.out, if self.with_scores { count * 2 } else { count });
    }

    fn member(&mut self, member: &[u8], score: f64) {
        encode::bulk(self.out, member);
        if self.with_scores {
            encode::bulk(self.out, score_text(score).as_bytes());
        }
    }
}

/// Counts the keyspace hit of a read that `found` something (the key
/// exists), or looks the key up to tell a hit from a miss: a found member
/// costs no second lookup.
fn count_found_or_lookup(ctx: &mut ExecContext<'_>, key: &[u8], found: bool) {
    if found {
        ctx.keyspace_hit();
    } else {
        ctx.count_key_lookup(key);
    }
}

fn reply_score(ctx: &mut ExecContext<'_>, score: Option<f64>) {
    match score {
        Some(score) => ctx.reply_bulk(score_text(score).as_bytes()),
        None => ctx.reply_null(),
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`,
/// read as Redis 7.0's `zaddGenericCommand`.
fn handle_zadd(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut flags = ZaddFlags::default();
    let mut ch = false;
    let mut at = 2;
    while at < args.len() {
        let option = &args[at];
        if is_keyword(option, "NX") {
            flags.nx = true;
        } else if is_keyword(option, "XX") {
            flags.xx = true;
        } else if is_keyword(option, "CH") {
            ch = true;
        } else if is_keyword(option, "INCR") {
            flags.incr = true;
        } else if is_keyword(option, "GT") {
            flags.gt = true;
        } else if is_keyword(option, "LT") {
            flags.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let elements = args.len() - at;
    if elements % 2 == 1 || elements == 0 {
        return ctx.reply_error(errors::SYNTAX);
    }
    if flags.nx && flags.xx {
        return ctx.reply_error("ERR XX and NX options at the same time are not compatible");
    }
    if ((flags.gt || flags.lt) && flags.nx) || (flags.gt && flags.lt) {
        return ctx
            .reply_error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && elements > 2 {
        return ctx.reply_error("ERR INCR option supports a single increment-element pair");
    }
    zadd_pairs(ctx, args, flags, ch, at);
}

/// Parses the score-member pairs from `args[at..]` and runs `ZADD`.
fn zadd_pairs(ctx: &mut ExecContext<'_>, args: &[Bytes], flags: ZaddFlags, ch: bool, at: usize) {
    let mut pairs = Vec::with_capacity((args.len() - at) / 2);
    for pair in args[at..].chunks_exact(2) {
        let Some(score) = parse_score(&pair[0]) else {
            return ctx.reply_error(NOT_A_FLOAT);
        };
        pairs.push((score, &pair[1]));
    }
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().zadd(&args[1], flags, &pairs) {
        Ok(outcome) => {
            if fresh && outcome.added > 0 {
                ctx.notify_new(&args[1]);
            }
            if outcome.added > 0 || outcome.updated > 0 {
                let event = if flags.incr { "zincr" } else { "zadd" };
                ctx.notify(EventClass::ZSET, event, &args[1]);
                ctx.propagate(|| Record::from_args(args));
            }
            if flags.incr {
                reply_score(ctx, outcome.incr_score);
            } else {
                let n = if ch {
                    outcome.added + outcome.updated
                } else {
                    outcome.added
                };
                ctx.reply_integer(count_reply(n));
            }
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `ZINCRBY key increment member`: `ZADD key INCR increment member`.
fn handle_zincrby(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let flags = ZaddFlags {
        incr: true,
        ..ZaddFlags::default()
    };
    zadd_pairs(ctx, args, flags, false, 2);
}

fn handle_zrem(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().zrem(&args[1], &args[2..]);
    reply_removed(ctx, args, result, (EventClass::ZSET, "zrem"));
}

fn handle_zcard(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match ctx.db().zcard(&args[1]) {
        Ok(n) => {
            ctx.count_lookup(&args[1], n > 0);
            ctx.reply_integer(count_reply(n));
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_zscore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().zscore(&args[1], &args[2]);
    match result {
        Ok(score) => {
            count_found_or_lookup(ctx, &args[1], score.is_some());
            reply_score(ctx, score);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_zmscore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let result = ctx.db().zmscore(&args[1], &args[2..]);
    match result {
        Ok(scores) => {
            count_found_or_lookup(ctx, &args[1], scores.iter().any(Option::is_some));
            ctx.reply_array_len(scores.len());
            for score in scores {
                reply_score(ctx, score);
            }
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn zrank(ctx: &mut ExecContext<'_>, args: &[Bytes], rev: bool) {
    let result = ctx.db().zrank(&args[1], &args[2], rev);
    match result {
        Ok(rank) => {
            count_found_or_lookup(ctx, &args[1], rank.is_some());
            match rank {
                Some((rank, _)) => ctx.reply_integer(count_reply(rank)),
                None => ctx.reply_null(),
            }
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_zrank(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrank(ctx, args, false);
}

fn handle_zrevrank(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrank(ctx, args, true);
}

/// Redis's `zslParseRange`.
fn score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    let (min_value, min_ex) = parse_range_bound(min)?;
    let (max_value, max_ex) = parse_range_bound(max)?;
    Some(ScoreRange {
        min: ScoreBound {
            value: min_value,
            exclusive: min_ex,
        },
        max: ScoreBound {
            value: max_value,
            exclusive: max_ex,
        },
    })
}

/// Redis's `zslParseLexRange`.
fn lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    Some(LexRange {
        min: LexBound::parse(min)?,
        max: LexBound::parse(max)?,
    })
}

/// Runs a count over a parsed range (`ZCOUNT`, `ZLEXCOUNT`).
fn zcount(ctx: &mut ExecContext<'_>, key: &[u8], spec: Result<RangeSpec, &str>) {
    let spec = match spec {
        Ok(spec) => spec,
        Err(error) => return ctx.reply_error(error),
    };
    match ctx.db().zcount(key, &spec) {
        Ok(n) => {
            count_found_or_lookup(ctx, key, n > 0);
            ctx.reply_integer(count_reply(n));
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_zcount(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let spec = score_range(&args[2], &args[3])
        .map(RangeSpec::Score)
        .ok_or(MIN_MAX_NOT_FLOAT);
    zcount(ctx, &args[1], spec);
}

fn handle_zlexcount(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let spec = lex_range(&args[2], &args[3])
        .map(RangeSpec::Lex)
        .ok_or(MIN_MAX_NOT_LEX);
    zcount(ctx, &args[1], spec);
}

/// Which range a `ZRANGE`-family command reads, when fixed by its name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed `ZRANGE`-family request.
struct RangeRequest {
    query: RangeQuery,
    with_scores: bool,
}

/// Redis 7.0's `zrangeGenericCommand` argument reading: `args[first]` is
/// the source key, then min, max and the options. `Err` is the reply.
fn parse_range_request(
    args: &[Bytes],
    first: usize,
    store: bool,
    mut range_type: RangeType,
    rev_fixed: Option<bool>,
) -> Result<RangeRequest, String> {
    let mut with_scores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut rev = rev_fixed;
    let mut j = first + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let arg = &args[j];
        if !store && is_keyword(arg, "WITHSCORES") {
            with_scores = true;
        } else if is_keyword(arg, "LIMIT") && left >= 2 {
            let offset = integer(&args[j + 1]).ok_or(errors::NOT_INTEGER)?;
            let count = integer(&args[j + 2]).ok_or(errors::NOT_INTEGER)?;
            limit = Some((offset, count));
            j += 2;
        } else if rev.is_none() && is_keyword(arg, "REV") {
            rev = Some(true);
        } else if range_type == RangeType::Auto && is_keyword(arg, "BYLEX") {
            range_type = RangeType::Lex;
        } else if range_type == RangeType::Auto && is_keyword(arg, "BYSCORE") {
            range_type = RangeType::Score;
        } else {
            return Err(errors::SYNTAX.to_string());
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if range_type == RangeType::Auto {
        range_type = RangeType::Rank;
    }
    if limit.is_some_and(|(_, count)| count != -1) && range_type == RangeType::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if with_scores && range_type == RangeType::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    let (mut min, mut max) = (&args[first + 1], &args[first + 2]);
    if rev && range_type != RangeType::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let spec = match range_type {
        RangeType::Auto | RangeType::Rank => {
            let start = integer(min).ok_or(errors::NOT_INTEGER)?;
            let stop = integer(max).ok_or(errors::NOT_INTEGER)?;
            RangeSpec::Rank(start, stop)
        }
        RangeType::Score => RangeSpec::Score(score_range(min, max).ok_or(MIN_MAX_NOT_FLOAT)?),
        RangeType::Lex => RangeSpec::Lex(lex_range(min, max).ok_or(MIN_MAX_NOT_LEX)?),
    };
    Ok(RangeRequest {
        query: RangeQuery {
            spec,
            rev,
            limit: if range_type == RangeType::Rank {
                None
            } else {
                limit
            },
        },
        with_scores,
    })
}

/// A read of the `ZRANGE` family.
fn zrange(ctx: &mut ExecContext<'_>, args: &[Bytes], range_type: RangeType, rev: Option<bool>) {
    let request = match parse_range_request(args, 1, false, range_type, rev) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error(&error),
    };
    // Streamed: no member or score is copied out of the set before it is
    // encoded.
    let result = {
        let (mut db, out) = ctx.db_and_reply();
        let mut sink = ScoredReply::new(out, request.with_scores);
        db.zrange_with(&args[1], &request.query, &mut sink)
    };
    match result {
        Ok(true) => ctx.keyspace_hit(),
        Ok(false) => {
            ctx.keyspace_miss(&args[1]);
            ctx.reply_array_len(0);
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

fn handle_zrange(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Auto, None);
}

fn handle_zrevrange(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Rank, Some(true));
}

fn handle_zrangebyscore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Score, Some(false));
}

fn handle_zrevrangebyscore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Score, Some(true));
}

fn handle_zrangebylex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Lex, Some(false));
}

fn handle_zrevrangebylex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zrange(ctx, args, RangeType::Lex, Some(true));
}

/// Replies to a storing command, fires its events (`event` on the
/// destination, `fresh` from [`ExecContext::creates_key`]) and propagates
/// it as sent when the destination changed.
fn reply_stored(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    result: Result<ZStored, StoreError>,
    fresh: bool,
    event: &str,
) {
    match result {
        Ok(stored) => {
            let outcome = (stored.len, stored.destination_deleted);
            notify_stored(ctx, &args[1], fresh, outcome, (EventClass::ZSET, event));
            if stored.len > 0 || stored.destination_deleted {
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(count_reply(stored.len));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`.
fn handle_zrangestore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let request = match parse_range_request(args, 2, true, RangeType::Auto, None) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error(&error),
    };
    let fresh = ctx.creates_key(&args[1]);
    let result = ctx.db().zrangestore(&args[1], &args[2], &request.query);
    reply_stored(ctx, args, result, fresh, "zrangestore");
}

/// `ZREMRANGEBY*`: the range is read before the key is looked up.
fn zremrange(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    spec: Result<RangeSpec, &str>,
    event: &str,
) {
    let spec = match spec {
        Ok(spec) => spec,
        Err(error) => return ctx.reply_error(error),
    };
    let result = ctx.db().zremrange(&args[1], &spec);
    reply_removed(ctx, args, result, (EventClass::ZSET, event));
}

fn handle_zremrangebyrank(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let spec = match (integer(&args[2]), integer(&args[3])) {
        (Some(start), Some(stop)) => Ok(RangeSpec::Rank(start, stop)),
        _ => Err(errors::NOT_INTEGER),
    };
    zremrange(ctx, args, spec, "zremrangebyrank");
}

fn handle_zremrangebyscore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let spec = score_range(&args[2], &args[3])
        .map(RangeSpec::Score)
        .ok_or(MIN_MAX_NOT_FLOAT);
    zremrange(ctx, args, spec, "zremrangebyscore");
}

fn handle_zremrangebylex(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let spec = lex_range(&args[2], &args[3])
        .map(RangeSpec::Lex)
        .ok_or(MIN_MAX_NOT_LEX);
    zremrange(ctx, args, spec, "zremrangebylex");
}

/// The events of a pop that took members from `key` (`genericZpopCommand`):
/// `zpopmin`/`zpopmax`, then `del` if the set was emptied.
pub(crate) fn notify_zpopped(ctx: &mut ExecContext<'_>, key: &[u8], max: bool) {
    ctx.notify(
        EventClass::ZSET,
        if max { "zpopmax" } else { "zpopmin" },
        key,
    );
    // An emptied set is deleted; the store's pop does not say so, so the
    // key is looked up, only when events are published.
    if ctx.notifications_on() && ctx.db().type_of(key).is_none() {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
}

/// `ZPOPMIN`/`ZPOPMAX key [count]`: a flat array of member, score pairs;
/// propagated as sent when something was popped.
fn zpop(ctx: &mut ExecContext<'_>, args: &[Bytes], max: bool) {
    if args.len() > 3 {
        return ctx.reply_error(errors::SYNTAX);
    }
    let count = match args.get(2) {
        None => 1,
        Some(arg) => match positive_or_reply(arg, None) {
            Ok(count) => usize::try_from(count).unwrap_or(usize::MAX),
            Err(error) => return ctx.reply_error(&error),
        },
    };
    match ctx.db().zpop(&args[1], max, count) {
        Ok(items) => {
            if !items.is_empty() {
                notify_zpopped(ctx, &args[1], max);
                ctx.propagate(|| Record::from_args(args));
            }
            reply_scored(ctx, &items, true);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_zpopmin(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zpop(ctx, args, false);
}

fn handle_zpopmax(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zpop(ctx, args, true);
}

/// The arguments of `ZMPOP numkeys key ... MIN|MAX [COUNT count]` from
/// `args[numkeys_at..]`, read as Redis 7.0's `zmpopGenericCommand` does
/// (`BZMPOP` has its timeout first: `numkeys_at` is 2 there): the keys,
/// whether to pop the highest scores, and the count (1 when not given).
pub(crate) fn zmpop_arguments(
    args: &[Bytes],
    numkeys_at: usize,
) -> Result<(&[Bytes], bool, usize), String> {
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
    let max = if is_keyword(&args[where_at], "MIN") {
        false
    } else if is_keyword(&args[where_at], "MAX") {
        true
    } else {
        return Err(errors::SYNTAX.to_string());
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is_keyword(&args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            let n = range_or_reply(
                &args[j],
                1,
                i64::MAX,
                Some("count should be greater than 0"),
            )?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(errors::SYNTAX.to_string());
        }
        j += 1;
    }
    Ok((&args[first_key..where_at], max, count.unwrap_or(1)))
}

/// The record Redis 7.0 writes for a `ZMPOP`/`BZMPOP` (immediate or
/// served): `ZPOPMIN|ZPOPMAX key <number popped>`.
pub(crate) fn zmpop_record(key: &[u8], max: bool, popped: usize) -> Record {
    Record::new(if max { "ZPOPMAX" } else { "ZPOPMIN" })
        .arg(key)
        .arg(popped.to_string())
}

/// Replies `[key, [[member, score] ...]]`, the answer of `ZMPOP`/`BZMPOP`.
pub(crate) fn reply_zmpop(ctx: &mut ExecContext<'_>, key: &[u8], items: &[ScoredMember]) {
    ctx.reply_array_len(2);
    ctx.reply_bulk(key);
    ctx.reply_array_len(items.len());
    for (member, score) in items {
        ctx.reply_array_len(2);
        ctx.reply_bulk(member);
        ctx.reply_bulk(score_text(*score).as_bytes());
    }
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`, read as Redis 7.0's
/// `zmpopGenericCommand`; propagated as the `ZPOPMIN`/`ZPOPMAX key count`
/// it performed.
fn handle_zmpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (keys, max, count) = match zmpop_arguments(args, 1) {
        Ok(parsed) => parsed,
        Err(error) => return ctx.reply_error(&error),
    };
    match ctx.db().zmpop(keys, max, count) {
        Ok(Some((key, items))) => {
            notify_zpopped(ctx, &key, max);
            ctx.propagate(|| zmpop_record(&key, max, items.len()));
            reply_zmpop(ctx, &key, &items);
        }
        Ok(None) => ctx.reply_null_array(),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// What the algebra commands read from their arguments.
struct AlgebraRequest {
    keys: Vec<Bytes>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    with_scores: bool,
    limit: usize,
}

/// Redis 7.0's `zunionInterDiffGenericCommand` argument reading, keys
/// checked before the options as Redis does. `numkeys_at` is where
/// `numkeys` is; `store` and `card` say which form this is. `Err` is the
/// reply.
fn parse_algebra(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    op: ZsetOp,
    numkeys_at: usize,
    store: bool,
    card: bool,
) -> Result<AlgebraRequest, String> {
    let numkeys = integer(&args[numkeys_at]).ok_or(errors::NOT_INTEGER)?;
    if numkeys < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.len() - (numkeys_at + 1) {
        return Err(errors::SYNTAX.to_string());
    }
    let keys: Vec<Bytes> = args[numkeys_at + 1..numkeys_at + 1 + numkeys].to_vec();
    for key in &keys {
        let kind = ctx.db().type_of(key);
        ctx.count_lookup(key, kind.is_some());
        if kind.is_some_and(|k| k != ValueKind::Zset && k != ValueKind::Set) {
            break;
        }
    }
    ctx.db()
        .zset_op_check(&keys)
        .map_err(|error| error.to_string())?;
    let mut request = AlgebraRequest {
        weights: vec![1.0; keys.len()],
        keys,
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let mut j = numkeys_at + 1 + numkeys;
    while j < args.len() {
        let remaining = args.len() - j;
        let arg = &args[j];
        if op != ZsetOp::Diff && !card && remaining > numkeys && is_keyword(arg, "WEIGHTS") {
            j += 1;
            for weight in request.weights.iter_mut() {
                *weight = parse_score(&args[j]).ok_or("ERR weight value is not a float")?;
                j += 1;
            }
        } else if op != ZsetOp::Diff && !card && remaining >= 2 && is_keyword(arg, "AGGREGATE") {
            let name = &args[j + 1];
            request.aggregate = if is_keyword(name, "SUM") {
                Aggregate::Sum
            } else if is_keyword(name, "MIN") {
                Aggregate::Min
            } else if is_keyword(name, "MAX") {
                Aggregate::Max
            } else {
                return Err(errors::SYNTAX.to_string());
            };
            j += 2;
        } else if !store && !card && is_keyword(arg, "WITHSCORES") {
            request.with_scores = true;
            j += 1;
        } else if card && remaining >= 2 && is_keyword(arg, "LIMIT") {
            let limit = positive_or_reply(&args[j + 1], Some("LIMIT can't be negative"))?;
            request.limit = usize::try_from(limit).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(errors::SYNTAX.to_string());
        }
    }
    Ok(request)
}

/// `ZUNION`/`ZINTER`/`ZDIFF numkeys key ... [...] [WITHSCORES]`.
fn zset_op(ctx: &mut ExecContext<'_>, args: &[Bytes], op: ZsetOp) {
    let request = match parse_algebra(ctx, args, op, 1, false, false) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error(&error),
    };
    let result = ctx
        .db()
        .zset_op(op, &request.keys, &request.weights, request.aggregate);
    match result {
        Ok(items) => reply_scored(ctx, &items, request.with_scores),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_zunion(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op(ctx, args, ZsetOp::Union);
}

fn handle_zinter(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op(ctx, args, ZsetOp::Inter);
}

fn handle_zdiff(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op(ctx, args, ZsetOp::Diff);
}

/// `ZUNIONSTORE`/`ZINTERSTORE`/`ZDIFFSTORE dst numkeys key ...`.
fn zset_op_store(ctx: &mut ExecContext<'_>, args: &[Bytes], op: ZsetOp) {
    let request = match parse_algebra(ctx, args, op, 2, true, false) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error(&error),
    };
    let fresh = ctx.creates_key(&args[1]);
    let result = ctx.db().zset_op_store(
        op,
        &args[1],
        &request.keys,
        &request.weights,
        request.aggregate,
    );
    let event = match op {
        ZsetOp::Union => "zunionstore",
        ZsetOp::Inter => "zinterstore",
        ZsetOp::Diff => "zdiffstore",
    };
    reply_stored(ctx, args, result, fresh, event);
}

fn handle_zunionstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op_store(ctx, args, ZsetOp::Union);
}

fn handle_zinterstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op_store(ctx, args, ZsetOp::Inter);
}

fn handle_zdiffstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    zset_op_store(ctx, args, ZsetOp::Diff);
}

/// `ZINTERCARD numkeys key ... [LIMIT limit]`.
fn handle_zintercard(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let request = match parse_algebra(ctx, args, ZsetOp::Inter, 1, false, true) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error(&error),
    };
    match ctx.db().zintercard(&request.keys, request.limit) {
        Ok(n) => ctx.reply_integer(count_reply(n)),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`, read as Redis 7.0's
/// `zrandmemberCommand`, with `HRANDFIELD`'s reading.
fn handle_zrandmember(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_random_members(
        ctx,
        args,
        "WITHSCORES",
        |db, key| db.zrandmember(key),
        |db, key, count, with_scores, sink| {
            db.zrandmember_with_count(key, count, with_scores, sink)
        },
    );
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`, in Redis's order (as
/// `HSCAN`).
fn handle_zscan(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    reply_collection_scan(
        ctx,
        args,
        ValueKind::Zset,
        |db, key, cursor, pattern, count| db.zscan(key, cursor, pattern, count),
    );
}
