//! `SORT` and `SORT_RO`, as Redis 7.0's `sort.c`.
//!
//! The elements of a list, set or sorted set are loaded, given a weight (the element itself, or
//! what a `BY` pattern finds: a string key, or a hash field with `->`),
//! sorted numerically (ties broken by the elements' bytes, as Redis does)
//! or with `ALPHA` by bytes, cut by `LIMIT`, and replied to, with each `GET`
//! pattern looked up per element (`#` is the element), or stored as a list
//! (`STORE`; an empty result deletes the destination). A `BY` pattern
//! without `*` means "do not sort": a list keeps its order (reversed by
//! `DESC`), a sorted set its score order (reversed by `DESC`; only the
//! `LIMIT` range is read, by rank, as Redis does), a set its iteration
//! order, except that a set is sorted `ALPHA` when the result is stored, so
//! that the stored list is deterministic. Sorted by value, a sorted set's
//! members are weighed like any other elements (their scores play no part).
//!
//! `SORT ... STORE` is propagated as sent (Redis writes it verbatim to the
//! AOF) when it changed the destination, and the destination is signalled
//! to clients blocked on it (a stored list may serve a `BLPOP`).
//!
//! Differences kept small and known: weights are read as `strtod` reads
//! them (leading white space, infinities, hexadecimal floats, range
//! errors) through Rust's float parser, and `ALPHA` compares bytes (Redis's
//! `strcoll` in the C locale, which stops at a NUL byte). Redis 7.0 also
//! converts a `listpack` sorted set to `skiplist` before sorting it (even
//! for `SORT_RO`), visible in `OBJECT ENCODING`; Redigo leaves the encoding
//! alone, since that conversion would count as a write to `WATCH` here.

mod specs;

use std::cmp::Ordering;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::ValueKind;
use redigo_store::numeric::LongDouble;
use redigo_store::ops::lists::End;
use redigo_store::ops::zsets::{RangeQuery, RangeSpec};

use super::arguments::{integer, is_keyword};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Redis's error when a weight is not a number.
const NOT_A_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// The options of one `SORT`.
#[derive(Debug, Default)]
struct SortOptions {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<Bytes>,
    by: Option<Bytes>,
    /// `BY` without `*`: nothing to sort.
    dontsort: bool,
    gets: Vec<Bytes>,
}

/// Reads the options after the key, in Redis's order and with its errors
/// (`STORE` is a syntax error for `SORT_RO`).
fn parse_options(args: &[Bytes], readonly: bool) -> Result<SortOptions, &'static str> {
    let mut options = SortOptions::default();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let arg = &args[j];
        if is_keyword(arg, "ASC") {
            options.desc = false;
        } else if is_keyword(arg, "DESC") {
            options.desc = true;
        } else if is_keyword(arg, "ALPHA") {
            options.alpha = true;
        } else if is_keyword(arg, "LIMIT") && left >= 2 {
            let start = integer(&args[j + 1]).ok_or(errors::NOT_INTEGER)?;
            let count = integer(&args[j + 2]).ok_or(errors::NOT_INTEGER)?;
            options.limit = Some((start, count));
            j += 2;
        } else if !readonly && is_keyword(arg, "STORE") && left >= 1 {
            options.store = Some(args[j + 1].clone());
            j += 1;
        } else if is_keyword(arg, "BY") && left >= 1 {
            let pattern = args[j + 1].clone();
            options.dontsort = !pattern.contains(&b'*');
            options.by = Some(pattern);
            j += 1;
        } else if is_keyword(arg, "GET") && left >= 1 {
            options.gets.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(options)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the
/// first `*` of the pattern is replaced by the element and the key read as
/// a string, or, with `->field` after the `*`, as a hash field. A pattern
/// without `*`, a missing key or a key of another kind gives `None`.
fn lookup_by_pattern(ctx: &mut ExecContext<'_>, pattern: &[u8], element: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&at| at + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(at) => (&after[..at], Some(&after[at + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let mut db = ctx.db();
    match (db.type_of(&key)?, field) {
        (ValueKind::String, None) => db.get(&key).ok()?.map(Bytes::copy_from_slice),
        (ValueKind::Hash, Some(field)) => db.hget(&key, field).ok()?.map(Bytes::copy_from_slice),
        _ => None,
    }
}

/// C's `strtod` as Redis checks it for a weight: leading white space is
/// skipped, the whole rest must be a number, and a result out of range
/// (overflow to infinity, underflow to zero) or NaN is an error.
fn weight_of(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let unsigned = trimmed.trim_start_matches(['+', '-']);
    let value: f64 = if unsigned.starts_with("0x") || unsigned.starts_with("0X") {
        // Rust's parser has no hexadecimal floats: read as a long double
        // (the same syntax as `strtod`'s), then as a double.
        let value = LongDouble::parse(trimmed.as_bytes())?;
        value.format_human().parse().ok()?
    } else {
        trimmed.parse().ok()?
    };
    if value.is_nan() {
        return None;
    }
    let lower = trimmed.to_ascii_lowercase();
    let literal_infinity = lower.trim_start_matches(['+', '-']).starts_with("inf");
    if value.is_infinite() && !literal_infinity {
        return None;
    }
    if value == 0.0 {
        // Underflow: a non-zero digit in the mantissa that still gave 0.
        let mantissa = lower.split('e').next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return None;
        }
    }
    Some(value)
}

