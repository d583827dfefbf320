//! Sorted set commands: `ZADD` (and `ZINCRBY`), `ZREM`, the reads (`ZCARD`,
//! `ZSCORE`, `ZMSCORE`, `ZRANK`/`ZREVRANK`, `ZCOUNT`, `ZLEXCOUNT`, the
//! `ZRANGE` family), `ZRANGESTORE`, `ZREMRANGEBY*`, `ZPOPMIN`/`ZPOPMAX`/
//! `ZMPOP`, the set algebra (`ZUNION`, `ZINTER`, `ZDIFF`, their `STORE`
//! forms, `ZINTERCARD`), `ZRANDMEMBER` and `ZSCAN`, following Redis 7.0's
//! `t_zset.c` (order of checks, encoding conversions, results).
//!
//! Argument parsing stays with the server (scores with
//! [`parse_score`](crate::numeric::parse_score), bounds with
//! [`parse_range_bound`](crate::numeric::parse_range_bound), [`LexBound::parse`]);
//! the store takes typed ranges. Every range query is resolved the same way:
//! the ascending ranks where the range starts and ends are found with a
//! partition search over the (score, member) order (O(log n) on the big
//! encoding's tree), then elements are walked from there. Lexical ranges
//! assume, as Redis documents, that all members share one score.
//!
//! Encodings: a new sorted set is `listpack` unless `ZADD`'s first member is
//! already too long (or the entry limit is 0), and converts to `skiplist`
//! before an insert that crosses a threshold ([`EncodingLimits`]); the
//! `*STORE` commands give their destination the encoding its contents call
//! for, as Redis's `zsetConvertToListpackIfNeeded` and `ZRANGESTORE`'s
//! result handler do.

use std::cmp::Ordering;
use std::collections::HashMap;

use bytes::Bytes;

use crate::entry::{Entry, Payload};
use crate::error::StoreError;
use crate::glob;
use crate::kinds::Big;
use crate::kinds::set::SetRef;
use crate::kinds::zset::{self, BigZset, ZsetRef};
use crate::numeric::{ScoreText, format_score, score_text};
use crate::ops::collections::{CollectionScanPage, PickSink, Removed, distinct_indexes};
use crate::ops::hashes::xorshift;
use crate::store::{DbHandle, EncodingLimits};
use crate::value::ValueKind;

/// `ZADD`'s options (`CH` only changes the reply: the server applies it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZaddFlags {
    /// `NX`: only add new members.
    pub nx: bool,
    /// `XX`: only update existing members.
    pub xx: bool,
    /// `GT`: only update when the new score is greater.
    pub gt: bool,
    /// `LT`: only update when the new score is less.
    pub lt: bool,
    /// `INCR`: add the score to the current one (one pair only).
    pub incr: bool,
}

/// What `ZADD` did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZaddOutcome {
    /// Members added.
    pub added: usize,
    /// Members whose score changed.
    pub updated: usize,
    /// Under `INCR`: the new score, or `None` when the options prevented
    /// the update (the reply is then nil).
    pub incr_score: Option<f64>,
}

/// One end of a score range: a value and whether it is excluded (`(1.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The score.
    pub value: f64,
    /// Excluded from the range.
    pub exclusive: bool,
}

/// A score range, `min` to `max` (as Redis's `zrangespec`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: ScoreBound,
    /// Upper end.
    pub max: ScoreBound,
}

impl ScoreRange {
    fn below_min(&self, score: f64) -> bool {
        if self.min.exclusive {
            score <= self.min.value
        } else {
            score < self.min.value
        }
    }

    fn within_max(&self, score: f64) -> bool {
        if self.max.exclusive {
            score < self.max.value
        } else {
            score <= self.max.value
        }
    }

    /// Whether `score` is inside the range.
    pub fn contains(&self, score: f64) -> bool {
        !self.below_min(score) && self.within_max(score)
    }
}

/// One end of a lexical range (`-`, `+`, `[a`, `(a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`.
    Inclusive(Bytes),
    /// `(member`.
    Exclusive(Bytes),
}

impl LexBound {
    /// Redis's `zslParseLexRangeItem`; `None` is `ERR min or max not valid
    /// string range item`.
    pub fn parse(text: &[u8]) -> Option<LexBound> {
        match text.first()? {
            b'+' if text.len() == 1 => Some(LexBound::Max),
            b'-' if text.len() == 1 => Some(LexBound::Min),
            b'(' => Some(LexBound::Exclusive(Bytes::copy_from_slice(&text[1..]))),
            b'[' => Some(LexBound::Inclusive(Bytes::copy_from_slice(&text[1..]))),
            _ => None,
        }
    }

    fn at_least_as_min(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(v) => member >= &v[..],
            LexBound::Exclusive(v) => member > &v[..],
        }
    }

    fn at_most_as_max(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(v) => member <= &v[..],
            LexBound::Exclusive(v) => member < &v[..],
        }
    }
}

/// A lexical range, `min` to `max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

/// Which elements a range command selects.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeSpec {
    /// By rank, `start` to `stop` inclusive, negatives counting from the end
    /// (from the top under `REV`).
    Rank(i64, i64),
    /// By score.
    Score(ScoreRange),
    /// By member, all scores being equal.
    Lex(LexRange),
}

/// A `ZRANGE`-family query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    /// What to select.
    pub spec: RangeSpec,
    /// Walk from the top (`REV`, `ZREV*`).
    pub rev: bool,
    /// `LIMIT offset count` (score and lex ranges only): a negative offset
    /// selects nothing, a negative count means no limit, as in Redis.
    pub limit: Option<(i64, i64)>,
}

