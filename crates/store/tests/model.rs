//! Model-based test: random sequences of commands and clock advances run
//! against the store and against a plain reference model (one `BTreeMap` per
//! database with explicit deadlines), written from Redis 7.0's documented
//! semantics. Every reply, every lazily expired key reported by
//! `drain_expired`, and the final contents must agree.
//!
//! The key space is tiny so that overwrites, collisions with expired keys and
//! cross-database moves happen all the time.

use std::collections::BTreeMap;

use proptest::prelude::*;
use std::collections::BTreeSet;

use bytes::Bytes;
use redigo_store::numeric::format_score;
use redigo_store::ops::lists::{End, InsertWhere};
use redigo_store::ops::zsets::{RangeQuery, RangeSpec, ScoreBound, ScoreRange, ZaddFlags};
use redigo_store::{
    EncodingLimits, ExpireCondition, ExpireOutcome, Expiry, GetExTtl, HashValue, ListValue,
    ScanOptions, SetCondition, SetOptions, SetTtl, SetValue, Store, StoreConfig, StoreError, Value,
    ZsetValue,
};

const DATABASES: usize = 3;
const MAX_STRING_LEN: usize = 64;
const KEYS: &[&str] = &["a", "b", "c", "d"];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-5",
    "9223372036854775807",
    "-9223372036854775808",
    "abc",
    "12x",
    " 1",
];
const DELTAS: &[i64] = &[1, -1, 7, i64::MAX, i64::MIN, -3];
const FIELDS: &[&str] = &["f", "g", "n"];
const HVALUES: &[&str] = &["1", "-2", "x", "9223372036854775807"];
const MEMBERS: &[&str] = &["1", "2", "-3", "a", "bb"];
/// Sorted-set scores: ties, infinities, close doubles (no `-0`: a
/// `listpack` stores it as `0` and a `skiplist` does not, which the model
/// would have to know the encoding to follow; the differential tests cover
/// it).
const ZSCORES: &[f64] = &[
    1.0,
    1.0,
    2.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.1,
    0.30000000000000004,
    -7.0,
];
/// Tiny thresholds so that both encodings of each kind, and the conversions
/// between them, come up in short sequences.
const LIMITS: EncodingLimits = EncodingLimits {
    hash_max_listpack_entries: 2,
    hash_max_listpack_value: 3,
    set_max_intset_entries: 2,
    zset_max_listpack_entries: 2,
    zset_max_listpack_value: 3,
    list_max_listpack_size: 2,
    list_compress_depth: 0,
};
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Returns the reply a lookup produced instead of a value (WRONGTYPE).
macro_rules! or_reply {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}
const AMOUNTS: &[i64] = &[-5, 0, 1, 2, 5, 9_223_372_036_854_775_807];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Ok,
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Err(String),
    Array(Vec<Reply>),
}

fn bulk(v: Option<&[u8]>) -> Reply {
    v.map_or(Reply::Nil, |v| Reply::Bulk(v.to_vec()))
}

fn err(e: StoreError) -> Reply {
    Reply::Err(e.to_string())
}

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Select(usize),
    Set(usize, usize, SetCondition, SetTtl, bool),
    Get(usize),
    GetSet(usize, usize),
    GetDel(usize),
    GetEx(usize, GetExTtl),
    SetNx(usize, usize),
    SetEx(usize, i64, usize),
    PSetEx(usize, i64, usize),
    MGet(Vec<usize>),
    MSet(Vec<(usize, usize)>),
    MSetNx(Vec<(usize, usize)>),
    IncrBy(usize, i64),
    DecrBy(usize, i64),
    Append(usize, usize),
    Strlen(usize),
    GetRange(usize, i64, i64),
    SetRange(usize, i64, usize),
    Del(Vec<usize>),
    Exists(Vec<usize>),
    Expire(usize, Expiry, ExpireCondition),
    Ttl(usize),
    Pttl(usize),
    ExpireTime(usize),
    Persist(usize),
    Type(usize),
    Keys,
    Rename(usize, usize, bool),
    Copy(usize, usize, Option<usize>, bool),
    Move(usize, usize),
    DbSize,
    SwapDb(usize, usize),
    FlushDb,
    Reap(usize),
    ScanAll,
    HSet(usize, Vec<(usize, usize)>),
    HGet(usize, usize),
    HDel(usize, Vec<usize>),
    HLen(usize),
    HGetAll(usize),
    HIncrBy(usize, usize, i64),
    SAdd(usize, Vec<usize>),
    SRem(usize, Vec<usize>),
    SIsMember(usize, usize),
    SMembers(usize),
    SCard(usize),
    SInterStore(usize, Vec<usize>),
    SUnion(Vec<usize>),
    SDiff(Vec<usize>),
    ZAdd(usize, Vec<(usize, usize)>),
    ZIncrBy(usize, usize, usize),
    ZRem(usize, Vec<usize>),
    ZRangeAll(usize),
    ZRangeByScore(usize, usize, usize),
    ZRank(usize, usize),
    ZPopMin(usize, usize),
    SMove(usize, usize, usize),
    LPush(usize, End, Vec<usize>, bool),
    LPop(usize, End, Option<usize>),
    LRange(usize, i64, i64),
    LIndex(usize, i64),
    LSet(usize, i64, usize),
    LInsert(usize, bool, usize, usize),
    LRem(usize, i64, usize),
    LTrim(usize, i64, i64),
    LPos(usize, usize, i64, usize, usize),
    LMove(usize, usize, End, End),
    LMPop(Vec<usize>, End, usize),
}

/// List elements (few, so that pivots and matches are found).
const ELEMENTS: &[&str] = &["x", "y", "zz", "1"];

fn end() -> impl Strategy<Value = End> {
    prop_oneof![Just(End::Left), Just(End::Right)]
}

fn expiry() -> impl Strategy<Value = Expiry> {
    (0..4usize, prop::sample::select(AMOUNTS), 0..3000i64).prop_map(|(kind, amount, offset)| {
        match kind {
            0 => Expiry::Seconds(amount),
            1 => Expiry::Millis(if amount == 5 { offset } else { amount }),
            // Absolute times near the model's clock (which starts at 1_000_000).
            2 => Expiry::UnixSeconds(if amount > 5 { amount } else { 1_000 + amount }),
            _ => Expiry::UnixMillis(if amount > 5 {
                amount
            } else {
                1_000_000 + offset + amount
            }),
        }
    })
}

