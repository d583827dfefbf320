//! Server configuration: a typed [`Config`] with Redis's defaults, read from a
//! TOML file, overridden from the command line, changed at run time by
//! `CONFIG SET`.
//!
//! All three paths go through one table of parameters ([`params::PARAMS`]):
//! each parameter has its redis.conf name (kebab-case, also the TOML key and
//! the `--flag`), a getter that prints the value as `CONFIG GET` does and a
//! setter that parses and validates with Redis's rules and error texts. So a
//! value is accepted or refused identically wherever it comes from, and an
//! error always names the key and the value (and the file, for the file).
//!
//! The TOML file is deserialized with serde: [`Config`]'s `Deserialize` takes
//! a TOML table and applies each entry through the parameter table, refusing
//! unknown keys and wrong types.

mod cli;
pub mod output_limits;
pub mod params;
pub(crate) mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::Error as _;

pub use cli::{CliOutcome, parse_command_line};
pub use output_limits::{ClassLimit, ClientClass, OutputBufferLimits};
pub use values::ValueError;

/// The default TCP port.
pub const DEFAULT_PORT: u16 = 6379;
/// The most databases a server may be configured with: every database costs
/// a table, so an absurd count is refused rather than allocated.
pub const MAX_DATABASES: usize = 1 << 20;
/// Bounds of `hz` accepted in the file or on the command line
/// (Redis's `CONFIG_MIN_HZ` and `CONFIG_MAX_HZ`).
pub const MIN_HZ: u32 = 1;
/// Most `io-threads` (Redis's `IO_THREADS_MAX_NUM`).
pub const MAX_IO_THREADS: usize = 128;
/// See [`MIN_HZ`].
pub const MAX_HZ: u32 = 500;
/// The smallest `proto-max-bulk-len` Redis accepts (1 MiB).
pub const MIN_PROTO_MAX_BULK_LEN: u64 = 1024 * 1024;

/// When the AOF is fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appendfsync {
    /// After every write.
    Always,
    /// Once a second, in the background.
    Everysec,
    /// Never explicitly; the OS decides (`no`, also spelled `never`).
    No,
}

impl Appendfsync {
    /// The name `CONFIG GET appendfsync` prints.
    pub fn name(self) -> &'static str {
        match self {
            Appendfsync::Always => "always",
            Appendfsync::Everysec => "everysec",
            Appendfsync::No => "no",
        }
    }
}

/// Log verbosity, as redis.conf's `loglevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything (tracing `debug` and `trace`).
    Debug,
    /// Lots of useful information (tracing `debug`).
    Verbose,
    /// Moderately verbose, for production (tracing `info`).
    Notice,
    /// Only very important messages (tracing `warn`).
    Warning,
}

impl LogLevel {
    /// The name `CONFIG GET loglevel` prints.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
        }
    }

    /// The `tracing` filter directive for this level.
    pub fn tracing_directive(self) -> &'static str {
        match self {
            LogLevel::Debug => "trace",
            LogLevel::Verbose => "debug",
            LogLevel::Notice => "info",
            LogLevel::Warning => "warn",
        }
    }
}

/// Redis 7.0's defaults of the collection encoding thresholds (512 fields,
/// 64 bytes, 512 integers), which are also the store's.
const DEFAULT_ENCODING_LIMITS: redigo_store::EncodingLimits = redigo_store::EncodingLimits {
    hash_max_listpack_entries: 512,
    hash_max_listpack_value: 64,
    set_max_intset_entries: 512,
    list_max_listpack_size: -2,
    list_compress_depth: 0,
    zset_max_listpack_entries: 128,
    zset_max_listpack_value: 64,
};

