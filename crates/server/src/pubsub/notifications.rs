//! Keyspace notifications (`notify-keyspace-events`), as Redis 7.0's
//! notify.c.
//!
//! # The API for command families
//!
//! A handler that changed a key calls, after the change and once per
//! event Redis fires (same order, same names, same class):
//!
//! ```ignore
//! ctx.notify(EventClass::HASH, "hset", &key);
//! ```
//!
//! [`ExecContext::notify`](crate::commands::ExecContext::notify) costs one
//! relaxed atomic load when notifications are off (the default). When on,
//! it publishes `__keyspace@<db>__:<key>` → event (flag `K`) and
//! `__keyevent@<db>__:<event>` → key (flag `E`) through the ordinary
//! pub/sub path ([`super::publish`]), to the subscribers of the event's
//! class. The event names are those of Redis's `notifyKeyspaceEvent`
//! calls in `t_*.c`, `db.c`, `expire.c`: read the Redis function a handler
//! mirrors and copy its calls, e.g. lists `lpush`/`rpop`/`lset`... with
//! [`EventClass::LIST`], sorted sets `zadd`/`zincr`/`zrem`... with
//! [`EventClass::ZSET`] (geo commands fire the zset events Redis fires).
//!
//! A client served after blocking (`BLPOP`, `BLMOVE`...) fires its events
//! through [`ServeContext::notify`](crate::blocking::ServeContext::notify),
//! after those of the command that woke it, as Redis's
//! `serveClientBlockedOnList` does. Commands that store a result
//! (`*STORE`, `SORT ... STORE`) share `collection_reply::notify_stored`.
//!
//! Keys a command finds expired fire `expired` at the moment they expire,
//! before the command's own events: `notify` first announces the store's
//! not yet announced lazy expirations, and the dispatcher announces the
//! rest after the handler. The active expiry cycle announces what it
//! removes. Redigo has no eviction, so `evicted` (`e`) is accepted and
//! never fired. `new` (`n`) is fired by commands that create a key, through
//! [`ExecContext::notify_new`](crate::commands::ExecContext::notify_new).

use super::{Namespace, publish};
use crate::client::ClientState;
use crate::state::ServerState;

/// A class of keyspace events (Redis's `NOTIFY_*` flags, same bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventClass(pub u32);

impl EventClass {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: EventClass = EventClass(1 << 0);
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: EventClass = EventClass(1 << 1);
    /// `g`: generic commands (`DEL`, `EXPIRE`, `RENAME`...).
    pub const GENERIC: EventClass = EventClass(1 << 2);
    /// `$`: string commands.
    pub const STRING: EventClass = EventClass(1 << 3);
    /// `l`: list commands.
    pub const LIST: EventClass = EventClass(1 << 4);
    /// `s`: set commands.
    pub const SET: EventClass = EventClass(1 << 5);
    /// `h`: hash commands.
    pub const HASH: EventClass = EventClass(1 << 6);
    /// `z`: sorted set commands.
    pub const ZSET: EventClass = EventClass(1 << 7);
    /// `x`: expired keys.
    pub const EXPIRED: EventClass = EventClass(1 << 8);
    /// `e`: evicted keys.
    pub const EVICTED: EventClass = EventClass(1 << 9);
    /// `t`: stream commands.
    pub const STREAM: EventClass = EventClass(1 << 10);
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: EventClass = EventClass(1 << 11);
    /// `d`: module key types.
    pub const MODULE: EventClass = EventClass(1 << 13);
    /// `n`: new keys (not part of `A`).
    pub const NEW: EventClass = EventClass(1 << 14);
}

/// `A`: every class but `K`, `E`, `m` and `n` (Redis's `NOTIFY_ALL`).
const ALL: u32 = EventClass::GENERIC.0
    | EventClass::STRING.0
    | EventClass::LIST.0
    | EventClass::SET.0
    | EventClass::HASH.0
    | EventClass::ZSET.0
    | EventClass::EXPIRED.0
    | EventClass::EVICTED.0
    | EventClass::STREAM.0
    | EventClass::MODULE.0;

