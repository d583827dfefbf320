//! The generic key commands (Redis's `generic` group, less the TTL commands
//! in `expiry` and `MOVE` in `databases`): `DEL`, `UNLINK`, `EXISTS`,
//! `TOUCH`, `TYPE`, `RENAME`, `RENAMENX`, `COPY`, and in `scan` the ones
//! that enumerate a database's keys, `KEYS`, `SCAN` and `RANDOMKEY`.
//!
//! They work on keys whatever their value kind. The store decides the
//! outcome and words the errors; the handlers parse the options in Redis
//! 7.0's order, count keyspace hits and misses for the reading commands and
//! propagate the command as sent when it changed something (a `DEL` of
//! missing keys or a `RENAME` of a key onto itself propagates nothing).
//!
//! `specs` holds the `COMMAND INFO`/`DOCS` metadata generated from the
//! oracle.

mod scan;
mod specs;

use bytes::Bytes;
use redigo_aof::Record;

use super::arguments::{int_or_reply, is_keyword};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::pubsub::notifications::EventClass;
use scan::{handle_keys, handle_randomkey, handle_scan};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// A key count as an integer reply.
fn count_reply(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `UNLINK` is `DEL`: values are small and freed at once either way.
use self::handle_del as handle_unlink;

fn handle_del(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let removed = if ctx.notifications_on() {
        // One `del` event per key removed, in order (a repeated key is
        // removed once), as Redis's delGenericCommand.
        let mut removed = 0;
        for key in &args[1..] {
            if ctx.db().del(std::slice::from_ref(key)) > 0 {
                removed += 1;
                ctx.notify(EventClass::GENERIC, "del", key);
            }
        }
        removed
    } else {
        ctx.db().del(&args[1..])
    };
    if removed > 0 {
        ctx.propagate(|| Record::from_args(args));
    }
    ctx.reply_integer(count_reply(removed));
}

/// `EXISTS`: how many of the keys exist, each looked up as a read (a hit
/// or a miss each time, duplicates included), none counting as an access.
fn handle_exists(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let found = ctx.db().exists(&args[1..]);
    reply_found(ctx, args, found);
}

/// `TOUCH`: as `EXISTS`, but each key found counts as an access (its
/// `OBJECT IDLETIME` restarts).
fn handle_touch(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let found = ctx.db().touch(&args[1..]);
    reply_found(ctx, args, found);
}

/// The reply of `EXISTS` and `TOUCH`, `found` of the keys `args[1..]`
/// being live, with a keyspace hit or miss counted per key.
fn reply_found(ctx: &mut ExecContext<'_>, args: &[Bytes], found: usize) {
    let keys = &args[1..];
    for _ in 0..found {
        ctx.keyspace_hit();
    }
    for _ in found..keys.len() {
        ctx.keyspace_miss_without_event();
    }
    // `keymiss` of each missing key, in order (only looked up when the
    // event is on).
    if found < keys.len() && ctx.wants_event(EventClass::KEY_MISS) {
        for key in keys {
            if ctx.db().type_of(key).is_none() {
                ctx.notify(EventClass::KEY_MISS, "keymiss", key);
            }
        }
    }
    ctx.reply_integer(count_reply(found));
}

fn handle_type(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match ctx.db().type_of(&args[1]) {
        Some(kind) => {
            ctx.keyspace_hit();
            ctx.reply_simple(kind.as_str());
        }
        None => {
            ctx.keyspace_miss(&args[1]);
            ctx.reply_simple("none");
        }
    }
}

fn handle_rename(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (src, dst) = (&args[1], &args[2]);
    match ctx.db().rename(src, dst) {
        Ok(()) => {
            if src != dst {
                notify_rename(ctx, src, dst);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_renamenx(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (src, dst) = (&args[1], &args[2]);
    match ctx.db().rename_nx(src, dst) {
        Ok(renamed) => {
            if renamed {
                notify_rename(ctx, src, dst);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(i64::from(renamed));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// The events of a rename (Redis's renameGenericCommand): the destination
/// is added anew (`new`), then `rename_from` and `rename_to`.
fn notify_rename(ctx: &mut ExecContext<'_>, src: &[u8], dst: &[u8]) {
    ctx.notify_new(dst);
    ctx.notify(EventClass::GENERIC, "rename_from", src);
    ctx.notify(EventClass::GENERIC, "rename_to", dst);
}

/// The options of `COPY source destination [DB index] [REPLACE]`.
struct CopyOptions {
    /// `DB index`; `None` is the selected database.
    db: Option<usize>,
    /// `REPLACE`.
    replace: bool,
}

/// Reads `COPY`'s options as Redis 7.0's `copyCommand` does, or returns the
/// error to reply with.
fn parse_copy_options(ctx: &ExecContext<'_>, args: &[Bytes]) -> Result<CopyOptions, &'static str> {
    let mut options = CopyOptions {
        db: None,
        replace: false,
    };
    let mut j = 3;
    while j < args.len() {
        let has_value = j + 1 < args.len();
        if is_keyword(&args[j], "REPLACE") {
            options.replace = true;
        } else if is_keyword(&args[j], "DB") && has_value {
            let id = int_or_reply(&args[j + 1])?;
            let index = usize::try_from(id)
                .ok()
                .filter(|&i| i < ctx.store.databases())
                .ok_or(errors::DB_INDEX_OUT_OF_RANGE)?;
            options.db = Some(index);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    Ok(options)
}

fn handle_copy(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let options = match parse_copy_options(ctx, args) {
        Ok(options) => options,
        Err(error) => {
            ctx.reply_error(error);
            return;
        }
    };
    let (src, dst) = (&args[1], &args[2]);
    let same_object = options.db.is_none_or(|db| db == ctx.client.db) && src == dst;
    let mut db = ctx.db();
    // The source is read (a hit or a miss) unless the command fails first.
    let source_exists = !same_object && db.exists(&[src]) > 0;
    let result = db.copy(src, dst, options.db, options.replace);
    if !same_object {
        if source_exists {
            ctx.keyspace_hit();
        } else {
            ctx.keyspace_miss(src);
        }
    }
    match result {
        Ok(copied) => {
            if copied {
                let target = options.db.unwrap_or(ctx.client.db);
                ctx.notify_in_db(EventClass::NEW, "new", dst, target);
                ctx.notify_in_db(EventClass::GENERIC, "copy_to", dst, target);
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(i64::from(copied));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}
