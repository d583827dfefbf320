//! TTL commands: `EXPIRE` family with `NX XX GT LT`, `TTL`/`PTTL`,
//! `EXPIRETIME`/`PEXPIRETIME`, `PERSIST`, and the deadline arithmetic shared
//! with `SET`, `SETEX`, `PSETEX` and `GETEX`.

use crate::error::StoreError;
use crate::store::DbHandle;

/// An expire time as a command gives it: the raw integer and how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds` / `EXPIRE key seconds`: relative, seconds.
    Seconds(i64),
    /// `PX ms` / `PEXPIRE key ms`: relative, milliseconds.
    Millis(i64),
    /// `EXAT unix-seconds` / `EXPIREAT`: absolute, seconds.
    UnixSeconds(i64),
    /// `PXAT unix-ms` / `PEXPIREAT`: absolute, milliseconds.
    UnixMillis(i64),
}

impl Expiry {
    /// The deadline for `SET`, `SETEX`, `PSETEX`, `GETEX` (Redis's
    /// `getExpireMillisecondsOrReply`): the number must be positive, must
    /// not overflow when turned into ms, and the deadline must be positive.
    pub(crate) fn set_deadline(self, now: u64, command: &'static str) -> Result<u64, StoreError> {
        let invalid = StoreError::InvalidExpireTime { command };
        let (amount, seconds, relative) = self.parts();
        if amount <= 0 {
            return Err(invalid);
        }
        let mut ms = if seconds {
            amount.checked_mul(1000).ok_or(invalid.clone())?
        } else {
            amount
        };
        if relative {
            ms = ms.checked_add(now_i64(now)).ok_or(invalid.clone())?;
        }
        if ms <= 0 {
            return Err(invalid);
        }
        Ok(ms as u64)
    }

    /// The deadline for the `EXPIRE` family (Redis's `expireGenericCommand`):
    /// negative values are allowed (they delete the key); only overflow of
    /// the unit conversion or of the base-time addition is an error.
    fn expire_deadline(self, now: u64, command: &'static str) -> Result<i64, StoreError> {
        let invalid = StoreError::InvalidExpireTime { command };
        let (amount, seconds, relative) = self.parts();
        let ms = if seconds {
            amount.checked_mul(1000).ok_or(invalid.clone())?
        } else {
            amount
        };
        if relative {
            ms.checked_add(now_i64(now)).ok_or(invalid)
        } else {
            Ok(ms)
        }
    }

    fn parts(self) -> (i64, bool, bool) {
        match self {
            Expiry::Seconds(n) => (n, true, true),
            Expiry::Millis(n) => (n, false, true),
            Expiry::UnixSeconds(n) => (n, true, false),
            Expiry::UnixMillis(n) => (n, false, false),
        }
    }

    /// The lower-case command name of the `EXPIRE` variant this expiry
    /// corresponds to, as Redis names it in errors.
    fn expire_command(self) -> &'static str {
        match self {
            Expiry::Seconds(_) => "expire",
            Expiry::Millis(_) => "pexpire",
            Expiry::UnixSeconds(_) => "expireat",
            Expiry::UnixMillis(_) => "pexpireat",
        }
    }

    /// Whether the expiry is absolute (`EXAT`/`PXAT`).
    pub(crate) fn is_absolute(self) -> bool {
        matches!(self, Expiry::UnixSeconds(_) | Expiry::UnixMillis(_))
    }
}

fn now_i64(now: u64) -> i64 {
    i64::try_from(now).unwrap_or(i64::MAX)
}

/// The `NX | XX | GT | LT` flag of the `EXPIRE` family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// No flag: always set.
    #[default]
    Always,
    /// `NX`: only when the key has no TTL.
    IfNoTtl,
    /// `XX`: only when the key has a TTL.
    IfTtl,
    /// `GT`: only when the new deadline is later (no TTL counts as infinite,
    /// so `GT` never applies to a persistent key).
    IfGreater,
    /// `LT`: only when the new deadline is earlier (no TTL counts as
    /// infinite, so `LT` always applies to a persistent key).
    IfLess,
}

