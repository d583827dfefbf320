//! The command table and the command families.
//!
//! # Shape
//!
//! Each family of commands is one folder whose `mod.rs` exports
//! `pub(crate) const COMMANDS: &[CommandSpec]` and the handlers it names.
//! [`FAMILIES`] lists the families; [`CommandTable::standard`] indexes them
//! by name. A [`CommandSpec`] carries what Redis 7.0's `COMMAND INFO` and
//! `COMMAND DOCS` report (arity, flags, key positions, ACL categories, tips,
//! key specs, docs, argument tree, subcommands) plus the [`Handler`].
//!
//! A family folder holds its handlers (`mod.rs`, and named files for larger
//! parts such as `strings/lcs.rs`), its `specs.rs` and its unit tests.
//! Argument readers that several families share are in `arguments`.
//!
//! # Generated specs
//!
//! Every `specs.rs`, and `fragments.rs` (the flag sets, ACL categories, key
//! specs and argument nodes that recur across them, named by what they
//! hold), is generated from a running redis-server 7.0 by one command,
//! `python3 crates/server/tools/gen_command_specs.py --port N`, and must not
//! be edited by hand (as Redis's own `commands.c`); `--check` tells whether
//! they are up to date. The script's `FAMILIES` table maps each family to
//! its commands: to add a command, add it there, run the script and write
//! its `handle_<name>`. Copying the metadata from the oracle keeps
//! `COMMAND INFO`/`DOCS` byte-identical to Redis; the specs are built with
//! the `const fn` builders of [`CommandSpec`], so a spec states only what is
//! not empty.
//!
//! Container commands (`CONFIG`, `CLIENT`, `COMMAND`) list their subcommands
//! in `subcommands`, with full names such as `config|get`, and use
//! [`container_handler`]; dispatch resolves `CONFIG GET ...` to the
//! `config|get` spec.
//!
//! # Handler conventions
//!
//! A handler is `fn(&mut ExecContext<'_>, &[Bytes])`:
//!
//! * `args[0]` is the command name as sent (any case), `args[1..]` the
//!   arguments (for a subcommand, `args[1]` is its name). Dispatch has
//!   already checked arity against the spec and authentication, so a
//!   handler checks only what arity cannot express (syntax, numbers).
//! * Write **exactly one** reply through the `ctx.reply_*` methods (an array
//!   header followed by its elements counts as one). Error texts are Redis's,
//!   full with the code and without the `-` (`ctx.reply_error("ERR syntax
//!   error")`); shared ones are in [`errors`].
//! * The selected database is `ctx.client.db`; the time is `ctx.now_ms`
//!   (Unix ms, fixed for the command): pass it to every store call that
//!   decides expiry.
//! * Every effective write calls `ctx.propagate(|| Record::...)` once, in
//!   deterministic form (relative expiry turned absolute: `SET k v PXAT ms`,
//!   `PEXPIREAT`; `INCRBYFLOAT` as `SET ... KEEPTTL`), so that replaying the
//!   AOF gives the same dataset. No-op writes propagate nothing. Keys that
//!   the store expires lazily are handled by the dispatcher after the
//!   handler: it counts `expired_keys` and records a `DEL` for each ahead of
//!   the command's own records (in `MULTI`/`EXEC` when that makes more than
//!   one record), as Redis propagates them.
//! * Read commands call `ctx.keyspace_hit()` / `ctx.keyspace_miss(key)`
//!   (which also fires the `keymiss` event).
//! * Unit-test handlers in-process with `harness::Harness` (test builds and
//!   the `testing` feature only): it runs requests through the real
//!   dispatcher and records what they propagate.
//! * A handler never blocks, sleeps, does I/O or panics on input: it runs
//!   under the keyspace lock. Out-of-band effects (close the connection,
//!   shut the server down) are requested through `ctx.effects`.

mod arguments;
mod blocking;
mod call_stats;
mod client;
mod collection_reply;
mod config;
mod connection;
mod context;
mod databases;
mod dispatch;
pub mod errors;
mod expiry;
mod fragments;
mod geo;
#[cfg(any(test, feature = "testing"))]
pub mod harness;
mod hashes;
mod info;
mod introspection;
mod keyspace;
mod lists;
mod memory;
mod object;
mod pubsub;
mod server_admin;
mod sets;
mod sort;
mod sorted_sets;
mod spec;
mod strings;
mod table;
pub(crate) mod transactions;

pub use call_stats::{CommandCounters, CommandStats};
pub use context::{Effects, ExecContext};
pub use dispatch::execute;
pub use spec::{
    Arg, BeginSearch, CommandDocs, CommandSpec, FindKeys, Flag, Handler, KeySpec, container_handler,
};
pub use table::{CommandTable, Lookup};
pub use transactions::MultiState;

/// Every command family, each a folder of this module.
pub const FAMILIES: &[&[CommandSpec]] = &[
    connection::COMMANDS,
    client::COMMANDS,
    config::COMMANDS,
    info::COMMANDS,
    introspection::COMMANDS,
    server_admin::COMMANDS,
    databases::COMMANDS,
    strings::COMMANDS,
    keyspace::COMMANDS,
    expiry::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    lists::COMMANDS,
    sorted_sets::COMMANDS,
    geo::COMMANDS,
    blocking::COMMANDS,
    sort::COMMANDS,
    object::COMMANDS,
    memory::COMMANDS,
    pubsub::COMMANDS,
    transactions::COMMANDS,
];
