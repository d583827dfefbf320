//! `CLIENT TRACKING`, `CLIENT TRACKINGINFO`, `CLIENT GETREDIR` and
//! `CLIENT CACHING`, with the option checks, their order and the error
//! texts of Redis 7.0's `clientCommand` (networking.c) and
//! `checkPrefixCollisionsOrReply` (tracking.c). The tracking itself is
//! [`crate::tracking`].

use bytes::Bytes;

use crate::commands::context::ExecContext;
use crate::commands::errors;
use crate::tracking::TrackingOptions;

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]`: options are parsed (and `REDIRECT` checked) before
/// `ON`/`OFF` is even looked at, as Redis does.
pub(crate) fn handle_client_tracking(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let mut options = TrackingOptions::default();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let option = &args[j];
        if option.eq_ignore_ascii_case(b"redirect") && more {
            j += 1;
            if options.redirect != 0 {
                ctx.reply_error("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = super::super::arguments::integer(&args[j]) else {
                ctx.reply_error(errors::NOT_INTEGER);
                return;
            };
            // Redis reads the id as a `long long` and looks it up as a
            // `uint64_t`.
            let id = id as u64;
            let exists = id == ctx.client.id || ctx.server.clients.get(id).is_some();
            if !exists {
                ctx.reply_error("ERR The client ID you want redirect to does not exist");
                return;
            }
            options.redirect = id;
        } else if option.eq_ignore_ascii_case(b"bcast") {
            options.bcast = true;
        } else if option.eq_ignore_ascii_case(b"optin") {
            options.optin = true;
        } else if option.eq_ignore_ascii_case(b"optout") {
            options.optout = true;
        } else if option.eq_ignore_ascii_case(b"noloop") {
            options.noloop = true;
        } else if option.eq_ignore_ascii_case(b"prefix") && more {
            j += 1;
            options.prefixes.push(args[j].clone());
        } else {
            ctx.reply_error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let mode = &args[2];
    if mode.eq_ignore_ascii_case(b"on") {
        if let Some(error) = incompatibility(ctx, &options) {
            ctx.reply_error(error);
            return;
        }
        if options.bcast && !prefixes_ok(ctx, &options.prefixes) {
            return;
        }
        ctx.server.tracking.enable(ctx.store, ctx.client, options);
    } else if mode.eq_ignore_ascii_case(b"off") {
        ctx.server.tracking.disable(ctx.store, ctx.client);
    } else {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    ctx.reply_ok();
}

/// The checks of `CLIENT TRACKING on` between the options and the client's
/// current mode, in Redis's order.
fn incompatibility(ctx: &ExecContext<'_>, options: &TrackingOptions) -> Option<&'static str> {
    let current = &ctx.client.tracking;
    if !options.bcast && !options.prefixes.is_empty() {
        return Some("ERR PREFIX option requires BCAST mode to be enabled");
    }
    if current.on && current.bcast != options.bcast {
        return Some(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        );
    }
    if options.bcast && (options.optin || options.optout) {
        return Some("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if options.optin && options.optout {
        return Some("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if (options.optin && current.optout) || (options.optout && current.optin) {
        return Some(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        );
    }
    None
}

/// Redis's `checkPrefixCollisionsOrReply`: a new prefix may not be a
/// prefix of, or have as prefix, one the client has or another new one.
/// Reproduces Redis 7.0's slip: an overlap among the new prefixes found
/// past the first one replies the error and yet lets the command go on
/// (the function returns the index, non-zero, as success), so the client
/// gets the error and then `OK`.
fn prefixes_ok(ctx: &mut ExecContext<'_>, prefixes: &[Bytes]) -> bool {
    fn overlap(a: &[u8], b: &[u8]) -> bool {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    }
    for (i, prefix) in prefixes.iter().enumerate() {
        let existing = ctx
            .client
            .tracking
            .prefixes
            .iter()
            .find(|p| overlap(p, prefix))
            .cloned();
        if let Some(existing) = existing {
            let message = [
                &b"ERR Prefix '"[..],
                super::super::arguments::c_str(prefix),
                b"' overlaps with an existing prefix '",
                super::super::arguments::c_str(&existing),
                b"'. Prefixes for a single client must not overlap.",
            ]
            .concat();
            ctx.reply_error_bytes(&message);
            return false;
        }
        for other in &prefixes[i + 1..] {
            if overlap(prefix, other) {
                let message = [
                    &b"ERR Prefix '"[..],
                    super::super::arguments::c_str(prefix),
                    b"' overlaps with another provided prefix '",
                    super::super::arguments::c_str(other),
                    b"'. Prefixes for a single client must not overlap.",
                ]
                .concat();
                ctx.reply_error_bytes(&message);
                return i != 0;
            }
        }
    }
    true
}

/// `CLIENT CACHING YES|NO`: only in `OPTIN` (`YES`) or `OPTOUT` (`NO`)
/// mode; applies to the next command (see `commands::dispatch`).
pub(crate) fn handle_client_caching(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let tracking = &ctx.client.tracking;
    if !tracking.on {
        ctx.reply_error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with \
             OPTIN or OPTOUT mode enabled",
        );
        return;
    }
    let value = &args[2];
    if value.eq_ignore_ascii_case(b"yes") {
        if !tracking.optin {
            ctx.reply_error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
    } else if value.eq_ignore_ascii_case(b"no") {
        if !tracking.optout {
            ctx.reply_error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
    } else {
        ctx.reply_error(errors::SYNTAX);
        return;
    }
    ctx.client.tracking.caching = true;
    ctx.reply_ok();
}

/// `CLIENT GETREDIR`: the redirection (0 for none) while tracking, else -1.
pub(crate) fn handle_client_getredir(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let redirect = ctx.client.tracking.redirect_field();
    ctx.reply_integer(redirect);
}

/// `CLIENT TRACKINGINFO`: a map (an array of pairs in RESP2) of `flags`,
/// `redirect` and `prefixes`.
pub(crate) fn handle_client_trackinginfo(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let tracking = &ctx.client.tracking;
    let mut flags: Vec<&str> = vec![if tracking.on { "on" } else { "off" }];
    if tracking.bcast {
        flags.push("bcast");
    }
    if tracking.optin {
        flags.push("optin");
        if tracking.caching {
            flags.push("caching-yes");
        }
    }
    if tracking.optout {
        flags.push("optout");
        if tracking.caching {
            flags.push("caching-no");
        }
    }
    if tracking.noloop {
        flags.push("noloop");
    }
    if tracking.broken_redirect() {
        flags.push("broken_redirect");
    }
    let redirect = tracking.redirect_field();
    let prefixes: Vec<Bytes> = tracking.prefixes.iter().cloned().collect();
    ctx.reply_array_len(6);
    ctx.reply_bulk(b"flags");
    ctx.reply_bulk_array(flags);
    ctx.reply_bulk(b"redirect");
    ctx.reply_integer(redirect);
    ctx.reply_bulk(b"prefixes");
    ctx.reply_bulk_array(prefixes);
}