/// The server configuration. [`Config::default`] is what `redigo.toml` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Addresses to listen on, separated by spaces.
    pub bind: String,
    /// TCP port; 0 picks a free port (handy for tests).
    pub port: u16,
    /// Number of databases.
    pub databases: usize,
    /// Whether writes are appended to the AOF.
    pub aof_enabled: bool,
    /// Where the AOF lives.
    pub aof_path: PathBuf,
    /// AOF fsync policy.
    pub appendfsync: Appendfsync,
    /// Load an AOF whose last command is truncated (instead of refusing).
    pub aof_load_truncated: bool,
    /// Rewrite the AOF when it grew by this percentage since the last rewrite.
    pub auto_aof_rewrite_percentage: u32,
    /// ... and is at least this many bytes.
    pub auto_aof_rewrite_min_size: u64,
    /// Most simultaneous clients.
    pub maxclients: u32,
    /// Seconds of idleness before TCP keepalive probes a client (0 = off),
    /// Redis's `tcp-keepalive`.
    pub tcp_keepalive: u64,
    /// Length of the listen queue (Redis's `tcp-backlog`); the kernel may
    /// cap it (`somaxconn`).
    pub tcp_backlog: u32,
    /// Refuse non-loopback clients while no password is set (Redis's
    /// `protected-mode`).
    pub protected_mode: bool,
    /// Close clients idle for this many seconds (0 = never).
    pub timeout: u64,
    /// Password of the default user (empty = no authentication).
    pub requirepass: String,
    /// Log verbosity.
    pub loglevel: LogLevel,
    /// Background task frequency (active expiry, stats sampling), per second.
    pub hz: u32,
    /// Largest bulk string a client may send, in bytes.
    pub proto_max_bulk_len: u64,
    /// Threads serving connections (read, parse, execute under the dataset
    /// lock, write). As in Redis, 1 by default: command execution is
    /// serialized by the dataset lock anyway, so more threads only help when
    /// there are spare cores for the socket work (measured on 2 cores with
    /// the client on the same machine: 1 thread was as fast or faster in
    /// every redis-benchmark workload, pipelined GET by ~15%).
    pub io_threads: usize,
    /// How long (µs) the I/O thread may poll its sockets after running
    /// commands before it sleeps (see [`crate::idle_poll`]); 0 = never.
    pub idle_poll_max_us: u64,
    /// Limits on the output a client has not read yet, per client class
    /// (`client-output-buffer-limit`).
    pub client_output_buffer_limit: OutputBufferLimits,
    /// Most fields of a hash in the compact `listpack` encoding
    /// (`hash-max-listpack-entries`, alias `hash-max-ziplist-entries`).
    pub hash_max_listpack_entries: usize,
    /// Longest field or value of a `listpack` hash, in bytes
    /// (`hash-max-listpack-value`, alias `hash-max-ziplist-value`).
    pub hash_max_listpack_value: usize,
    /// Most members of a set in the compact `intset` encoding
    /// (`set-max-intset-entries`).
    pub set_max_intset_entries: usize,
    /// A list chunk's limit (`list-max-listpack-size`, alias
    /// `list-max-ziplist-size`): -1 to -5 for 4 to 64 KiB, a positive value
    /// for a number of elements.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: list chunks kept raw at each end, the others
    /// LZF-compressed (see `kinds::list` in redigo-store); a list takes the
    /// value in force when it is created, as in Redis.
    pub list_compress_depth: i64,
    /// Most members of a sorted set in the compact `listpack` encoding
    /// (`zset-max-listpack-entries`, alias `zset-max-ziplist-entries`).
    pub zset_max_listpack_entries: usize,
    /// Longest member of a `listpack` sorted set, in bytes
    /// (`zset-max-listpack-value`, alias `zset-max-ziplist-value`).
    pub zset_max_listpack_value: usize,
    /// Keyspace notification classes (`notify-keyspace-events`), as flags
    /// (see [`crate::pubsub::notifications`]); 0 turns them off.
    pub notify_keyspace_events: u32,
    /// Most keys the client-tracking table remembers
    /// (`tracking-table-max-keys`, 0: no limit).
    pub tracking_table_max_keys: u64,
}