/// Where the elements to sort came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A list (or a missing key): in list order.
    List,
    /// A set: in its iteration order.
    Set,
    /// A sorted set: in score order.
    Zset,
    /// A sorted set under `BY nosort`: already the output, the `LIMIT`
    /// range read directly in score order (reversed by `DESC`), as Redis's
    /// `sortCommandGeneric` reads it.
    ZsetRange,
}

/// The elements to sort, in the value's own order, or `Err` with the
/// error reply. A missing key is an empty list.
fn elements_of(
    ctx: &mut ExecContext<'_>,
    key: &[u8],
    options: &SortOptions,
) -> Result<(Vec<Bytes>, Source), String> {
    let kind = ctx.db().type_of(key);
    match kind {
        None => {
            ctx.keyspace_miss(key);
            Ok((Vec::new(), Source::List))
        }
        Some(ValueKind::List) => {
            ctx.keyspace_hit();
            let elements = ctx.db().lrange(key, 0, -1).map_err(|e| e.to_string())?;
            Ok((elements, Source::List))
        }
        Some(ValueKind::Set) => {
            ctx.keyspace_hit();
            let members = ctx.db().smembers(key).map_err(|e| e.to_string())?;
            Ok((members, Source::Set))
        }
        Some(ValueKind::Zset) => {
            ctx.keyspace_hit();
            let mut db = ctx.db();
            // Redis 7.0 converts a `listpack` sorted set to `skiplist` for
            // good before sorting it (`OBJECT ENCODING` shows it).
            db.zset_convert_for_sort(key).map_err(|e| e.to_string())?;
            let (spec, rev, source) = if options.dontsort {
                // Only the output range is read: O(log n + range).
                let len = db.zcard(key).map_err(|e| e.to_string())?;
                let (start, end) = output_range(options.limit, len);
                if end < start {
                    return Ok((Vec::new(), Source::ZsetRange));
                }
                (RangeSpec::Rank(start, end), options.desc, Source::ZsetRange)
            } else {
                (RangeSpec::Rank(0, -1), false, Source::Zset)
            };
            let query = RangeQuery {
                spec,
                rev,
                limit: None,
            };
            let members = db
                .zrange(key, &query)
                .map_err(|e| e.to_string())?
                .unwrap_or_default()
                .into_iter()
                .map(|(member, _)| member)
                .collect();
            Ok((members, source))
        }
        Some(_) => {
            ctx.keyspace_hit();
            Err(errors::WRONG_TYPE.to_string())
        }
    }
}

/// One element and its weight.
struct Item {
    element: Bytes,
    score: f64,
    by_value: Option<Bytes>,
}