/// Letters of the classes, in the order `keyspaceEventsFlagsToString`
/// prints them before `K`, `E` and `m`.
const CLASS_LETTERS: [(char, EventClass); 11] = [
    ('g', EventClass::GENERIC),
    ('$', EventClass::STRING),
    ('l', EventClass::LIST),
    ('s', EventClass::SET),
    ('h', EventClass::HASH),
    ('z', EventClass::ZSET),
    ('x', EventClass::EXPIRED),
    ('e', EventClass::EVICTED),
    ('t', EventClass::STREAM),
    ('d', EventClass::MODULE),
    ('n', EventClass::NEW),
];

/// Redis's error for a letter that is no class.
pub const INVALID_CLASS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// `keyspaceEventsStringToFlags`: `None` for an unknown letter.
pub fn parse_flags(classes: &str) -> Option<u32> {
    let mut flags = 0;
    for c in classes.chars() {
        flags |= match c {
            'A' => ALL,
            'K' => EventClass::KEYSPACE.0,
            'E' => EventClass::KEYEVENT.0,
            'm' => EventClass::KEY_MISS.0,
            _ => CLASS_LETTERS.iter().find(|(l, _)| *l == c)?.1.0,
        };
    }
    Some(flags)
}

/// `keyspaceEventsFlagsToString`: the canonical form `CONFIG GET` shows.
pub fn format_flags(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
        // `n` is outside `A`: Redis forgets it here, and so must we to
        // print the same text.
    } else {
        for (letter, class) in CLASS_LETTERS {
            if flags & class.0 != 0 {
                out.push(letter);
            }
        }
    }
    for (letter, class) in [
        ('K', EventClass::KEYSPACE),
        ('E', EventClass::KEYEVENT),
        ('m', EventClass::KEY_MISS),
    ] {
        if flags & class.0 != 0 {
            out.push(letter);
        }
    }
    out
}

/// Whether an event of `class` is published under `flags`.
pub fn enabled(flags: u32, class: EventClass) -> bool {
    flags & class.0 != 0 && flags & (EventClass::KEYSPACE.0 | EventClass::KEYEVENT.0) != 0
}

/// Redis's `notifyKeyspaceEvent`: publishes `event` on `key` of database
/// `db` if `class` is enabled. `me` is the client running the command, if
/// any.
pub fn notify(
    server: &ServerState,
    me: Option<&mut ClientState>,
    class: EventClass,
    event: &str,
    key: &[u8],
    db: usize,
) {
    let flags = server.pubsub.notify_flags();
    if !enabled(flags, class) {
        return;
    }
    let mut me = me;
    if flags & EventClass::KEYSPACE.0 != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        publish(
            server,
            me.as_deref_mut(),
            Namespace::Global,
            &channel,
            event.as_bytes(),
        );
    }
    if flags & EventClass::KEYEVENT.0 != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        publish(server, me, Namespace::Global, channel.as_bytes(), key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_redis_canonical_form() {
        // Checked against redis-server 7.0: CONFIG SET then CONFIG GET.
        for (input, shown) in [
            ("KEA", "AKE"),
            ("mEn$Kg", "g$nKEm"),
            ("", ""),
            ("An", "A"),
            ("Kx", "xK"),
            ("g$lshzxetdKEm", "AKEm"),
        ] {
            assert_eq!(format_flags(parse_flags(input).unwrap()), shown, "{input}");
        }
        assert_eq!(parse_flags("Q"), None);
        assert_eq!(parse_flags("KEAX"), None);
    }

    #[test]
    fn nothing_is_published_without_k_or_e() {
        let flags = parse_flags("A").unwrap();
        assert!(!enabled(flags, EventClass::GENERIC));
        let flags = parse_flags("Kg").unwrap();
        assert!(enabled(flags, EventClass::GENERIC));
        assert!(!enabled(flags, EventClass::STRING));
    }
}