impl Config {
    /// The store's encoding thresholds under this configuration: handed to
    /// the store at start and after every `CONFIG SET`.
    pub fn encoding_limits(&self) -> redigo_store::EncodingLimits {
        redigo_store::EncodingLimits {
            hash_max_listpack_entries: self.hash_max_listpack_entries,
            hash_max_listpack_value: self.hash_max_listpack_value,
            set_max_intset_entries: self.set_max_intset_entries,
            list_max_listpack_size: self.list_max_listpack_size,
            list_compress_depth: usize::try_from(self.list_compress_depth).unwrap_or(0),
            zset_max_listpack_entries: self.zset_max_listpack_entries,
            zset_max_listpack_value: self.zset_max_listpack_value,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: "127.0.0.1".to_string(),
            port: DEFAULT_PORT,
            databases: 16,
            aof_enabled: false,
            aof_path: PathBuf::from("data/appendonly.aof"),
            appendfsync: Appendfsync::Everysec,
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            maxclients: 10_000,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            protected_mode: true,
            timeout: 0,
            requirepass: String::new(),
            loglevel: LogLevel::Notice,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            io_threads: 1,
            idle_poll_max_us: crate::idle_poll::DEFAULT_IDLE_POLL_MAX_US,
            client_output_buffer_limit: OutputBufferLimits::default(),
            hash_max_listpack_entries: DEFAULT_ENCODING_LIMITS.hash_max_listpack_entries,
            hash_max_listpack_value: DEFAULT_ENCODING_LIMITS.hash_max_listpack_value,
            set_max_intset_entries: DEFAULT_ENCODING_LIMITS.set_max_intset_entries,
            list_max_listpack_size: DEFAULT_ENCODING_LIMITS.list_max_listpack_size,
            list_compress_depth: 0,
            zset_max_listpack_entries: DEFAULT_ENCODING_LIMITS.zset_max_listpack_entries,
            zset_max_listpack_value: DEFAULT_ENCODING_LIMITS.zset_max_listpack_value,
            notify_keyspace_events: 0,
            tracking_table_max_keys: crate::tracking::DEFAULT_TABLE_MAX_KEYS,
        }
    }
}

/// One address of `bind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindAddress {
    /// The host part (`127.0.0.1`, `::1`, `0.0.0.0`).
    pub host: String,
    /// Whether failing to bind it is only a warning (`-` prefix).
    pub optional: bool,
}

impl BindAddress {
    /// `host:port`, with IPv6 hosts in brackets.
    pub fn with_port(&self, port: u16) -> String {
        if self.host.contains(':') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file '{path}': {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value in it is refused.
    #[error("invalid config file '{path}': {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key and the value.
        message: String,
    },
    /// A command-line override is refused.
    #[error("invalid command-line option --{key} '{value}': {message}")]
    CommandLine {
        /// The option.
        key: String,
        /// Its value.
        value: String,
        /// What is wrong.
        message: String,
    },
}

/// A refused parameter assignment, naming the key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    /// No parameter by that name.
    UnknownKey(String),
    /// The parameter exists but cannot change at run time.
    Immutable(String),
    /// The value is refused.
    BadValue {
        /// The parameter.
        key: String,
        /// The refused value.
        value: String,
        /// Why (Redis's text).
        reason: ValueError,
    },
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::UnknownKey(key) => write!(f, "unknown key '{key}'"),
            SetError::Immutable(key) => write!(f, "key '{key}' can't be changed at run time"),
            SetError::BadValue { key, value, reason } => {
                write!(f, "key '{key}', value '{value}': {reason}")
            }
        }
    }
}

