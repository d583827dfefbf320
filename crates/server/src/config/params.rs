//! The table of configuration parameters: names, help, mutability, and how
//! each is printed and parsed.

use std::path::PathBuf;

use super::values::{format_bool, parse_bool, parse_enum, parse_integer, parse_memory};
use super::{
    Appendfsync, Config, LogLevel, MAX_DATABASES, MAX_HZ, MAX_IO_THREADS, MIN_HZ,
    MIN_PROTO_MAX_BULK_LEN, ValueError,
};

/// Redis's `INT_MAX`, the upper bound of its `int` configs.
const INT_MAX: i64 = i32::MAX as i64;
/// Redis's `LLONG_MAX`, the upper bound of its `long long` memory configs.
const LLONG_MAX: u64 = i64::MAX as u64;

/// One configuration parameter.
#[derive(Debug)]
pub struct Param {
    /// The redis.conf name, TOML key and command-line flag.
    pub name: &'static str,
    /// One line for `--help` and `redigo.toml`.
    pub help: &'static str,
    /// Whether `CONFIG SET` may change it.
    pub mutable: bool,
    /// Whether it is a boolean (a bare command-line flag means `yes`).
    pub boolean: bool,
    /// The value as `CONFIG GET` prints it.
    pub get: fn(&Config) -> String,
    /// Parses, validates and stores a value.
    pub set: fn(&mut Config, &str) -> Result<(), ValueError>,
}

const APPENDFSYNC_CHOICES: &[(&str, Appendfsync)] = &[
    ("everysec", Appendfsync::Everysec),
    ("always", Appendfsync::Always),
    ("no", Appendfsync::No),
    ("never", Appendfsync::No),
];
const LOGLEVEL_CHOICES: &[(&str, LogLevel)] = &[
    ("debug", LogLevel::Debug),
    ("verbose", LogLevel::Verbose),
    ("notice", LogLevel::Notice),
    ("warning", LogLevel::Warning),
];

