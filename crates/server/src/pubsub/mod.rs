//! Pub/sub: channels, patterns and shard channels, and how a published
//! message reaches other clients' connections.
//!
//! # Design
//!
//! The server-wide [`PubSub`] (in [`ServerState`]) holds the registry of
//! subscribers: channel → subscribers in subscription order, pattern →
//! subscribers (patterns in the order they were first subscribed), shard
//! channel → subscribers, as Redis 7.0's `server.pubsub_channels`,
//! `server.pubsub_patterns` and `server.pubsubshard_channels`. Each client's
//! own side (what it is subscribed to, for the subscription counts,
//! `CLIENT LIST` and the RESP2 context rule) is its [`ClientPubSub`], part
//! of its [`ClientState`].
//!
//! ## Delivery: the per-client outbox
//!
//! A message for another client is encoded once (per channel or per
//! matching pattern) and appended to that client's outbox,
//! [`ClientPubSub::queued`], under its state lock, and the client is put on
//! the server's pending writes. At the end of its batch the publishing task
//! writes the outboxes of the subscribers that are idle straight to their
//! sockets and wakes the others (see [`crate::delivery`]), as Redis writes
//! every client in `beforeSleep`. A connection moves its outbox into its
//! reply buffer at the start of each batch (under the dataset lock, so
//! messages keep their place among the client's own replies exactly as in
//! Redis's single reply buffer) and whenever it is woken while idle, then
//! writes it.
//!
//! Queued messages are unsent output like any reply: `CLIENT LIST`'s
//! `omem`/`obl`/`oll` count them ([`ClientState::output_list_bytes`]), and
//! every delivery checks `client-output-buffer-limit` for the subscriber's
//! class (`pubsub` while it is subscribed), as Redis checks it on every
//! `addReply`. A subscriber over its limit is marked killed, logged with
//! Redis's line, counted in `client_output_buffer_limit_disconnections`,
//! its outbox freed, and gets nothing more: a subscriber that never reads
//! holds at most the hard limit (32 MB by default) plus one message.
//!
//! ## Locks
//!
//! Publishing runs under the dataset lock (commands and the expiry cycle
//! both hold it), takes the registry lock, then each subscriber's state
//! lock as a leaf. Subscribing runs under the dataset lock and the client's
//! own state lock, then takes the registry lock. A closing connection
//! takes its subscriptions out of its state (releasing that lock) before it
//! takes the registry lock, so no path holds a client lock while waiting
//! for the registry: the two orders never meet.
//!
//! Keyspace notifications, which publish through the same path, are in
//! [`notifications`].

pub mod notifications;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use redigo_resp::encode;
use redigo_store::glob;

use crate::client::{ClientHandle, ClientState};
use crate::config::{ClassLimit, ClientClass};
use crate::state::ServerState;

/// Commands a RESP2 client may still send while it is subscribed (Redis's
/// `processCommand` compares the command's procedure with these).
const ALLOWED_WHILE_SUBSCRIBED: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// An outbox whose buffer grew beyond this while a burst waited is given
/// back once drained, so an idle subscriber keeps no burst-sized buffer.
pub(crate) const RETAINED_OUTBOX_CAPACITY: usize = 64 * 1024;

/// The two namespaces of channels: `PUBLISH`/`SUBSCRIBE` (with patterns)
/// and the sharded `SPUBLISH`/`SSUBSCRIBE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// Global channels (and patterns).
    Global,
    /// Shard channels: no patterns, `smessage`.
    Shard,
}

impl Namespace {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Namespace::Global => b"subscribe",
            Namespace::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Namespace::Global => b"unsubscribe",
            Namespace::Shard => b"sunsubscribe",
        }
    }

    fn message_word(self) -> &'static [u8] {
        match self {
            Namespace::Global => b"message",
            Namespace::Shard => b"smessage",
        }
    }
}

/// One client's pub/sub state (part of its [`ClientState`]).
#[derive(Debug, Default)]
pub struct ClientPubSub {
    /// Global channels subscribed to.
    channels: HashSet<Bytes>,
    /// Patterns, in subscription order (Redis keeps a list).
    patterns: Vec<Bytes>,
    /// Shard channels subscribed to.
    shard_channels: HashSet<Bytes>,
    /// Messages published to this client and not yet moved to its reply
    /// buffer (the outbox; see the module docs).
    pub queued: BytesMut,
}

