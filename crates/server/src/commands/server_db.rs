//! Database-level commands: SELECT, SWAPDB, MOVE, DBSIZE, FLUSHDB, FLUSHALL.

use bytes::Bytes;
use redigo_aof::Record;

use super::context::ExecContext;
use super::errors;
use super::keyspace::arguments::integer;
use super::spec::{Arg, BeginSearch, CommandDocs, CommandSpec, FindKeys, Flag, KeySpec};

/// The database-level commands.
pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "select",
        arity: 2,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@fast", "@connection"],
        tips: &[],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Change the selected database for the current connection",
            since: "1.0.0",
            group: "connection",
            complexity: "O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[Arg::new("index", "integer")],
        },
        subcommands: &[],
        handler: handle_select,
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: &[Flag::Write, Flag::Fast],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@write", "@fast", "@dangerous"],
        tips: &[],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Swaps two Redis databases",
            since: "4.0.0",
            group: "server",
            complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[Arg::new("index1", "integer"), Arg::new("index2", "integer")],
        },
        subcommands: &[],
        handler: handle_swapdb,
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: &[Flag::Write, Flag::Fast],
        first_key: 1,
        last_key: 1,
        key_step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        tips: &[],
        key_specs: &[KeySpec {
            notes: None,
            flags: &["RW", "access", "update"],
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
        }],
        docs: CommandDocs {
            summary: "Move a key to another database",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[
                Arg::new("key", "key").key_spec(0),
                Arg::new("db", "integer"),
            ],
        },
        subcommands: &[],
        handler: handle_move,
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: &[Flag::Readonly, Flag::Fast],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Return the number of keys in the selected database",
            since: "1.0.0",
            group: "server",
            complexity: "O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[],
        },
        subcommands: &[],
        handler: handle_dbsize,
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: &[Flag::Write],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Remove all keys from the current database",
            since: "1.0.0",
            group: "server",
            complexity: "O(N) where N is the number of keys in the selected database",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: &[Arg::new("async", "oneof").flags(&["optional"]).arguments(&[
                Arg::new("async", "pure-token")
                    .token("ASYNC")
                    .since("4.0.0"),
                Arg::new("sync", "pure-token").token("SYNC").since("6.2.0"),
            ])],
        },
        subcommands: &[],
        handler: handle_flushdb,
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: &[Flag::Write],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Remove all keys from all databases",
            since: "1.0.0",
            group: "server",
            complexity: "O(N) where N is the total number of keys in all databases",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: &[Arg::new("async", "oneof").flags(&["optional"]).arguments(&[
                Arg::new("async", "pure-token")
                    .token("ASYNC")
                    .since("4.0.0"),
                Arg::new("sync", "pure-token").token("SYNC").since("6.2.0"),
            ])],
        },
        subcommands: &[],
        handler: handle_flushall,
    },
];

/// Parses a database index as `getIntFromObjectOrReply` would, then checks
/// it exists. Redis reports a negative index as out of range.
fn parse_db_index(ctx: &ExecContext<'_>, arg: &[u8]) -> Result<usize, &'static str> {
    let index = int_or_reply(arg)?;
    usize::try_from(index)
        .ok()
        .filter(|&i| i < ctx.store.databases())
        .ok_or(errors::DB_INDEX_OUT_OF_RANGE)
}

/// A Redis `int` argument (`getIntFromObject`): read strictly, as
/// `string2ll` does (no `+`, no leading zeros, no `-0`), then narrowed.
pub(crate) fn parse_int(arg: &[u8]) -> Option<i32> {
    i32::try_from(integer(arg)?).ok()
}

/// `getIntFromObjectOrReply`: the error says whether the argument is not an
/// integer at all or only outside `int`.
fn int_or_reply(arg: &[u8]) -> Result<i32, &'static str> {
    let value = integer(arg).ok_or(errors::NOT_INTEGER)?;
    i32::try_from(value).map_err(|_| errors::NOT_AN_INT)
}

fn handle_select(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    match parse_db_index(ctx, &args[1]) {
        Ok(index) => {
            ctx.client.db = index;
            ctx.reply_ok();
        }
        Err(error) => ctx.reply_error(error),
    }
}

fn handle_swapdb(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let Some(first) = parse_int(&args[1]) else {
        ctx.reply_error("ERR invalid first DB index");
        return;
    };
    let Some(second) = parse_int(&args[2]) else {
        ctx.reply_error("ERR invalid second DB index");
        return;
    };
    let databases = ctx.store.databases();
    let in_range = |i: i32| usize::try_from(i).ok().filter(|&i| i < databases);
    let (Some(a), Some(b)) = (in_range(first), in_range(second)) else {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    if ctx.store.swap_db(a, b).is_err() {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    }
    ctx.propagate(|| Record::swapdb(&args[1], &args[2]));
    ctx.reply_ok();
}

fn handle_move(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let target = match int_or_reply(&args[2]) {
        Ok(target) => target,
        Err(error) => {
            ctx.reply_error(error);
            return;
        }
    };
    let Ok(target) = usize::try_from(target) else {
        ctx.reply_error(errors::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    let moved = match ctx.store.db(ctx.client.db, ctx.now_ms) {
        Ok(mut db) => db.move_key(&args[1], target),
        Err(err) => Err(err),
    };
    match moved {
        Ok(true) => {
            ctx.propagate(|| Record::move_key(&args[1], &args[2]));
            ctx.reply_integer(1);
        }
        Ok(false) => ctx.reply_integer(0),
        Err(err) => ctx.reply_error(&err.to_string()),
    }
}

fn handle_dbsize(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let size = ctx
        .store
        .db(ctx.client.db, ctx.now_ms)
        .map(|db| db.dbsize())
        .unwrap_or(0);
    ctx.reply_integer(size as i64);
}

/// `FLUSHDB`/`FLUSHALL` accept one optional `ASYNC` or `SYNC`. Freeing is
/// always synchronous here (the old tables are dropped in place), which is
/// what both options promise to the client: the data is gone on `+OK`.
fn flush_mode_ok(args: &[Bytes]) -> bool {
    match args {
        [_] => true,
        [_, mode] => mode.eq_ignore_ascii_case(b"ASYNC") || mode.eq_ignore_ascii_case(b"SYNC"),
        _ => false,
    }
}

fn handle_flushdb(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if !flush_mode_ok(args) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    let before = ctx.store.used_memory();
    ctx.store.flush_db(ctx.client.db);
    note_freed(ctx, before);
    ctx.propagate(Record::flushdb);
    ctx.reply_ok();
}

fn handle_flushall(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if !flush_mode_ok(args) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    let before = ctx.store.used_memory();
    ctx.store.flush_all();
    note_freed(ctx, before);
    ctx.propagate(Record::flushall);
    ctx.reply_ok();
}

/// Tells the cron how much a flush freed, so it can give the memory back
/// to the system (see [`crate::memory_release`]).
fn note_freed(ctx: &ExecContext<'_>, used_before: usize) {
    let freed = used_before.saturating_sub(ctx.store.used_memory());
    ctx.server.memory_release.freed(freed as u64);
}