/// `AGGREGATE` of `ZUNION`/`ZINTER`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Aggregate {
    /// Sum of the weighted scores (NaN from `inf + -inf` becomes 0).
    #[default]
    Sum,
    /// Smallest weighted score.
    Min,
    /// Largest weighted score.
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// The set operation of `ZUNION`, `ZINTER`, `ZDIFF` and their forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZsetOp {
    /// `ZUNION`.
    Union,
    /// `ZINTER`.
    Inter,
    /// `ZDIFF`.
    Diff,
}

/// What a storing command (`ZRANGESTORE`, `Z*STORE`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZStored {
    /// Members of the stored set (the reply).
    pub len: usize,
    /// The result was empty and an existing destination was deleted.
    pub destination_deleted: bool,
}

/// A member with its score, as replies carry them.
pub type ScoredMember = (Bytes, f64);

/// Redis's `zsetAdd` outcome flags for one element.
struct AddResult {
    added: bool,
    updated: bool,
    nop: bool,
    score: f64,
}

/// Converts a `listpack` sorted set to `skiplist` (no-op when big).
fn convert(entry: &mut Entry) {
    if let Payload::Packed(run) = entry.payload() {
        let big = zset::packed_to_big(run);
        entry.set_big(big);
    }
}

fn big_mut(entry: &mut Entry) -> &mut BigZset {
    match entry.big_mut() {
        Some(Big::Zset(zset)) => zset,
        _ => unreachable!("a big zset entry holds a BigZset"),
    }
}

/// Redis's `zsetAdd` on one element, conversions included. `Err` is the
/// NaN an increment produced.
fn zset_add(
    entry: &mut Entry,
    member: &[u8],
    score: f64,
    flags: ZaddFlags,
    limits: EncodingLimits,
) -> Result<AddResult, StoreError> {
    let nop = |score| AddResult {
        added: false,
        updated: false,
        nop: true,
        score,
    };
    let current = ZsetRef::of(entry.payload()).score(member);
    match current {
        Some(current) => {
            if flags.nx {
                return Ok(nop(current));
            }
            let mut score = score;
            if flags.incr {
                score += current;
                if score.is_nan() {
                    return Err(StoreError::ScoreNan);
                }
            }
            if (flags.lt && score >= current) || (flags.gt && score <= current) {
                return Ok(nop(current));
            }
            // C compares with `!=`: -0 and 0 are the same score.
            let updated = score != current;
            if updated {
                match entry.payload() {
                    Payload::Packed(run) => {
                        let (run, _) = zset::packed_remove(run, member).expect("present");
                        let run = zset::packed_insert(&run, member, score);
                        entry.set_packed(&run);
                    }
                    Payload::Big(_) => {
                        big_mut(entry).insert(member, score);
                    }
                }
            }
            Ok(AddResult {
                added: false,
                updated,
                nop: false,
                score,
            })
        }
        None if flags.xx => Ok(nop(score)),
        None => {
            if let Payload::Packed(run) = entry.payload() {
                let len = zset::entries(run).count();
                if len + 1 > limits.zset_max_listpack_entries
                    || member.len() > limits.zset_max_listpack_value
                {
                    convert(entry);
                } else {
                    let run = zset::packed_insert(run, member, score);
                    entry.set_packed(&run);
                }
            }
            if entry.is_big() {
                big_mut(entry).insert(member, score);
            }
            Ok(AddResult {
                added: true,
                updated: false,
                nop: false,
                score,
            })
        }
    }
}

/// Removes `member`; true when it was there.
fn zset_remove(entry: &mut Entry, member: &[u8]) -> bool {
    match entry.payload() {
        Payload::Packed(run) => match zset::packed_remove(run, member) {
            Some((run, _)) => {
                entry.set_packed(&run);
                true
            }
            None => false,
        },
        Payload::Big(_) => big_mut(entry).remove(member).is_some(),
    }
}

/// A new entry holding `items` (sorted, distinct), in the encoding its
/// contents call for.
fn build_zset(key: &[u8], items: &[ScoredMember], limits: EncodingLimits) -> Entry {
    let packed = items.len() <= limits.zset_max_listpack_entries
        && items
            .iter()
            .all(|(m, _)| m.len() <= limits.zset_max_listpack_value);
    if packed {
        let run = zset::packed_from_sorted(items.iter().map(|(m, s)| (*s, &m[..])));
        Entry::new_packed(ValueKind::Zset, key, &run, None)
    } else {
        let mut big = BigZset::new();
        for (member, score) in items {
            big.insert(member, *score);
        }
        Entry::new_big(ValueKind::Zset, key, Box::new(Big::Zset(big)), None)
    }
}

/// The ascending ranks `[start, end)` a score or rank range covers (a
/// lexical range is not an interval of ranks when scores differ: see
/// [`lex_first`]).
fn bounds_of(view: ZsetRef<'_>, spec: &RangeSpec) -> (usize, usize) {
    match spec {
        RangeSpec::Score(range) => {
            let start = view.partition_point(&|s, _| range.below_min(s));
            let end = view.partition_point(&|s, _| range.within_max(s));
            (start, end.max(start))
        }
        RangeSpec::Lex(_) => unreachable!("lexical ranges are walked, not bounded by ranks"),
        RangeSpec::Rank(start, stop) => {
            let len = view.len() as i64;
            let (mut start, mut stop) = (*start, *stop);
            if start < 0 {
                start += len;
            }
            if stop < 0 {
                stop += len;
            }
            start = start.max(0);
            if start > stop || start >= len {
                return (0, 0);
            }
            stop = stop.min(len - 1);
            (start as usize, stop as usize + 1)
        }
    }
}

