//! Replies the collection families share: the random-pick sink that
//! streams `HRANDFIELD`/`SRANDMEMBER`/`ZRANDMEMBER` elements into the
//! reply, the `key [count [WITHVALUES|WITHSCORES]]` reading `HRANDFIELD`
//! and `ZRANDMEMBER` share ([`reply_random_members`]), the `HSCAN`/`SSCAN`/`ZSCAN` page and its argument order, and
//! keyspace hit/miss counting for reads whose result does not tell whether
//! the key exists.

use bytes::{Bytes, BytesMut};
use redigo_resp::encode;
use redigo_store::numeric::parse_scan_cursor;
use redigo_store::ops::collections::{CollectionScanPage, PickSink};
use redigo_store::{DbHandle, StoreError, ValueKind};

use super::arguments::{INVALID_CURSOR, is_keyword, range_or_reply, scan_options};
use super::context::ExecContext;
use super::errors;
use crate::pubsub::notifications::EventClass;

/// Most bytes one `HRANDFIELD`/`SRANDMEMBER` reply may take. A negative
/// count asks for that many independent picks, up to `LONG_MAX`: Redis
/// would grow the client's output without bound. Redigo stops at this size,
/// drops the partial reply and closes the connection, as Redis does to a
/// client over its `client-output-buffer-limit`. The figure is Redis's
/// default `proto-max-bulk-len`: no sane reply comes near it.
pub(crate) const RANDOM_REPLY_MAX_BYTES: usize = 512 * 1024 * 1024;

/// Streams picked elements into the reply as a flat array (field, value,
/// field, value... under `WITHVALUES`, as RESP2 replies).
#[derive(Debug)]
pub(crate) struct ReplySink<'a> {
    out: &'a mut BytesMut,
    /// Where this reply starts in `out`.
    start: usize,
    with_values: bool,
    /// How many elements `begin` announced.
    pub(crate) announced: usize,
    /// The reply outgrew [`RANDOM_REPLY_MAX_BYTES`] and was stopped.
    pub(crate) overflowed: bool,
}

impl<'a> ReplySink<'a> {
    pub(crate) fn new(out: &'a mut BytesMut, with_values: bool) -> ReplySink<'a> {
        let start = out.len();
        ReplySink {
            out,
            start,
            with_values,
            announced: 0,
            overflowed: false,
        }
    }

    /// Drops what this reply wrote (after an overflow).
    pub(crate) fn discard(&mut self) {
        self.out.truncate(self.start);
    }
}

impl PickSink for ReplySink<'_> {
    fn begin(&mut self, count: usize) {
        self.announced = count;
        let len = if self.with_values { count * 2 } else { count };
        encode::array_header(self.out, len);
    }

    fn element(&mut self, element: &[u8], value: Option<&[u8]>) -> bool {
        encode::bulk(self.out, element);
        if let Some(value) = value {
            encode::bulk(self.out, value);
        }
        if self.out.len() - self.start > RANDOM_REPLY_MAX_BYTES {
            self.overflowed = true;
            return false;
        }
        true
    }
}