fn op() -> impl Strategy<Value = Op> {
    let key = || 0..KEYS.len();
    let value = || 0..VALUES.len();
    let db = || 0..DATABASES;
    let keys = || prop::collection::vec(0..KEYS.len(), 1..4);
    let pairs = || prop::collection::vec((0..KEYS.len(), 0..VALUES.len()), 1..4);
    let condition = prop_oneof![
        Just(SetCondition::Always),
        Just(SetCondition::IfAbsent),
        Just(SetCondition::IfPresent)
    ];
    let set_ttl = prop_oneof![
        Just(SetTtl::Clear),
        Just(SetTtl::Keep),
        expiry().prop_map(SetTtl::Expire)
    ];
    let getex_ttl = prop_oneof![
        Just(GetExTtl::Unchanged),
        Just(GetExTtl::Persist),
        expiry().prop_map(GetExTtl::Expire)
    ];
    let expire_condition = prop_oneof![
        Just(ExpireCondition::Always),
        Just(ExpireCondition::IfNoTtl),
        Just(ExpireCondition::IfTtl),
        Just(ExpireCondition::IfGreater),
        Just(ExpireCondition::IfLess),
    ];
    let index = || prop::sample::select(vec![0i64, 1, 2, -1, -2, -10, 10]);
    prop_oneof![
        4 => (0..2500u64).prop_map(Op::Advance),
        1 => db().prop_map(Op::Select),
        6 => (key(), value(), condition, set_ttl, any::<bool>()).prop_map(|(k, v, c, t, g)| Op::Set(k, v, c, t, g)),
        4 => key().prop_map(Op::Get),
        1 => (key(), value()).prop_map(|(k, v)| Op::GetSet(k, v)),
        1 => key().prop_map(Op::GetDel),
        2 => (key(), getex_ttl).prop_map(|(k, t)| Op::GetEx(k, t)),
        1 => (key(), value()).prop_map(|(k, v)| Op::SetNx(k, v)),
        1 => (key(), prop::sample::select(AMOUNTS), value()).prop_map(|(k, a, v)| Op::SetEx(k, a, v)),
        1 => (key(), prop::sample::select(AMOUNTS), value()).prop_map(|(k, a, v)| Op::PSetEx(k, a.saturating_mul(500), v)),
        1 => keys().prop_map(Op::MGet),
        1 => pairs().prop_map(Op::MSet),
        1 => pairs().prop_map(Op::MSetNx),
        2 => (key(), prop::sample::select(DELTAS)).prop_map(|(k, d)| Op::IncrBy(k, d)),
        1 => (key(), prop::sample::select(DELTAS)).prop_map(|(k, d)| Op::DecrBy(k, d)),
        1 => (key(), value()).prop_map(|(k, v)| Op::Append(k, v)),
        1 => key().prop_map(Op::Strlen),
        1 => (key(), index(), index()).prop_map(|(k, s, e)| Op::GetRange(k, s, e)),
        1 => (key(), prop::sample::select(vec![-1i64, 0, 2, 40, 63, 64]), value()).prop_map(|(k, o, v)| Op::SetRange(k, o, v)),
        2 => keys().prop_map(Op::Del),
        1 => keys().prop_map(Op::Exists),
        4 => (key(), expiry(), expire_condition).prop_map(|(k, e, c)| Op::Expire(k, e, c)),
        2 => key().prop_map(Op::Ttl),
        1 => key().prop_map(Op::Pttl),
        1 => key().prop_map(Op::ExpireTime),
        1 => key().prop_map(Op::Persist),
        1 => key().prop_map(Op::Type),
        1 => Just(Op::Keys),
        2 => (key(), key(), any::<bool>()).prop_map(|(s, d, nx)| Op::Rename(s, d, nx)),
        1 => (key(), key(), prop::option::of(db()), any::<bool>()).prop_map(|(s, d, db, r)| Op::Copy(s, d, db, r)),
        1 => (key(), db()).prop_map(|(k, db)| Op::Move(k, db)),
        1 => Just(Op::DbSize),
        4 => (key(), prop::collection::vec((0..ZSCORES.len(), 0..MEMBERS.len()), 1..3)).prop_map(|(k, p)| Op::ZAdd(k, p)),
        2 => (key(), 0..ZSCORES.len(), 0..MEMBERS.len()).prop_map(|(k, s, m)| Op::ZIncrBy(k, s, m)),
        2 => (key(), prop::collection::vec(0..MEMBERS.len(), 1..3)).prop_map(|(k, m)| Op::ZRem(k, m)),
        2 => key().prop_map(Op::ZRangeAll),
        1 => (key(), 0..ZSCORES.len(), 0..ZSCORES.len()).prop_map(|(k, a, b)| Op::ZRangeByScore(k, a, b)),
        1 => (key(), 0..MEMBERS.len()).prop_map(|(k, m)| Op::ZRank(k, m)),
        1 => (key(), 0..3usize).prop_map(|(k, n)| Op::ZPopMin(k, n)),
        1 => (db(), db()).prop_map(|(a, b)| Op::SwapDb(a, b)),
        1 => Just(Op::FlushDb),
        2 => (1..3usize).prop_map(Op::Reap),
        1 => Just(Op::ScanAll),
        4 => (key(), prop::collection::vec((0..FIELDS.len(), 0..HVALUES.len()), 1..3)).prop_map(|(k, p)| Op::HSet(k, p)),
        2 => (key(), 0..FIELDS.len()).prop_map(|(k, f)| Op::HGet(k, f)),
        2 => (key(), prop::collection::vec(0..FIELDS.len(), 1..3)).prop_map(|(k, f)| Op::HDel(k, f)),
        1 => key().prop_map(Op::HLen),
        2 => key().prop_map(Op::HGetAll),
        2 => (key(), 0..FIELDS.len(), prop::sample::select(DELTAS)).prop_map(|(k, f, d)| Op::HIncrBy(k, f, d)),
        4 => (key(), prop::collection::vec(0..MEMBERS.len(), 1..3)).prop_map(|(k, m)| Op::SAdd(k, m)),
        2 => (key(), prop::collection::vec(0..MEMBERS.len(), 1..3)).prop_map(|(k, m)| Op::SRem(k, m)),
        1 => (key(), 0..MEMBERS.len()).prop_map(|(k, m)| Op::SIsMember(k, m)),
        2 => key().prop_map(Op::SMembers),
        1 => key().prop_map(Op::SCard),
        1 => (key(), keys()).prop_map(|(d, ks)| Op::SInterStore(d, ks)),
        1 => keys().prop_map(Op::SUnion),
        1 => keys().prop_map(Op::SDiff),
        2 => (key(), key(), 0..MEMBERS.len()).prop_map(|(s, d, m)| Op::SMove(s, d, m)),
        6 => (key(), end(), prop::collection::vec(0..ELEMENTS.len(), 1..5), any::<bool>()).prop_map(|(k, e, v, x)| Op::LPush(k, e, v, x)),
        3 => (key(), end(), prop::option::of(0..4usize)).prop_map(|(k, e, c)| Op::LPop(k, e, c)),
        2 => (key(), index(), index()).prop_map(|(k, s, e)| Op::LRange(k, s, e)),
        1 => (key(), index()).prop_map(|(k, i)| Op::LIndex(k, i)),
        1 => (key(), index(), 0..ELEMENTS.len()).prop_map(|(k, i, v)| Op::LSet(k, i, v)),
        1 => (key(), any::<bool>(), 0..ELEMENTS.len(), 0..ELEMENTS.len()).prop_map(|(k, b, p, v)| Op::LInsert(k, b, p, v)),
        1 => (key(), prop::sample::select(vec![0i64, 1, 2, -1, -2]), 0..ELEMENTS.len()).prop_map(|(k, c, v)| Op::LRem(k, c, v)),
        1 => (key(), index(), index()).prop_map(|(k, s, e)| Op::LTrim(k, s, e)),
        1 => (key(), 0..ELEMENTS.len(), prop::sample::select(vec![1i64, 2, -1, -2, i64::MIN]), 0..3usize, 0..4usize).prop_map(|(k, v, r, c, m)| Op::LPos(k, v, r, c, m)),
        2 => (key(), key(), end(), end()).prop_map(|(s, d, f, t)| Op::LMove(s, d, f, t)),
        1 => (keys(), end(), 1..4usize).prop_map(|(ks, e, c)| Op::LMPop(ks, e, c)),
    ]
}

/// A key's value and deadline: any kind of value, as the store holds it.
type Entry = (Value, Option<u64>);

/// A string value of the model.
fn string_value(bytes: Vec<u8>) -> Value {
    Value::String(bytes.into())
}

type ModelHash = BTreeMap<Vec<u8>, Vec<u8>>;
/// What a typed lookup finds: the value and its deadline, nothing, or the
/// WRONGTYPE reply.
type Lookup<T> = Result<Option<(T, Option<u64>)>, Reply>;
type ModelSet = BTreeSet<Vec<u8>>;

fn hash_value(hash: &ModelHash) -> Value {
    Value::Hash(HashValue::from_pairs(
        hash.iter()
            .map(|(f, v)| (Bytes::from(f.clone()), Bytes::from(v.clone())))
            .collect(),
    ))
}

fn set_value(set: &ModelSet) -> Value {
    Value::Set(SetValue::from_members(
        set.iter().map(|m| Bytes::from(m.clone())).collect(),
    ))
}

type ModelList = Vec<Vec<u8>>;

fn list_value(list: &ModelList) -> Value {
    Value::List(ListValue::from_elements(
        list.iter().map(|e| Bytes::from(e.clone())).collect(),
    ))
}

/// Redis's LRANGE/LTRIM bounds.
fn list_bounds(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    (start <= stop && start < len).then_some((start as usize, stop as usize))
}

fn list_index(index: i64, len: usize) -> Option<usize> {
    let index = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&index).then_some(index as usize)
}

/// A sorted set as the model keeps it: members with scores, in order.
type ModelZset = Vec<(Vec<u8>, f64)>;

fn zset_value(zset: &ModelZset) -> Value {
    Value::Zset(ZsetValue::from_entries(
        zset.iter()
            .map(|(m, s)| (Bytes::from(m.clone()), *s))
            .collect(),
    ))
}

fn sort_zset(zset: &mut ModelZset) {
    zset.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
}

fn scored(items: &[(Vec<u8>, f64)]) -> Reply {
    Reply::Array(
        items
            .iter()
            .flat_map(|(m, s)| {
                [
                    Reply::Bulk(m.clone()),
                    Reply::Bulk(format_score(*s).into_bytes()),
                ]
            })
            .collect(),
    )
}

fn wrongtype() -> Reply {
    Reply::Err(WRONGTYPE.into())
}

fn sorted(items: impl IntoIterator<Item = Vec<u8>>) -> Reply {
    let mut items: Vec<Vec<u8>> = items.into_iter().collect();
    items.sort();
    Reply::Array(items.into_iter().map(Reply::Bulk).collect())
}

/// The reference: physically present keys with their deadlines, and the
/// lazily expired keys in the order Redis would report them.
struct Model {
    dbs: Vec<BTreeMap<Vec<u8>, Entry>>,
    now: u64,
    db: usize,
    expired: Vec<(usize, Vec<u8>)>,
}

