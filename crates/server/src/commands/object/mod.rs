//! `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ|HELP`: what Redis 7.0's
//! `objectCommand` tells about a key's value.
//!
//! * `ENCODING` is the store's answer (Redis's names: `int`, `embstr`,
//!   `raw`, `listpack`, `intset`, `hashtable`).
//! * `REFCOUNT` is 1, except for a string Redis would hold as one of its
//!   shared integers (`int` encoded, `0..OBJ_SHARED_INTEGERS`), whose
//!   reference count Redis reports as `INT_MAX`.
//! * `IDLETIME` is the seconds since the key was created or last accessed,
//!   from the store's per-entry 24-bit access clock (Redis's LRU clock at
//!   1 s resolution; see `redigo_store::DbHandle::idle_time`). Redigo has
//!   no `maxmemory-policy`, hence no LFU mode and never Redis's LFU error.
//! * `FREQ` answers Redis's error: Redigo has no LFU eviction policy, and
//!   Redis answers so without one (after looking the key up: a missing key
//!   is nil).
//!
//! Every subcommand looks the key up as a read (hits and misses counted)
//! and answers nil for a missing key. None counts as an access of the key
//! (Redis's `objectCommandLookup` uses `LOOKUP_NOTOUCH`): `OBJECT IDLETIME`
//! does not reset the idle time it reports.

mod specs;

use bytes::Bytes;

use super::context::ExecContext;
use super::spec::CommandSpec;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Redis's `OBJ_SHARED_INTEGERS`: strings holding `0..10000` are shared
/// objects in Redis.
const OBJ_SHARED_INTEGERS: i64 = 10_000;

/// Redis's `OBJ_SHARED_REFCOUNT` (`INT_MAX`), reported for shared objects.
const OBJ_SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// `OBJECT FREQ`'s reply without an LFU `maxmemory-policy`.
const FREQ_WITHOUT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// The encoding of a live key, counting the lookup; `None` (after replying
/// nil) when missing.
fn lookup_encoding(ctx: &mut ExecContext<'_>, key: &[u8]) -> Option<&'static str> {
    let encoding = ctx.db().object_encoding(key);
    ctx.count_lookup_without_event(encoding.is_some());
    if encoding.is_none() {
        ctx.reply_null();
    }
    encoding
}

fn handle_object_encoding(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if let Some(encoding) = lookup_encoding(ctx, &args[2]) {
        ctx.reply_bulk(encoding.as_bytes());
    }
}

fn handle_object_refcount(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[2];
    let Some(encoding) = lookup_encoding(ctx, key) else {
        return;
    };
    let shared = encoding == "int"
        && ctx
            .db()
            .peek_string(key)
            .and_then(redigo_store::numeric::parse_i64)
            .is_some_and(|n| (0..OBJ_SHARED_INTEGERS).contains(&n));
    ctx.reply_integer(if shared { OBJ_SHARED_REFCOUNT } else { 1 });
}

fn handle_object_idletime(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let idle = ctx.db().idle_time(&args[2]);
    ctx.count_lookup_without_event(idle.is_some());
    match idle {
        Some(seconds) => ctx.reply_integer(i64::try_from(seconds).unwrap_or(i64::MAX)),
        None => ctx.reply_null(),
    }
}

fn handle_object_freq(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if lookup_encoding(ctx, &args[2]).is_some() {
        ctx.reply_error(FREQ_WITHOUT_LFU);
    }
}

/// Lines of `OBJECT HELP`, Redis 7.0's text.
const OBJECT_HELP: &str = "\
ENCODING <key>
    Return the kind of internal representation used in order to store the value
    associated with a <key>.
FREQ <key>
    Return the access frequency index of the <key>. The returned integer is
    proportional to the logarithm of the recent access frequency of the key.
IDLETIME <key>
    Return the idle time of the <key>, that is the approximated number of
    seconds elapsed since the last access to the key.
REFCOUNT <key>
    Return the number of references of the value associated with the specified
    <key>.";

fn handle_object_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("OBJECT", OBJECT_HELP);
}
