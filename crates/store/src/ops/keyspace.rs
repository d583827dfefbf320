//! Generic key commands: `DEL`, `UNLINK`, `EXISTS`, `TOUCH`, `TYPE`, `KEYS`,
//! `RANDOMKEY`, `RENAME`, `RENAMENX`, `COPY`, `MOVE`.

use bytes::Bytes;

use crate::entry::Entry;
use crate::error::StoreError;
use crate::glob;
use crate::store::DbHandle;
use crate::value::{Value, ValueKind};

impl DbHandle<'_> {
    /// `DEL`: the number of keys removed (a repeated key counts once, since
    /// it is gone the second time).
    pub fn del<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> usize {
        let mut removed = 0;
        for key in keys {
            if let Some(slot) = self.find(key.as_ref()) {
                let entry = self.db_mut().remove_at(slot);
                self.dispose(entry);
                removed += 1;
            }
        }
        removed
    }

    /// `UNLINK`: as `DEL` (big values go to the garbage list either way
    /// when background freeing is on, see [`crate::garbage`]).
    pub fn unlink<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> usize {
        self.del(keys)
    }

    /// `EXISTS`: how many of the keys exist, duplicates counted each time.
    /// Not an access (Redis looks them up with `LOOKUP_NOTOUCH`).
    pub fn exists<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> usize {
        keys.iter()
            .filter(|key| self.find_untouched(key.as_ref()).is_some())
            .count()
    }

    /// `TOUCH`: as `EXISTS`, but each key found counts as an access (its
    /// idle time restarts).
    pub fn touch<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> usize {
        keys.iter()
            .filter(|key| self.find(key.as_ref()).is_some())
            .count()
    }

    /// An owned copy of a live key's value, whatever its kind (`None` when
    /// missing). Not an access (`MEMORY USAGE` reads it so, as Redis).
    pub fn value(&mut self, key: &[u8]) -> Option<Value> {
        let slot = self.find_untouched(key)?;
        Some(self.db().entry_at(slot).to_value())
    }

    /// `MEMORY USAGE key [SAMPLES samples]`: the bytes the key takes, `None`
    /// when it is not in the table. Like Redis's `objectComputeSize` it
    /// counts a small (packed) value exactly and estimates a big
    /// collection's elements from `samples` of them (Redis's default is 5;
    /// `usize::MAX` samples every element and is exact), with the
    /// structure around them counted exactly; plus the key's table bucket.
    /// As Redis (a plain `dictFind`) the lookup neither expires the key
    /// nor counts as an access.
    pub fn memory_usage(&self, key: &[u8], samples: usize) -> Option<usize> {
        let entry = self.db().table.get(key)?;
        Some(entry.sampled_bytes(samples) + crate::table::BYTES_PER_BUCKET)
    }

    /// `OBJECT ENCODING`: the encoding Redis 7.0 would report for a live
    /// key's value (`None` when missing). Not an access.
    pub fn object_encoding(&mut self, key: &[u8]) -> Option<&'static str> {
        let slot = self.find_untouched(key)?;
        Some(self.db().entry_at(slot).encoding())
    }

    /// A live string's bytes without counting as an access (`OBJECT
    /// REFCOUNT` reads the value of an `int` string); `None` when missing
    /// or not a string.
    pub fn peek_string(&mut self, key: &[u8]) -> Option<&[u8]> {
        let slot = self.find_untouched(key)?;
        let entry = self.db().entry_at(slot);
        (entry.kind() == ValueKind::String).then(|| entry.value())
    }

    /// `TYPE`: the kind of a live key, `None` for `none`. Not an access.
    pub fn type_of(&mut self, key: &[u8]) -> Option<ValueKind> {
        let slot = self.find_untouched(key)?;
        Some(self.db().entry_at(slot).kind())
    }

    /// `KEYS pattern`: every live key matching the glob pattern. Expired keys
    /// are skipped but not removed, as in Redis.
    pub fn keys(&self, pattern: &[u8]) -> Vec<Bytes> {
        let match_all = pattern == b"*";
        self.db()
            .iter()
            .filter(|entry| !entry.is_expired(self.now))
            .filter(|entry| match_all || glob::matches(pattern, entry.key(), false))
            .map(|entry| Bytes::copy_from_slice(entry.key()))
            .collect()
    }

    /// `RANDOMKEY`: a random live key. Expired keys it lands on are removed
    /// and it tries again, as Redis does; each retry removes a key, so the
    /// loop ends. Not an access (Redis's `dbRandomKey` only checks expiry).
    pub fn random_key(&mut self) -> Option<Bytes> {
        loop {
            let seed = self.random();
            let entry = self.db().table.random_entry(seed)?;
            let key = Bytes::copy_from_slice(entry.key());
            if self.find_untouched(&key).is_some() {
                return Some(key);
            }
        }
    }

    /// `RENAME src dst`. The value keeps its TTL.
    pub fn rename(&mut self, src: &[u8], dst: &[u8]) -> Result<(), StoreError> {
        self.rename_generic(src, dst, false).map(|_| ())
    }

    /// `RENAMENX src dst`: false when `dst` exists.
    pub fn rename_nx(&mut self, src: &[u8], dst: &[u8]) -> Result<bool, StoreError> {
        self.rename_generic(src, dst, true)
    }

    fn rename_generic(
        &mut self,
        src: &[u8],
        dst: &[u8],
        only_if_absent: bool,
    ) -> Result<bool, StoreError> {
        self.find(src).ok_or(StoreError::NoSuchKey)?;
        if src == dst {
            return Ok(!only_if_absent);
        }
        // Redis looks the destination up even when it will overwrite it, so
        // an expired destination is reported as expired.
        if self.find(dst).is_some() && only_if_absent {
            return Ok(false);
        }
        // Looked up again: the destination lookup may have changed the table.
        let slot = self.find(src).ok_or(StoreError::NoSuchKey)?;
        // The value moves (a big collection is not copied).
        let entry = self.db_mut().remove_at(slot).into_rekeyed(dst);
        let replaced = self.db_mut().insert(entry);
        self.dispose(replaced);
        Ok(true)
    }

    /// `COPY src dst [DB index] [REPLACE]`: true when copied. `dst_db`
    /// `None` means this database.
    pub fn copy(
        &mut self,
        src: &[u8],
        dst: &[u8],
        dst_db: Option<usize>,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let target = dst_db.unwrap_or(self.index);
        self.store.check_db(target)?;
        if target == self.index && src == dst {
            return Err(StoreError::SameObject);
        }
        let Some(slot) = self.find(src) else {
            return Ok(false);
        };
        let copy = rekey(self.db().entry_at(slot), dst);
        if self.find_in(target, dst).is_some() && !replace {
            return Ok(false);
        }
        let replaced = self.store.db_for_write(target).insert(copy);
        self.dispose(replaced);
        Ok(true)
    }

    /// `MOVE key db`: true when moved (false when missing here or present
    /// there).
    pub fn move_key(&mut self, key: &[u8], dst_db: usize) -> Result<bool, StoreError> {
        self.store.check_db(dst_db)?;
        if dst_db == self.index {
            return Err(StoreError::SameObject);
        }
        let Some(slot) = self.find(key) else {
            return Ok(false);
        };
        if self.find_in(dst_db, key).is_some() {
            return Ok(false);
        }
        let entry = self.db_mut().remove_at(slot);
        let replaced = self.store.db_for_write(dst_db).insert(entry);
        self.dispose(replaced);
        Ok(true)
    }
}

/// A copy of `entry` under another key, kind and TTL included: a deep
/// copy, except that a big collection shares its chunks copy-on-write.
fn rekey(entry: &Entry, key: &[u8]) -> Entry {
    entry.copy_with_key(key)
}
