//! `COMMAND INFO` / `COMMAND DOCS` metadata of the key enumeration commands, generated
//! from redis-server 7.0.15 by `tools/gen_command_specs.py` (do not edit by hand).

use super::*;
use crate::commands::spec::{Arg, CommandDocs, Flag};

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: &[Flag::Readonly],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@read", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Find all keys matching the given pattern",
            since: "1.0.0",
            group: "generic",
            complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[Arg::new("pattern", "pattern")],
        },
        subcommands: &[],
        handler: handle_keys,
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: &[Flag::Readonly],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@read", "@slow"],
        tips: &["nondeterministic_output", "request_policy:special"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Incrementally iterate the keys space",
            since: "2.8.0",
            group: "generic",
            complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[("6.0.0", "Added the `TYPE` subcommand.")],
            arguments: &[
                Arg::new("cursor", "integer"),
                Arg::new("pattern", "pattern")
                    .token("MATCH")
                    .flags(&["optional"]),
                Arg::new("count", "integer")
                    .token("COUNT")
                    .flags(&["optional"]),
                Arg::new("type", "string")
                    .token("TYPE")
                    .since("6.0.0")
                    .flags(&["optional"]),
            ],
        },
        subcommands: &[],
        handler: handle_scan,
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: &[Flag::Readonly],
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl_categories: &["@keyspace", "@read", "@slow"],
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        key_specs: &[],
        docs: CommandDocs {
            summary: "Return a random key from the keyspace",
            since: "1.0.0",
            group: "generic",
            complexity: "O(1)",
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[],
        },
        subcommands: &[],
        handler: handle_randomkey,
    },
];