impl ClientPubSub {
    /// `sub=` of `CLIENT LIST`.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// `psub=`.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// `ssub=`.
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.len()
    }

    /// Whether the client is subscribed to anything (Redis's
    /// `CLIENT_PUBSUB` flag: `P` in `CLIENT LIST`, the `pubsub` limit class,
    /// and in RESP2 the restricted command set).
    pub fn is_subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    /// Redis's `clientSubscriptionsCount` (channels and patterns) or
    /// `clientShardSubscriptionsCount`.
    fn count(&self, namespace: Namespace) -> usize {
        match namespace {
            Namespace::Global => self.channels.len() + self.patterns.len(),
            Namespace::Shard => self.shard_channels.len(),
        }
    }

    fn set_mut(&mut self, namespace: Namespace) -> &mut HashSet<Bytes> {
        match namespace {
            Namespace::Global => &mut self.channels,
            Namespace::Shard => &mut self.shard_channels,
        }
    }

    /// Moves the queued messages to the end of `out`.
    pub fn drain_into(&mut self, out: &mut BytesMut) {
        if self.queued.is_empty() {
            return;
        }
        if out.is_empty() {
            // No copy: the outbox becomes the reply buffer.
            std::mem::swap(out, &mut self.queued);
        } else {
            out.extend_from_slice(&self.queued);
        }
        self.queued.clear();
        if self.queued.capacity() > RETAINED_OUTBOX_CAPACITY {
            self.queued = BytesMut::new();
        }
    }
}

