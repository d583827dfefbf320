//! CLIENT SETNAME, GETNAME, ID, LIST, INFO, KILL, HELP.
//!
//! `LIST` and `KILL` look at every connected client through the registry.
//! They run under the dataset lock, holding the caller's own state; other
//! clients' states are locked one at a time (see [`crate::client`] for why
//! this cannot deadlock). The caller itself is read through `ctx.client`,
//! never through its handle, whose lock it already holds.

use std::time::Instant;

use bytes::Bytes;

use super::connection::{BAD_CLIENT_NAME, valid_client_name};
use super::context::ExecContext;
use super::errors;
use super::spec::{Arg, CommandDocs, CommandSpec, Flag, container_handler};
use crate::client::ClientState;

/// `CLIENT` and its subcommands.
pub(crate) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    acl_categories: &["@slow"],
    tips: &[],
    key_specs: &[],
    docs: CommandDocs {
        summary: "A container for client connection commands",
        since: "2.4.0",
        group: "connection",
        complexity: "Depends on subcommand.",
        doc_flags: &[],
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        arguments: &[],
    },
    subcommands: &[
        CommandSpec {
            name: "client|setname",
            arity: 3,
            flags: &[Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@slow", "@connection"],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Set the current connection name",
                since: "2.6.9",
                group: "connection",
                complexity: "O(1)",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[],
                arguments: &[Arg::new("connection-name", "string")],
            },
            subcommands: &[],
            handler: handle_client_setname,
        },
        CommandSpec {
            name: "client|getname",
            arity: 2,
            flags: &[Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@slow", "@connection"],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Get the current connection name",
                since: "2.6.9",
                group: "connection",
                complexity: "O(1)",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[],
                arguments: &[],
            },
            subcommands: &[],
            handler: handle_client_getname,
        },
        CommandSpec {
            name: "client|id",
            arity: 2,
            flags: &[Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@slow", "@connection"],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Returns the client ID for the current connection",
                since: "5.0.0",
                group: "connection",
                complexity: "O(1)",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[],
                arguments: &[],
            },
            subcommands: &[],
            handler: handle_client_id,
        },
        CommandSpec {
            name: "client|list",
            arity: -2,
            flags: &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
            tips: &["nondeterministic_output"],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Get the list of client connections",
                since: "2.4.0",
                group: "connection",
                complexity: "O(N) where N is the number of client connections",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[
                    ("2.8.12", "Added unique client `id` field."),
                    ("5.0.0", "Added optional `TYPE` filter."),
                    ("6.0.0", "Added `user` field."),
                    (
                        "6.2.0",
                        "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
                    ),
                    (
                        "7.0.0",
                        "Added `resp`, `multi-mem`, `rbs` and `rbp` fields.",
                    ),
                    ("7.0.3", "Added `ssub` field."),
                ],
                arguments: &[
                    Arg::new("normal_master_replica_pubsub", "oneof")
                        .token("TYPE")
                        .since("5.0.0")
                        .flags(&["optional"])
                        .arguments(&[
                            Arg::new("normal", "pure-token").token("NORMAL"),
                            Arg::new("master", "pure-token").token("MASTER"),
                            Arg::new("replica", "pure-token").token("REPLICA"),
                            Arg::new("pubsub", "pure-token").token("PUBSUB"),
                        ]),
                    Arg::new("id", "block")
                        .token("ID")
                        .since("6.2.0")
                        .flags(&["optional"])
                        .arguments(&[Arg::new("client-id", "integer").flags(&["multiple"])]),
                ],
            },
            subcommands: &[],
            handler: handle_client_list,
        },
        CommandSpec {
            name: "client|info",
            arity: 2,
            flags: &[Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@slow", "@connection"],
            tips: &["nondeterministic_output"],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Returns information about the current client connection.",
                since: "6.2.0",
                group: "connection",
                complexity: "O(1)",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[],
                arguments: &[],
            },
            subcommands: &[],
            handler: handle_client_info,
        },
        CommandSpec {
            name: "client|kill",
            arity: -3,
            flags: &[Flag::Admin, Flag::Noscript, Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Kill the connection of a client",
                since: "2.4.0",
                group: "connection",
                complexity: "O(N) where N is the number of client connections",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[
                    ("2.8.12", "Added new filter format."),
                    ("2.8.12", "`ID` option."),
                    ("3.2.0", "Added `master` type in for `TYPE` option."),
                    (
                        "5.0.0",
                        "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.",
                    ),
                    ("6.2.0", "`LADDR` option."),
                ],
                arguments: &[Arg::new("filter", "oneof").arguments(&[
                    Arg::new("ip:port", "string").deprecated_since("2.8.12"),
                    Arg::new("new-format", "oneof")
                        .flags(&["multiple"])
                        .arguments(&[
                            Arg::new("client-id", "integer")
                                .token("ID")
                                .since("2.8.12")
                                .flags(&["optional"]),
                            Arg::new("normal_master_slave_pubsub", "oneof")
                                .token("TYPE")
                                .since("2.8.12")
                                .flags(&["optional"])
                                .arguments(&[
                                    Arg::new("normal", "pure-token").token("NORMAL"),
                                    Arg::new("master", "pure-token")
                                        .token("MASTER")
                                        .since("3.2.0"),
                                    Arg::new("slave", "pure-token").token("SLAVE"),
                                    Arg::new("replica", "pure-token")
                                        .token("REPLICA")
                                        .since("5.0.0"),
                                    Arg::new("pubsub", "pure-token").token("PUBSUB"),
                                ]),
                            Arg::new("username", "string")
                                .token("USER")
                                .flags(&["optional"]),
                            Arg::new("ip:port", "string")
                                .token("ADDR")
                                .flags(&["optional"]),
                            Arg::new("ip:port", "string")
                                .token("LADDR")
                                .since("6.2.0")
                                .flags(&["optional"]),
                            Arg::new("yes/no", "string")
                                .token("SKIPME")
                                .flags(&["optional"]),
                        ]),
                ])],
            },
            subcommands: &[],
            handler: handle_client_kill,
        },
        CommandSpec {
            name: "client|help",
            arity: 2,
            flags: &[Flag::Loading, Flag::Stale],
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &["@slow", "@connection"],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs {
                summary: "Show helpful text about the different subcommands",
                since: "5.0.0",
                group: "connection",
                complexity: "O(1)",
                doc_flags: &[],
                deprecated_since: None,
                replaced_by: None,
                history: &[],
                arguments: &[],
            },
            subcommands: &[],
            handler: handle_client_help,
        },
    ],
    handler: container_handler,
}];

