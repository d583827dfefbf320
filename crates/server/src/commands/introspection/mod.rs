//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP),
//! generated from the command table so that introspection replies are
//! byte-identical to Redis 7.0's for the commands Redigo implements.
//!
//! RESP2 has no map type: a map is a flat array of key/value pairs and a set
//! an array, as Redis sends them to RESP2 clients.

mod specs;

use bytes::Bytes;

use super::context::ExecContext;
use super::errors;
use super::spec::{Arg, BeginSearch, CommandSpec, FindKeys, KeySpec};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

fn handle_command(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let specs: Vec<&'static CommandSpec> = ctx.server.commands.iter().collect();
    ctx.reply_array_len(specs.len());
    for spec in specs {
        reply_command_info(ctx, spec);
    }
}

fn handle_command_count(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_integer(ctx.server.commands.len() as i64);
}

fn handle_command_info(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if args.len() == 2 {
        handle_command(ctx, args);
        return;
    }
    ctx.reply_array_len(args.len() - 2);
    for name in &args[2..] {
        match ctx.server.commands.get_full_name(name) {
            Some(spec) => reply_command_info(ctx, spec),
            None => ctx.reply_null_array(),
        }
    }
}

fn handle_command_docs(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let specs: Vec<&'static CommandSpec> = if args.len() == 2 {
        ctx.server.commands.iter().collect()
    } else {
        args[2..]
            .iter()
            .filter_map(|name| ctx.server.commands.get_full_name(name))
            .collect()
    };
    ctx.reply_array_len(specs.len() * 2);
    for spec in specs {
        ctx.reply_bulk(spec.name.as_bytes());
        reply_command_docs(ctx, spec);
    }
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`.
fn handle_command_list(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let all_names = || {
        let mut names = Vec::new();
        for spec in ctx.server.commands.iter() {
            names.push(spec);
            names.extend(spec.subcommands.iter());
        }
        names
    };
    let names: Vec<&'static CommandSpec> = match args.len() {
        2 => all_names(),
        5 if args[2].eq_ignore_ascii_case(b"FILTERBY") => {
            let (filter, value) = (&args[3], &args[4]);
            if filter.eq_ignore_ascii_case(b"MODULE") {
                // Redigo has no modules.
                Vec::new()
            } else if filter.eq_ignore_ascii_case(b"ACLCAT") {
                all_names()
                    .into_iter()
                    .filter(|spec| {
                        spec.acl_categories
                            .iter()
                            .any(|cat| cat.as_bytes()[1..].eq_ignore_ascii_case(value))
                    })
                    .collect()
            } else if filter.eq_ignore_ascii_case(b"PATTERN") {
                all_names()
                    .into_iter()
                    .filter(|spec| redigo_store::glob::matches(value, spec.name.as_bytes(), true))
                    .collect()
            } else {
                ctx.reply_error(errors::SYNTAX);
                return;
            }
        }
        _ => {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
    };
    ctx.reply_bulk_array(names.iter().map(|spec| spec.name.as_bytes()));
}

fn handle_command_getkeys(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let command = &args[2..];
    let Some(positions) = keys_of_command(ctx, command) else {
        return;
    };
    ctx.reply_bulk_array(positions.iter().map(|&(i, _)| command[i].as_ref()));
}

fn handle_command_getkeysandflags(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let command = &args[2..];
    let Some(positions) = keys_of_command(ctx, command) else {
        return;
    };
    ctx.reply_array_len(positions.len());
    for (index, key_spec) in positions {
        ctx.reply_array_len(2);
        ctx.reply_bulk(&command[index]);
        reply_status_array(ctx, resolved_key_flags(key_spec, command));
    }
}

/// The access flags of a key found by `key_spec` in `command`. A spec marked
/// `variable_flags` depends on the arguments; Redis then asks the command's
/// own key function. `SET` is the only such command here (`setGetKeys`:
/// with `GET` the old value is read).
fn resolved_key_flags(key_spec: &KeySpec, command: &[Bytes]) -> &'static [&'static str] {
    if !key_spec.flags.contains(&"variable_flags") {
        return key_spec.flags;
    }
    let name = command.first().map(|n| n.as_ref()).unwrap_or_default();
    if name.eq_ignore_ascii_case(b"SET") {
        let reads_old_value = command
            .iter()
            .skip(3)
            .any(|arg| arg.eq_ignore_ascii_case(b"GET"));
        return if reads_old_value {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        };
    }
    key_spec.flags
}

/// Resolves `COMMAND GETKEYS[ANDFLAGS] <command> ...` to its key positions,
/// or replies with Redis's error and returns `None`.
fn keys_of_command(
    ctx: &mut ExecContext<'_>,
    command: &[Bytes],
) -> Option<Vec<(usize, &'static KeySpec)>> {
    let spec = match ctx.server.commands.lookup(command) {
        super::table::Lookup::Found(spec) => spec,
        _ => {
            ctx.reply_error("ERR Invalid command specified");
            return None;
        }
    };
    if !spec.arity_ok(command.len()) {
        ctx.reply_error("ERR Invalid number of arguments specified for command");
        return None;
    }
    let positions = key_positions(spec, command);
    if positions.is_empty() {
        ctx.reply_error("ERR The command has no key arguments");
        return None;
    }
    Some(positions)
}

/// Argument indexes of the keys of `args` (name at 0), found through the key
/// specs as Redis's `getKeysUsingKeySpecs` does.
/// Each key comes with the key spec that found it (for its flags).
pub(crate) fn key_positions(
    spec: &'static CommandSpec,
    args: &[Bytes],
) -> Vec<(usize, &'static KeySpec)> {
    let argc = args.len() as i64;
    let mut keys = Vec::new();
    for key_spec in spec.key_specs {
        let Some(first) = begin_index(key_spec, args) else {
            continue;
        };
        let (first, last, step) = match key_spec.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit <= 1 {
                    argc + i64::from(lastkey)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                };
                (first, last, i64::from(keystep))
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let count_at = first + i64::from(keynumidx);
                let Some(count) = usize::try_from(count_at)
                    .ok()
                    .and_then(|i| args.get(i))
                    .and_then(|a| std::str::from_utf8(a).ok()?.parse::<i64>().ok())
                    .filter(|&n| n >= 0)
                else {
                    continue;
                };
                let start = first + i64::from(firstkey);
                (
                    start,
                    start + (count - 1) * i64::from(keystep),
                    i64::from(keystep),
                )
            }
            FindKeys::Unknown => continue,
        };
        let step = step.max(1);
        let mut i = first;
        while i <= last && i < argc && i > 0 {
            keys.push((i as usize, key_spec));
            i += step;
        }
    }
    keys
}

fn begin_index(key_spec: &KeySpec, args: &[Bytes]) -> Option<i64> {
    let argc = args.len() as i64;
    match key_spec.begin_search {
        BeginSearch::Index(index) => Some(i64::from(index)),
        BeginSearch::Keyword { keyword, startfrom } => {
            let (start, end, step) = if startfrom >= 0 {
                (i64::from(startfrom), argc - 1, 1)
            } else {
                (argc + i64::from(startfrom), 1, -1)
            };
            let mut i = start;
            while (step > 0 && i <= end) || (step < 0 && i >= end) {
                if args
                    .get(usize::try_from(i).ok()?)
                    .is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes()))
                {
                    return Some(i + 1);
                }
                i += step;
            }
            None
        }
        BeginSearch::Unknown => None,
    }
}

const COMMAND_HELP: &str = "\
(no subcommand)
    Return details about all Redis commands.
COUNT
    Return the total number of commands in this Redis server.
LIST
    Return a list of all commands in this Redis server.
INFO [<command-name> ...]
    Return details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
DOCS [<command-name> ...]
    Return documentation details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
GETKEYS <full-command>
    Return the keys from a full Redis command.
GETKEYSANDFLAGS <full-command>
    Return the keys and the access flags from a full Redis command.";

fn handle_command_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("COMMAND", COMMAND_HELP);
}

fn reply_status_array(ctx: &mut ExecContext<'_>, items: &[&str]) {
    ctx.reply_array_len(items.len());
    for item in items {
        ctx.reply_simple(item);
    }
}

/// The 10-element `COMMAND INFO` entry of `addReplyCommandInfo`.
fn reply_command_info(ctx: &mut ExecContext<'_>, spec: &CommandSpec) {
    ctx.reply_array_len(10);
    ctx.reply_bulk(spec.name.as_bytes());
    ctx.reply_integer(i64::from(spec.arity));
    let flags: Vec<&str> = spec.flags.iter().map(|f| f.name()).collect();
    reply_status_array(ctx, &flags);
    ctx.reply_integer(i64::from(spec.first_key));
    ctx.reply_integer(i64::from(spec.last_key));
    ctx.reply_integer(i64::from(spec.key_step));
    reply_status_array(ctx, spec.acl_categories);
    ctx.reply_bulk_array(spec.tips.iter().map(|t| t.as_bytes()));
    ctx.reply_array_len(spec.key_specs.len());
    for key_spec in spec.key_specs {
        reply_key_spec(ctx, key_spec);
    }
    ctx.reply_array_len(spec.subcommands.len());
    for sub in spec.subcommands {
        reply_command_info(ctx, sub);
    }
}

fn reply_key_spec(ctx: &mut ExecContext<'_>, key_spec: &KeySpec) {
    let fields = 3 + usize::from(key_spec.notes.is_some());
    ctx.reply_array_len(fields * 2);
    if let Some(notes) = key_spec.notes {
        ctx.reply_bulk(b"notes");
        ctx.reply_bulk(notes.as_bytes());
    }
    ctx.reply_bulk(b"flags");
    reply_status_array(ctx, key_spec.flags);
    ctx.reply_bulk(b"begin_search");
    ctx.reply_array_len(4);
    ctx.reply_bulk(b"type");
    match key_spec.begin_search {
        BeginSearch::Index(index) => reply_typed_spec(ctx, b"index", &[(b"index", index)]),
        BeginSearch::Keyword { keyword, startfrom } => {
            ctx.reply_bulk(b"keyword");
            ctx.reply_bulk(b"spec");
            ctx.reply_array_len(4);
            ctx.reply_bulk(b"keyword");
            ctx.reply_bulk(keyword.as_bytes());
            ctx.reply_bulk(b"startfrom");
            ctx.reply_integer(i64::from(startfrom));
        }
        BeginSearch::Unknown => {
            ctx.reply_bulk(b"unknown");
            ctx.reply_bulk(b"spec");
            ctx.reply_array_len(0);
        }
    }
    ctx.reply_bulk(b"find_keys");
    ctx.reply_array_len(4);
    ctx.reply_bulk(b"type");
    match key_spec.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => reply_typed_spec(
            ctx,
            b"range",
            &[
                (b"lastkey", lastkey),
                (b"keystep", keystep),
                (b"limit", limit),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => reply_typed_spec(
            ctx,
            b"keynum",
            &[
                (b"keynumidx", keynumidx),
                (b"firstkey", firstkey),
                (b"keystep", keystep),
            ],
        ),
        FindKeys::Unknown => {
            ctx.reply_bulk(b"unknown");
            ctx.reply_bulk(b"spec");
            ctx.reply_array_len(0);
        }
    }
}

/// The rest of a key spec's `begin_search` or `find_keys` map after its
/// `type` key: the type's name, then `spec`, a map of integer fields.
fn reply_typed_spec(ctx: &mut ExecContext<'_>, kind: &[u8], fields: &[(&[u8], i32)]) {
    ctx.reply_bulk(kind);
    ctx.reply_bulk(b"spec");
    ctx.reply_array_len(fields.len() * 2);
    for &(name, value) in fields {
        ctx.reply_bulk(name);
        ctx.reply_integer(i64::from(value));
    }
}

/// The `COMMAND DOCS` map of `addReplyCommandDocs`, fields in Redis's order.
fn reply_command_docs(ctx: &mut ExecContext<'_>, spec: &CommandSpec) {
    let docs = &spec.docs;
    let present = [
        !docs.summary.is_empty(),
        !docs.since.is_empty(),
        true, // group
        !docs.complexity.is_empty(),
        !docs.doc_flags.is_empty(),
        docs.deprecated_since.is_some(),
        docs.replaced_by.is_some(),
        !docs.history.is_empty(),
        !docs.arguments.is_empty(),
        !spec.subcommands.is_empty(),
    ];
    ctx.reply_array_len(present.iter().filter(|&&p| p).count() * 2);
    for (name, value) in [
        ("summary", docs.summary),
        ("since", docs.since),
        ("group", docs.group),
        ("complexity", docs.complexity),
    ] {
        if !value.is_empty() || name == "group" {
            ctx.reply_bulk(name.as_bytes());
            ctx.reply_bulk(value.as_bytes());
        }
    }
    if !docs.doc_flags.is_empty() {
        ctx.reply_bulk(b"doc_flags");
        reply_status_array(ctx, docs.doc_flags);
    }
    if let Some(version) = docs.deprecated_since {
        ctx.reply_bulk(b"deprecated_since");
        ctx.reply_bulk(version.as_bytes());
    }
    if let Some(replacement) = docs.replaced_by {
        ctx.reply_bulk(b"replaced_by");
        ctx.reply_bulk(replacement.as_bytes());
    }
    if !docs.history.is_empty() {
        ctx.reply_bulk(b"history");
        ctx.reply_array_len(docs.history.len());
        for (version, change) in docs.history {
            ctx.reply_bulk_array([version.as_bytes(), change.as_bytes()]);
        }
    }
    if !docs.arguments.is_empty() {
        ctx.reply_bulk(b"arguments");
        reply_arguments(ctx, docs.arguments);
    }
    if !spec.subcommands.is_empty() {
        ctx.reply_bulk(b"subcommands");
        ctx.reply_array_len(spec.subcommands.len() * 2);
        for sub in spec.subcommands {
            ctx.reply_bulk(sub.name.as_bytes());
            reply_command_docs(ctx, sub);
        }
    }
}

/// `addReplyCommandArgList`.
fn reply_arguments(ctx: &mut ExecContext<'_>, arguments: &[Arg]) {
    ctx.reply_array_len(arguments.len());
    for arg in arguments {
        let fields = 2
            + usize::from(arg.key_spec_index.is_some())
            + usize::from(arg.token.is_some())
            + usize::from(arg.summary.is_some())
            + usize::from(arg.since.is_some())
            + usize::from(arg.deprecated_since.is_some())
            + usize::from(!arg.flags.is_empty())
            + usize::from(!arg.arguments.is_empty());
        ctx.reply_array_len(fields * 2);
        ctx.reply_bulk(b"name");
        ctx.reply_bulk(arg.name.as_bytes());
        ctx.reply_bulk(b"type");
        ctx.reply_bulk(arg.kind.as_bytes());
        if let Some(index) = arg.key_spec_index {
            ctx.reply_bulk(b"key_spec_index");
            ctx.reply_integer(i64::from(index));
        }
        for (name, value) in [
            ("token", arg.token),
            ("summary", arg.summary),
            ("since", arg.since),
            ("deprecated_since", arg.deprecated_since),
        ] {
            if let Some(value) = value {
                ctx.reply_bulk(name.as_bytes());
                ctx.reply_bulk(value.as_bytes());
            }
        }
        if !arg.flags.is_empty() {
            ctx.reply_bulk(b"flags");
            reply_status_array(ctx, arg.flags);
        }
        if !arg.arguments.is_empty() {
            ctx.reply_bulk(b"arguments");
            reply_arguments(ctx, arg.arguments);
        }
    }
}
