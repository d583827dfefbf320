//! The pub/sub commands: `(P|S)SUBSCRIBE`, `(P|S)UNSUBSCRIBE`,
//! `(S)PUBLISH` and `PUBSUB`. The registry and delivery are in
//! [`crate::pubsub`]; these handlers only parse and reply.

use bytes::Bytes;

use super::context::ExecContext;
use super::spec::CommandSpec;
use crate::client::ClientHandle;
use crate::pubsub::{self, Namespace};

mod specs;
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// The calling client's handle, which subscriptions keep to deliver to it.
/// Every connection is registered; a client missing from the registry (an
/// in-process harness) gets a handle of its own that nothing reads.
fn own_handle(ctx: &ExecContext<'_>) -> ClientHandle {
    ctx.server
        .clients
        .get(ctx.client.id)
        .unwrap_or_else(ClientHandle::detached)
}

fn handle_subscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    subscribe(ctx, Namespace::Global, &args[1..]);
}

fn handle_ssubscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    subscribe(ctx, Namespace::Shard, &args[1..]);
}

fn subscribe(ctx: &mut ExecContext<'_>, namespace: Namespace, channels: &[Bytes]) {
    let handle = own_handle(ctx);
    for channel in channels {
        ctx.server
            .pubsub
            .subscribe(ctx.client, &handle, namespace, channel, ctx.out);
    }
}

fn handle_unsubscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    ctx.server
        .pubsub
        .unsubscribe(ctx.client, Namespace::Global, &args[1..], ctx.out);
}

fn handle_sunsubscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    ctx.server
        .pubsub
        .unsubscribe(ctx.client, Namespace::Shard, &args[1..], ctx.out);
}

fn handle_psubscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let handle = own_handle(ctx);
    for pattern in &args[1..] {
        ctx.server
            .pubsub
            .psubscribe(ctx.client, &handle, pattern, ctx.out);
    }
}

fn handle_punsubscribe(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    ctx.server
        .pubsub
        .punsubscribe(ctx.client, &args[1..], ctx.out);
}

fn handle_publish(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let receivers = pubsub::publish(
        ctx.server,
        Some(ctx.client),
        Namespace::Global,
        &args[1],
        &args[2],
    );
    ctx.reply_integer(receivers as i64);
}

fn handle_spublish(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let receivers = pubsub::publish(
        ctx.server,
        Some(ctx.client),
        Namespace::Shard,
        &args[1],
        &args[2],
    );
    ctx.reply_integer(receivers as i64);
}

fn handle_pubsub_channels(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    channels(ctx, Namespace::Global, args);
}

fn handle_pubsub_shardchannels(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    channels(ctx, Namespace::Shard, args);
}

fn channels(ctx: &mut ExecContext<'_>, namespace: Namespace, args: &[Bytes]) {
    if args.len() > 3 {
        // Arity lets any number through; Redis's pubsubCommand refuses
        // more than one pattern with addReplySubcommandSyntaxError.
        ctx.reply_error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&args[1])
        ));
        return;
    }
    let pattern = args.get(2).map(|p| &p[..]);
    let list = ctx.server.pubsub.channels(namespace, pattern);
    ctx.reply_bulk_array(list);
}

fn handle_pubsub_numsub(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    numsub(ctx, Namespace::Global, args);
}

fn handle_pubsub_shardnumsub(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    numsub(ctx, Namespace::Shard, args);
}

fn numsub(ctx: &mut ExecContext<'_>, namespace: Namespace, args: &[Bytes]) {
    ctx.reply_array_len((args.len() - 2) * 2);
    for channel in &args[2..] {
        let count = ctx.server.pubsub.subscriber_count(namespace, channel);
        ctx.reply_bulk(channel);
        ctx.reply_integer(count as i64);
    }
}

fn handle_pubsub_numpat(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let count = ctx.server.pubsub.pattern_count();
    ctx.reply_integer(count as i64);
}

fn handle_pubsub_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("PUBSUB", HELP);
}

/// `PUBSUB HELP`'s lines, as Redis 7.0's `pubsubCommand`.
const HELP: &str = "\
CHANNELS [<pattern>]
    Return the currently active channels matching a <pattern> (default: '*').
NUMPAT
    Return number of subscriptions to patterns.
NUMSUB [<channel> ...]
    Return the number of subscribers for the specified channels, excluding
    pattern subscriptions(default: no channels).
SHARDCHANNELS [<pattern>]
    Return the currently active shard level channels matching a <pattern> (default: '*').
SHARDNUMSUB [<shardchannel> ...]
    Return the number of subscribers for the specified shard level channel(s)";