/// What an `EXPIRE`-family command did; the reply is `1` unless `NotSet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireOutcome {
    /// Key missing or condition not met: reply `0`.
    NotSet,
    /// The deadline (ms since the epoch) was set: reply `1`; propagate as
    /// `PEXPIREAT key deadline`.
    Set(u64),
    /// The deadline was not in the future, so the key was deleted: reply `1`;
    /// propagate as `DEL key` (Redis does the same).
    Deleted,
}

impl DbHandle<'_> {
    /// `EXPIRE`/`PEXPIRE`/`EXPIREAT`/`PEXPIREAT key time [NX|XX|GT|LT]`.
    pub fn expire(
        &mut self,
        key: &[u8],
        expiry: Expiry,
        condition: ExpireCondition,
    ) -> Result<ExpireOutcome, StoreError> {
        let when = expiry.expire_deadline(self.now, expiry.expire_command())?;
        let Some(slot) = self.find(key) else {
            return Ok(ExpireOutcome::NotSet);
        };
        let current = self
            .db()
            .entry_at(slot)
            .expire_at()
            .map(|d| i64::try_from(d).unwrap_or(i64::MAX));
        let allowed = match condition {
            ExpireCondition::Always => true,
            ExpireCondition::IfNoTtl => current.is_none(),
            ExpireCondition::IfTtl => current.is_some(),
            ExpireCondition::IfGreater => current.is_some_and(|c| when > c),
            ExpireCondition::IfLess => current.is_none_or(|c| when < c),
        };
        if !allowed {
            return Ok(ExpireOutcome::NotSet);
        }
        if self.already_expired(when) {
            let removed = self.db_mut().remove_at(slot);
            self.dispose(removed);
            return Ok(ExpireOutcome::Deleted);
        }
        let deadline = when as u64;
        self.db_mut().set_deadline(slot, Some(deadline));
        Ok(ExpireOutcome::Set(deadline))
    }

    /// The deadline of a live key: `Err(-2)` when missing, `Ok(None)` when
    /// persistent. Not an access (Redis's `ttlGenericCommand` looks up with
    /// `LOOKUP_NOTOUCH`).
    fn deadline_of(&mut self, key: &[u8]) -> Result<Option<u64>, i64> {
        let slot = self.find_untouched(key).ok_or(MISSING_KEY)?;
        Ok(self.db().entry_at(slot).expire_at())
    }

    /// `TTL`: seconds left, rounded to nearest; -2 missing, -1 no TTL.
    pub fn ttl(&mut self, key: &[u8]) -> i64 {
        self.ttl_reply(key, false, false)
    }

    /// `PTTL`: milliseconds left; -2 missing, -1 no TTL.
    pub fn pttl(&mut self, key: &[u8]) -> i64 {
        self.ttl_reply(key, true, false)
    }

    /// `EXPIRETIME`: the deadline in Unix seconds (rounded as Redis rounds);
    /// -2 missing, -1 no TTL.
    pub fn expire_time(&mut self, key: &[u8]) -> i64 {
        self.ttl_reply(key, false, true)
    }

    /// `PEXPIRETIME`: the deadline in Unix ms; -2 missing, -1 no TTL.
    pub fn pexpire_time(&mut self, key: &[u8]) -> i64 {
        self.ttl_reply(key, true, true)
    }

    fn ttl_reply(&mut self, key: &[u8], millis: bool, absolute: bool) -> i64 {
        let deadline = match self.deadline_of(key) {
            Err(missing) => return missing,
            Ok(None) => return NO_TTL,
            Ok(Some(deadline)) => i64::try_from(deadline).unwrap_or(i64::MAX),
        };
        let value = if absolute {
            deadline
        } else {
            deadline - now_i64(self.now)
        }
        .max(0);
        if millis {
            value
        } else {
            // Rounded to the nearest second without overflowing near
            // i64::MAX (Redis answers 9223372036854776 for i64::MAX ms).
            ((i128::from(value) + 500) / 1000) as i64
        }
    }

    /// `PERSIST`: removes the TTL; true when there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let Some(slot) = self.find(key) else {
            return false;
        };
        if self.db().entry_at(slot).expire_at().is_none() {
            return false;
        }
        self.db_mut().set_deadline(slot, None);
        true
    }
}

/// `TTL` family reply for a missing key.
const MISSING_KEY: i64 = -2;
/// `TTL` family reply for a key without a TTL.
const NO_TTL: i64 = -1;
