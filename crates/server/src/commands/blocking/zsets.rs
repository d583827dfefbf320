//! The blocking sorted set pops: `BZPOPMIN`, `BZPOPMAX`, `BZMPOP` (Redis
//! 7.0's `blockingGenericZpopCommand`, `bzmpopCommand` and
//! `serveClientBlockedOnSortedSetKey`).
//!
//! As the list pops beside them: each first pops from the first of its
//! keys holding a sorted set (a key of another kind before it is
//! `WRONGTYPE`, a missing key is skipped), and blocks through
//! [`ExecContext::block`] with a [`ZsetWait`] when every key is missing;
//! inside `MULTI` or a script it answers a null array, as a timeout.
//! `BZPOPMIN`/`BZPOPMAX` read their timeout before the keys, `BZMPOP` after
//! its other arguments, as Redis does.
//!
//! Replies: `[key, member, score]` for `BZPOPMIN`/`BZPOPMAX`, `[key,
//! [[member, score] ...]]` for `BZMPOP`, scores as the other sorted set
//! commands print them. Propagation, immediate or served alike, is what
//! redis-server 7.0.15 writes to its AOF: `ZPOPMIN|ZPOPMAX key` for
//! `BZPOPMIN`/`BZPOPMAX`, `ZPOPMIN|ZPOPMAX key <number popped>` for
//! `BZMPOP`; nothing on a timeout.

use bytes::{Bytes, BytesMut};
use redigo_aof::Record;
use redigo_resp::encode;
use redigo_store::ValueKind;
use redigo_store::numeric::format_score;
use redigo_store::ops::zsets::ScoredMember;

use super::super::context::ExecContext;
use super::super::sorted_sets::{notify_zpopped, reply_zmpop, zmpop_arguments, zmpop_record};
use crate::blocking::{BlockedOp, ServeContext, WaitOp, parse_timeout_seconds};
use crate::pubsub::notifications::EventClass;

/// What a client blocked on sorted sets does once one of its keys has
/// members.
#[derive(Debug)]
pub(crate) enum ZsetWait {
    /// `BZPOPMIN`/`BZPOPMAX`: pop one member, reply `[key, member, score]`.
    Pop {
        /// Pop the highest score rather than the lowest.
        max: bool,
    },
    /// `BZMPOP`: pop up to `count` members, reply `[key, [[member, score]
    /// ...]]`.
    MultiPop {
        /// Pop the highest scores rather than the lowest.
        max: bool,
        /// At most this many.
        count: usize,
    },
}

/// The record of a `BZPOPMIN`/`BZPOPMAX` (Redis writes it without a count).
fn pop_record(key: &[u8], max: bool) -> Record {
    Record::new(if max { "ZPOPMAX" } else { "ZPOPMIN" }).arg(key)
}

/// The shared waits of `BZPOPMIN` and `BZPOPMAX`.
static POP_MIN: ZsetWait = ZsetWait::Pop { max: false };
static POP_MAX: ZsetWait = ZsetWait::Pop { max: true };

impl BlockedOp for ZsetWait {
    fn serve(&self, ctx: &mut ServeContext<'_>, key: &[u8]) -> Option<Bytes> {
        let Ok(mut db) = ctx.store.db(ctx.db, ctx.now_ms) else {
            return None;
        };
        // Only a sorted set serves; a key of another kind leaves the client
        // blocked (Redis serves sorted set clients from sorted sets only).
        if db.type_of(key) != Some(ValueKind::Zset) {
            return None;
        }
        let (max, count) = match self {
            ZsetWait::Pop { max } => (*max, 1),
            ZsetWait::MultiPop { max, count } => (*max, *count),
        };
        let items = db.zpop(key, max, count).ok()?;
        if items.is_empty() {
            return None;
        }
        // `genericZpopCommand`'s events: the pop, then `del` if emptied.
        let emptied = ctx.server.pubsub.notify_flags() != 0 && db.type_of(key).is_none();
        ctx.notify(
            EventClass::ZSET,
            if max { "zpopmax" } else { "zpopmin" },
            key,
        );
        if emptied {
            ctx.notify(EventClass::GENERIC, "del", key);
        }
        let mut out = BytesMut::new();
        match self {
            ZsetWait::Pop { .. } => {
                ctx.propagation.record(ctx.db, || pop_record(key, max));
                let (member, score) = &items[0];
                encode::array_header(&mut out, 3);
                encode::bulk(&mut out, key);
                encode::bulk(&mut out, member);
                encode::bulk(&mut out, format_score(*score).as_bytes());
            }
            ZsetWait::MultiPop { .. } => {
                ctx.propagation
                    .record(ctx.db, || zmpop_record(key, max, items.len()));
                encode_zmpop(&mut out, key, &items);
            }
        }
        Some(out.freeze())
    }
}

/// `[key, [[member, score] ...]]` into `out`.
fn encode_zmpop(out: &mut BytesMut, key: &[u8], items: &[ScoredMember]) {
    encode::array_header(out, 2);
    encode::bulk(out, key);
    encode::array_header(out, items.len());
    for (member, score) in items {
        encode::array_header(out, 2);
        encode::bulk(out, member);
        encode::bulk(out, format_score(*score).as_bytes());
    }
}

/// `BZPOPMIN`/`BZPOPMAX`/`BZMPOP` once the arguments are read
/// (`blockingGenericZpopCommand`): `count` is `None` for `BZPOPMIN` and
/// `BZPOPMAX`.
fn blocking_zpop(
    ctx: &mut ExecContext<'_>,
    keys: &[Bytes],
    max: bool,
    timeout_arg: &[u8],
    count: Option<usize>,
) {
    let timeout_ms = match parse_timeout_seconds(timeout_arg) {
        Ok(ms) => ms,
        Err(error) => return ctx.reply_error(error),
    };
    match ctx.db().zmpop(keys, max, count.unwrap_or(1)) {
        Ok(Some((key, items))) => match count {
            Some(_) => {
                notify_zpopped(ctx, &key, max);
                ctx.propagate(|| zmpop_record(&key, max, items.len()));
                reply_zmpop(ctx, &key, &items);
            }
            None => {
                notify_zpopped(ctx, &key, max);
                ctx.propagate(|| pop_record(&key, max));
                ctx.reply_array_len(3);
                ctx.reply_bulk(&key);
                // A sorted set holds at least one member.
                if let Some((member, score)) = items.first() {
                    ctx.reply_bulk(member);
                    ctx.reply_bulk(format_score(*score).as_bytes());
                }
            }
        },
        Ok(None) if ctx.deny_blocking() => ctx.reply_null_array(),
        Ok(None) => {
            // A single pop's wait is shared (it allocates nothing).
            let wait = match (count, max) {
                (Some(count), _) => WaitOp::Owned(Box::new(ZsetWait::MultiPop { max, count })),
                (None, false) => WaitOp::Shared(&POP_MIN),
                (None, true) => WaitOp::Shared(&POP_MAX),
            };
            ctx.block(keys, timeout_ms, wait);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

pub(super) fn handle_bzpopmin(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let last = args.len() - 1;
    blocking_zpop(ctx, &args[1..last], false, &args[last], None);
}

pub(super) fn handle_bzpopmax(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let last = args.len() - 1;
    blocking_zpop(ctx, &args[1..last], true, &args[last], None);
}

pub(super) fn handle_bzmpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (keys, max, count) = match zmpop_arguments(args, 2) {
        Ok(parsed) => parsed,
        Err(error) => return ctx.reply_error(&error),
    };
    blocking_zpop(ctx, keys, max, &args[1], Some(count));
}
