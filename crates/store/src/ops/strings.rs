//! String commands: `SET` (all options), `GET`, `GETSET`, `GETDEL`, `GETEX`,
//! `SETNX`, `SETEX`, `PSETEX`, `MGET`, `MSET`, `MSETNX`, the `INCR` family,
//! `INCRBYFLOAT`, `APPEND`, `STRLEN`, `GETRANGE`, `SETRANGE`.
//!
//! Each method follows the order of checks of Redis 7.0's `t_string.c`, so
//! that when several things are wrong the same error wins.

use bytes::Bytes;

use crate::entry::Entry;
use crate::error::StoreError;
use crate::numeric;
use crate::ops::expire::Expiry;
use crate::store::DbHandle;
use crate::table::Slot;

/// `NX` / `XX` of `SET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetCondition {
    /// Neither: always write.
    #[default]
    Always,
    /// `NX`: only when the key does not exist.
    IfAbsent,
    /// `XX`: only when the key exists.
    IfPresent,
}

/// What `SET` does with the key's TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetTtl {
    /// No option: the key ends up without a TTL.
    #[default]
    Clear,
    /// `KEEPTTL`: an existing TTL is kept.
    Keep,
    /// `EX`, `PX`, `EXAT` or `PXAT`.
    Expire(Expiry),
}

/// The options of `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL]`.
/// Parsing (and rejecting bad combinations with `ERR syntax error`) is the
/// server's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    /// `NX` / `XX`.
    pub condition: SetCondition,
    /// TTL handling.
    pub ttl: SetTtl,
    /// `GET`: reply with the old value instead of `OK`/nil.
    pub get: bool,
}

/// What `SET` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was written (`OK` rather than nil without `GET`).
    pub written: bool,
    /// With `GET`: the old value (nil when the key did not exist).
    pub previous: Option<Bytes>,
    /// The key's deadline after the command when it was written (for
    /// propagating `SET ... PXAT`).
    pub expire_at_ms: Option<u64>,
}

/// The TTL option of `GETEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GetExTtl {
    /// No option: leave the TTL alone.
    #[default]
    Unchanged,
    /// `PERSIST`.
    Persist,
    /// `EX`, `PX`, `EXAT` or `PXAT`.
    Expire(Expiry),
}

/// What `GETEX` did beyond returning the value, for propagation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExEffect {
    /// Nothing changed (no option, missing key, or `PERSIST` on a key
    /// without TTL).
    None,
    /// The TTL was set to this deadline (propagate `PEXPIREAT`).
    Expire(u64),
    /// The TTL was removed (propagate `PERSIST`).
    Persisted,
    /// An `EXAT`/`PXAT` in the past deleted the key (propagate `DEL`).
    Deleted,
}

fn check_length(current: usize, extra: usize, limit: usize) -> Result<(), StoreError> {
    if current.saturating_add(extra) > limit {
        Err(StoreError::StringTooLong)
    } else {
        Ok(())
    }
}

