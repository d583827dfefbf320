//! Server administration: TIME, SHUTDOWN, BGREWRITEAOF.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::context::ExecContext;
use super::errors;
use super::spec::{Arg, CommandDocs, CommandSpec, Flag};
use crate::shared::ShutdownMode;

/// The administration commands.
pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "time",
        arity: 1,
        flags: &[Flag::Loading, Flag::Stale, Flag::Fast],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@fast"],
        tips: &["nondeterministic_output"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Return the current server time",
            since: "2.6.0",
            group: "server",
            complexity: "O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[],
        },
        subcommands: &[],
        handler: handle_time,
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: &[
            Flag::Admin,
            Flag::Noscript,
            Flag::Loading,
            Flag::Stale,
            Flag::NoMulti,
            Flag::AllowBusy,
        ],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@admin", "@slow", "@dangerous"],
        tips: &[],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Synchronously save the dataset to disk and then shut down the server",
            since: "1.0.0",
            group: "server",
            complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
            arguments: &[
                Arg::new("nosave_save", "oneof")
                    .flags(&["optional"])
                    .arguments(&[
                        Arg::new("nosave", "pure-token").token("NOSAVE"),
                        Arg::new("save", "pure-token").token("SAVE"),
                    ]),
                Arg::new("now", "pure-token")
                    .token("NOW")
                    .since("7.0.0")
                    .flags(&["optional"]),
                Arg::new("force", "pure-token")
                    .token("FORCE")
                    .since("7.0.0")
                    .flags(&["optional"]),
                Arg::new("abort", "pure-token")
                    .token("ABORT")
                    .since("7.0.0")
                    .flags(&["optional"]),
            ],
        },
        subcommands: &[],
        handler: handle_shutdown,
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: &[Flag::Admin, Flag::Noscript, Flag::NoAsyncLoading],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@admin", "@slow", "@dangerous"],
        tips: &[],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Asynchronously rewrite the append-only file",
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
        handler: handle_bgrewriteaof,
    },
];

fn handle_time(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply_array_len(2);
    ctx.reply_bulk(now.as_secs().to_string().as_bytes());
    ctx.reply_bulk(now.subsec_micros().to_string().as_bytes());
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. On success there is no
/// reply: the connection closes as the server stops, as in Redis.
fn handle_shutdown(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut mode = ShutdownMode::default();
    let mut abort = false;
    for option in &args[1..] {
        if option.eq_ignore_ascii_case(b"NOSAVE") {
            mode.nosave = true;
        } else if option.eq_ignore_ascii_case(b"SAVE") {
            mode.save = true;
        } else if option.eq_ignore_ascii_case(b"NOW") {
            mode.now = true;
        } else if option.eq_ignore_ascii_case(b"FORCE") {
            mode.force = true;
        } else if option.eq_ignore_ascii_case(b"ABORT") {
            abort = true;
        } else {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
    }
    if (abort && mode != ShutdownMode::default()) || (mode.nosave && mode.save) {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    if abort {
        // Only a shutdown waiting for replicas can be aborted; there are none.
        ctx.reply_error("ERR No shutdown in progress.");
        return;
    }
    ctx.effects.shutdown = Some(mode);
}

/// Rewrites the AOF in the background from a snapshot of the store. With
/// the AOF off, as Redis 7.0 does, the snapshot still replaces the file at
/// the AOF path (see [`crate::aof::offline_rewrite`]).
fn handle_bgrewriteaof(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let server = ctx.server;
    let started = match (ctx.propagation.aof().cloned(), server.aof_runtime()) {
        (Some(live), _) => {
            live.aof
                .start_rewrite(ctx.store, ctx.propagation, ctx.now_ms, live.hooks)
        }
        (None, Some(runtime)) => server.offline_rewrite().start(
            ctx.store,
            runtime.dataset.clone(),
            server.config().aof_path.clone(),
            ctx.now_ms,
        ),
        (None, None) => Err(crate::aof::RewriteStartError::ShuttingDown),
    };
    match started {
        Ok(()) => ctx.reply_simple("Background append only file rewriting started"),
        Err(err) => ctx.reply_error(&err.to_string()),
    }
}