// ---------------------------------------------------------------------------
// Lexical ranges, found as Redis 7.0 finds them.
//
// Redis documents lexical ranges for sets whose members all share one score;
// over mixed scores the members are not in byte order, and the answer is
// whatever its search finds. For a `listpack` set that is a linear walk
// (`zzlFirstInLexRange`, `zzlLastInLexRange`), reproduced exactly here: the
// first element from the head that is at least `min` (checked against
// `max`), the first from the tail that is at most `max` (checked against
// `min`), after `zzlIsInLexRange`'s early outs; the commands then walk on
// while the one bound they check holds. For a `skiplist` set Redis descends
// its levels, and which boundary it lands on depends on random node levels:
// it cannot be reproduced. Redigo bisects over ranks there instead (always
// the same midpoints, so the answer depends only on the set's contents, not
// on its history or tree shape), in the same O(log n), and keeps the rest of
// the skiplist path (`ZLEXCOUNT` as the difference of the two ranks,
// `ZREMRANGEBYLEX` without the early outs). Over one score (or scores that
// agree with member order) every path gives the one right answer.

/// Redis's `sdscmplex(range->min, range->max)` with its `-`/`+` sentinels.
fn lex_bounds_cmp(min: &LexBound, max: &LexBound) -> Ordering {
    match (min, max) {
        (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
        (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
        (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
        (
            LexBound::Inclusive(a) | LexBound::Exclusive(a),
            LexBound::Inclusive(b) | LexBound::Exclusive(b),
        ) => a[..].cmp(&b[..]),
    }
}

impl LexBound {
    /// Redis's `ex` flag: `-`, `+` and `(` bounds are exclusive.
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }
}

impl LexRange {
    /// `zslValueGteMin`.
    fn gte_min(&self, member: &[u8]) -> bool {
        self.min.at_least_as_min(member)
    }

    /// `zslValueLteMax`.
    fn lte_max(&self, member: &[u8]) -> bool {
        self.max.at_most_as_max(member)
    }

    /// A range that is empty whatever the set (`[b [a`, `(a [a`, `- -`).
    fn always_empty(&self) -> bool {
        match lex_bounds_cmp(&self.min, &self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }
}

/// `zzlIsInLexRange`/`zslIsInLexRange`: false when the range is empty, the
/// last member is below `min` or the first above `max`.
fn lex_overlaps(view: ZsetRef<'_>, len: usize, range: &LexRange) -> bool {
    len > 0
        && !range.always_empty()
        && range.gte_min(view.nth(len - 1).1)
        && range.lte_max(view.nth(0).1)
}

/// The first rank `i` with `probe(i)` false, by bisection with fixed
/// midpoints: a boundary (`probe(i - 1)` true or `i == 0`, `probe(i)` false
/// or `i == len`) that depends only on the sequence probed.
fn bisect(len: usize, probe: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if probe(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// `zzlFirstInLexRange`/`zslFirstInLexRange`: the ascending rank the range
/// starts at, `None` when it selects nothing.
fn lex_first(view: ZsetRef<'_>, len: usize, range: &LexRange) -> Option<usize> {
    if !lex_overlaps(view, len, range) {
        return None;
    }
    let (at, member) = match view {
        // The walk from the head: the last member is at least `min`.
        ZsetRef::Packed(run) => zset::entries(run)
            .enumerate()
            .find(|(_, (_, m))| range.gte_min(m))
            .map(|(i, (_, m))| (i, m))?,
        ZsetRef::Big(_) => {
            let at = bisect(len, |i| !range.gte_min(view.nth(i).1));
            (at, view.nth(at).1)
        }
    };
    range.lte_max(member).then_some(at)
}

/// `zzlLastInLexRange`/`zslLastInLexRange`: the ascending rank a reversed
/// walk starts at, `None` when it selects nothing.
fn lex_last(view: ZsetRef<'_>, len: usize, range: &LexRange) -> Option<usize> {
    if !lex_overlaps(view, len, range) {
        return None;
    }
    let (at, member) = match view {
        // The walk from the tail: the first member is at most `max`.
        ZsetRef::Packed(run) => zset::entries(run)
            .enumerate()
            .filter(|(_, (_, m))| range.lte_max(m))
            .last()
            .map(|(i, (_, m))| (i, m))?,
        ZsetRef::Big(_) => {
            let at = bisect(len, |i| range.lte_max(view.nth(i).1)).checked_sub(1)?;
            (at, view.nth(at).1)
        }
    };
    range.gte_min(member).then_some(at)
}

/// How many members from rank `from` on (downwards with `rev`) satisfy
/// `keep`, stopping at the first that does not or at `most`.
fn run_length(
    view: ZsetRef<'_>,
    from: usize,
    rev: bool,
    most: usize,
    keep: impl Fn(f64, &[u8]) -> bool,
) -> usize {
    let mut n = 0;
    if most == 0 {
        return 0;
    }
    view.for_each_from(from, rev, &mut |score, member| {
        if !keep(score, member) {
            return false;
        }
        n += 1;
        n < most
    });
    n
}

/// `ZLEXCOUNT`: the listpack walk counts from the first member in range
/// while members are at most `max`; the skiplist path subtracts the ranks
/// of the first and last members in range (all the members from the first
/// on when there is no last), clamped at 0 where Redis's unsigned
/// arithmetic would wrap to a negative count.
fn lex_count(view: ZsetRef<'_>, range: &LexRange) -> usize {
    let len = view.len();
    let Some(first) = lex_first(view, len, range) else {
        return 0;
    };
    match view {
        ZsetRef::Packed(_) => run_length(view, first, false, usize::MAX, |_, m| range.lte_max(m)),
        ZsetRef::Big(_) => match lex_last(view, len, range) {
            Some(last) => (last + 1).saturating_sub(first),
            None => len - first,
        },
    }
}

/// The ascending ranks `ZREMRANGEBYLEX` deletes, from the first on: the
/// listpack's `zzlDeleteRangeByLex` starts at [`lex_first`]; the
/// skiplist's `zslDeleteRangeByLex` descends without the early outs. Both
/// delete while members are at most `max`.
fn lex_removal(view: ZsetRef<'_>, range: &LexRange) -> (usize, usize) {
    let len = view.len();
    let first = match view {
        ZsetRef::Packed(_) => lex_first(view, len, range),
        ZsetRef::Big(_) => Some(bisect(len, |i| !range.gte_min(view.nth(i).1))),
    };
    match first {
        Some(first) if first < len => (
            first,
            run_length(view, first, false, usize::MAX, |_, m| range.lte_max(m)),
        ),
        _ => (0, 0),
    }
}

/// Which members a `ZRANGE`-family query selects: `count` of them from
/// ascending rank `first`, walking down with `rev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Selection {
    first: usize,
    count: usize,
    rev: bool,
}

impl Selection {
    const NONE: Selection = Selection {
        first: 0,
        count: 0,
        rev: false,
    };
}

/// The members `query` selects, in reply order.
fn selection(view: ZsetRef<'_>, query: &RangeQuery) -> Selection {
    let (offset, count) = query.limit.unwrap_or((0, -1));
    if offset < 0 {
        return Selection::NONE;
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let most = if count < 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    let len = view.len();
    if let RangeSpec::Lex(range) = &query.spec {
        // `genericZrangebylexCommand`: from the first (last) member in
        // range, skip `offset` members unchecked, then take members while
        // the bound ahead holds.
        let start = if query.rev {
            lex_last(view, len, range).and_then(|last| last.checked_sub(offset))
        } else {
            lex_first(view, len, range)
                .and_then(|first| first.checked_add(offset))
                .filter(|&first| first < len)
        };
        let Some(first) = start else {
            return Selection::NONE;
        };
        let count = if query.rev {
            run_length(view, first, true, most, |_, m| range.gte_min(m))
        } else {
            run_length(view, first, false, most, |_, m| range.lte_max(m))
        };
        return Selection {
            first,
            count,
            rev: query.rev,
        };
    }
    let (start, end) = match (&query.spec, query.rev) {
        // A reversed rank range counts from the top.
        (RangeSpec::Rank(..), true) => {
            let (s, e) = bounds_of(view, &query.spec);
            if s == e { (0, 0) } else { (len - e, len - s) }
        }
        _ => bounds_of(view, &query.spec),
    };
    let take = (end.saturating_sub(start)).saturating_sub(offset).min(most);
    if take == 0 {
        return Selection::NONE;
    }
    Selection {
        first: if query.rev {
            end - 1 - offset
        } else {
            start + offset
        },
        count: take,
        rev: query.rev,
    }
}

/// Visits the selected members in order.
fn for_each_selected(view: ZsetRef<'_>, chosen: Selection, visit: &mut dyn FnMut(&[u8], f64)) {
    if chosen.count == 0 {
        return;
    }
    let mut left = chosen.count;
    view.for_each_from(chosen.first, chosen.rev, &mut |score, member| {
        visit(member, score);
        left -= 1;
        left > 0
    });
}

/// The elements `query` selects, in reply order.
fn select(view: ZsetRef<'_>, query: &RangeQuery) -> Vec<ScoredMember> {
    let chosen = selection(view, query);
    let mut out = Vec::with_capacity(chosen.count);
    for_each_selected(view, chosen, &mut |member, score| {
        out.push((Bytes::copy_from_slice(member), score));
    });
    out
}

/// Receives the members of a range reply as they are read, with no copy
/// (`ZRANGE` and its family stream them into the client's reply buffer).
pub trait ScoredSink {
    /// Called once, before any member, with how many follow.
    fn begin(&mut self, count: usize);
    /// One member with its score.
    fn member(&mut self, member: &[u8], score: f64);
}

/// Collects the members, for tests and callers that keep them.
impl ScoredSink for Vec<ScoredMember> {
    fn begin(&mut self, count: usize) {
        self.reserve(count);
    }

    fn member(&mut self, member: &[u8], score: f64) {
        self.push((Bytes::copy_from_slice(member), score));
    }
}

/// Where a command reads scores from: a sorted set, or a set (score 1).
#[derive(Clone, Copy)]
enum Source<'a> {
    Zset(ZsetRef<'a>),
    Set(SetRef<'a>),
}

impl<'a> Source<'a> {
    fn len(self) -> usize {
        match self {
            Source::Zset(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Zset(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(self, mut visit: impl FnMut(&[u8], f64)) {
        match self {
            Source::Zset(z) => z.for_each_from(0, false, &mut |s, m| {
                visit(m, s);
                true
            }),
            Source::Set(s) => s.for_each(|m| visit(m, 1.0)),
        }
    }
}

fn sort_scored(items: &mut [ScoredMember]) {
    items.sort_by(|a, b| zset::compare((a.1, &a.0), (b.1, &b.0)));
}

impl DbHandle<'_> {
    /// A read-only view of the sorted set at `key` (`WRONGTYPE` for another
    /// kind).
    fn zset_view(&mut self, key: &[u8]) -> Result<Option<ZsetRef<'_>>, StoreError> {
        let slot = self.find_kind(key, ValueKind::Zset)?;
        Ok(slot.map(|slot| ZsetRef::of(self.db().entry_at(slot).payload())))
    }

    /// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...` (the option
    /// checks and score parsing are the server's). `ZINCRBY` is `ZADD INCR`.
    pub fn zadd<M: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        flags: ZaddFlags,
        pairs: &[(f64, M)],
    ) -> Result<ZaddOutcome, StoreError> {
        let limits = self.limits();
        let mut outcome = ZaddOutcome {
            added: 0,
            updated: 0,
            incr_score: None,
        };
        let slot = self.find_kind(key, ValueKind::Zset)?;
        let mut apply = |entry: &mut Entry| -> Result<(), StoreError> {
            for (score, member) in pairs {
                let result = zset_add(entry, member.as_ref(), *score, flags, limits)?;
                outcome.added += usize::from(result.added);
                outcome.updated += usize::from(result.updated);
                if !result.nop {
                    outcome.incr_score = Some(result.score);
                }
            }
            Ok(())
        };
        let result = match slot {
            Some(slot) => self.db_mut().update_value(slot, apply),
            None => {
                if flags.xx {
                    return Ok(outcome);
                }
                // Redis's `zaddGenericCommand`: a new sorted set starts as a
                // skiplist when its first member is already too long.
                let first_len = pairs.first().map_or(0, |(_, m)| m.as_ref().len());
                let mut entry = if limits.zset_max_listpack_entries == 0
                    || limits.zset_max_listpack_value < first_len
                {
                    Entry::new_big(
                        ValueKind::Zset,
                        key,
                        Box::new(Big::Zset(BigZset::new())),
                        None,
                    )
                } else {
                    Entry::new_packed(ValueKind::Zset, key, &[], None)
                };
                let result = apply(&mut entry);
                if !entry.collection_is_empty() {
                    self.db_mut().insert_absent(entry);
                }
                result
            }
        };
        result?;
        if !flags.incr {
            outcome.incr_score = None;
        }
        Ok(outcome)
    }

    /// What `SORT`/`SORT_RO` of a sorted set does first in Redis 7.0
    /// (`sortCommandGeneric`: "destructively convert encoded sorted sets"):
    /// a `listpack` set becomes `skiplist` for good, as `OBJECT ENCODING`
    /// shows afterwards. The conversion is not a write: no `WATCH` is
    /// touched, as Redis's `zsetConvert` signals nothing. A missing key or
    /// a `skiplist` set is left alone.
    pub fn zset_convert_for_sort(&mut self, key: &[u8]) -> Result<(), StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Zset)? else {
            return Ok(());
        };
        if !self.db().entry_at(slot).is_big() {
            self.db_mut().table.update_at(slot, convert);
        }
        Ok(())
    }

    /// `ZREM key member ...`: members removed; the key goes with the last.
    pub fn zrem<M: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        members: &[M],
    ) -> Result<Removed, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Zset)? else {
            return Ok(Removed {
                removed: 0,
                key_deleted: false,
            });
        };
        Ok(self.remove_from_collection(slot, members, zset_remove))
    }

    /// `ZCARD key`.
    pub fn zcard(&mut self, key: &[u8]) -> Result<usize, StoreError> {
        Ok(self.zset_view(key)?.map_or(0, ZsetRef::len))
    }

    /// `ZSCORE key member`.
    pub fn zscore(&mut self, key: &[u8], member: &[u8]) -> Result<Option<f64>, StoreError> {
        Ok(self.zset_view(key)?.and_then(|z| z.score(member)))
    }

    /// `ZMSCORE key member ...`: one answer per member (all nil for a
    /// missing key).
    pub fn zmscore<M: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        members: &[M],
    ) -> Result<Vec<Option<f64>>, StoreError> {
        let view = self.zset_view(key)?;
        Ok(members
            .iter()
            .map(|m| view.and_then(|z| z.score(m.as_ref())))
            .collect())
    }

    /// `ZRANK`/`ZREVRANK key member`: the 0-based rank (from the top with
    /// `rev`) and the score.
    pub fn zrank(
        &mut self,
        key: &[u8],
        member: &[u8],
        rev: bool,
    ) -> Result<Option<(usize, f64)>, StoreError> {
        let Some(view) = self.zset_view(key)? else {
            return Ok(None);
        };
        let len = view.len();
        Ok(view
            .rank(member)
            .map(|(rank, score)| (if rev { len - 1 - rank } else { rank }, score)))
    }

    /// `ZCOUNT key min max`, `ZLEXCOUNT key min max` (`spec` a score or
    /// lex range).
    pub fn zcount(&mut self, key: &[u8], spec: &RangeSpec) -> Result<usize, StoreError> {
        Ok(self.zset_view(key)?.map_or(0, |view| match spec {
            RangeSpec::Lex(range) => lex_count(view, range),
            RangeSpec::Score(_) | RangeSpec::Rank(..) => {
                let (start, end) = bounds_of(view, spec);
                end - start
            }
        }))
    }

    /// The `ZRANGE` family: the selected members with their scores, in
    /// reply order (the server drops the scores without `WITHSCORES`).
    /// `None` for a missing key.
    pub fn zrange(
        &mut self,
        key: &[u8],
        query: &RangeQuery,
    ) -> Result<Option<Vec<ScoredMember>>, StoreError> {
        Ok(self.zset_view(key)?.map(|view| select(view, query)))
    }

    /// The `ZRANGE` family streamed: `sink` gets the count, then each
    /// selected member and score straight from the encoding, in reply
    /// order. False (and nothing sent) for a missing key.
    pub fn zrange_with(
        &mut self,
        key: &[u8],
        query: &RangeQuery,
        sink: &mut dyn ScoredSink,
    ) -> Result<bool, StoreError> {
        let Some(view) = self.zset_view(key)? else {
            return Ok(false);
        };
        let chosen = selection(view, query);
        sink.begin(chosen.count);
        for_each_selected(view, chosen, &mut |member, score| {
            sink.member(member, score)
        });
        Ok(true)
    }

    /// Visits, in ascending order, the members whose score is in `range`
    /// (the score range walk `GEOSEARCH` and friends build on): O(log n) to
    /// find the start, then one step per member; `visit` returns false to
    /// stop. A missing key visits nothing.
    pub fn zscore_range_walk(
        &mut self,
        key: &[u8],
        range: &ScoreRange,
        visit: &mut dyn FnMut(&[u8], f64) -> bool,
    ) -> Result<(), StoreError> {
        let Some(view) = self.zset_view(key)? else {
            return Ok(());
        };
        let (start, end) = bounds_of(view, &RangeSpec::Score(*range));
        let mut remaining = end - start;
        if remaining == 0 {
            return Ok(());
        }
        view.for_each_from(start, false, &mut |score, member| {
            remaining -= 1;
            visit(member, score) && remaining > 0
        });
        Ok(())
    }

    /// Stores `items` (any order, distinct members) at `dst` as a sorted set,
    /// replacing whatever `dst` held (its TTL too), or deletes `dst` when
    /// `items` is empty: the end of every `*STORE` command (and of
    /// `GEOSEARCHSTORE`/`GEORADIUS ... STORE`).
    pub fn zstore_result(&mut self, dst: &[u8], mut items: Vec<ScoredMember>) -> ZStored {
        if items.is_empty() {
            let existing = self.find(dst);
            if let Some(slot) = existing {
                let entry = self.db_mut().remove_at(slot);
                self.dispose(entry);
            }
            return ZStored {
                len: 0,
                destination_deleted: existing.is_some(),
            };
        }
        sort_scored(&mut items);
        let entry = build_zset(dst, &items, self.limits());
        match self.find(dst) {
            Some(slot) => {
                let old = self.db_mut().replace_at(slot, entry);
                self.dispose(old);
            }
            None => self.db_mut().insert_absent(entry),
        }
        ZStored {
            len: items.len(),
            destination_deleted: false,
        }
    }

    /// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT ...]`.
    pub fn zrangestore(
        &mut self,
        dst: &[u8],
        src: &[u8],
        query: &RangeQuery,
    ) -> Result<ZStored, StoreError> {
        let items = self.zrange(src, query)?.unwrap_or_default();
        Ok(self.zstore_result(dst, items))
    }

    /// `ZREMRANGEBYRANK`/`ZREMRANGEBYSCORE`/`ZREMRANGEBYLEX`.
    pub fn zremrange(&mut self, key: &[u8], spec: &RangeSpec) -> Result<Removed, StoreError> {
        let Some(view) = self.zset_view(key)? else {
            return Ok(Removed {
                removed: 0,
                key_deleted: false,
            });
        };
        let chosen = match spec {
            RangeSpec::Lex(range) => {
                let (first, count) = lex_removal(view, range);
                Selection {
                    first,
                    count,
                    rev: false,
                }
            }
            RangeSpec::Score(_) | RangeSpec::Rank(..) => selection(
                view,
                &RangeQuery {
                    spec: spec.clone(),
                    rev: false,
                    limit: None,
                },
            ),
        };
        let mut members = Vec::with_capacity(chosen.count);
        for_each_selected(view, chosen, &mut |member, _| {
            members.push(Bytes::copy_from_slice(member));
        });
        self.zrem(key, &members)
    }

    /// `ZPOPMIN`/`ZPOPMAX key [count]` (`max` pops from the top): the popped
    /// members with their scores, in pop order; the key goes with the last.
    pub fn zpop(
        &mut self,
        key: &[u8],
        max: bool,
        count: usize,
    ) -> Result<Vec<ScoredMember>, StoreError> {
        let query = RangeQuery {
            spec: RangeSpec::Rank(
                0,
                i64::try_from(count).unwrap_or(i64::MAX).saturating_sub(1),
            ),
            rev: max,
            limit: None,
        };
        if count == 0 {
            self.zset_view(key)?;
            return Ok(Vec::new());
        }
        let Some(items) = self.zrange(key, &query)? else {
            return Ok(Vec::new());
        };
        let members: Vec<&Bytes> = items.iter().map(|(m, _)| m).collect();
        self.zrem(key, &members)?;
        Ok(items)
    }

    /// `ZMPOP numkeys key ... MIN|MAX [COUNT count]`: pops from the first
    /// key holding a sorted set (a key of another kind before it is
    /// `WRONGTYPE`); `None` when every key is missing.
    pub fn zmpop<K: AsRef<[u8]>>(
        &mut self,
        keys: &[K],
        max: bool,
        count: usize,
    ) -> Result<Option<(Bytes, Vec<ScoredMember>)>, StoreError> {
        for key in keys {
            let key = key.as_ref();
            if self.find_kind(key, ValueKind::Zset)?.is_some() {
                let popped = self.zpop(key, max, count)?;
                return Ok(Some((Bytes::copy_from_slice(key), popped)));
            }
        }
        Ok(None)
    }

    /// Looks every source key up in order (a key that is neither a sorted
    /// set nor a set is `WRONGTYPE`, as Redis's loop checks): which are
    /// live.
    fn lookup_sources<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<bool>, StoreError> {
        keys.iter()
            .map(|k| match self.find(k.as_ref()) {
                None => Ok(false),
                Some(slot) => match self.db().entry_at(slot).kind() {
                    ValueKind::Zset | ValueKind::Set => Ok(true),
                    ValueKind::String | ValueKind::Hash | ValueKind::List => {
                        Err(StoreError::WrongType)
                    }
                },
            })
            .collect()
    }

    /// Checks the source keys of `ZUNION`/`ZINTER`/`ZDIFF` (and their
    /// forms) before their options are read, as Redis does.
    pub fn zset_op_check<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<(), StoreError> {
        self.lookup_sources(keys).map(|_| ())
    }

    /// The result of `op` over `keys` with `weights` (one per key) and
    /// `aggregate`, sorted as a sorted set; with `card_limit`, only counts
    /// intersections up to it (0: no limit) and returns nothing else.
    fn zset_combine<K: AsRef<[u8]>>(
        &mut self,
        op: ZsetOp,
        keys: &[K],
        weights: &[f64],
        aggregate: Aggregate,
        card_limit: Option<usize>,
    ) -> Result<(Vec<ScoredMember>, usize), StoreError> {
        let live = self.lookup_sources(keys)?;
        let db = self.db();
        let mut sources: Vec<(Option<Source<'_>>, f64)> = keys
            .iter()
            .zip(&live)
            .enumerate()
            .map(|(i, (k, &live))| {
                let source =
                    live.then(|| db.table.get(k.as_ref()))
                        .flatten()
                        .map(|e| match e.kind() {
                            ValueKind::Zset => Source::Zset(ZsetRef::of(e.payload())),
                            _ => Source::Set(SetRef::of(e.payload())),
                        });
                (source, weights.get(i).copied().unwrap_or(1.0))
            })
            .collect();
        let length = |s: &Option<Source<'_>>| s.map_or(0, Source::len);
        let mut out: Vec<ScoredMember> = Vec::new();
        let mut cardinality = 0;
        match op {
            ZsetOp::Inter => {
                sources.sort_by_key(|(s, _)| length(s));
                if length(&sources[0].0) > 0 {
                    let (first, weight) = sources[0];
                    let first = first.expect("non-empty");
                    let rest = &sources[1..];
                    let mut done = false;
                    first.for_each(|member, score| {
                        if done {
                            return;
                        }
                        let mut total = weight * score;
                        if total.is_nan() {
                            total = 0.0;
                        }
                        for (source, weight) in rest {
                            match source.and_then(|s| s.score(member)) {
                                Some(value) => aggregate.apply(&mut total, value * weight),
                                None => return,
                            }
                        }
                        match card_limit {
                            Some(limit) => {
                                cardinality += 1;
                                if limit > 0 && cardinality >= limit {
                                    done = true;
                                }
                            }
                            None => out.push((Bytes::copy_from_slice(member), total)),
                        }
                    });
                }
            }
            ZsetOp::Union => {
                sources.sort_by_key(|(s, _)| length(s));
                let mut index: HashMap<Bytes, usize> = HashMap::new();
                for (source, weight) in &sources {
                    let Some(source) = source else { continue };
                    source.for_each(|member, score| {
                        let mut value = weight * score;
                        if value.is_nan() {
                            value = 0.0;
                        }
                        match index.get(member) {
                            Some(&at) => aggregate.apply(&mut out[at].1, value),
                            None => {
                                let member = Bytes::copy_from_slice(member);
                                index.insert(member.clone(), out.len());
                                out.push((member, value));
                            }
                        }
                    });
                }
            }
            ZsetOp::Diff => {
                if let Some(first) = sources[0].0 {
                    let rest: Vec<Source<'_>> =
                        sources[1..].iter().filter_map(|(s, _)| *s).collect();
                    first.for_each(|member, score| {
                        if rest.iter().all(|s| s.score(member).is_none()) {
                            out.push((Bytes::copy_from_slice(member), score));
                        }
                    });
                }
            }
        }
        sort_scored(&mut out);
        Ok((out, cardinality))
    }

    /// `ZUNION`/`ZINTER`/`ZDIFF numkeys key ... [WEIGHTS ...] [AGGREGATE
    /// ...]`: the result in order.
    pub fn zset_op<K: AsRef<[u8]>>(
        &mut self,
        op: ZsetOp,
        keys: &[K],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<Vec<ScoredMember>, StoreError> {
        Ok(self.zset_combine(op, keys, weights, aggregate, None)?.0)
    }

    /// `ZUNIONSTORE`/`ZINTERSTORE`/`ZDIFFSTORE dst numkeys key ...`.
    pub fn zset_op_store<K: AsRef<[u8]>>(
        &mut self,
        op: ZsetOp,
        dst: &[u8],
        keys: &[K],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<ZStored, StoreError> {
        let (items, _) = self.zset_combine(op, keys, weights, aggregate, None)?;
        Ok(self.zstore_result(dst, items))
    }

    /// `ZINTERCARD numkeys key ... [LIMIT limit]` (`limit` 0: no limit).
    pub fn zintercard<K: AsRef<[u8]>>(
        &mut self,
        keys: &[K],
        limit: usize,
    ) -> Result<usize, StoreError> {
        Ok(self
            .zset_combine(ZsetOp::Inter, keys, &[], Aggregate::Sum, Some(limit))?
            .1)
    }

    /// `ZRANDMEMBER key`: a uniformly random member.
    pub fn zrandmember(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Zset)? else {
            return Ok(None);
        };
        let len = ZsetRef::of(self.db().entry_at(slot).payload()).len();
        let rank = (self.random() % len as u64) as usize;
        let view = ZsetRef::of(self.db().entry_at(slot).payload());
        Ok(Some(Bytes::copy_from_slice(view.nth(rank).1)))
    }

    /// `ZRANDMEMBER key count [WITHSCORES]`, as `HRANDFIELD`: a positive
    /// count gives distinct members (all of them, in order, when it covers
    /// the set), a negative one allows repeats. The sink gets the score
    /// printed as Redis replies with it.
    pub fn zrandmember_with_count(
        &mut self,
        key: &[u8],
        count: i64,
        with_scores: bool,
        sink: &mut dyn PickSink,
    ) -> Result<(), StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Zset)? else {
            sink.begin(0);
            return Ok(());
        };
        let wanted = count.unsigned_abs() as usize;
        let len = ZsetRef::of(self.db().entry_at(slot).payload()).len();
        let indexes = if count > 0 && wanted < len {
            let mut random = || self.random();
            Some(distinct_indexes(len, wanted, &mut random))
        } else {
            None
        };
        let mut rng = self.random() | 1;
        let view = ZsetRef::of(self.db().entry_at(slot).payload());
        let emit = |sink: &mut dyn PickSink, score: f64, member: &[u8]| {
            let score = with_scores.then(|| score_text(score));
            sink.element(member, score.as_ref().map(ScoreText::as_bytes))
        };
        if count == 0 {
            sink.begin(0);
        } else if count < 0 {
            sink.begin(wanted);
            for _ in 0..wanted {
                rng = xorshift(rng);
                let (score, member) = view.nth((rng % len as u64) as usize);
                if !emit(sink, score, member) {
                    break;
                }
            }
        } else if let Some(indexes) = indexes {
            sink.begin(wanted);
            for index in indexes {
                let (score, member) = view.nth(index);
                if !emit(sink, score, member) {
                    break;
                }
            }
        } else {
            sink.begin(len);
            view.for_each_from(0, false, &mut |score, member| emit(sink, score, member));
        }
        Ok(())
    }

    /// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: a `listpack` set
    /// comes whole, in order, with cursor 0 (as Redis); a `skiplist` one is
    /// walked through its member map by position, with `SCAN`'s guarantee.
    /// Items alternate member and score (printed as Redis replies).
    pub fn zscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<CollectionScanPage, StoreError> {
        let mut page = CollectionScanPage::empty();
        let Some(view) = self.zset_view(key)? else {
            return Ok(page);
        };
        let matches = |m: &[u8]| pattern.is_none_or(|p| glob::matches(p, m, false));
        let mut push = |m: &[u8], s: f64| {
            if matches(m) {
                page.items.push(Bytes::copy_from_slice(m));
                page.items.push(Bytes::from(format_score(s)));
            }
        };
        match view {
            ZsetRef::Packed(run) => zset::entries(run).for_each(|(s, m)| push(m, s)),
            ZsetRef::Big(big) => {
                let mut found = Vec::new();
                let next = big.map().scan(cursor, count, &mut found);
                for element in found {
                    let (m, s) = zset::map_entry(element);
                    push(m, s);
                }
                page.cursor = next;
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 33
    }

    fn bound(state: &mut u64) -> LexBound {
        let member = Bytes::from(format!("m{:04}", lcg(state) % 3000));
        match lcg(state) % 6 {
            0 => LexBound::Min,
            1 => LexBound::Max,
            2 | 3 => LexBound::Inclusive(member),
            _ => LexBound::Exclusive(member),
        }
    }

    /// Every lexical answer of a view, for comparing two of them.
    fn answers(view: ZsetRef<'_>, range: &LexRange) -> Vec<usize> {
        let len = view.len();
        let mut out = vec![
            lex_first(view, len, range).map_or(usize::MAX, |r| r),
            lex_last(view, len, range).map_or(usize::MAX, |r| r),
            lex_count(view, range),
        ];
        let (first, count) = lex_removal(view, range);
        out.extend([first, count]);
        for rev in [false, true] {
            let chosen = selection(
                view,
                &RangeQuery {
                    spec: RangeSpec::Lex(range.clone()),
                    rev,
                    limit: Some((1, 50)),
                },
            );
            out.extend([chosen.first, chosen.count]);
        }
        out
    }

    fn big_of(items: &[(f64, Bytes)]) -> BigZset {
        let mut big = BigZset::new();
        for (score, member) in items {
            big.insert(member, *score);
        }
        big
    }

    /// A `skiplist` set answers lexical ranges over mixed scores from its
    /// contents alone: the same members inserted in another order (another
    /// tree shape) give the same answers.
    #[test]
    fn big_lexical_answers_depend_only_on_contents() {
        let mut state = 7;
        let mut items: Vec<(f64, Bytes)> = (0..3000)
            .map(|i| {
                (
                    (lcg(&mut state) % 5) as f64,
                    Bytes::from(format!("m{i:04}")),
                )
            })
            .collect();
        let forward = big_of(&items);
        items.reverse();
        let backward = big_of(&items);
        for _ in 0..300 {
            let range = LexRange {
                min: bound(&mut state),
                max: bound(&mut state),
            };
            assert_eq!(
                answers(ZsetRef::Big(&forward), &range),
                answers(ZsetRef::Big(&backward), &range),
                "{range:?}"
            );
        }
    }

    /// Over one score the bisection and the `listpack` walk agree.
    #[test]
    fn big_and_packed_agree_over_one_score() {
        let items: Vec<(f64, Bytes)> = (0..3000)
            .map(|i| (1.0, Bytes::from(format!("m{i:04}"))))
            .collect();
        let big = big_of(&items);
        let run = zset::packed_from_sorted(items.iter().map(|(s, m)| (*s, &m[..])));
        let mut state = 11;
        for _ in 0..300 {
            let range = LexRange {
                min: bound(&mut state),
                max: bound(&mut state),
            };
            let (big, packed) = (ZsetRef::Big(&big), ZsetRef::Packed(&run));
            let (mut a, mut b) = (answers(big, &range), answers(packed, &range));
            // The skiplist's removal skips the early outs: it may start
            // past the end, where the walk says "nothing" with (0, 0).
            if a[4] == 0 {
                a[3] = 0;
            }
            if b[4] == 0 {
                b[3] = 0;
            }
            assert_eq!(a, b, "{range:?}");
        }
    }
}