fn handle_client_setname(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let name = &args[2];
    if !valid_client_name(name) {
        ctx.reply_error(BAD_CLIENT_NAME);
        return;
    }
    ctx.client.name = String::from_utf8_lossy(name).into_owned();
    ctx.reply_ok();
}

fn handle_client_getname(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    if ctx.client.name.is_empty() {
        ctx.reply_null();
    } else {
        let name = ctx.client.name.clone();
        ctx.reply_bulk(name.as_bytes());
    }
}

fn handle_client_id(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_integer(ctx.client.id as i64);
}

fn handle_client_info(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let mut line = ctx.client.describe(Instant::now());
    line.push('\n');
    ctx.reply_bulk(line.as_bytes());
}

/// Client types of `CLIENT LIST TYPE` / `CLIENT KILL TYPE`; every Redigo
/// client is `normal`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Other,
}

fn parse_client_type(name: &[u8]) -> Option<ClientType> {
    let lower = name.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Some(ClientType::Normal),
        b"master" | b"replica" | b"slave" | b"pubsub" => Some(ClientType::Other),
        _ => None,
    }
}

fn unknown_type(name: &[u8]) -> String {
    format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    )
}

/// Runs `visit` on every client, the caller included, by increasing id.
fn for_each_client(ctx: &mut ExecContext<'_>, mut visit: impl FnMut(&mut ClientState, bool)) {
    let me = ctx.client.id;
    for (id, handle) in ctx.server.clients.snapshot() {
        if id == me {
            visit(ctx.client, true);
        } else {
            let mut state = handle.lock();
            visit(&mut state, false);
            if state.kill_requested {
                handle.request_kill(&mut state);
            }
        }
    }
}