impl DbHandle<'_> {
    /// `GET`: the value, `None` when missing.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<&[u8]>, StoreError> {
        let slot = self.find_string(key)?;
        Ok(slot.map(|slot| self.db().entry_at(slot).value()))
    }

    fn get_owned(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        Ok(self.get(key)?.map(Bytes::copy_from_slice))
    }

    /// Writes a string, replacing any value; `keep_ttl` keeps the old TTL.
    fn write_string(
        &mut self,
        key: &[u8],
        value: &[u8],
        deadline: Option<u64>,
        keep_ttl: bool,
    ) -> Option<u64> {
        // Looked up first, as Redis's `setKey` does, so overwriting an
        // expired key reports its expiry like any other access.
        let existing = self.find(key);
        let deadline = if keep_ttl {
            existing.and_then(|slot| self.db().entry_at(slot).expire_at())
        } else {
            deadline
        };
        let entry = Entry::new_string(key, value, deadline);
        match existing {
            Some(slot) => {
                let old = self.db_mut().replace_at(slot, entry);
                self.dispose(old);
            }
            None => self.db_mut().insert_absent(entry),
        }
        deadline
    }

    /// `SET key value [options]`.
    pub fn set(
        &mut self,
        key: &[u8],
        value: &[u8],
        options: SetOptions,
    ) -> Result<SetOutcome, StoreError> {
        let deadline = match options.ttl {
            SetTtl::Expire(expiry) => Some(expiry.set_deadline(self.now, "set")?),
            SetTtl::Clear | SetTtl::Keep => None,
        };
        let previous = if options.get {
            self.get_owned(key)?
        } else {
            None
        };
        let blocked = match options.condition {
            SetCondition::Always => false,
            SetCondition::IfAbsent => self.find(key).is_some(),
            SetCondition::IfPresent => self.find(key).is_none(),
        };
        if blocked {
            return Ok(SetOutcome {
                written: false,
                previous,
                expire_at_ms: None,
            });
        }
        let expire_at_ms = self.write_string(key, value, deadline, options.ttl == SetTtl::Keep);
        Ok(SetOutcome {
            written: true,
            previous,
            expire_at_ms,
        })
    }

    /// `SETNX`: true when written.
    pub fn set_nx(&mut self, key: &[u8], value: &[u8]) -> bool {
        if self.find(key).is_some() {
            return false;
        }
        self.write_string(key, value, None, false);
        true
    }

    /// `SETEX key seconds value`; returns the deadline.
    pub fn set_ex(&mut self, key: &[u8], seconds: i64, value: &[u8]) -> Result<u64, StoreError> {
        let deadline = Expiry::Seconds(seconds).set_deadline(self.now, "setex")?;
        self.write_string(key, value, Some(deadline), false);
        Ok(deadline)
    }

    /// `PSETEX key milliseconds value`; returns the deadline.
    pub fn pset_ex(&mut self, key: &[u8], millis: i64, value: &[u8]) -> Result<u64, StoreError> {
        let deadline = Expiry::Millis(millis).set_deadline(self.now, "psetex")?;
        self.write_string(key, value, Some(deadline), false);
        Ok(deadline)
    }

    /// `GETSET`: sets the value (clearing the TTL), returns the old one.
    pub fn get_set(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let previous = self.get_owned(key)?;
        self.write_string(key, value, None, false);
        Ok(previous)
    }

    /// `GETDEL`: returns the value and deletes the key.
    pub fn get_del(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let Some(slot) = self.find_string(key)? else {
            return Ok(None);
        };
        let entry = self.db_mut().remove_at(slot);
        Ok(Some(Bytes::copy_from_slice(entry.value())))
    }

    /// `GETEX key [EX|PX|EXAT|PXAT|PERSIST]`.
    pub fn get_ex(
        &mut self,
        key: &[u8],
        ttl: GetExTtl,
    ) -> Result<(Option<Bytes>, GetExEffect), StoreError> {
        // Redis looks the key up (nil, WRONGTYPE) before it validates the
        // expire time, unlike SET.
        let Some(slot) = self.find_string(key)? else {
            return Ok((None, GetExEffect::None));
        };
        let deadline = match ttl {
            GetExTtl::Expire(expiry) => Some((expiry, expiry.set_deadline(self.now, "getex")?)),
            GetExTtl::Unchanged | GetExTtl::Persist => None,
        };
        let value = Bytes::copy_from_slice(self.db().entry_at(slot).value());
        let effect = match (ttl, deadline) {
            (_, Some((expiry, at)))
                if expiry.is_absolute()
                    && self.already_expired(i64::try_from(at).unwrap_or(i64::MAX)) =>
            {
                let removed = self.db_mut().remove_at(slot);
                self.dispose(removed);
                GetExEffect::Deleted
            }
            (_, Some((_, at))) => {
                self.db_mut().set_deadline(slot, Some(at));
                GetExEffect::Expire(at)
            }
            (GetExTtl::Persist, None) if self.db().entry_at(slot).expire_at().is_some() => {
                self.db_mut().set_deadline(slot, None);
                GetExEffect::Persisted
            }
            _ => GetExEffect::None,
        };
        Ok((Some(value), effect))
    }

    /// `MGET`: one answer per key; missing keys and non-strings are `None`.
    pub fn mget<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Vec<Option<&[u8]>> {
        // First pass: lazy expiry may remove keys; second pass borrows.
        let slots: Vec<bool> = keys
            .iter()
            .map(|k| self.find(k.as_ref()).is_some())
            .collect();
        let db = self.db();
        keys.iter()
            .zip(slots)
            .map(|(key, live)| {
                if !live {
                    return None;
                }
                db.table
                    .get(key.as_ref())
                    .filter(|e| e.kind() == crate::ValueKind::String)
                    .map(Entry::value)
            })
            .collect()
    }

    /// `MSET`: sets every pair, in order (a later duplicate key wins).
    pub fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&mut self, pairs: &[(K, V)]) {
        for (key, value) in pairs {
            self.write_string(key.as_ref(), value.as_ref(), None, false);
        }
    }

    /// `MSETNX`: sets every pair only if none of the keys exists.
    pub fn mset_nx<K: AsRef<[u8]>, V: AsRef<[u8]>>(&mut self, pairs: &[(K, V)]) -> bool {
        // Redis stops looking at the first existing key.
        if pairs
            .iter()
            .any(|(key, _)| self.find(key.as_ref()).is_some())
        {
            return false;
        }
        self.mset(pairs);
        true
    }

    /// `INCRBY` (and `INCR` with 1, `DECR` with -1): the new value.
    pub fn incr_by(&mut self, key: &[u8], delta: i64) -> Result<i64, StoreError> {
        let slot = self.find_string(key)?;
        let current = match slot {
            None => 0,
            Some(slot) => numeric::parse_i64(self.db().entry_at(slot).value())
                .ok_or(StoreError::NotAnInteger)?,
        };
        let updated = current
            .checked_add(delta)
            .ok_or(StoreError::IncrementOverflow)?;
        let text = numeric::format_i64(updated);
        self.store_number(key, slot, text.as_bytes(), Entry::new_string);
        Ok(updated)
    }

    /// Stores the result of an increment, keeping the key's TTL as Redis
    /// does (the value is replaced, the key is not). `build` makes the
    /// entry: `Entry::new_string` for an integer, `Entry::new_text_string`
    /// for `INCRBYFLOAT`'s text, which Redis never encodes as `int`.
    fn store_number(
        &mut self,
        key: &[u8],
        slot: Option<Slot>,
        text: &[u8],
        build: fn(&[u8], &[u8], Option<u64>) -> Entry,
    ) {
        match slot {
            Some(slot) => {
                let deadline = self.db().entry_at(slot).expire_at();
                let old = self.db_mut().replace_at(slot, build(key, text, deadline));
                self.dispose(old);
            }
            None => self.db_mut().insert_absent(build(key, text, None)),
        }
    }

    /// `DECRBY`: the new value. `i64::MIN` cannot be negated and is refused
    /// as Redis 7.0 refuses it.
    pub fn decr_by(&mut self, key: &[u8], delta: i64) -> Result<i64, StoreError> {
        let negated = delta.checked_neg().ok_or(StoreError::DecrementOverflow)?;
        self.incr_by(key, negated)
    }

    /// `INCRBYFLOAT key increment` (the raw increment argument): the new
    /// value as Redis formats it (and stores it).
    pub fn incr_by_float(&mut self, key: &[u8], increment: &[u8]) -> Result<Bytes, StoreError> {
        let slot = self.find_string(key)?;
        let parse = numeric::LongDouble::parse;
        let current = match slot {
            None => parse(b"0"),
            Some(slot) => parse(self.db().entry_at(slot).value()),
        }
        .ok_or(StoreError::NotAFloat)?;
        let increment = parse(increment).ok_or(StoreError::NotAFloat)?;
        let sum = current.add(increment);
        if !sum.is_finite() {
            return Err(StoreError::FloatOverflow);
        }
        let text = sum.format_human();
        self.store_number(key, slot, text.as_bytes(), Entry::new_text_string);
        Ok(Bytes::from(text))
    }

    /// `APPEND`: the new length.
    pub fn append(&mut self, key: &[u8], value: &[u8]) -> Result<usize, StoreError> {
        let Some(slot) = self.find_string(key)? else {
            self.write_string(key, value, None, false);
            return Ok(value.len());
        };
        let current = self.db().entry_at(slot).value().len();
        check_length(current, value.len(), self.max_string_len())?;
        Ok(self
            .db_mut()
            .update_value(slot, |entry| entry.append(value)))
    }

    /// `STRLEN`: 0 for a missing key.
    pub fn strlen(&mut self, key: &[u8]) -> Result<usize, StoreError> {
        Ok(self.get(key)?.map_or(0, <[u8]>::len))
    }

    /// `GETRANGE`/`SUBSTR key start end` (inclusive, negative from the end).
    pub fn get_range(&mut self, key: &[u8], start: i64, end: i64) -> Result<&[u8], StoreError> {
        let Some(value) = self.get(key)? else {
            return Ok(&[]);
        };
        let len = value.len() as i64;
        if start < 0 && end < 0 && start > end {
            return Ok(&[]);
        }
        let start = if start < 0 {
            len.saturating_add(start)
        } else {
            start
        }
        .max(0);
        let mut end = if end < 0 {
            len.saturating_add(end)
        } else {
            end
        }
        .max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            return Ok(&[]);
        }
        Ok(&value[start as usize..=end as usize])
    }

    /// `SETRANGE key offset value`: the new length.
    pub fn set_range(
        &mut self,
        key: &[u8],
        offset: i64,
        value: &[u8],
    ) -> Result<usize, StoreError> {
        let offset = usize::try_from(offset).map_err(|_| StoreError::OffsetOutOfRange)?;
        let limit = self.max_string_len();
        match self.find_string(key)? {
            None => {
                if value.is_empty() {
                    return Ok(0);
                }
                check_length(offset, value.len(), limit)?;
                let mut entry = Entry::new_string(key, b"", None);
                let len = entry.set_range(offset, value);
                let replaced = self.db_mut().insert(entry);
                self.dispose(replaced);
                Ok(len)
            }
            Some(slot) => {
                let current = self.db().entry_at(slot).value().len();
                if value.is_empty() {
                    return Ok(current);
                }
                check_length(offset, value.len(), limit)?;
                Ok(self
                    .db_mut()
                    .update_value(slot, |entry| entry.set_range(offset, value)))
            }
        }
    }
}
