//! Hash commands: `HSET`/`HMSET`, `HSETNX`, `HGET`, `HMGET`, `HDEL`,
//! `HEXISTS`, `HLEN`, `HSTRLEN`, `HKEYS`, `HVALS`, `HGETALL`, `HINCRBY`,
//! `HINCRBYFLOAT`, `HRANDFIELD`, `HSCAN`, following Redis 7.0's `t_hash.c`
//! (order of checks, error texts, encoding conversions).
//!
//! Argument parsing stays with the server (`HINCRBY`'s increment, counts,
//! cursors, `WITHVALUES`). What the server propagates: every write here is
//! deterministic and propagates as received, except `HINCRBYFLOAT`, which
//! propagates as `HSET key field <the returned value>` (as Redis does, so a
//! replay never depends on float formatting).

use bytes::Bytes;

use crate::entry::{Entry, Payload};
use crate::error::StoreError;
use crate::glob;
use crate::kinds::Big;
use crate::kinds::hash::{self, HashRef, split_pair};
use crate::numeric::{self, LongDouble};
use crate::ops::collections::{
    CollectionScanPage, PickSink, Removed, SUB_STRATEGY_MUL, distinct_indexes,
};
use crate::store::{DbHandle, EncodingLimits};
use crate::value::ValueKind;

/// Converts a `listpack` hash to `hashtable` (no-op when already big).
fn convert(entry: &mut Entry) {
    if let Payload::Packed(run) = entry.payload() {
        let big = hash::packed_to_big(run);
        entry.set_big(big);
    }
}

/// Redis's `hashTypeTryConversion`: a listpack hash about to receive a
/// field or value longer than `hash-max-listpack-value` converts first.
fn convert_for_lengths<'a>(
    entry: &mut Entry,
    mut args: impl Iterator<Item = &'a [u8]>,
    limits: EncodingLimits,
) {
    if matches!(entry.payload(), Payload::Packed(_))
        && args.any(|arg| arg.len() > limits.hash_max_listpack_value)
    {
        convert(entry);
    }
}

/// Redis's `hashTypeSet`: sets a field; true when it already existed.
/// Converts before a too-long field or value, and after the write when the
/// hash has more fields than `hash-max-listpack-entries`.
fn set_field(entry: &mut Entry, field: &[u8], value: &[u8], limits: EncodingLimits) -> bool {
    convert_for_lengths(entry, [field, value].into_iter(), limits);
    if let Payload::Packed(run) = entry.payload() {
        let (run, existed) = hash::packed_set(run, field, value);
        entry.set_packed(&run);
        if HashRef::Packed(&run).len() > limits.hash_max_listpack_entries {
            convert(entry);
        }
        return existed;
    }
    match entry.big_mut() {
        Some(Big::Hash(table)) => table.insert(&hash::pair_element(field, value)),
        _ => unreachable!("a hash entry is a listpack or a hashtable"),
    }
}

/// Removes a field; true when it existed.
fn delete_field(entry: &mut Entry, field: &[u8]) -> bool {
    if let Payload::Packed(run) = entry.payload() {
        return match hash::packed_remove(run, field) {
            Some(run) => {
                entry.set_packed(&run);
                true
            }
            None => false,
        };
    }
    match entry.big_mut() {
        Some(Big::Hash(table)) => table.remove(field),
        _ => unreachable!("a hash entry is a listpack or a hashtable"),
    }
}