/// `HRANDFIELD`/`SRANDMEMBER` with a count: streams what `pick` draws from
/// the database into the reply, then counts the lookup as Redis does (a
/// count of 0 looks the key up; otherwise a hit when anything was drawn).
pub(crate) fn reply_random_picks(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    count: i64,
    with_values: bool,
    pick: impl FnOnce(&mut DbHandle<'_>, &mut ReplySink<'_>) -> Result<(), StoreError>,
) {
    let Ok(mut db) = ctx.store.db(ctx.client.db, ctx.now_ms) else {
        return ctx.reply_error(super::errors::DB_INDEX_OUT_OF_RANGE);
    };
    let mut sink = ReplySink::new(ctx.out, with_values);
    let result = pick(&mut db, &mut sink);
    let found = sink.announced > 0;
    finish_random_reply(ctx.effects, &mut sink);
    match result {
        Ok(()) => {
            if count == 0 {
                ctx.count_key_lookup(key);
            } else {
                ctx.count_lookup(key, found);
            }
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

/// One random member of the collection at a key (`HRANDFIELD key`,
/// `ZRANDMEMBER key`): `None` when the key is missing.
pub(crate) type PickOne = fn(&mut DbHandle<'_>, &[u8]) -> Result<Option<Bytes>, StoreError>;

/// `count` random picks streamed into a sink, with their values (a hash's
/// value, a sorted set's score) when asked.
pub(crate) type PickMany =
    fn(&mut DbHandle<'_>, &[u8], i64, bool, &mut dyn PickSink) -> Result<(), StoreError>;

/// What `key [count [keyword]]` asked for: one member, or `count` picks
/// with or without their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RandomRequest {
    One,
    Count { count: i64, with_values: bool },
}

/// Reads `key [count [keyword]]` as Redis 7.0's `hrandfieldCommand` and
/// `zrandmemberCommand` do, all before the key is looked up: the count
/// (`-LONG_MAX..=LONG_MAX`), then the keyword (`WITHVALUES`,
/// `WITHSCORES`), then, under it, the halved range (a reply of pairs).
/// `Err` is the reply.
fn random_request(args: &[Bytes], keyword: &str) -> Result<RandomRequest, String> {
    if args.len() < 3 {
        return Ok(RandomRequest::One);
    }
    let count = range_or_reply(&args[2], -i64::MAX, i64::MAX, None)?;
    if args.len() > 4 || (args.len() == 4 && !is_keyword(&args[3], keyword)) {
        return Err(errors::SYNTAX.to_string());
    }
    let with_values = args.len() == 4;
    if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err("ERR value is out of range".to_string());
    }
    Ok(RandomRequest::Count { count, with_values })
}

/// One random member of `key` (`SRANDMEMBER`, `HRANDFIELD`, `ZRANDMEMBER`
/// without a count): a bulk, or nil for a missing key, counted as a
/// keyspace hit or miss.
pub(crate) fn reply_one_pick(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    picked: Result<Option<Bytes>, StoreError>,
) {
    match picked {
        Ok(Some(member)) => {
            ctx.keyspace_hit();
            ctx.reply_bulk(&member);
        }
        Ok(None) => {
            ctx.keyspace_miss(key);
            ctx.reply_null();
        }
        Err(error) => {
            ctx.keyspace_hit();
            ctx.reply_error(&error.to_string());
        }
    }
}

/// `HRANDFIELD key [count [WITHVALUES]]` and `ZRANDMEMBER key [count
/// [WITHSCORES]]` (`keyword`): read the arguments once
/// ([`random_request`]), then reply with one member (`one`, a bulk or nil)
/// or with the picks `many` streams ([`reply_random_picks`]).
pub(crate) fn reply_random_members(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    keyword: &str,
    one: PickOne,
    many: PickMany,
) {
    let key = &args[1];
    match random_request(args, keyword) {
        Err(error) => ctx.reply_error(&error),
        Ok(RandomRequest::One) => {
            let picked = one(&mut ctx.db(), key);
            reply_one_pick(ctx, key, picked);
        }
        Ok(RandomRequest::Count { count, with_values }) => {
            reply_random_picks(ctx, key, count, with_values, |db, sink| {
                many(db, key, count, with_values, sink)
            });
        }
    }
}

/// The events of a command that stores its result in `key` (`*STORE`,
/// `SORT ... STORE`; Redis's `setKey` then the event, or `dbDelete`): `new`
/// when `fresh` ([`ExecContext::creates_key`] before the write) and then
/// `event` of `class` when `len` members were stored, `del` when an empty
/// result deleted an existing destination, nothing otherwise.
pub(crate) fn notify_stored(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    fresh: bool,
    (len, destination_deleted): (usize, bool),
    (class, event): (EventClass, &str),
) {
    if len > 0 {
        if fresh {
            ctx.notify_new(key);
        }
        ctx.notify(class, event, key);
    } else if destination_deleted {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
}

/// `HDEL`/`SREM`: the number removed, propagated as sent when anything was;
/// fires `event` (`hdel`, `srem`) of `class`, then `del` if the key went.
pub(crate) fn reply_removed(
    ctx: &mut ExecContext<'_>,
    args: &[bytes::Bytes],
    result: Result<redigo_store::ops::collections::Removed, StoreError>,
    (class, event): (EventClass, &str),
) {
    match result {
        Ok(outcome) => {
            if outcome.removed > 0 {
                ctx.notify(class, event, &args[1]);
                if outcome.key_deleted {
                    ctx.notify(EventClass::GENERIC, "del", &args[1]);
                }
                ctx.propagate(|| redigo_aof::Record::from_args(args));
            }
            ctx.reply_integer(i64::try_from(outcome.removed).unwrap_or(i64::MAX));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// Ends a streamed random reply: an overflowed one is dropped and the
/// connection closed (see [`RANDOM_REPLY_MAX_BYTES`]).
pub(crate) fn finish_random_reply(effects: &mut super::Effects, sink: &mut ReplySink<'_>) {
    if sink.overflowed {
        sink.discard();
        effects.close_after_reply = true;
    }
}

/// What a collection's scan is asked for: the key, the cursor, and
/// `MATCH`/`COUNT`.
pub(crate) type CollectionScan = fn(
    &mut DbHandle<'_>,
    &[u8],
    u64,
    Option<&[u8]>,
    usize,
) -> Result<CollectionScanPage, StoreError>;

/// `HSCAN`/`SSCAN`/`ZSCAN key cursor [MATCH pattern] [COUNT count]`, in
/// Redis's order: the cursor, then the key (a missing one answers an empty
/// page whatever the options), then its kind (`kind` or `WRONGTYPE`), then
/// the options; `scan` reads one page.
pub(crate) fn reply_collection_scan(
    ctx: &mut ExecContext<'_>,
    args: &[bytes::Bytes],
    kind: ValueKind,
    scan: CollectionScan,
) {
    let key = &args[1];
    let Some(cursor) = parse_scan_cursor(&args[2]) else {
        return ctx.reply_error(INVALID_CURSOR);
    };
    match ctx.db().type_of(key) {
        None => {
            ctx.keyspace_miss(key);
            return reply_empty_scan(ctx);
        }
        Some(found) => {
            ctx.keyspace_hit();
            if found != kind {
                return ctx.reply_error(errors::WRONG_TYPE);
            }
        }
    }
    let options = match scan_options(args, 3, false) {
        Ok(options) => options,
        Err(error) => return ctx.reply_error(error),
    };
    match scan(&mut ctx.db(), key, cursor, options.pattern, options.count) {
        Ok(page) => reply_scan_page(ctx, page),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// `HSCAN`/`SSCAN`'s reply: the next cursor and the items.
pub(crate) fn reply_scan_page(ctx: &mut ExecContext<'_>, page: CollectionScanPage) {
    ctx.reply_array_len(2);
    ctx.reply_bulk(page.cursor.to_string().as_bytes());
    ctx.reply_bulk_array(page.items);
}

/// `shared.emptyscan`: the reply to `HSCAN`/`SSCAN` of a missing key.
pub(crate) fn reply_empty_scan(ctx: &mut ExecContext<'_>) {
    reply_scan_page(
        ctx,
        CollectionScanPage {
            cursor: 0,
            items: Vec::new(),
        },
    );
}

impl ExecContext<'_> {
    /// Counts a keyspace hit or a miss for a read of `key` (a miss fires
    /// `keymiss`, see [`ExecContext::keyspace_miss`]).
    pub(crate) fn count_lookup(&mut self, key: &[u8], found: bool) {
        if found {
            self.keyspace_hit();
        } else {
            self.keyspace_miss(key);
        }
    }

    /// [`ExecContext::count_lookup`] without the `keymiss` event (Redis's
    /// `LOOKUP_NONOTIFY`: `OBJECT`).
    pub(crate) fn count_lookup_without_event(&self, found: bool) {
        if found {
            self.keyspace_hit();
        } else {
            self.keyspace_miss_without_event();
        }
    }

    /// Counts a hit or a miss for a read whose result did not tell whether
    /// `key` exists (a missing field of an existing hash): looks it up.
    /// Only called on that path, so a found field costs no second lookup.
    pub(crate) fn count_key_lookup(&mut self, key: &[u8]) {
        let found = self.db().type_of(key).is_some();
        self.count_lookup(key, found);
    }
}
