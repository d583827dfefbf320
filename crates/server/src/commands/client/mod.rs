//! CLIENT SETNAME, GETNAME, ID, LIST, INFO, KILL, UNBLOCK, HELP; the
//! client-control subcommands (REPLY, PAUSE, UNPAUSE, NO-EVICT) and MONITOR
//! are in [`control`], client tracking (TRACKING, TRACKINGINFO, GETREDIR,
//! CACHING) in [`tracking`].
//!
//! `LIST` and `KILL` look at every connected client through the registry.
//! They run under the dataset lock, holding the caller's own state; other
//! clients' states are locked one at a time (see [`crate::client`] for why
//! this cannot deadlock). The caller itself is read through `ctx.client`,
//! never through its handle, whose lock it already holds.

mod control;
mod specs;
mod tracking;

use std::time::Instant;

use bytes::Bytes;

use super::connection::{BAD_CLIENT_NAME, valid_client_name};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::client::ClientState;
use crate::config::ClientClass;
use control::{
    handle_client_no_evict, handle_client_pause, handle_client_reply, handle_client_unpause,
    handle_monitor,
};
use tracking::{
    handle_client_caching, handle_client_getredir, handle_client_tracking,
    handle_client_trackinginfo,
};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

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

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]` (Redis 7.0's order: the reason is
/// checked before the id). A blocked client gets its command's timeout
/// reply, or the `UNBLOCKED` error; `1` if it was blocked, else `0`.
fn handle_client_unblock(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if args.len() > 4 {
        // Redis's `addReplySubcommandSyntaxError`, the subcommand as sent.
        let sub = String::from_utf8_lossy(super::arguments::c_str(&args[1])).into_owned();
        ctx.reply_error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            sub.chars().take(128).collect::<String>()
        ));
        return;
    }
    let error = match args.get(3) {
        None => false,
        Some(reason) if reason.eq_ignore_ascii_case(b"TIMEOUT") => false,
        Some(reason) if reason.eq_ignore_ascii_case(b"ERROR") => true,
        Some(_) => {
            ctx.reply_error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    };
    let Some(id) = super::arguments::integer(&args[2]) else {
        ctx.reply_error(errors::NOT_INTEGER);
        return;
    };
    let message = error.then_some(crate::blocking::UNBLOCKED_ERROR);
    let unblocked = u64::try_from(id).is_ok_and(|id| ctx.blocking.unblock_with(id, message));
    if unblocked && let Some(message) = message {
        // The error reply goes to the unblocked client; it counts as Redis's
        // `addReplyError` counts it.
        ctx.server.stats.count_error(message);
    }
    ctx.reply_integer(i64::from(unblocked));
}

/// Client types of `CLIENT LIST TYPE` / `CLIENT KILL TYPE`, as Redis's
/// `getClientType` sorts clients: `pubsub` while subscribed (RESP2's
/// `CLIENT_PUBSUB`), otherwise `normal` (a monitor included); Redigo has
/// no master or replica connections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Pubsub,
    Replication,
}

impl ClientType {
    fn of(state: &ClientState) -> ClientType {
        match state.limit_class() {
            ClientClass::Pubsub => ClientType::Pubsub,
            ClientClass::Normal | ClientClass::Replica => ClientType::Normal,
        }
    }
}

fn parse_client_type(name: &[u8]) -> Option<ClientType> {
    let lower = name.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Some(ClientType::Normal),
        b"pubsub" => Some(ClientType::Pubsub),
        b"master" | b"replica" | b"slave" => Some(ClientType::Replication),
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
        let type_ok = only_type.is_none_or(|t| t == ClientType::of(state));
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
            && self.kind.is_none_or(|t| t == ClientType::of(state))
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

/// Lines of `CLIENT HELP`, as Redis 7.0's (every subcommand it lists is
/// implemented).
const CLIENT_HELP: &str = "\
CACHING (YES|NO)
    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.
GETREDIR
    Return the client ID we are redirecting to when tracking is enabled.
GETNAME
    Return the name of the current connection.
ID
    Return the ID of the current connection.
INFO
    Return information about the current client connection.
KILL <ip:port>
    Kill connection made from <ip:port>.
KILL <option> <value> [<option> <value> [...]]
    Kill connections. Options are:
    * ADDR (<ip:port>|<unixsocket>:0)
      Kill connections made from the specified address
    * LADDR (<ip:port>|<unixsocket>:0)
      Kill connections made to specified local address
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Kill connections by type.
    * USER <username>
      Kill connections authenticated by <username>.
    * SKIPME (YES|NO)
      Skip killing current connection (default: yes).
LIST [options ...]
    Return information about client connections. Options:
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Return clients of specified type.
UNPAUSE
    Stop the current client pause, resuming traffic.
PAUSE <timeout> [WRITE|ALL]
    Suspend all, or just write, clients for <timeout> milliseconds.
REPLY (ON|OFF|SKIP)
    Control the replies sent to the current connection.
SETNAME <name>
    Assign the name <name> to the current connection.
UNBLOCK <clientid> [TIMEOUT|ERROR]
    Unblock the specified blocked client.
TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]
         [OPTIN] [OPTOUT] [NOLOOP]
    Control server assisted client side caching.
TRACKINGINFO
    Report tracking status for the current connection.
NO-EVICT (ON|OFF)
    Protect current client connection from eviction.";

fn handle_client_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("CLIENT", CLIENT_HELP);
}