/// Redis's LIMIT arithmetic: the inclusive output range of `len` sorted
/// elements, empty when `end < start`.
fn output_range(limit: Option<(i64, i64)>, len: usize) -> (i64, i64) {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let (limit_start, limit_count) = limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start.saturating_add(count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

fn sort_generic(ctx: &mut ExecContext<'_>, args: &[Bytes], readonly: bool) {
    let mut options = match parse_options(args, readonly) {
        Ok(options) => options,
        Err(error) => return ctx.reply_error(error),
    };
    let (elements, source) = match elements_of(ctx, &args[1], &options) {
        Ok(found) => found,
        Err(error) => return ctx.reply_error(&error),
    };
    if source == Source::ZsetRange {
        // Already cut to the LIMIT range and in output order.
        options.limit = None;
    }
    if options.dontsort && source == Source::Set && options.store.is_some() {
        // A stored set is sorted so that the result is deterministic.
        options.dontsort = false;
        options.alpha = true;
        options.by = None;
    }
    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            by_value: None,
        })
        .collect();
    if options.dontsort && source == Source::List && options.desc {
        // A list read as it is, from the other end.
        items.reverse();
    }
    let mut conversion_error = false;
    if !options.dontsort {
        for item in &mut items {
            let by_value = match &options.by {
                Some(pattern) => match lookup_by_pattern(ctx, pattern, &item.element) {
                    Some(value) => value,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if options.alpha {
                if options.by.is_some() {
                    item.by_value = Some(by_value);
                }
            } else {
                match weight_of(&by_value) {
                    Some(score) => item.score = score,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = options.by.is_some();
        let (alpha, desc) = (options.alpha, options.desc);
        items.sort_by(|a, b| {
            let ordering = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.element.cmp(&b.element))
            } else if by_pattern {
                // A missing weight sorts first.
                a.by_value.cmp(&b.by_value)
            } else {
                a.element.cmp(&b.element)
            };
            if desc { ordering.reverse() } else { ordering }
        });
    }
    if conversion_error {
        return ctx.reply_error(NOT_A_DOUBLE);
    }
    let (start, end) = output_range(options.limit, items.len());
    let selected: &[Item] = if end >= start {
        // Both are within 0..len here.
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let mut output: Vec<Option<Bytes>> =
        Vec::with_capacity(selected.len() * options.gets.len().max(1));
    for item in selected {
        if options.gets.is_empty() {
            output.push(Some(item.element.clone()));
        }
        for pattern in &options.gets {
            output.push(lookup_by_pattern(ctx, pattern, &item.element));
        }
    }
    match options.store {
        None => {
            ctx.reply_array_len(output.len());
            for value in output {
                match value {
                    Some(value) => ctx.reply_bulk(&value),
                    None => ctx.reply_null(),
                }
            }
        }
        Some(destination) => store_result(ctx, args, &destination, output),
    }
}

/// `STORE destination`: the result replaces the destination as a list (a
/// missing `GET` value is stored as an empty string), or deletes it when
/// empty; propagated as sent when something changed.
fn store_result(
    ctx: &mut ExecContext<'_>,
    args: &[Bytes],
    destination: &Bytes,
    output: Vec<Option<Bytes>>,
) {
    let len = output.len();
    let elements: Vec<Bytes> = output.into_iter().map(Option::unwrap_or_default).collect();
    let mut db = ctx.db();
    let deleted = db.del(&[destination]) > 0;
    let changed = if elements.is_empty() {
        deleted
    } else {
        if let Err(error) = db.list_push(destination, End::Right, &elements, false) {
            return ctx.reply_error(&error.to_string());
        }
        true
    };
    // Redis's `setKey` (`new` if the destination was absent) + `sortstore`,
    // or `del` when an empty result deleted it.
    let outcome = (elements.len(), deleted && elements.is_empty());
    let stored_event = (crate::pubsub::notifications::EventClass::LIST, "sortstore");
    super::collection_reply::notify_stored(ctx, destination, !deleted, outcome, stored_event);
    if changed {
        ctx.propagate(|| Record::from_args(args));
        // The key specs cannot name the STORE key: signal it here.
        let db = ctx.client.db;
        ctx.blocking.signal(db, destination);
    }
    ctx.reply_integer(i64::try_from(len).unwrap_or(i64::MAX));
}

fn handle_sort(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    sort_generic(ctx, args, false);
}

fn handle_sort_ro(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    sort_generic(ctx, args, true);
}