impl Config {
    /// Sets `key` from its textual form, validating it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SetError> {
        let param = params::find(key).ok_or_else(|| SetError::UnknownKey(key.to_string()))?;
        (param.set)(self, value).map_err(|reason| SetError::BadValue {
            key: param.name.to_string(),
            value: value.to_string(),
            reason,
        })
    }

    /// The value of `key` as `CONFIG GET` prints it.
    pub fn get(&self, key: &str) -> Option<String> {
        params::find(key).map(|param| (param.get)(self))
    }

    /// Reads and validates a TOML file. Keys absent from the file keep their
    /// defaults.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text).map_err(|message| ConfigError::File {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text (see [`Config::from_file`]).
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str::<Config>(text).map_err(|e| {
            let message = e.message().trim_end().replace('\n', "; ");
            // Syntax errors point at a place; errors about a key's value come
            // from `from_table` and already name the key and value.
            match e.span() {
                Some(span) if span.start > 0 || span.end < text.len() => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: {message}")
                }
                _ => message.to_string(),
            }
        })
    }

    fn from_table(table: toml::Table) -> Result<Config, String> {
        let mut config = Config::default();
        for (key, value) in table {
            let text = match &value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "key '{key}', value {other}: expected a string, an integer or a boolean"
                    ));
                }
            };
            config.set(&key, &text).map_err(|e| match e {
                SetError::UnknownKey(key) => format!("unknown key '{key}' (value {value})"),
                other => other.to_string(),
            })?;
        }
        Ok(config)
    }

    /// The `bind` addresses, as redis.conf reads them: `*` is every IPv4
    /// address, `::*` every IPv6 address, and a leading `-` marks an address
    /// that may be unavailable (skipped, with a warning, if it cannot be bound).
    pub fn bind_addresses(&self) -> Vec<BindAddress> {
        self.bind
            .split_whitespace()
            .map(|word| {
                let optional = word.starts_with('-');
                let host = match word.trim_start_matches('-') {
                    "*" => "0.0.0.0",
                    "::*" => "::",
                    other => other,
                };
                BindAddress {
                    host: host.to_string(),
                    optional,
                }
            })
            .collect()
    }
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Config, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        Config::from_table(table).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_redigo_toml_is_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redigo.toml");
        let config = Config::from_file(&path).expect("redigo.toml parses");
        assert_eq!(config, Config::default());
        let text = std::fs::read_to_string(&path).expect("read redigo.toml");
        for param in params::PARAMS {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{} = ", param.name))),
                "redigo.toml does not list {}",
                param.name
            );
        }
    }

    #[test]
    fn file_errors_name_the_key_and_the_value() {
        let err = Config::from_toml("port = 70000\n").unwrap_err();
        assert!(err.contains("'port'") && err.contains("70000"), "{err}");
        let err = Config::from_toml("no-such-key = 1\n").unwrap_err();
        assert!(err.contains("'no-such-key'") && err.contains('1'), "{err}");
        let err = Config::from_toml("hz = 10\nport = \n").unwrap_err();
        assert!(err.starts_with("line 2: "), "{err}");
        let err = Config::from_toml("hz = 0\n").unwrap_err();
        assert!(err.contains("'hz'"), "{err}");
        let err = Config::from_toml("port = [1]\n").unwrap_err();
        assert!(err.contains("'port'"), "{err}");
        let err = Config::from_toml("appendfsync = \"sometimes\"\n").unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
    }

    #[test]
    fn file_values_accept_redis_spellings() {
        let config = Config::from_toml(
            "appendfsync = \"never\"\naof-enabled = \"yes\"\nauto-aof-rewrite-min-size = \"1gb\"\nport = 6380\n",
        )
        .unwrap();
        assert_eq!(config.appendfsync, Appendfsync::No);
        assert!(config.aof_enabled);
        assert_eq!(config.auto_aof_rewrite_min_size, 1 << 30);
        assert_eq!(config.port, 6380);
    }

    #[test]
    fn bind_follows_redis_conf_syntax() {
        let config = Config {
            bind: "* -::* 10.0.0.1".to_string(),
            ..Config::default()
        };
        let addresses: Vec<(String, bool)> = config
            .bind_addresses()
            .into_iter()
            .map(|a| (a.with_port(6379), a.optional))
            .collect();
        assert_eq!(
            addresses,
            [
                ("0.0.0.0:6379".to_string(), false),
                ("[::]:6379".to_string(), true),
                ("10.0.0.1:6379".to_string(), false),
            ]
        );
    }

    #[test]
    fn every_parameter_round_trips_through_get_and_set() {
        let mut config = Config::default();
        for param in params::PARAMS {
            let shown = (param.get)(&config);
            config
                .set(param.name, &shown)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(config, Config::default());
    }
}