/// The error a subscribed RESP2 client gets for any other command, or
/// `None` when the command may run (Redis's `processCommand` check).
pub fn context_rejection(client: &ClientState, command: &str) -> Option<String> {
    (client.resp == 2
        && client.pubsub.is_subscribed()
        && !ALLOWED_WHILE_SUBSCRIBED.contains(&command))
    .then(|| {
        format!(
            "ERR Can't execute '{command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        )
    })
}

/// A subscriber in the registry.
#[derive(Clone, Debug)]
struct Subscriber {
    id: u64,
    handle: ClientHandle,
}

/// Server-wide subscriptions. See the module docs.
#[derive(Debug, Default)]
struct Registry {
    channels: HashMap<Bytes, Vec<Subscriber>>,
    shard_channels: HashMap<Bytes, Vec<Subscriber>>,
    /// Pattern → subscribers, patterns in first-subscription order.
    patterns: Vec<(Bytes, Vec<Subscriber>)>,
}

impl Registry {
    fn map_mut(&mut self, namespace: Namespace) -> &mut HashMap<Bytes, Vec<Subscriber>> {
        match namespace {
            Namespace::Global => &mut self.channels,
            Namespace::Shard => &mut self.shard_channels,
        }
    }

    fn map(&self, namespace: Namespace) -> &HashMap<Bytes, Vec<Subscriber>> {
        match namespace {
            Namespace::Global => &self.channels,
            Namespace::Shard => &self.shard_channels,
        }
    }

    fn remove_channel(&mut self, namespace: Namespace, channel: &[u8], id: u64) {
        let map = self.map_mut(namespace);
        if let Some(subscribers) = map.get_mut(channel) {
            subscribers.retain(|s| s.id != id);
            if subscribers.is_empty() {
                // As Redis: no empty entries, so creating and dropping
                // channels cannot grow the table.
                map.remove(channel);
            }
        }
    }

    fn remove_pattern(&mut self, pattern: &[u8], id: u64) {
        if let Some(index) = self.patterns.iter().position(|(p, _)| p == pattern) {
            let subscribers = &mut self.patterns[index].1;
            subscribers.retain(|s| s.id != id);
            if subscribers.is_empty() {
                self.patterns.remove(index);
            }
        }
    }
}

/// The pub/sub state the server shares: the registry and the
/// `notify-keyspace-events` flags (see [`notifications`]).
#[derive(Debug, Default)]
pub struct PubSub {
    registry: Mutex<Registry>,
    /// `notify-keyspace-events` as flags, read with one relaxed load by
    /// every notification (0: notifications off).
    notify_flags: AtomicU32,
}

impl PubSub {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `pubsub_channels` of `INFO stats`.
    pub fn channel_count(&self) -> usize {
        self.lock().channels.len()
    }

    /// `pubsub_patterns`.
    pub fn pattern_count(&self) -> usize {
        self.lock().patterns.len()
    }

    /// `pubsubshard_channels`.
    pub fn shard_channel_count(&self) -> usize {
        self.lock().shard_channels.len()
    }

    /// The keyspace notification flags in force.
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Ordering::Relaxed)
    }

    /// Applies `notify-keyspace-events` (at start-up and after `CONFIG SET`).
    pub fn set_notify_flags(&self, flags: u32) {
        self.notify_flags.store(flags, Ordering::Relaxed);
    }

    /// `SUBSCRIBE`/`SSUBSCRIBE` of one channel by `client` (whose handle is
    /// `handle`), replying as Redis's `pubsubSubscribeChannel`.
    pub fn subscribe(
        &self,
        client: &mut ClientState,
        handle: &ClientHandle,
        namespace: Namespace,
        channel: &Bytes,
        out: &mut BytesMut,
    ) {
        if client.pubsub.set_mut(namespace).insert(channel.clone()) {
            self.lock()
                .map_mut(namespace)
                .entry(channel.clone())
                .or_default()
                .push(Subscriber {
                    id: client.id,
                    handle: handle.clone(),
                });
        }
        let count = client.pubsub.count(namespace);
        encode_counted(out, namespace.subscribe_word(), Some(channel), count);
    }

    /// `UNSUBSCRIBE`/`SUNSUBSCRIBE` of the given channels, or of all of
    /// them when `channels` is empty (one reply with a null channel when
    /// there were none), as Redis.
    pub fn unsubscribe(
        &self,
        client: &mut ClientState,
        namespace: Namespace,
        channels: &[Bytes],
        out: &mut BytesMut,
    ) {
        let all: Vec<Bytes>;
        let channels = if channels.is_empty() {
            all = client.pubsub.set_mut(namespace).iter().cloned().collect();
            if all.is_empty() {
                let count = client.pubsub.count(namespace);
                encode_counted(out, namespace.unsubscribe_word(), None, count);
                return;
            }
            &all[..]
        } else {
            channels
        };
        let mut registry = self.lock();
        for channel in channels {
            if client.pubsub.set_mut(namespace).remove(channel) {
                registry.remove_channel(namespace, channel, client.id);
            }
            let count = client.pubsub.count(namespace);
            encode_counted(out, namespace.unsubscribe_word(), Some(channel), count);
        }
    }

    /// `PSUBSCRIBE` of one pattern.
    pub fn psubscribe(
        &self,
        client: &mut ClientState,
        handle: &ClientHandle,
        pattern: &Bytes,
        out: &mut BytesMut,
    ) {
        if !client.pubsub.patterns.contains(pattern) {
            client.pubsub.patterns.push(pattern.clone());
            let subscriber = Subscriber {
                id: client.id,
                handle: handle.clone(),
            };
            let mut registry = self.lock();
            match registry.patterns.iter_mut().find(|(p, _)| p == pattern) {
                Some((_, subscribers)) => subscribers.push(subscriber),
                None => registry.patterns.push((pattern.clone(), vec![subscriber])),
            }
        }
        let count = client.pubsub.count(Namespace::Global);
        encode_counted(out, b"psubscribe", Some(pattern), count);
    }

    /// `PUNSUBSCRIBE` of the given patterns, or of all of them.
    pub fn punsubscribe(&self, client: &mut ClientState, patterns: &[Bytes], out: &mut BytesMut) {
        let all: Vec<Bytes>;
        let patterns = if patterns.is_empty() {
            all = client.pubsub.patterns.clone();
            if all.is_empty() {
                let count = client.pubsub.count(Namespace::Global);
                encode_counted(out, b"punsubscribe", None, count);
                return;
            }
            &all[..]
        } else {
            patterns
        };
        let mut registry = self.lock();
        for pattern in patterns {
            if let Some(index) = client.pubsub.patterns.iter().position(|p| p == pattern) {
                client.pubsub.patterns.remove(index);
                registry.remove_pattern(pattern, client.id);
            }
            let count = client.pubsub.count(Namespace::Global);
            encode_counted(out, b"punsubscribe", Some(pattern), count);
        }
    }

    /// Drops every subscription of `client` without replies (`RESET`).
    pub fn unsubscribe_all(&self, client: &mut ClientState) {
        let taken = std::mem::take(&mut client.pubsub);
        client.pubsub.queued = taken.queued;
        self.forget(
            client.id,
            taken.channels,
            taken.patterns,
            taken.shard_channels,
        );
    }

    /// Removes a closed connection's subscriptions. Takes them out of its
    /// state first, so the state lock is released before the registry's
    /// (see the module docs).
    pub fn forget_client(&self, handle: &ClientHandle) {
        let (id, taken) = {
            let mut state = handle.lock();
            (state.id, std::mem::take(&mut state.pubsub))
        };
        self.forget(id, taken.channels, taken.patterns, taken.shard_channels);
    }

    fn forget(
        &self,
        id: u64,
        channels: HashSet<Bytes>,
        patterns: Vec<Bytes>,
        shard_channels: HashSet<Bytes>,
    ) {
        if channels.is_empty() && patterns.is_empty() && shard_channels.is_empty() {
            return;
        }
        let mut registry = self.lock();
        for channel in &channels {
            registry.remove_channel(Namespace::Global, channel, id);
        }
        for channel in &shard_channels {
            registry.remove_channel(Namespace::Shard, channel, id);
        }
        for pattern in &patterns {
            registry.remove_pattern(pattern, id);
        }
    }

    /// `PUBSUB CHANNELS`/`SHARDCHANNELS`: the active channels matching
    /// `pattern` (all without one).
    pub fn channels(&self, namespace: Namespace, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.lock()
            .map(namespace)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// `PUBSUB NUMSUB`/`SHARDNUMSUB` of one channel.
    pub fn subscriber_count(&self, namespace: Namespace, channel: &[u8]) -> usize {
        self.lock().map(namespace).get(channel).map_or(0, Vec::len)
    }
}