impl Model {
    fn map(&mut self, db: usize) -> &mut BTreeMap<Vec<u8>, Entry> {
        &mut self.dbs[db]
    }

    /// Redis's lookupKey: an expired key is deleted and reported.
    fn lookup_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let now = self.now;
        let entry = self.dbs[db].get(key).cloned()?;
        if entry.1.is_some_and(|deadline| deadline < now) {
            self.dbs[db].remove(key);
            self.expired.push((db, key.to_vec()));
            return None;
        }
        Some(entry)
    }

    fn lookup(&mut self, key: &[u8]) -> Option<Entry> {
        self.lookup_in(self.db, key)
    }

    /// A lookup by a string command: the string and its deadline, or the
    /// WRONGTYPE reply. Every kind is matched: a new kind must say here
    /// what string commands see.
    fn lookup_string(&mut self, key: &[u8]) -> Lookup<Vec<u8>> {
        let Some((value, deadline)) = self.lookup(key) else {
            return Ok(None);
        };
        match value {
            Value::String(bytes) => Ok(Some((bytes.to_vec(), deadline))),
            Value::Hash(_) | Value::Set(_) | Value::List(_) | Value::Zset(_) => Err(wrongtype()),
        }
    }

    /// A lookup by a hash command.
    fn lookup_hash(&mut self, key: &[u8]) -> Lookup<ModelHash> {
        let Some((value, deadline)) = self.lookup(key) else {
            return Ok(None);
        };
        match value {
            Value::Hash(hash) => Ok(Some((
                hash.to_sorted_pairs()
                    .into_iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
                deadline,
            ))),
            Value::String(_) | Value::Set(_) | Value::List(_) | Value::Zset(_) => Err(wrongtype()),
        }
    }

    /// A lookup by a set command.
    fn lookup_set(&mut self, key: &[u8]) -> Lookup<ModelSet> {
        let Some((value, deadline)) = self.lookup(key) else {
            return Ok(None);
        };
        match value {
            Value::Set(set) => Ok(Some((
                set.to_sorted().into_iter().map(|m| m.to_vec()).collect(),
                deadline,
            ))),
            Value::String(_) | Value::Hash(_) | Value::List(_) | Value::Zset(_) => Err(wrongtype()),
        }
    }

    /// A lookup by a sorted set command.
    fn lookup_zset(&mut self, key: &[u8]) -> Lookup<ModelZset> {
        let Some((value, deadline)) = self.lookup(key) else {
            return Ok(None);
        };
        match value {
            Value::Zset(zset) => Ok(Some((
                zset.to_vec()
                    .into_iter()
                    .map(|(m, s)| (m.to_vec(), s))
                    .collect(),
                deadline,
            ))),
            Value::String(_) | Value::Hash(_) | Value::Set(_) | Value::List(_) => Err(wrongtype()),
        }
    }

    /// A lookup by a list command.
    fn lookup_list(&mut self, key: &[u8]) -> Lookup<ModelList> {
        let Some((value, deadline)) = self.lookup(key) else {
            return Ok(None);
        };
        match value {
            Value::List(list) => Ok(Some((
                list.to_vec().into_iter().map(|e| e.to_vec()).collect(),
                deadline,
            ))),
            Value::String(_) | Value::Hash(_) | Value::Set(_) | Value::Zset(_) => Err(wrongtype()),
        }
    }

    /// Stores a list back (or deletes the key when it is empty).
    fn put_list(&mut self, key: &[u8], list: &ModelList, deadline: Option<u64>) {
        let value = (!list.is_empty()).then(|| list_value(list));
        self.put(key, value, deadline);
    }

    fn apply_list(&mut self, op: &Op) -> Reply {
        let k = |i: usize| KEYS[i].as_bytes().to_vec();
        let bulks =
            |items: &[Vec<u8>]| Reply::Array(items.iter().cloned().map(Reply::Bulk).collect());
        match op {
            Op::LPush(key, end, values, only_existing) => {
                let found = or_reply!(self.lookup_list(&k(*key)));
                if found.is_none() && *only_existing {
                    return Reply::Int(0);
                }
                let (mut list, deadline) = found.unwrap_or_default();
                for v in values {
                    let v = ELEMENTS[*v].as_bytes().to_vec();
                    match end {
                        End::Left => list.insert(0, v),
                        End::Right => list.push(v),
                    }
                }
                self.put_list(&k(*key), &list, deadline);
                Reply::Int(list.len() as i64)
            }
            Op::LPop(key, end, count) => {
                let Some((mut list, deadline)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Nil;
                };
                let take = count.unwrap_or(1).min(list.len());
                let popped: Vec<Vec<u8>> = match end {
                    End::Left => list.drain(..take).collect(),
                    End::Right => list.drain(list.len() - take..).rev().collect(),
                };
                self.put_list(&k(*key), &list, deadline);
                match count {
                    None => Reply::Bulk(popped[0].clone()),
                    Some(_) => bulks(&popped),
                }
            }
            Op::LRange(key, start, stop) => {
                let list = or_reply!(self.lookup_list(&k(*key))).unwrap_or_default().0;
                match list_bounds(*start, *stop, list.len()) {
                    Some((from, to)) => bulks(&list[from..=to]),
                    None => Reply::Array(Vec::new()),
                }
            }
            Op::LIndex(key, index) => {
                let list = or_reply!(self.lookup_list(&k(*key))).unwrap_or_default().0;
                bulk(list_index(*index, list.len()).map(|i| &list[i][..]))
            }
            Op::LSet(key, index, v) => {
                let Some((mut list, deadline)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Err("ERR no such key".into());
                };
                let Some(i) = list_index(*index, list.len()) else {
                    return Reply::Err("ERR index out of range".into());
                };
                list[i] = ELEMENTS[*v].as_bytes().to_vec();
                self.put_list(&k(*key), &list, deadline);
                Reply::Ok
            }
            Op::LInsert(key, before, pivot, v) => {
                let Some((mut list, deadline)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Int(0);
                };
                let Some(at) = list.iter().position(|e| e == ELEMENTS[*pivot].as_bytes()) else {
                    return Reply::Int(-1);
                };
                list.insert(
                    if *before { at } else { at + 1 },
                    ELEMENTS[*v].as_bytes().to_vec(),
                );
                self.put_list(&k(*key), &list, deadline);
                Reply::Int(list.len() as i64)
            }
            Op::LRem(key, count, v) => {
                let Some((list, deadline)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Int(0);
                };
                let target = ELEMENTS[*v].as_bytes();
                let limit = if *count == 0 {
                    usize::MAX
                } else {
                    count.unsigned_abs() as usize
                };
                let mut removed = 0;
                let mut keep = vec![true; list.len()];
                let order: Vec<usize> = if *count >= 0 {
                    (0..list.len()).collect()
                } else {
                    (0..list.len()).rev().collect()
                };
                for i in order {
                    if removed < limit && list[i] == target {
                        keep[i] = false;
                        removed += 1;
                    }
                }
                let list: ModelList = list
                    .into_iter()
                    .zip(keep)
                    .filter(|(_, k)| *k)
                    .map(|(e, _)| e)
                    .collect();
                self.put_list(&k(*key), &list, deadline);
                Reply::Int(removed as i64)
            }
            Op::LTrim(key, start, stop) => {
                let Some((list, deadline)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Ok;
                };
                let list = match list_bounds(*start, *stop, list.len()) {
                    Some((from, to)) => list[from..=to].to_vec(),
                    None => Vec::new(),
                };
                self.put_list(&k(*key), &list, deadline);
                Reply::Ok
            }
            Op::LPos(key, v, rank, count, maxlen) => {
                let Some((list, _)) = or_reply!(self.lookup_list(&k(*key))) else {
                    return Reply::Array(Vec::new());
                };
                // Redis's loop, with its wrapping arithmetic for RANK LONG_MIN.
                let target = ELEMENTS[*v].as_bytes();
                let backwards = *rank < 0;
                let rank = if backwards {
                    rank.wrapping_neg()
                } else {
                    *rank
                };
                let mut matches = 0i64;
                let mut out = Vec::new();
                for step in 0..list.len() {
                    if *maxlen != 0 && step >= *maxlen {
                        break;
                    }
                    let i = if backwards {
                        list.len() - 1 - step
                    } else {
                        step
                    };
                    if list[i] == target {
                        matches += 1;
                        if matches >= rank {
                            out.push(Reply::Int(i as i64));
                            if *count != 0
                                && matches.wrapping_sub(rank).wrapping_add(1) >= *count as i64
                            {
                                break;
                            }
                        }
                    }
                }
                Reply::Array(out)
            }
            Op::LMove(src, dst, from, to) => {
                let Some((mut list, deadline)) = or_reply!(self.lookup_list(&k(*src))) else {
                    return Reply::Nil;
                };
                let dst_found = or_reply!(self.lookup_list(&k(*dst)));
                let element = match from {
                    End::Left => list.remove(0),
                    End::Right => list.pop().expect("not empty"),
                };
                let (mut target, target_deadline) = if src == dst {
                    (list, deadline)
                } else {
                    self.put_list(&k(*src), &list, deadline);
                    dst_found.unwrap_or_default()
                };
                match to {
                    End::Left => target.insert(0, element.clone()),
                    End::Right => target.push(element.clone()),
                }
                self.put_list(&k(*dst), &target, target_deadline);
                Reply::Bulk(element)
            }
            Op::LMPop(keys, end, count) => {
                for key in keys {
                    if let Some((_, _)) = or_reply!(self.lookup_list(&k(*key))) {
                        let popped = self.apply_list(&Op::LPop(*key, *end, Some(*count)));
                        return Reply::Array(vec![Reply::Bulk(k(*key)), popped]);
                    }
                }
                Reply::Nil
            }
            _ => unreachable!("not a list op"),
        }
    }

    /// Stores a collection back (or deletes the key when it is empty).
    fn put(&mut self, key: &[u8], value: Option<Value>, deadline: Option<u64>) {
        let db = self.db;
        match value {
            Some(value) => {
                self.map(db).insert(key.to_vec(), (value, deadline));
            }
            None => {
                self.map(db).remove(key);
            }
        }
    }

    /// Every key looked up as a set, in order (WRONGTYPE wins).
    fn lookup_sets(&mut self, keys: &[usize]) -> Result<Vec<Option<ModelSet>>, Reply> {
        keys.iter()
            .map(|key| Ok(self.lookup_set(KEYS[*key].as_bytes())?.map(|s| s.0)))
            .collect()
    }

    fn set_deadline(&self, expiry: Expiry, command: &'static str) -> Result<u64, Reply> {
        let invalid = Reply::Err(format!("ERR invalid expire time in '{command}' command"));
        let (amount, seconds, relative) = match expiry {
            Expiry::Seconds(n) => (n, true, true),
            Expiry::Millis(n) => (n, false, true),
            Expiry::UnixSeconds(n) => (n, true, false),
            Expiry::UnixMillis(n) => (n, false, false),
        };
        if amount <= 0 || (seconds && amount > i64::MAX / 1000) {
            return Err(invalid);
        }
        let ms = if seconds { amount * 1000 } else { amount };
        let ms = if relative {
            ms.checked_add(self.now as i64).ok_or(invalid.clone())?
        } else {
            ms
        };
        if ms <= 0 { Err(invalid) } else { Ok(ms as u64) }
    }

    fn write(&mut self, key: &[u8], value: Vec<u8>, deadline: Option<u64>) {
        self.lookup(key);
        let db = self.db;
        self.map(db)
            .insert(key.to_vec(), (string_value(value), deadline));
    }

    fn apply(&mut self, op: &Op) -> Reply {
        let k = |i: usize| KEYS[i].as_bytes().to_vec();
        let v = |i: usize| VALUES[i].as_bytes().to_vec();
        let db = self.db;
        match op {
            Op::LPush(..)
            | Op::LPop(..)
            | Op::LRange(..)
            | Op::LIndex(..)
            | Op::LSet(..)
            | Op::LInsert(..)
            | Op::LRem(..)
            | Op::LTrim(..)
            | Op::LPos(..)
            | Op::LMove(..)
            | Op::LMPop(..) => self.apply_list(op),
            Op::Advance(ms) => {
                self.now += ms;
                Reply::Ok
            }
            Op::Select(index) => {
                self.db = *index;
                Reply::Ok
            }
            Op::Set(key, value, condition, ttl, get) => {
                let deadline = match ttl {
                    SetTtl::Expire(e) => match self.set_deadline(*e, "set") {
                        Ok(d) => Some(d),
                        Err(reply) => return reply,
                    },
                    _ => None,
                };
                let previous = if *get {
                    or_reply!(self.lookup_string(&k(*key))).map(|e| e.0)
                } else {
                    None
                };
                let found = self.lookup(&k(*key));
                let blocked = match condition {
                    SetCondition::Always => false,
                    SetCondition::IfAbsent => found.is_some(),
                    SetCondition::IfPresent => found.is_none(),
                };
                if !blocked {
                    let deadline = if *ttl == SetTtl::Keep {
                        found.and_then(|e| e.1)
                    } else {
                        deadline
                    };
                    self.write(&k(*key), v(*value), deadline);
                }
                if *get {
                    bulk(previous.as_deref())
                } else if blocked {
                    Reply::Nil
                } else {
                    Reply::Ok
                }
            }
            Op::Get(key) => bulk(
                or_reply!(self.lookup_string(&k(*key)))
                    .map(|e| e.0)
                    .as_deref(),
            ),
            Op::GetSet(key, value) => {
                let previous = or_reply!(self.lookup_string(&k(*key))).map(|e| e.0);
                self.write(&k(*key), v(*value), None);
                bulk(previous.as_deref())
            }
            Op::GetDel(key) => {
                let previous = or_reply!(self.lookup_string(&k(*key))).map(|e| e.0);
                self.map(db).remove(&k(*key));
                bulk(previous.as_deref())
            }
            Op::GetEx(key, ttl) => {
                // The key is looked up before the expire time is validated.
                let Some((value, _)) = or_reply!(self.lookup_string(&k(*key))) else {
                    return Reply::Nil;
                };
                let deadline = match ttl {
                    GetExTtl::Expire(e) => match self.set_deadline(*e, "getex") {
                        Ok(d) => Some((*e, d)),
                        Err(reply) => return reply,
                    },
                    _ => None,
                };
                let now = self.now;
                let entry = self.map(db).get_mut(&k(*key)).expect("live");
                match (ttl, deadline) {
                    (_, Some((Expiry::UnixSeconds(_) | Expiry::UnixMillis(_), at)))
                        if at <= now =>
                    {
                        self.map(db).remove(&k(*key));
                    }
                    (_, Some((_, at))) => entry.1 = Some(at),
                    (GetExTtl::Persist, None) => entry.1 = None,
                    _ => {}
                }
                Reply::Bulk(value)
            }
            Op::SetNx(key, value) => {
                if self.lookup(&k(*key)).is_some() {
                    return Reply::Int(0);
                }
                self.write(&k(*key), v(*value), None);
                Reply::Int(1)
            }
            Op::SetEx(key, seconds, value) => {
                match self.set_deadline(Expiry::Seconds(*seconds), "setex") {
                    Ok(d) => {
                        self.write(&k(*key), v(*value), Some(d));
                        Reply::Ok
                    }
                    Err(reply) => reply,
                }
            }
            Op::PSetEx(key, ms, value) => match self.set_deadline(Expiry::Millis(*ms), "psetex") {
                Ok(d) => {
                    self.write(&k(*key), v(*value), Some(d));
                    Reply::Ok
                }
                Err(reply) => reply,
            },
            Op::MGet(keys) => Reply::Array(
                keys.iter()
                    .map(|key| match self.lookup(&k(*key)) {
                        Some((Value::String(bytes), _)) => Reply::Bulk(bytes.to_vec()),
                        _ => Reply::Nil,
                    })
                    .collect(),
            ),
            Op::MSet(pairs) => {
                for (key, value) in pairs {
                    self.write(&k(*key), v(*value), None);
                }
                Reply::Ok
            }
            Op::MSetNx(pairs) => {
                for (key, _) in pairs {
                    if self.lookup(&k(*key)).is_some() {
                        return Reply::Int(0);
                    }
                }
                for (key, value) in pairs {
                    self.write(&k(*key), v(*value), None);
                }
                Reply::Int(1)
            }
            Op::IncrBy(key, delta) => self.incr(&k(*key), *delta),
            Op::DecrBy(key, delta) => match delta.checked_neg() {
                None => Reply::Err("ERR decrement would overflow".into()),
                Some(negated) => self.incr(&k(*key), negated),
            },
            Op::Append(key, value) => {
                let extra = v(*value);
                match or_reply!(self.lookup_string(&k(*key))) {
                    None => {
                        self.write(&k(*key), extra.clone(), None);
                        Reply::Int(extra.len() as i64)
                    }
                    Some((mut current, deadline)) => {
                        if current.len() + extra.len() > MAX_STRING_LEN {
                            return Reply::Err(
                                "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
                                    .into(),
                            );
                        }
                        current.extend_from_slice(&extra);
                        let len = current.len();
                        self.map(db)
                            .insert(k(*key), (string_value(current), deadline));
                        Reply::Int(len as i64)
                    }
                }
            }
            Op::Strlen(key) => {
                Reply::Int(or_reply!(self.lookup_string(&k(*key))).map_or(0, |e| e.0.len() as i64))
            }
            Op::GetRange(key, start, end) => {
                let value = or_reply!(self.lookup_string(&k(*key)))
                    .map(|e| e.0)
                    .unwrap_or_default();
                let len = value.len() as i64;
                let (mut s, mut e) = (*start, *end);
                if s < 0 && e < 0 && s > e {
                    return Reply::Bulk(vec![]);
                }
                if s < 0 {
                    s += len;
                }
                if e < 0 {
                    e += len;
                }
                s = s.max(0);
                e = e.max(0);
                if e >= len {
                    e = len - 1;
                }
                if s > e || len == 0 {
                    Reply::Bulk(vec![])
                } else {
                    Reply::Bulk(value[s as usize..=e as usize].to_vec())
                }
            }
            Op::SetRange(key, offset, value) => {
                if *offset < 0 {
                    return Reply::Err("ERR offset is out of range".into());
                }
                let offset = *offset as usize;
                let patch = v(*value);
                let existing = or_reply!(self.lookup_string(&k(*key)));
                let (mut current, deadline) = match existing {
                    None if patch.is_empty() => return Reply::Int(0),
                    Some((current, _)) if patch.is_empty() => {
                        return Reply::Int(current.len() as i64);
                    }
                    None => (Vec::new(), None),
                    Some(entry) => entry,
                };
                if offset + patch.len() > MAX_STRING_LEN {
                    return Reply::Err(
                        "ERR string exceeds maximum allowed size (proto-max-bulk-len)".into(),
                    );
                }
                if current.len() < offset + patch.len() {
                    current.resize(offset + patch.len(), 0);
                }
                current[offset..offset + patch.len()].copy_from_slice(&patch);
                let len = current.len();
                self.map(db)
                    .insert(k(*key), (string_value(current), deadline));
                Reply::Int(len as i64)
            }
            Op::Del(keys) => {
                let mut removed = 0;
                for key in keys {
                    if self.lookup(&k(*key)).is_some() {
                        self.map(db).remove(&k(*key));
                        removed += 1;
                    }
                }
                Reply::Int(removed)
            }
            Op::Exists(keys) => Reply::Int(
                keys.iter()
                    .filter(|key| self.lookup(&k(**key)).is_some())
                    .count() as i64,
            ),
            Op::Expire(key, expiry, condition) => {
                let (amount, seconds, relative, command) = match *expiry {
                    Expiry::Seconds(n) => (n, true, true, "expire"),
                    Expiry::Millis(n) => (n, false, true, "pexpire"),
                    Expiry::UnixSeconds(n) => (n, true, false, "expireat"),
                    Expiry::UnixMillis(n) => (n, false, false, "pexpireat"),
                };
                let invalid = Reply::Err(format!("ERR invalid expire time in '{command}' command"));
                let Some(ms) = (if seconds {
                    amount.checked_mul(1000)
                } else {
                    Some(amount)
                }) else {
                    return invalid;
                };
                let Some(when) = (if relative {
                    ms.checked_add(self.now as i64)
                } else {
                    Some(ms)
                }) else {
                    return invalid;
                };
                let Some((_, current)) = self.lookup(&k(*key)) else {
                    return Reply::Int(0);
                };
                let current = current.map(|c| c as i64);
                let allowed = match condition {
                    ExpireCondition::Always => true,
                    ExpireCondition::IfNoTtl => current.is_none(),
                    ExpireCondition::IfTtl => current.is_some(),
                    ExpireCondition::IfGreater => current.is_some_and(|c| when > c),
                    ExpireCondition::IfLess => current.is_none_or(|c| when < c),
                };
                if !allowed {
                    return Reply::Int(0);
                }
                if when <= self.now as i64 {
                    self.map(db).remove(&k(*key));
                } else {
                    self.map(db).get_mut(&k(*key)).expect("live").1 = Some(when as u64);
                }
                Reply::Int(1)
            }
            Op::Ttl(key) | Op::Pttl(key) | Op::ExpireTime(key) => {
                let Some((_, deadline)) = self.lookup(&k(*key)) else {
                    return Reply::Int(-2);
                };
                let Some(deadline) = deadline else {
                    return Reply::Int(-1);
                };
                let deadline = deadline as i64;
                match op {
                    Op::Ttl(_) => Reply::Int(((deadline - self.now as i64).max(0) + 500) / 1000),
                    Op::Pttl(_) => Reply::Int((deadline - self.now as i64).max(0)),
                    _ => Reply::Int(((i128::from(deadline) + 500) / 1000) as i64),
                }
            }
            Op::Persist(key) => match self.lookup(&k(*key)) {
                Some((_, Some(_))) => {
                    self.map(db).get_mut(&k(*key)).expect("live").1 = None;
                    Reply::Int(1)
                }
                _ => Reply::Int(0),
            },
            Op::Type(key) => Reply::Bulk(
                match self.lookup(&k(*key)) {
                    None => "none",
                    Some((Value::String(_), _)) => "string",
                    Some((Value::Hash(_), _)) => "hash",
                    Some((Value::Set(_), _)) => "set",
                    Some((Value::List(_), _)) => "list",
                    Some((Value::Zset(_), _)) => "zset",
                }
                .as_bytes()
                .to_vec(),
            ),
            Op::Keys | Op::ScanAll => {
                let now = self.now;
                let live: Vec<Vec<u8>> = self.dbs[db]
                    .iter()
                    .filter(|(_, (_, d))| d.is_none_or(|d| d >= now))
                    .map(|(key, _)| key.clone())
                    .collect();
                if matches!(op, Op::ScanAll) {
                    // SCAN removes the expired keys it meets (every key, in a
                    // full iteration) but the order is the store's, so the
                    // harness compares sorted and drains these separately.
                    let expired: Vec<Vec<u8>> = self.dbs[db]
                        .keys()
                        .filter(|key| !live.contains(key))
                        .cloned()
                        .collect();
                    for key in expired {
                        self.dbs[db].remove(&key);
                        self.expired.push((db, key));
                    }
                }
                Reply::Array(live.into_iter().map(Reply::Bulk).collect())
            }
            Op::Rename(src, dst, nx) => {
                if self.lookup(&k(*src)).is_none() {
                    return Reply::Err("ERR no such key".into());
                }
                if src == dst {
                    return if *nx { Reply::Int(0) } else { Reply::Ok };
                }
                if self.lookup(&k(*dst)).is_some() && *nx {
                    return Reply::Int(0);
                }
                let entry = self.map(db).remove(&k(*src)).expect("live");
                self.map(db).insert(k(*dst), entry);
                if *nx { Reply::Int(1) } else { Reply::Ok }
            }
            Op::Copy(src, dst, target, replace) => {
                let target = target.unwrap_or(db);
                if target == db && src == dst {
                    return Reply::Err("ERR source and destination objects are the same".into());
                }
                let Some(entry) = self.lookup(&k(*src)) else {
                    return Reply::Int(0);
                };
                if self.lookup_in(target, &k(*dst)).is_some() && !replace {
                    return Reply::Int(0);
                }
                self.map(target).insert(k(*dst), entry);
                Reply::Int(1)
            }
            Op::Move(key, target) => {
                if *target == db {
                    return Reply::Err("ERR source and destination objects are the same".into());
                }
                let Some(entry) = self.lookup(&k(*key)) else {
                    return Reply::Int(0);
                };
                if self.lookup_in(*target, &k(*key)).is_some() {
                    return Reply::Int(0);
                }
                self.map(db).remove(&k(*key));
                self.map(*target).insert(k(*key), entry);
                Reply::Int(1)
            }
            Op::DbSize => Reply::Int(self.dbs[db].len() as i64),
            Op::SwapDb(a, b) => {
                self.dbs.swap(*a, *b);
                Reply::Ok
            }
            Op::FlushDb => {
                self.dbs[db].clear();
                Reply::Ok
            }
            Op::Reap(_) => Reply::Ok,
            Op::HSet(key, pairs) => {
                let (mut hash, deadline) =
                    or_reply!(self.lookup_hash(&k(*key))).unwrap_or_default();
                let mut added = 0;
                for (f, val) in pairs {
                    let field = FIELDS[*f].as_bytes().to_vec();
                    if hash
                        .insert(field, HVALUES[*val].as_bytes().to_vec())
                        .is_none()
                    {
                        added += 1;
                    }
                }
                self.put(&k(*key), Some(hash_value(&hash)), deadline);
                Reply::Int(added)
            }
            Op::HGet(key, f) => {
                let hash = or_reply!(self.lookup_hash(&k(*key)));
                bulk(
                    hash.and_then(|(h, _)| h.get(FIELDS[*f].as_bytes()).cloned())
                        .as_deref(),
                )
            }
            Op::HDel(key, fields) => {
                let Some((mut hash, deadline)) = or_reply!(self.lookup_hash(&k(*key))) else {
                    return Reply::Int(0);
                };
                let removed = fields
                    .iter()
                    .filter(|f| hash.remove(FIELDS[**f].as_bytes()).is_some())
                    .count();
                let value = (!hash.is_empty()).then(|| hash_value(&hash));
                self.put(&k(*key), value, deadline);
                Reply::Int(removed as i64)
            }
            Op::HLen(key) => {
                Reply::Int(or_reply!(self.lookup_hash(&k(*key))).map_or(0, |(h, _)| h.len() as i64))
            }
            Op::HGetAll(key) => {
                let hash = or_reply!(self.lookup_hash(&k(*key))).unwrap_or_default().0;
                let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = hash.into_iter().collect();
                pairs.sort();
                Reply::Array(
                    pairs
                        .into_iter()
                        .flat_map(|(f, v)| [Reply::Bulk(f), Reply::Bulk(v)])
                        .collect(),
                )
            }
            Op::HIncrBy(key, f, delta) => {
                let (mut hash, deadline) =
                    or_reply!(self.lookup_hash(&k(*key))).unwrap_or_default();
                let field = FIELDS[*f].as_bytes().to_vec();
                let current = match hash.get(&field) {
                    None => 0,
                    Some(text) => {
                        let text = String::from_utf8(text.clone()).unwrap_or_default();
                        match text.parse::<i64>().ok().filter(|n| n.to_string() == text) {
                            Some(n) => n,
                            None => return Reply::Err("ERR hash value is not an integer".into()),
                        }
                    }
                };
                let Some(updated) = current.checked_add(*delta) else {
                    return Reply::Err("ERR increment or decrement would overflow".into());
                };
                hash.insert(field, updated.to_string().into_bytes());
                self.put(&k(*key), Some(hash_value(&hash)), deadline);
                Reply::Int(updated)
            }
            Op::ZAdd(key, pairs) => {
                let (mut zset, deadline) =
                    or_reply!(self.lookup_zset(&k(*key))).unwrap_or_default();
                let mut added = 0;
                for (s, m) in pairs {
                    let member = MEMBERS[*m].as_bytes().to_vec();
                    match zset.iter_mut().find(|(x, _)| *x == member) {
                        Some(entry) => entry.1 = ZSCORES[*s],
                        None => {
                            zset.push((member, ZSCORES[*s]));
                            added += 1;
                        }
                    }
                }
                sort_zset(&mut zset);
                self.put(&k(*key), Some(zset_value(&zset)), deadline);
                Reply::Int(added)
            }
            Op::ZIncrBy(key, s, m) => {
                let (mut zset, deadline) =
                    or_reply!(self.lookup_zset(&k(*key))).unwrap_or_default();
                let member = MEMBERS[*m].as_bytes().to_vec();
                let score = match zset.iter().position(|(x, _)| *x == member) {
                    Some(at) => {
                        let score = zset[at].1 + ZSCORES[*s];
                        if score.is_nan() {
                            return Reply::Err("ERR resulting score is not a number (NaN)".into());
                        }
                        zset[at].1 = score;
                        score
                    }
                    None => {
                        zset.push((member, ZSCORES[*s]));
                        ZSCORES[*s]
                    }
                };
                sort_zset(&mut zset);
                self.put(&k(*key), Some(zset_value(&zset)), deadline);
                Reply::Bulk(format_score(score).into_bytes())
            }
            Op::ZRem(key, members) => {
                let Some((mut zset, deadline)) = or_reply!(self.lookup_zset(&k(*key))) else {
                    return Reply::Int(0);
                };
                let before = zset.len();
                for m in members {
                    zset.retain(|(x, _)| x != MEMBERS[*m].as_bytes());
                }
                let removed = before - zset.len();
                let value = (!zset.is_empty()).then(|| zset_value(&zset));
                self.put(&k(*key), value, deadline);
                Reply::Int(removed as i64)
            }
            Op::ZRangeAll(key) => {
                scored(&or_reply!(self.lookup_zset(&k(*key))).unwrap_or_default().0)
            }
            Op::ZRangeByScore(key, a, b) => {
                let zset = or_reply!(self.lookup_zset(&k(*key))).unwrap_or_default().0;
                let (min, max) = (ZSCORES[*a], ZSCORES[*b]);
                let inside: Vec<(Vec<u8>, f64)> = zset
                    .into_iter()
                    .filter(|(_, s)| *s >= min && *s <= max)
                    .collect();
                scored(&inside)
            }
            Op::ZRank(key, m) => {
                let zset = or_reply!(self.lookup_zset(&k(*key))).unwrap_or_default().0;
                zset.iter()
                    .position(|(x, _)| x == MEMBERS[*m].as_bytes())
                    .map_or(Reply::Nil, |r| Reply::Int(r as i64))
            }
            Op::ZPopMin(key, count) => {
                let Some((mut zset, deadline)) = or_reply!(self.lookup_zset(&k(*key))) else {
                    return Reply::Array(Vec::new());
                };
                let popped: Vec<(Vec<u8>, f64)> = zset.drain(..(*count).min(zset.len())).collect();
                let value = (!zset.is_empty()).then(|| zset_value(&zset));
                self.put(&k(*key), value, deadline);
                scored(&popped)
            }
            Op::SAdd(key, members) => {
                let (mut set, deadline) = or_reply!(self.lookup_set(&k(*key))).unwrap_or_default();
                let added = members
                    .iter()
                    .filter(|m| set.insert(MEMBERS[**m].as_bytes().to_vec()))
                    .count();
                self.put(&k(*key), Some(set_value(&set)), deadline);
                Reply::Int(added as i64)
            }
            Op::SRem(key, members) => {
                let Some((mut set, deadline)) = or_reply!(self.lookup_set(&k(*key))) else {
                    return Reply::Int(0);
                };
                let removed = members
                    .iter()
                    .filter(|m| set.remove(MEMBERS[**m].as_bytes()))
                    .count();
                let value = (!set.is_empty()).then(|| set_value(&set));
                self.put(&k(*key), value, deadline);
                Reply::Int(removed as i64)
            }
            Op::SIsMember(key, m) => Reply::Int(i64::from(
                or_reply!(self.lookup_set(&k(*key)))
                    .is_some_and(|(s, _)| s.contains(MEMBERS[*m].as_bytes())),
            )),
            Op::SMembers(key) => sorted(or_reply!(self.lookup_set(&k(*key))).unwrap_or_default().0),
            Op::SCard(key) => {
                Reply::Int(or_reply!(self.lookup_set(&k(*key))).map_or(0, |(s, _)| s.len() as i64))
            }
            Op::SInterStore(dst, keys) => {
                let sets = or_reply!(self.lookup_sets(keys));
                let result: ModelSet = if sets.iter().any(Option::is_none) {
                    ModelSet::new()
                } else {
                    let sets: Vec<ModelSet> = sets.into_iter().flatten().collect();
                    sets[0]
                        .iter()
                        .filter(|m| sets.iter().all(|s| s.contains(*m)))
                        .cloned()
                        .collect()
                };
                self.lookup(&k(*dst));
                let len = result.len();
                let value = (!result.is_empty()).then(|| set_value(&result));
                self.put(&k(*dst), value, None);
                Reply::Int(len as i64)
            }
            Op::SUnion(keys) => {
                let sets = or_reply!(self.lookup_sets(keys));
                sorted(sets.into_iter().flatten().flatten().collect::<ModelSet>())
            }
            Op::SDiff(keys) => {
                let sets = or_reply!(self.lookup_sets(keys));
                let Some(Some(first)) = sets.first() else {
                    return Reply::Array(Vec::new());
                };
                sorted(
                    first
                        .iter()
                        .filter(|m| !sets[1..].iter().flatten().any(|s| s.contains(*m)))
                        .cloned(),
                )
            }
            Op::SMove(src, dst, m) => {
                let member = MEMBERS[*m].as_bytes().to_vec();
                let src_entry = self.lookup(&k(*src));
                let dst_entry = self.lookup(&k(*dst));
                let Some((src_value, src_deadline)) = src_entry else {
                    return Reply::Int(0);
                };
                let Value::Set(src_set) = src_value else {
                    return wrongtype();
                };
                let dst_set = match dst_entry {
                    None => None,
                    Some((Value::Set(set), deadline)) => Some((set, deadline)),
                    Some(_) => return wrongtype(),
                };
                let mut src_set: ModelSet = src_set
                    .to_sorted()
                    .into_iter()
                    .map(|b| b.to_vec())
                    .collect();
                if src == dst {
                    return Reply::Int(i64::from(src_set.contains(&member)));
                }
                if !src_set.remove(&member) {
                    return Reply::Int(0);
                }
                let value = (!src_set.is_empty()).then(|| set_value(&src_set));
                self.put(&k(*src), value, src_deadline);
                let (mut dst_set, dst_deadline): (ModelSet, Option<u64>) = dst_set
                    .map(|(s, d)| (s.to_sorted().into_iter().map(|b| b.to_vec()).collect(), d))
                    .unwrap_or_default();
                dst_set.insert(member);
                self.put(&k(*dst), Some(set_value(&dst_set)), dst_deadline);
                Reply::Int(1)
            }
        }
    }

    fn incr(&mut self, key: &[u8], delta: i64) -> Reply {
        let (current, deadline) = match or_reply!(self.lookup_string(key)) {
            None => (0, None),
            Some((text, deadline)) => {
                let text = String::from_utf8(text).unwrap_or_default();
                // Redis's string2ll: no '+', no leading zeros or spaces.
                let canonical = text.parse::<i64>().ok().filter(|n| n.to_string() == text);
                match canonical {
                    Some(n) => (n, deadline),
                    None => {
                        return Reply::Err("ERR value is not an integer or out of range".into());
                    }
                }
            }
        };
        let Some(updated) = current.checked_add(delta) else {
            return Reply::Err("ERR increment or decrement would overflow".into());
        };
        let db = self.db;
        self.map(db).insert(
            key.to_vec(),
            (string_value(updated.to_string().into_bytes()), deadline),
        );
        Reply::Int(updated)
    }
}

