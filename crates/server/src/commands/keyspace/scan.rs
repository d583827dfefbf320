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
use redigo_store::numeric::parse_scan_cursor;

use crate::commands::arguments::{INVALID_CURSOR, scan_options};
use crate::commands::context::ExecContext;

pub(super) fn handle_keys(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let keys = ctx.db().keys(&args[1]);
    ctx.reply_bulk_array(keys);
}

pub(super) fn handle_scan(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(cursor) = parse_scan_cursor(&args[1]) else {
        ctx.reply_error(INVALID_CURSOR);
        return;
    };
    let options = match scan_options(args, 2, true) {
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
