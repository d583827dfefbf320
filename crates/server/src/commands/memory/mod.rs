//! `MEMORY USAGE key [SAMPLES count]` and `MEMORY HELP`.
//!
//! `USAGE` estimates the bytes a key takes, in the spirit of Redis's
//! `objectComputeSize`: the key, the value as the store accounts it
//! ([`redigo_store::Value::memory_bytes`]: payload and out-of-line
//! structure) and a fixed per-entry overhead. The store accounts exactly,
//! so `SAMPLES` is read and checked as Redis reads it but not needed. The
//! figures differ from Redis's, whose layout differs; the shape of the
//! reply (an integer, nil for a missing key) and the errors are Redis's.
//! The other `MEMORY` subcommands (`DOCTOR`, `STATS`, `MALLOC-STATS`,
//! `PURGE`) are not implemented, and `HELP` lists only what is.

mod specs;

use bytes::Bytes;

use super::arguments::{integer, is_keyword};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Bytes every key costs besides its name and value: the entry's header
/// (kind, flags, access clock, varint lengths) and the table's 8-byte
/// pointer to it, rounded up to the allocator's 16-byte granularity.
const ENTRY_OVERHEAD_BYTES: usize = 32;

fn handle_memory_usage(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    // Redis's loop: `SAMPLES n` any number of times, n >= 0 (0 means all).
    let mut j = 3;
    while j < args.len() {
        if is_keyword(&args[j], "SAMPLES") && j + 1 < args.len() {
            match integer(&args[j + 1]) {
                None => return ctx.reply_error(errors::NOT_INTEGER),
                Some(samples) if samples < 0 => return ctx.reply_error(errors::SYNTAX),
                Some(_) => {}
            }
            j += 2;
        } else {
            return ctx.reply_error(errors::SYNTAX);
        }
    }
    let key = &args[2];
    match ctx.db().value(key) {
        Some(value) => {
            let bytes = ENTRY_OVERHEAD_BYTES + key.len() + value.memory_bytes();
            ctx.reply_integer(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        None => ctx.reply_null(),
    }
}

/// Lines of `MEMORY HELP`: Redis 7.0's text for the subcommands Redigo has.
const MEMORY_HELP: &str = "\
USAGE <key> [SAMPLES <count>]
    Return memory in bytes used by <key> and its value. Nested values are
    sampled up to <count> times (default: 5, 0 means sample all).";

fn handle_memory_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("MEMORY", MEMORY_HELP);
}