/// Runs one op on the store and converts the answer to a [`Reply`].
fn run(store: &mut Store, db_index: &mut usize, now: &mut u64, op: &Op) -> Reply {
    let k = |i: usize| KEYS[i].as_bytes();
    let v = |i: usize| VALUES[i].as_bytes();
    if let Op::Advance(ms) = op {
        *now += ms;
        return Reply::Ok;
    }
    if let Op::Select(index) = op {
        *db_index = *index;
        return Reply::Ok;
    }
    if let Op::SwapDb(a, b) = op {
        store.swap_db(*a, *b).expect("valid indexes");
        return Reply::Ok;
    }
    if let Op::Reap(budget) = op {
        let reaped = store.reap(*now, *budget);
        assert!(reaped.len() <= *budget, "reap exceeded its budget");
        return Reply::Array(
            reaped
                .into_iter()
                .map(|e| Reply::Array(vec![Reply::Int(e.db as i64), Reply::Bulk(e.key.to_vec())]))
                .collect(),
        );
    }
    let mut db = store.db(*db_index, *now).expect("valid index");
    let int = |n: usize| Reply::Int(n as i64);
    match op {
        Op::Set(key, value, condition, ttl, get) => {
            match db.set(
                k(*key),
                v(*value),
                SetOptions {
                    condition: *condition,
                    ttl: *ttl,
                    get: *get,
                },
            ) {
                Err(e) => err(e),
                Ok(outcome) if *get => bulk(outcome.previous.as_deref()),
                Ok(outcome) => {
                    if outcome.written {
                        Reply::Ok
                    } else {
                        Reply::Nil
                    }
                }
            }
        }
        Op::Get(key) => db.get(k(*key)).map_or_else(err, bulk),
        Op::GetSet(key, value) => db
            .get_set(k(*key), v(*value))
            .map_or_else(err, |p| bulk(p.as_deref())),
        Op::GetDel(key) => db.get_del(k(*key)).map_or_else(err, |p| bulk(p.as_deref())),
        Op::GetEx(key, ttl) => db
            .get_ex(k(*key), *ttl)
            .map_or_else(err, |(p, _)| bulk(p.as_deref())),
        Op::SetNx(key, value) => Reply::Int(db.set_nx(k(*key), v(*value)) as i64),
        Op::SetEx(key, s, value) => db
            .set_ex(k(*key), *s, v(*value))
            .map_or_else(err, |_| Reply::Ok),
        Op::PSetEx(key, ms, value) => db
            .pset_ex(k(*key), *ms, v(*value))
            .map_or_else(err, |_| Reply::Ok),
        Op::MGet(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            Reply::Array(db.mget(&keys).into_iter().map(bulk).collect())
        }
        Op::MSet(pairs) => {
            let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(a, b)| (k(*a), v(*b))).collect();
            db.mset(&pairs);
            Reply::Ok
        }
        Op::MSetNx(pairs) => {
            let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(a, b)| (k(*a), v(*b))).collect();
            Reply::Int(db.mset_nx(&pairs) as i64)
        }
        Op::IncrBy(key, delta) => db.incr_by(k(*key), *delta).map_or_else(err, Reply::Int),
        Op::DecrBy(key, delta) => db.decr_by(k(*key), *delta).map_or_else(err, Reply::Int),
        Op::Append(key, value) => db.append(k(*key), v(*value)).map_or_else(err, int),
        Op::Strlen(key) => db.strlen(k(*key)).map_or_else(err, int),
        Op::GetRange(key, s, e) => db
            .get_range(k(*key), *s, *e)
            .map_or_else(err, |r| Reply::Bulk(r.to_vec())),
        Op::SetRange(key, offset, value) => db
            .set_range(k(*key), *offset, v(*value))
            .map_or_else(err, int),
        Op::Del(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            int(db.del(&keys))
        }
        Op::Exists(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            int(db.exists(&keys))
        }
        Op::Expire(key, expiry, condition) => db
            .expire(k(*key), *expiry, *condition)
            .map_or_else(err, |o| Reply::Int(i64::from(o != ExpireOutcome::NotSet))),
        Op::Ttl(key) => Reply::Int(db.ttl(k(*key))),
        Op::Pttl(key) => Reply::Int(db.pttl(k(*key))),
        Op::ExpireTime(key) => Reply::Int(db.expire_time(k(*key))),
        Op::Persist(key) => Reply::Int(db.persist(k(*key)) as i64),
        Op::Type(key) => Reply::Bulk(
            db.type_of(k(*key))
                .map_or("none", |t| t.as_str())
                .as_bytes()
                .to_vec(),
        ),
        Op::Keys => {
            let mut keys = db.keys(b"*");
            keys.sort();
            Reply::Array(
                keys.into_iter()
                    .map(|key| Reply::Bulk(key.to_vec()))
                    .collect(),
            )
        }
        Op::ScanAll => {
            let mut keys = Vec::new();
            let mut cursor = 0;
            loop {
                let page = db.scan(
                    cursor,
                    &ScanOptions {
                        count: 2,
                        ..ScanOptions::default()
                    },
                );
                keys.extend(page.keys.into_iter().map(|key| key.to_vec()));
                cursor = page.cursor;
                if cursor == 0 {
                    break;
                }
            }
            keys.sort();
            Reply::Array(keys.into_iter().map(Reply::Bulk).collect())
        }
        Op::Rename(src, dst, false) => db.rename(k(*src), k(*dst)).map_or_else(err, |()| Reply::Ok),
        Op::Rename(src, dst, true) => db
            .rename_nx(k(*src), k(*dst))
            .map_or_else(err, |b| Reply::Int(b as i64)),
        Op::Copy(src, dst, target, replace) => db
            .copy(k(*src), k(*dst), *target, *replace)
            .map_or_else(err, |b| Reply::Int(b as i64)),
        Op::Move(key, target) => db
            .move_key(k(*key), *target)
            .map_or_else(err, |b| Reply::Int(b as i64)),
        Op::DbSize => int(db.dbsize()),
        Op::FlushDb => {
            db.flush();
            Reply::Ok
        }
        Op::HSet(key, pairs) => {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(f, v)| (FIELDS[*f], HVALUES[*v]))
                .collect();
            db.hset(k(*key), &pairs).map_or_else(err, int)
        }
        Op::HGet(key, f) => db
            .hget(k(*key), FIELDS[*f].as_bytes())
            .map_or_else(err, bulk),
        Op::HDel(key, fields) => {
            let fields: Vec<&str> = fields.iter().map(|f| FIELDS[*f]).collect();
            db.hdel(k(*key), &fields)
                .map_or_else(err, |r| int(r.removed))
        }
        Op::HLen(key) => db.hlen(k(*key)).map_or_else(err, int),
        Op::HGetAll(key) => db.hgetall(k(*key)).map_or_else(err, |pairs| {
            let mut pairs = pairs;
            pairs.sort();
            Reply::Array(
                pairs
                    .into_iter()
                    .flat_map(|(f, v)| [Reply::Bulk(f.to_vec()), Reply::Bulk(v.to_vec())])
                    .collect(),
            )
        }),
        Op::HIncrBy(key, f, delta) => db
            .hincrby(k(*key), FIELDS[*f].as_bytes(), *delta)
            .map_or_else(err, Reply::Int),
        Op::ZAdd(key, pairs) => {
            let pairs: Vec<(f64, &str)> = pairs
                .iter()
                .map(|(s, m)| (ZSCORES[*s], MEMBERS[*m]))
                .collect();
            db.zadd(k(*key), ZaddFlags::default(), &pairs)
                .map_or_else(err, |o| int(o.added))
        }
        Op::ZIncrBy(key, s, m) => {
            let flags = ZaddFlags {
                incr: true,
                ..ZaddFlags::default()
            };
            db.zadd(k(*key), flags, &[(ZSCORES[*s], MEMBERS[*m])])
                .map_or_else(err, |o| {
                    Reply::Bulk(
                        format_score(o.incr_score.expect("INCR without conditions")).into_bytes(),
                    )
                })
        }
        Op::ZRem(key, members) => {
            let members: Vec<&str> = members.iter().map(|m| MEMBERS[*m]).collect();
            db.zrem(k(*key), &members)
                .map_or_else(err, |r| int(r.removed))
        }
        Op::ZRangeAll(key) => {
            let query = RangeQuery {
                spec: RangeSpec::Rank(0, -1),
                rev: false,
                limit: None,
            };
            db.zrange(k(*key), &query)
                .map_or_else(err, |items| zscored(items.unwrap_or_default()))
        }
        Op::ZRangeByScore(key, a, b) => {
            let bound = |i: &usize| ScoreBound {
                value: ZSCORES[*i],
                exclusive: false,
            };
            let query = RangeQuery {
                spec: RangeSpec::Score(ScoreRange {
                    min: bound(a),
                    max: bound(b),
                }),
                rev: false,
                limit: None,
            };
            db.zrange(k(*key), &query)
                .map_or_else(err, |items| zscored(items.unwrap_or_default()))
        }
        Op::ZRank(key, m) => db
            .zrank(k(*key), MEMBERS[*m].as_bytes(), false)
            .map_or_else(err, |r| r.map_or(Reply::Nil, |(r, _)| int(r))),
        Op::ZPopMin(key, count) => db.zpop(k(*key), false, *count).map_or_else(err, zscored),
        Op::SAdd(key, members) => {
            let members: Vec<&str> = members.iter().map(|m| MEMBERS[*m]).collect();
            db.sadd(k(*key), &members).map_or_else(err, int)
        }
        Op::SRem(key, members) => {
            let members: Vec<&str> = members.iter().map(|m| MEMBERS[*m]).collect();
            db.srem(k(*key), &members)
                .map_or_else(err, |r| int(r.removed))
        }
        Op::SIsMember(key, m) => db
            .sismember(k(*key), MEMBERS[*m].as_bytes())
            .map_or_else(err, |b| Reply::Int(i64::from(b))),
        Op::SMembers(key) => db
            .smembers(k(*key))
            .map_or_else(err, |m| sorted(m.into_iter().map(|b| b.to_vec()))),
        Op::SCard(key) => db.scard(k(*key)).map_or_else(err, int),
        Op::SInterStore(dst, keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            db.sinterstore(k(*dst), &keys)
                .map_or_else(err, |s| int(s.len))
        }
        Op::SUnion(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            db.sunion(&keys)
                .map_or_else(err, |m| sorted(m.into_iter().map(|b| b.to_vec())))
        }
        Op::SDiff(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            db.sdiff(&keys)
                .map_or_else(err, |m| sorted(m.into_iter().map(|b| b.to_vec())))
        }
        Op::SMove(src, dst, m) => db
            .smove(k(*src), k(*dst), MEMBERS[*m].as_bytes())
            .map_or_else(err, |b| Reply::Int(i64::from(b))),
        Op::LPush(key, end, values, only_existing) => {
            let values: Vec<&str> = values.iter().map(|v| ELEMENTS[*v]).collect();
            db.list_push(k(*key), *end, &values, *only_existing)
                .map_or_else(err, int)
        }
        Op::LPop(key, end, count) => match db.list_pop(k(*key), *end, *count) {
            Err(e) => err(e),
            Ok(None) => Reply::Nil,
            Ok(Some(popped)) => match count {
                None => Reply::Bulk(popped.elements[0].to_vec()),
                Some(_) => Reply::Array(
                    popped
                        .elements
                        .iter()
                        .map(|e| Reply::Bulk(e.to_vec()))
                        .collect(),
                ),
            },
        },
        Op::LRange(key, start, stop) => {
            db.lrange(k(*key), *start, *stop).map_or_else(err, |items| {
                Reply::Array(items.iter().map(|e| Reply::Bulk(e.to_vec())).collect())
            })
        }
        Op::LIndex(key, index) => db
            .lindex(k(*key), *index)
            .map_or_else(err, |e| bulk(e.as_deref())),
        Op::LSet(key, index, v) => db
            .lset(k(*key), *index, ELEMENTS[*v].as_bytes())
            .map_or_else(err, |()| Reply::Ok),
        Op::LInsert(key, before, pivot, v) => {
            let place = if *before {
                InsertWhere::Before
            } else {
                InsertWhere::After
            };
            db.linsert(
                k(*key),
                place,
                ELEMENTS[*pivot].as_bytes(),
                ELEMENTS[*v].as_bytes(),
            )
            .map_or_else(err, Reply::Int)
        }
        Op::LRem(key, count, v) => db
            .lrem(k(*key), *count, ELEMENTS[*v].as_bytes())
            .map_or_else(err, |r| int(r.removed)),
        Op::LTrim(key, start, stop) => db
            .ltrim(k(*key), *start, *stop)
            .map_or_else(err, |_| Reply::Ok),
        Op::LPos(key, v, rank, count, maxlen) => db
            .lpos(k(*key), ELEMENTS[*v].as_bytes(), *rank, *count, *maxlen)
            .map_or_else(err, |found| {
                Reply::Array(
                    found
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| Reply::Int(i as i64))
                        .collect(),
                )
            }),
        Op::LMove(src, dst, from, to) => db
            .lmove(k(*src), k(*dst), *from, *to)
            .map_or_else(err, |moved| bulk(moved.as_ref().map(|m| &m.element[..]))),
        Op::LMPop(keys, end, count) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            match db.lmpop(&keys, *end, *count) {
                Err(e) => err(e),
                Ok(None) => Reply::Nil,
                Ok(Some((key, popped))) => Reply::Array(vec![
                    Reply::Bulk(key.to_vec()),
                    Reply::Array(
                        popped
                            .elements
                            .iter()
                            .map(|e| Reply::Bulk(e.to_vec()))
                            .collect(),
                    ),
                ]),
            }
        }
        Op::Advance(_) | Op::Select(_) | Op::SwapDb(..) | Op::Reap(_) => {
            unreachable!("handled above")
        }
    }
}