impl DbHandle<'_> {
    /// A read-only view of the hash at `key` (`WRONGTYPE` for another kind).
    fn hash_view(&mut self, key: &[u8]) -> Result<Option<HashRef<'_>>, StoreError> {
        let slot = self.find_kind(key, ValueKind::Hash)?;
        Ok(slot.map(|slot| HashRef::of(self.db().entry_at(slot).payload())))
    }

    /// Runs `change` on the hash at `key`, created empty (`listpack`) when
    /// missing; a new hash is stored only if `change` left fields in it.
    fn hash_write<R>(
        &mut self,
        key: &[u8],
        change: impl FnOnce(&mut Entry, EncodingLimits) -> R,
    ) -> Result<R, StoreError> {
        let limits = self.limits();
        match self.find_kind(key, ValueKind::Hash)? {
            Some(slot) => Ok(self
                .db_mut()
                .update_value(slot, |entry| change(entry, limits))),
            None => {
                let mut entry = Entry::new_packed(ValueKind::Hash, key, &[], None);
                let result = change(&mut entry, limits);
                if !entry.collection_is_empty() {
                    self.db_mut().insert_absent(entry);
                }
                Ok(result)
            }
        }
    }

    /// `HSET key field value [field value ...]` (and `HMSET`, which replies
    /// `OK`): the number of fields that were new.
    pub fn hset<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        pairs: &[(F, V)],
    ) -> Result<usize, StoreError> {
        self.hash_write(key, |entry, limits| {
            let args = pairs.iter().flat_map(|(f, v)| [f.as_ref(), v.as_ref()]);
            convert_for_lengths(entry, args, limits);
            pairs
                .iter()
                .filter(|(f, v)| !set_field(entry, f.as_ref(), v.as_ref(), limits))
                .count()
        })
    }

    /// `HSETNX key field value`: true when the field was set.
    pub fn hsetnx(&mut self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        self.hash_write(key, |entry, limits| {
            if HashRef::of(entry.payload()).get(field).is_some() {
                return false;
            }
            set_field(entry, field, value, limits);
            true
        })
    }

    /// `HGET key field`.
    pub fn hget(&mut self, key: &[u8], field: &[u8]) -> Result<Option<&[u8]>, StoreError> {
        Ok(self.hash_view(key)?.and_then(|hash| hash.get(field)))
    }

    /// `HMGET key field ...`: one answer per field (all nil for a missing
    /// key).
    pub fn hmget<F: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        fields: &[F],
    ) -> Result<Vec<Option<Bytes>>, StoreError> {
        let hash = self.hash_view(key)?;
        Ok(fields
            .iter()
            .map(|f| {
                hash.and_then(|h| h.get(f.as_ref()))
                    .map(Bytes::copy_from_slice)
            })
            .collect())
    }

    /// `HDEL key field ...`: fields removed; the key goes when the last
    /// field does.
    pub fn hdel<F: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        fields: &[F],
    ) -> Result<Removed, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Hash)? else {
            return Ok(Removed {
                removed: 0,
                key_deleted: false,
            });
        };
        Ok(self.remove_from_collection(slot, fields, delete_field))
    }

    /// `HEXISTS key field`.
    pub fn hexists(&mut self, key: &[u8], field: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .hash_view(key)?
            .is_some_and(|hash| hash.get(field).is_some()))
    }

    /// `HLEN key`.
    pub fn hlen(&mut self, key: &[u8]) -> Result<usize, StoreError> {
        Ok(self.hash_view(key)?.map_or(0, HashRef::len))
    }

    /// `HSTRLEN key field`.
    pub fn hstrlen(&mut self, key: &[u8], field: &[u8]) -> Result<usize, StoreError> {
        Ok(self
            .hash_view(key)?
            .and_then(|hash| hash.get(field))
            .map_or(0, <[u8]>::len))
    }

    /// `HGETALL key`: the pairs (insertion order for a `listpack` hash, as
    /// Redis).
    pub fn hgetall(&mut self, key: &[u8]) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        Ok(self.hash_view(key)?.map_or_else(Vec::new, |hash| {
            hash.pairs()
                .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
                .collect()
        }))
    }

    /// The pairs of the hash at `key` handed to `read` without copying
    /// them: `read(len, pairs)` (insertion order for a `listpack` hash, as
    /// Redis), for a caller that streams them into a reply (`HGETALL`,
    /// `HKEYS`, `HVALS`). `Ok(None)` when the key is missing.
    pub fn hash_pairs_with<R>(
        &mut self,
        key: &[u8],
        read: impl FnOnce(usize, &mut dyn Iterator<Item = (&[u8], &[u8])>) -> R,
    ) -> Result<Option<R>, StoreError> {
        Ok(self
            .hash_view(key)?
            .map(|hash| read(hash.len(), &mut hash.pairs())))
    }

    /// `HKEYS key`.
    pub fn hkeys(&mut self, key: &[u8]) -> Result<Vec<Bytes>, StoreError> {
        Ok(self.hash_view(key)?.map_or_else(Vec::new, |hash| {
            hash.pairs()
                .map(|(f, _)| Bytes::copy_from_slice(f))
                .collect()
        }))
    }

    /// `HVALS key`.
    pub fn hvals(&mut self, key: &[u8]) -> Result<Vec<Bytes>, StoreError> {
        Ok(self.hash_view(key)?.map_or_else(Vec::new, |hash| {
            hash.pairs()
                .map(|(_, v)| Bytes::copy_from_slice(v))
                .collect()
        }))
    }

    /// `HINCRBY key field increment`: the new value.
    pub fn hincrby(&mut self, key: &[u8], field: &[u8], delta: i64) -> Result<i64, StoreError> {
        self.hash_write(key, |entry, limits| {
            let current = match HashRef::of(entry.payload()).get(field) {
                None => 0,
                Some(value) => {
                    numeric::parse_i64(value).ok_or(StoreError::HashValueNotAnInteger)?
                }
            };
            let updated = current
                .checked_add(delta)
                .ok_or(StoreError::IncrementOverflow)?;
            set_field(
                entry,
                field,
                numeric::format_i64(updated).as_bytes(),
                limits,
            );
            Ok(updated)
        })?
    }

    /// `HINCRBYFLOAT key field increment` (the raw increment argument): the
    /// new value as Redis formats it. Propagate as `HSET key field <it>`.
    pub fn hincrbyfloat(
        &mut self,
        key: &[u8],
        field: &[u8],
        increment: &[u8],
    ) -> Result<Bytes, StoreError> {
        let increment = LongDouble::parse(increment).ok_or(StoreError::NotAFloat)?;
        if !increment.is_finite() {
            return Err(StoreError::NanOrInfinity);
        }
        self.hash_write(key, |entry, limits| {
            let current = match HashRef::of(entry.payload()).get(field) {
                None => LongDouble::from_i64(0),
                Some(value) => LongDouble::parse(value)
                    .filter(|v| !v.is_nan())
                    .ok_or(StoreError::HashValueNotAFloat)?,
            };
            let sum = current.add(increment);
            if !sum.is_finite() {
                return Err(StoreError::FloatOverflow);
            }
            let text = sum.format_human();
            set_field(entry, field, text.as_bytes(), limits);
            Ok(Bytes::from(text))
        })?
    }

    /// `HRANDFIELD key` (no count): a random field.
    pub fn hrandfield(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let seed = self.random();
        let Some(hash) = self.hash_view(key)? else {
            return Ok(None);
        };
        let len = hash.len();
        Ok(hash
            .nth((seed % len as u64) as usize)
            .map(|(f, _)| Bytes::copy_from_slice(f)))
    }

    /// `HRANDFIELD key count [WITHVALUES]`. A positive count gives that
    /// many distinct fields (all of them when the hash is smaller); a
    /// negative one `-count` fields drawn independently (repetitions
    /// allowed). The elements go to `sink` one by one (a negative count can
    /// be huge: nothing is collected), values included when `with_values`.
    /// A missing key is an empty reply. `count` must be above `i64::MIN`
    /// (Redis's range is `-LONG_MAX..=LONG_MAX`, checked by the server).
    pub fn hrandfield_with_count(
        &mut self,
        key: &[u8],
        count: i64,
        with_values: bool,
        sink: &mut dyn PickSink,
    ) -> Result<(), StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Hash)? else {
            sink.begin(0);
            return Ok(());
        };
        let wanted = count.unsigned_abs() as usize;
        let len = HashRef::of(self.db().entry_at(slot).payload()).len();
        // Random numbers come from the store; draw what a bounded reply
        // needs up front (the entry is borrowed while replying).
        let distinct = count >= 0 && wanted < len;
        let sparse_big = !HashRef::of(self.db().entry_at(slot).payload()).is_packed()
            && wanted * SUB_STRATEGY_MUL <= len;
        let indexes = if distinct && !sparse_big {
            let mut random = || self.random();
            Some(distinct_indexes(len, wanted, &mut random))
        } else {
            None
        };
        let mut rng = self.random() | 1;
        let hash = HashRef::of(self.db().entry_at(slot).payload());
        fn value(v: &[u8], with_values: bool) -> Option<&[u8]> {
            with_values.then_some(v)
        }
        if count == 0 {
            sink.begin(0);
        } else if count < 0 {
            sink.begin(wanted);
            let pairs: Vec<(&[u8], &[u8])> = match hash {
                HashRef::Packed(_) => hash.pairs().collect(),
                HashRef::Big(_) => Vec::new(),
            };
            let sampler = match hash {
                HashRef::Big(table) => Some(table.sampler()),
                HashRef::Packed(_) => None,
            };
            for _ in 0..wanted {
                rng = xorshift(rng);
                let (f, v) = match &sampler {
                    Some(sampler) => split_pair(sampler.pick(rng).expect("non-empty")),
                    None => pairs[(rng % pairs.len() as u64) as usize],
                };
                if !sink.element(f, value(v, with_values)) {
                    break;
                }
            }
        } else if let (true, HashRef::Big(table)) = (distinct && sparse_big, hash) {
            // Few fields of a big hash: draw until enough distinct ones.
            sink.begin(wanted);
            let sampler = table.sampler();
            let mut seen: std::collections::HashSet<&[u8]> =
                std::collections::HashSet::with_capacity(wanted);
            while seen.len() < wanted {
                rng = xorshift(rng);
                let (f, v) = split_pair(sampler.pick(rng).expect("non-empty"));
                if seen.insert(f) && !sink.element(f, value(v, with_values)) {
                    break;
                }
            }
        } else if let Some(indexes) = indexes {
            sink.begin(wanted);
            let pairs: Vec<(&[u8], &[u8])> = hash.pairs().collect();
            for index in indexes {
                let (f, v) = pairs[index];
                if !sink.element(f, value(v, with_values)) {
                    break;
                }
            }
        } else {
            sink.begin(len);
            for (f, v) in hash.pairs() {
                if !sink.element(f, value(v, with_values)) {
                    break;
                }
            }
        }
        Ok(())
    }

    /// `HSCAN key cursor [MATCH pattern] [COUNT count]`. A `listpack` hash
    /// comes whole in one call with cursor 0, as in Redis; a `hashtable`
    /// one is walked by position (see `kinds::chunked`) with `SCAN`'s
    /// guarantee. `MATCH` filters on the field.
    pub fn hscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<CollectionScanPage, StoreError> {
        let mut page = CollectionScanPage::empty();
        let Some(hash) = self.hash_view(key)? else {
            return Ok(page);
        };
        let matches = |f: &[u8]| pattern.is_none_or(|p| glob::matches(p, f, false));
        let mut push = |f: &[u8], v: &[u8]| {
            if matches(f) {
                page.items.push(Bytes::copy_from_slice(f));
                page.items.push(Bytes::copy_from_slice(v));
            }
        };
        match hash {
            HashRef::Packed(_) => hash.pairs().for_each(|(f, v)| push(f, v)),
            HashRef::Big(table) => {
                let mut found = Vec::new();
                let next = table.scan(cursor, count, &mut found);
                found.iter().for_each(|e| {
                    let (f, v) = split_pair(e);
                    push(f, v)
                });
                page.cursor = next;
            }
        }
        Ok(page)
    }
}

/// xorshift64: the stream of random numbers for repeated picks, seeded from
/// the store's generator.
pub(crate) fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