/// Publishes `message` on `channel` and returns how many subscriptions
/// received it (Redis's `pubsubPublishMessage`): the channel's subscribers
/// in subscription order, then, for global channels, each matching
/// pattern's subscribers. `me` is the publishing client when a command
/// publishes (its own outbox is written without locking it again).
pub fn publish(
    server: &ServerState,
    mut me: Option<&mut ClientState>,
    namespace: Namespace,
    channel: &[u8],
    message: &[u8],
) -> usize {
    let registry = server.pubsub.lock();
    let subscribers = registry.map(namespace).get(channel);
    let patterns = namespace == Namespace::Global && !registry.patterns.is_empty();
    if subscribers.is_none() && !patterns {
        return 0;
    }
    let limit = server
        .config()
        .client_output_buffer_limit
        .get(ClientClass::Pubsub);
    let mut receivers = 0;
    if let Some(subscribers) = subscribers {
        let mut encoded = BytesMut::with_capacity(channel.len() + message.len() + 32);
        encode::array_header(&mut encoded, 3);
        encode::bulk(&mut encoded, namespace.message_word());
        encode::bulk(&mut encoded, channel);
        encode::bulk(&mut encoded, message);
        for subscriber in subscribers {
            deliver(server, subscriber, me.as_deref_mut(), &encoded, &limit);
            receivers += 1;
        }
    }
    if patterns {
        let mut encoded = BytesMut::new();
        for (pattern, subscribers) in &registry.patterns {
            if !glob::matches(pattern, channel, false) {
                continue;
            }
            encoded.clear();
            encode::array_header(&mut encoded, 4);
            encode::bulk(&mut encoded, b"pmessage");
            encode::bulk(&mut encoded, pattern);
            encode::bulk(&mut encoded, channel);
            encode::bulk(&mut encoded, message);
            for subscriber in subscribers {
                deliver(server, subscriber, me.as_deref_mut(), &encoded, &limit);
                receivers += 1;
            }
        }
    }
    receivers
}

/// Appends one encoded message to a subscriber's outbox, applies its output
/// limit and queues it for writing.
fn deliver(
    server: &ServerState,
    subscriber: &Subscriber,
    me: Option<&mut ClientState>,
    encoded: &[u8],
    limit: &ClassLimit,
) {
    if let Some(me) = me
        && me.id == subscriber.id
    {
        // The publisher itself (its state is already locked): the batch
        // moves its outbox out before it writes.
        me.pubsub.queued.extend_from_slice(encoded);
        return;
    }
    let mut state = subscriber.handle.lock();
    queue_message(server, &subscriber.handle, &mut state, encoded, limit);
}

/// Appends one encoded message to the outbox of the client whose locked
/// state is `state`, applies its output limit and puts the client on the
/// server's pending writes, which the task that queued the message flushes
/// at the end of its batch (see [`crate::delivery`]). Also used by client
/// tracking's invalidations (see [`crate::tracking`]).
pub(crate) fn queue_message(
    server: &ServerState,
    handle: &ClientHandle,
    state: &mut ClientState,
    encoded: &[u8],
    limit: &ClassLimit,
) {
    if state.kill_requested {
        // Redis writes nothing more to a client scheduled to be closed.
        return;
    }
    state.pubsub.queued.extend_from_slice(encoded);
    // Nothing is over a limit until output overflows the static buffer, and
    // a soft limit's clock only restarts when checked.
    if (state.output_list_bytes() > 0 || state.soft_limit_since.is_some())
        && state.output_limit_reached(limit, false, Instant::now())
    {
        handle.close_for_output_limit(state, &server.stats);
        return;
    }
    server.pending_writes.push(handle, state);
}

/// A subscription reply: `[word, channel or null, count]`.
fn encode_counted(out: &mut BytesMut, word: &[u8], channel: Option<&[u8]>, count: usize) {
    encode::array_header(out, 3);
    encode::bulk(out, word);
    match channel {
        Some(channel) => encode::bulk(out, channel),
        None => encode::null_bulk(out),
    }
    encode::integer(out, count as i64);
}

#[cfg(test)]
mod tests;