fn zscored(items: Vec<(Bytes, f64)>) -> Reply {
    let items: Vec<(Vec<u8>, f64)> = items.into_iter().map(|(m, s)| (m.to_vec(), s)).collect();
    scored(&items)
}

const START_MS: u64 = 1_000_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..120)) {
        let mut store = Store::new(StoreConfig { databases: DATABASES, max_string_len: MAX_STRING_LEN, encoding: LIMITS });
        let mut model = Model { dbs: vec![BTreeMap::new(); DATABASES], now: START_MS, db: 0, expired: Vec::new() };
        let (mut db, mut now) = (0, START_MS);
        for (step, op) in ops.iter().enumerate() {
            let mut expected = model.apply(op);
            let got = run(&mut store, &mut db, &mut now, op);
            if let (Op::Reap(_), Reply::Array(reaped)) = (op, &got) {
                // Which due keys a budget-limited reap picks is the store's
                // choice; each must have been due, and is removed from the model.
                for item in reaped {
                    let Reply::Array(pair) = item else { unreachable!() };
                    let (Reply::Int(rdb), Reply::Bulk(key)) = (&pair[0], &pair[1]) else { unreachable!() };
                    let entry = model.dbs[*rdb as usize].remove(key);
                    prop_assert!(entry.is_some_and(|(_, d)| d.is_some_and(|d| d < model.now)),
                        "step {step}: reaped {key:?} in db {rdb} was not due");
                }
                expected = got.clone();
            }
            prop_assert_eq!(&got, &expected, "step {}: {:?}", step, op);
            let mut drained: Vec<(usize, Vec<u8>)> =
                store.drain_expired().into_iter().map(|e| (e.db, e.key.to_vec())).collect();
            let mut predicted = std::mem::take(&mut model.expired);
            if matches!(op, Op::ScanAll) {
                drained.sort();
                predicted.sort();
            }
            prop_assert_eq!(drained, predicted, "step {}: lazily expired keys of {:?}", step, op);
        }
        // Final state: every database holds the same live keys and values.
        for index in 0..DATABASES {
            let mut handle = store.db(index, model.now).expect("valid index");
            let mut keys: Vec<Vec<u8>> = handle.keys(b"*").into_iter().map(|k| k.to_vec()).collect();
            keys.sort();
            let live: Vec<Vec<u8>> = model.dbs[index]
                .iter()
                .filter(|(_, (_, d))| d.is_none_or(|d| d >= model.now))
                .map(|(key, _)| key.clone())
                .collect();
            prop_assert_eq!(&keys, &live, "db {} keys", index);
            for key in &live {
                let (value, deadline) = model.dbs[index][key].clone();
                prop_assert_eq!(handle.value(key), Some(value));
                let pexpire = handle.pexpire_time(key);
                prop_assert_eq!(pexpire, deadline.map_or(-1, |d| d as i64));
            }
        }
    }
}
