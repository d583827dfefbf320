//! The commands that enumerate a database's keys: `KEYS`, `SCAN` and
//! `RANDOMKEY`.
//!
//! They read no particular key, so they count no keyspace hits, and write
//! nothing. Expired keys are never returned: `SCAN` and `RANDOMKEY` remove
//! the ones they meet (the connection propagates those deletions like any
//! lazy expiry), `KEYS` only skips them, as Redis does. `SCAN`'s cursor is
//! the store's position in its hash space, so cursors and the order of keys
//! differ from Redis's while the guarantee (every key present for the whole
//! iteration is returned) is the same.

use bytes::Bytes;
use redigo_store::ScanOptions;
use redigo_store::numeric::parse_scan_cursor;

use crate::commands::arguments::{integer, is_keyword};
use crate::commands::context::ExecContext;
use crate::commands::errors;

/// `SCAN`'s reply when the cursor is not an unsigned number.
const INVALID_CURSOR: &str = "ERR invalid cursor";

pub(super) fn handle_keys(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let keys = ctx.db().keys(&args[1]);
    ctx.reply_bulk_array(keys);
}

/// Reads `[MATCH pattern] [COUNT n] [TYPE kind]` as Redis 7.0's
/// `scanGenericCommand` does: any order, repetitions allowed (the last
/// wins), `COUNT` below 1 a syntax error.
fn parse_scan_options(args: &[Bytes]) -> Result<ScanOptions<'_>, &'static str> {
    let mut options = ScanOptions::default();
    let mut i = 2;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(errors::SYNTAX);
        };
        if is_keyword(&args[i], "COUNT") {
            let count = integer(value).ok_or(errors::NOT_INTEGER)?;
            if count < 1 {
                return Err(errors::SYNTAX);
            }
            options.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if is_keyword(&args[i], "MATCH") {
            // `MATCH *` is no filter at all.
            options.pattern = (&value[..] != b"*").then_some(&value[..]);
        } else if is_keyword(&args[i], "TYPE") {
            options.type_name = Some(&value[..]);
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    Ok(options)
}

pub(super) fn handle_scan(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(cursor) = parse_scan_cursor(&args[1]) else {
        ctx.reply_error(INVALID_CURSOR);
        return;
    };
    let options = match parse_scan_options(args) {
        Ok(options) => options,
        Err(error) => return ctx.reply_error(error),
    };
    let page = ctx.db().scan(cursor, &options);
    ctx.reply_array_len(2);
    ctx.reply_bulk(page.cursor.to_string().as_bytes());
    ctx.reply_bulk_array(page.keys);
}

pub(super) fn handle_randomkey(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    match ctx.db().random_key() {
        Some(key) => ctx.reply_bulk(&key),
        None => ctx.reply_null(),
    }
}