fn handle_client_list(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut only_type = None;
    let mut only_ids: Option<Vec<u64>> = None;
    let rest = &args[2..];
    if !rest.is_empty() {
        if rest.len() == 2 && rest[0].eq_ignore_ascii_case(b"TYPE") {
            match parse_client_type(&rest[1]) {
                Some(kind) => only_type = Some(kind),
                None => {
                    ctx.reply_error(&unknown_type(&rest[1]));
                    return;
                }
            }
        } else if rest.len() >= 2 && rest[0].eq_ignore_ascii_case(b"ID") {
            let mut ids = Vec::with_capacity(rest.len() - 1);
            for raw in &rest[1..] {
                // `string2ll`, as Redis reads the ids.
                match redigo_store::numeric::parse_i64(raw) {
                    Some(id) if id > 0 => ids.push(id as u64),
                    _ => {
                        ctx.reply_error("ERR Invalid client ID");
                        return;
                    }
                }
            }
            only_ids = Some(ids);
        } else {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
    }
    let now = Instant::now();
    let mut listing = String::new();
    for_each_client(ctx, |state, _| {
        let type_ok = only_type.is_none_or(|t| t == ClientType::Normal);
        let id_ok = only_ids.as_ref().is_none_or(|ids| ids.contains(&state.id));
        if type_ok && id_ok {
            listing.push_str(&state.describe(now));
            listing.push('\n');
        }
    });
    ctx.reply_bulk(listing.as_bytes());
}

/// The filters of `CLIENT KILL <filter> <value> ...`.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    kind: Option<ClientType>,
    skip_me: bool,
}

impl KillFilter {
    fn matches(&self, state: &ClientState, is_me: bool) -> bool {
        !(is_me && self.skip_me)
            && self.id.is_none_or(|id| id == state.id)
            && self
                .addr
                .as_ref()
                .is_none_or(|a| *a == state.addr.to_string())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| *a == state.laddr.to_string())
            && self.kind.is_none_or(|t| t == ClientType::Normal)
    }
}

fn parse_kill_filter(args: &[Bytes]) -> Result<KillFilter, String> {
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    if args.len() % 2 != 0 {
        return Err(errors::SYNTAX.to_string());
    }
    for pair in args.chunks_exact(2) {
        let (option, value) = (&pair[0], &pair[1]);
        let text = String::from_utf8_lossy(value).into_owned();
        if option.eq_ignore_ascii_case(b"ID") {
            // `string2ll`, as Redis reads the id.
            match redigo_store::numeric::parse_i64(value) {
                Some(id) if id > 0 => filter.id = Some(id as u64),
                _ => return Err("ERR client-id should be greater than 0".to_string()),
            }
        } else if option.eq_ignore_ascii_case(b"TYPE") {
            filter.kind = Some(parse_client_type(value).ok_or_else(|| unknown_type(value))?);
        } else if option.eq_ignore_ascii_case(b"ADDR") {
            filter.addr = Some(text);
        } else if option.eq_ignore_ascii_case(b"LADDR") {
            filter.laddr = Some(text);
        } else if option.eq_ignore_ascii_case(b"USER") {
            if text != "default" {
                return Err(format!("ERR No such user '{text}'"));
            }
        } else if option.eq_ignore_ascii_case(b"SKIPME") {
            filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                true
            } else if value.eq_ignore_ascii_case(b"no") {
                false
            } else {
                return Err(errors::SYNTAX.to_string());
            };
        } else {
            return Err(errors::SYNTAX.to_string());
        }
    }
    Ok(filter)
}

/// `CLIENT KILL ip:port` (old form: `OK` or an error) or
/// `CLIENT KILL <filter> <value> ...` (new form: the number killed).
fn handle_client_kill(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter {
            addr: Some(String::from_utf8_lossy(&args[2]).into_owned()),
            ..KillFilter::default()
        }
    } else {
        match parse_kill_filter(&args[2..]) {
            Ok(filter) => filter,
            Err(message) => {
                ctx.reply_error(&message);
                return;
            }
        }
    };
    let mut killed = 0i64;
    let mut killed_me = false;
    for_each_client(ctx, |state, is_me| {
        // A client already being closed is gone as far as Redis is concerned
        // (it frees killed clients at once).
        if filter.matches(state, is_me) && !state.kill_requested {
            killed += 1;
            if is_me {
                killed_me = true;
            } else {
                // for_each_client wakes the connection once the flag is set.
                state.kill_requested = true;
            }
        }
    });
    if killed_me {
        // Redis replies first, then closes the caller's connection.
        ctx.effects.close_after_reply = true;
    }
    if old_form {
        if killed == 0 {
            ctx.reply_error("ERR No such client");
        } else {
            ctx.reply_ok();
        }
    } else {
        ctx.reply_integer(killed);
    }
}

/// Lines of `CLIENT HELP` for the subcommands Redigo implements, worded as
/// Redis 7.0's.
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "HELP",
    "    Prints this help.",
];

fn handle_client_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_array_len(CLIENT_HELP.len());
    for line in CLIENT_HELP {
        ctx.reply_simple(line);
    }
}