/// Every parameter, in the order `--help`, `redigo.toml` and `CONFIG GET *`
/// list them.
pub const PARAMS: &[Param] = &[
    Param {
        name: "bind",
        help: "Addresses to listen on, separated by spaces",
        mutable: false,
        boolean: false,
        get: |c| c.bind.clone(),
        set: |c, v| {
            if v.split_whitespace().next().is_none() {
                return Err("argument must be one or more addresses".to_string());
            }
            c.bind = v.to_string();
            Ok(())
        },
    },
    Param {
        name: "port",
        help: "TCP port to listen on (0 picks a free port)",
        mutable: false,
        boolean: false,
        get: |c| c.port.to_string(),
        set: |c, v| {
            c.port = parse_integer(v, 0, i64::from(u16::MAX))? as u16;
            Ok(())
        },
    },
    Param {
        name: "databases",
        help: "Number of databases (SELECT 0 .. databases-1)",
        mutable: false,
        boolean: false,
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = parse_integer(v, 1, MAX_DATABASES as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "aof-enabled",
        help: "Append every write to the append-only file",
        mutable: true,
        boolean: true,
        get: |c| format_bool(c.aof_enabled),
        set: |c, v| {
            c.aof_enabled = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "aof-path",
        help: "Path of the append-only file",
        mutable: false,
        boolean: false,
        get: |c| c.aof_path.display().to_string(),
        set: |c, v| {
            if v.is_empty() {
                return Err("argument must be a file path".to_string());
            }
            c.aof_path = PathBuf::from(v);
            Ok(())
        },
    },
    Param {
        name: "appendfsync",
        help: "When to fsync the append-only file: always, everysec or no (also: never)",
        mutable: true,
        boolean: false,
        get: |c| c.appendfsync.name().to_string(),
        set: |c, v| {
            c.appendfsync = parse_enum(v, APPENDFSYNC_CHOICES, &["everysec", "always", "no"])?;
            Ok(())
        },
    },
    Param {
        name: "aof-load-truncated",
        help: "Load an append-only file whose last command is truncated",
        mutable: true,
        boolean: true,
        get: |c| format_bool(c.aof_load_truncated),
        set: |c, v| {
            c.aof_load_truncated = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "auto-aof-rewrite-percentage",
        help: "Rewrite the AOF when it grew by this percentage since the last rewrite (0 = never)",
        mutable: true,
        boolean: false,
        get: |c| c.auto_aof_rewrite_percentage.to_string(),
        set: |c, v| {
            c.auto_aof_rewrite_percentage = parse_integer(v, 0, INT_MAX)? as u32;
            Ok(())
        },
    },
    Param {
        name: "auto-aof-rewrite-min-size",
        help: "Smallest AOF size for an automatic rewrite (memory units: 64mb, 1gb)",
        mutable: true,
        boolean: false,
        get: |c| c.auto_aof_rewrite_min_size.to_string(),
        set: |c, v| {
            c.auto_aof_rewrite_min_size = parse_memory(v, 0, LLONG_MAX)?;
            Ok(())
        },
    },
    Param {
        name: "maxclients",
        help: "Most clients connected at once",
        mutable: true,
        boolean: false,
        get: |c| c.maxclients.to_string(),
        set: |c, v| {
            c.maxclients = parse_integer(v, 1, i64::from(u32::MAX))? as u32;
            Ok(())
        },
    },
    Param {
        name: "tcp-keepalive",
        help: "Seconds of idleness before TCP keepalive probes a client (0 = off)",
        mutable: true,
        boolean: false,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, v| {
            c.tcp_keepalive = parse_integer(v, 0, INT_MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "tcp-backlog",
        help: "Length of the queue of connections not yet accepted",
        mutable: false,
        boolean: false,
        get: |c| c.tcp_backlog.to_string(),
        set: |c, v| {
            c.tcp_backlog = parse_integer(v, 0, INT_MAX)? as u32;
            Ok(())
        },
    },
    Param {
        name: "protected-mode",
        help: "Without a password, refuse clients that are not on the loopback interface",
        mutable: true,
        boolean: true,
        get: |c| format_bool(c.protected_mode),
        set: |c, v| {
            c.protected_mode = parse_bool(v)?;
            Ok(())
        },
    },
    Param {
        name: "io-threads",
        help: "Threads serving client connections (1 = one event loop, as Redis)",
        mutable: false,
        boolean: false,
        get: |c| c.io_threads.to_string(),
        set: |c, v| {
            c.io_threads = parse_integer(v, 1, MAX_IO_THREADS as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "idle-poll-max-us",
        help: "Redigo only: longest an I/O thread polls its sockets (microseconds) after running \
               commands before it sleeps, 0..10000 (0 = never poll)",
        mutable: true,
        boolean: false,
        get: |c| c.idle_poll_max_us.to_string(),
        set: |c, v| {
            c.idle_poll_max_us =
                parse_integer(v, 0, crate::idle_poll::MAX_IDLE_POLL_MAX_US as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "timeout",
        help: "Close a client after this many idle seconds (0 = never)",
        mutable: true,
        boolean: false,
        get: |c| c.timeout.to_string(),
        set: |c, v| {
            c.timeout = parse_integer(v, 0, INT_MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "requirepass",
        help: "Password clients must AUTH with (empty = none)",
        mutable: true,
        boolean: false,
        get: |c| c.requirepass.clone(),
        set: |c, v| {
            c.requirepass = v.to_string();
            Ok(())
        },
    },
    Param {
        name: "loglevel",
        help: "Log verbosity: debug, verbose, notice or warning",
        mutable: true,
        boolean: false,
        get: |c| c.loglevel.name().to_string(),
        set: |c, v| {
            c.loglevel = parse_enum(
                v,
                LOGLEVEL_CHOICES,
                &["debug", "verbose", "notice", "warning"],
            )?;
            Ok(())
        },
    },
    Param {
        name: "hz",
        help: "Background task frequency per second (active expiry), 1..500",
        mutable: true,
        boolean: false,
        get: |c| c.hz.to_string(),
        set: |c, v| {
            c.hz = parse_integer(v, i64::from(MIN_HZ), i64::from(MAX_HZ))? as u32;
            Ok(())
        },
    },
    Param {
        name: "proto-max-bulk-len",
        help: "Largest bulk string a client may send (memory units: 512mb)",
        mutable: true,
        boolean: false,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| {
            c.proto_max_bulk_len = parse_memory(v, MIN_PROTO_MAX_BULK_LEN, LLONG_MAX)?;
            Ok(())
        },
    },
    Param {
        name: "client-output-buffer-limit",
        help: "Unread output limits per class: <class> <hard> <soft> <soft-seconds> ... \
               (classes normal, replica, pubsub; 0 = no limit)",
        mutable: true,
        boolean: false,
        get: |c| c.client_output_buffer_limit.format(),
        set: |c, v| c.client_output_buffer_limit.apply(v),
    },
    Param {
        name: "notify-keyspace-events",
        help: "Keyspace notification classes, letters of Ag$lshzxeKEtmdn (empty: off)",
        mutable: true,
        boolean: false,
        get: |c| crate::pubsub::notifications::format_flags(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = crate::pubsub::notifications::parse_flags(v)
                .ok_or_else(|| crate::pubsub::notifications::INVALID_CLASS.to_string())?;
            Ok(())
        },
    },
    Param {
        name: "tracking-table-max-keys",
        help: "Most keys the client-tracking table remembers (0 = no limit)",
        mutable: true,
        boolean: false,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, v| {
            c.tracking_table_max_keys = parse_integer(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-entries",
        help: "Most fields of a hash kept in the compact listpack encoding \
               (alias hash-max-ziplist-entries)",
        mutable: true,
        boolean: false,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, v| {
            c.hash_max_listpack_entries = size_config(parse_integer(v, 0, LONG_MAX)?);
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-value",
        help: "Longest field or value of a listpack hash, bytes (memory units; \
               alias hash-max-ziplist-value)",
        mutable: true,
        boolean: false,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, v| {
            c.hash_max_listpack_value = size_config(parse_memory(v, 0, LLONG_MAX)? as i64);
            Ok(())
        },
    },
    Param {
        name: "set-max-intset-entries",
        help: "Most members of a set of integers kept in the compact intset encoding",
        mutable: true,
        boolean: false,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| {
            c.set_max_intset_entries = size_config(parse_integer(v, 0, LONG_MAX)?);
            Ok(())
        },
    },
    Param {
        name: "list-max-listpack-size",
        help: "Limit of a list chunk: -1..-5 for 4..64 KiB, or a positive number of \
               elements (alias list-max-ziplist-size)",
        mutable: true,
        boolean: false,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, v| {
            c.list_max_listpack_size = parse_integer(v, INT_MIN, INT_MAX)?;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-entries",
        help: "Most members of a sorted set kept in the compact listpack encoding \
               (alias zset-max-ziplist-entries)",
        mutable: true,
        boolean: false,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, v| {
            c.zset_max_listpack_entries = size_config(parse_integer(v, 0, LONG_MAX)?);
            Ok(())
        },
    },
    Param {
        name: "list-compress-depth",
        help: "List chunks left uncompressed at each end; the others are \
               LZF-compressed (0: none)",
        mutable: true,
        boolean: false,
        get: |c| c.list_compress_depth.to_string(),
        set: |c, v| {
            c.list_compress_depth = parse_integer(v, 0, INT_MAX)?;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-value",
        help: "Longest member of a listpack sorted set, bytes (memory units; \
               alias zset-max-ziplist-value)",
        mutable: true,
        boolean: false,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, v| {
            c.zset_max_listpack_value = size_config(parse_memory(v, 0, LLONG_MAX)? as i64);
            Ok(())
        },
    },
];

/// Redis's `INT_MIN`, the lower bound of its signed `int` configs.
const INT_MIN: i64 = i32::MIN as i64;

/// Redis's `LONG_MAX`, the upper bound of its `size_t` configs.
const LONG_MAX: i64 = i64::MAX;

/// A `size_t` config's value (already checked to be in `0..=LONG_MAX`).
fn size_config(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The old names Redis 7.0 still accepts for some parameters, as (alias,
/// parameter). An alias is read and set like its parameter, in the file,
/// on the command line and by `CONFIG SET`; `CONFIG GET` answers under the
/// name asked for, and a pattern matching both lists both, as Redis does.
pub const ALIASES: &[(&str, &str)] = &[
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
];

/// The parameter called `name` (any case), through its alias too.
pub fn find(name: &str) -> Option<&'static Param> {
    let name = alias_target(name).unwrap_or(name);
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The alias `name` is (any case), as Redis spells it.
pub fn find_alias(name: &str) -> Option<&'static str> {
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map(|(alias, _)| *alias)
}

/// The parameter an alias stands for.
fn alias_target(name: &str) -> Option<&'static str> {
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map(|(_, target)| *target)
}

/// Parameters Redigo does not have but Redis tools ask for (redis-benchmark
/// reads `save` and `appendonly` at start-up and warns when they are
/// missing). `CONFIG GET` reports them, derived from the real ones;
/// `CONFIG SET` refuses them as immutable. They are not part of the file or
/// the command line.
pub const REDIS_COMPAT_PARAMS: &[CompatParam] = &[
    // No RDB snapshots: Redis prints an empty `save` when they are off.
    CompatParam {
        name: "save",
        get: |_| String::new(),
    },
    CompatParam {
        name: "appendonly",
        get: |c| format_bool(c.aof_enabled),
    },
];

/// A read-only parameter reported for Redis tools (see
/// [`REDIS_COMPAT_PARAMS`]).
#[derive(Debug)]
pub struct CompatParam {
    /// The redis.conf name.
    pub name: &'static str,
    /// The value as `CONFIG GET` prints it.
    pub get: fn(&Config) -> String,
}
