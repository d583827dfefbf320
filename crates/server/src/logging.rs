//! Logging through `tracing`: the level comes from `loglevel` unless
//! `RUST_LOG` is set, and `CONFIG SET loglevel` changes it at run time.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogLevel;
use crate::state::LogLevelHook;

/// Installs the global subscriber (logging to stderr). Returns the hook that
/// applies a new `loglevel`, or `None` when `RUST_LOG` rules or a subscriber
/// was already installed (e.g. by a test harness).
pub fn init(level: LogLevel) -> Option<LogLevelHook> {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = match &from_env {
        Some(directives) => EnvFilter::new(directives),
        None => EnvFilter::new(level.tracing_directive()),
    };
    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .try_init()
        .ok()?;
    if from_env.is_some() {
        return None;
    }
    Some(Box::new(move |level: LogLevel| {
        let _ = handle.reload(EnvFilter::new(level.tracing_directive()));
    }))
}
