//! Connection commands: PING, ECHO, HELLO, AUTH, QUIT, RESET.

mod specs;

use bytes::Bytes;

use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::state::REDIS_VERSION;

/// Why a client name is refused (`validateClientName`).
pub(crate) const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
/// `addAuthErrReply`.
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// The only user: Redigo has no ACL users besides Redis's `default`.
const DEFAULT_USER: &[u8] = b"default";

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

fn handle_ping(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if ctx.client.pubsub.is_subscribed() && ctx.client.resp == 2 && args.len() <= 2 {
        // A subscribed RESP2 client gets PING's answer in the shape of a
        // message, as Redis's pingCommand.
        ctx.reply_array_len(2);
        ctx.reply_bulk(b"pong");
        ctx.reply_bulk(ExecContext::arg(args, 1));
        return;
    }
    // Arity -1 lets `PING a b` through; Redis's pingCommand rejects it itself.
    match args {
        [_] => ctx.reply_simple("PONG"),
        [_, message] => ctx.reply_bulk(message),
        _ => ctx.reply_error(&errors::wrong_arity("ping")),
    }
}

fn handle_echo(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    ctx.reply_bulk(&args[1]);
}

/// Whether `name` is a valid client name: printable ASCII without spaces.
pub(crate) fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Compares passwords in time independent of where they differ and of
/// whether their lengths match, as Redis's `time_independent_strcmp` (Redis
/// 7.0 compares SHA-256 digests of the passwords the same way).
///
/// Both passwords are reduced to a fixed-length 128-bit digest with a hash
/// keyed by random per-process keys (SipHash from the standard library,
/// so an attacker can neither predict digests nor craft collisions), and
/// the digests are compared with no early exit. Two different passwords
/// match only if their digests collide, with probability 2^-128.
fn passwords_match(given: &[u8], expected: &[u8]) -> bool {
    let (a, b) = (password_digest(given), password_digest(expected));
    a.iter().zip(&b).fold(0u64, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The keyed digest of [`passwords_match`]: two 64-bit SipHash values under
/// independent random keys.
fn password_digest(password: &[u8]) -> [u64; 2] {
    use std::hash::{BuildHasher, Hasher, RandomState};
    use std::sync::OnceLock;
    static KEYS: OnceLock<[RandomState; 2]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| [RandomState::new(), RandomState::new()]);
    keys.each_ref().map(|key| {
        let mut hasher = key.build_hasher();
        hasher.write(password);
        hasher.finish()
    })
}

/// `ACLAuthenticateUser` for the single `default` user.
fn credentials_ok(ctx: &ExecContext<'_>, user: &[u8], password: &[u8]) -> bool {
    if user != DEFAULT_USER {
        return false;
    }
    let config = ctx.server.config();
    config.requirepass.is_empty() || passwords_match(password, config.requirepass.as_bytes())
}

fn handle_auth(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (user, password) = match args {
        [_, password] => {
            if !ctx.server.auth_required() {
                ctx.reply_error(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                );
                return;
            }
            (DEFAULT_USER, password.as_ref())
        }
        [_, user, password] => (user.as_ref(), password.as_ref()),
        _ => {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
    };
    if credentials_ok(ctx, user, password) {
        ctx.client.authenticated = true;
        ctx.reply_ok();
    } else {
        ctx.reply_error(WRONGPASS);
    }
}

/// The protocol versions HELLO accepts. Redis 7.0 also speaks RESP3; Redigo
/// speaks RESP2 only, so `HELLO 3` gets `NOPROTO` and clients fall back.
const SUPPORTED_PROTOCOL: i64 = 2;

fn handle_hello(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut protocol = None;
    let mut next = 1;
    if let Some(version) = args.get(1) {
        // `getLongLongFromObject`: strict, as `string2ll`.
        let parsed = redigo_store::numeric::parse_i64(version);
        let Some(version) = parsed else {
            ctx.reply_error("ERR Protocol version is not an integer or out of range");
            return;
        };
        if version != SUPPORTED_PROTOCOL {
            ctx.reply_error("NOPROTO unsupported protocol version");
            return;
        }
        protocol = Some(version);
        next = 2;
    }

    let mut credentials = None;
    let mut new_name = None;
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let option = &args[j];
        if option.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            credentials = Some((&args[j + 1], &args[j + 2]));
            j += 3;
        } else if option.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            let name = &args[j + 1];
            if !valid_client_name(name) {
                ctx.reply_error(BAD_CLIENT_NAME);
                return;
            }
            new_name = Some(name);
            j += 2;
        } else {
            ctx.reply_error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(option)
            ));
            return;
        }
    }

    if let Some((user, password)) = credentials {
        if !credentials_ok(ctx, user, password) {
            ctx.reply_error(WRONGPASS);
            return;
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated && ctx.server.auth_required() {
        ctx.reply_error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        );
        return;
    }
    if let Some(name) = new_name {
        ctx.client.name = String::from_utf8_lossy(name).into_owned();
    }
    if let Some(version) = protocol {
        ctx.client.resp = version as u8;
    }

    // A RESP2 map is a flat array of key/value pairs.
    ctx.reply_array_len(14);
    ctx.reply_bulk(b"server");
    ctx.reply_bulk(b"redis");
    ctx.reply_bulk(b"version");
    ctx.reply_bulk(REDIS_VERSION.as_bytes());
    ctx.reply_bulk(b"proto");
    ctx.reply_integer(i64::from(ctx.client.resp));
    ctx.reply_bulk(b"id");
    ctx.reply_integer(ctx.client.id as i64);
    ctx.reply_bulk(b"mode");
    ctx.reply_bulk(b"standalone");
    ctx.reply_bulk(b"role");
    ctx.reply_bulk(b"master");
    ctx.reply_bulk(b"modules");
    ctx.reply_array_len(0);
}

fn handle_quit(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_ok();
    ctx.effects.close_after_reply = true;
}

fn handle_reset(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    // clearClientConnectionState: database 0, RESP2, no name, default-user
    // authentication as on connect; the transaction and watched keys go.
    super::transactions::discard(ctx);
    ctx.client.db = 0;
    ctx.client.resp = 2;
    ctx.client.name.clear();
    ctx.client.authenticated = !ctx.server.auth_required();
    // pubsubUnsubscribeAll*(c, 0): every subscription, without replies.
    ctx.server.pubsub.unsubscribe_all(ctx.client);
    // Client control: Redis 7.0 clears CLIENT_REPLY_OFF and
    // CLIENT_REPLY_SKIP_NEXT (not CLIENT_NO_EVICT, nor a SKIP already in
    // force for this very command); a monitor leaves monitor mode.
    if ctx.client.monitor {
        ctx.server.monitors.remove(ctx.client.id);
        ctx.client.monitor = false;
    }
    ctx.client.reply.off = false;
    ctx.client.reply.skip_next = false;
    // disableTracking: the tracking mode, its prefixes and CLIENT CACHING.
    ctx.server.tracking.disable(ctx.store, ctx.client);
    ctx.reply_simple("RESET");
}

#[cfg(test)]
mod tests;
