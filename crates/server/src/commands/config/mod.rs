//! CONFIG GET, SET, RESETSTAT, HELP over the parameter table of
//! [`crate::config::params`].

mod specs;

use bytes::Bytes;

use super::context::ExecContext;
use super::spec::CommandSpec;
use crate::config::params::{self, PARAMS, Param};
use crate::config::{Config, MAX_HZ, MIN_HZ, values};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

fn handle_config_get(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let patterns = &args[2..];
    // Any pattern matching a name selects it (case-insensitively).
    let selected = |name: &str| {
        patterns
            .iter()
            .any(|pattern| redigo_store::glob::matches(pattern, name.as_bytes(), true))
    };
    let matching: Vec<&Param> = PARAMS.iter().filter(|p| selected(p.name)).collect();
    let compat: Vec<&params::CompatParam> = params::REDIS_COMPAT_PARAMS
        .iter()
        .filter(|p| selected(p.name))
        .collect();
    let aliases: Vec<(&str, &Param)> = params::ALIASES
        .iter()
        .filter(|(alias, _)| selected(alias))
        .filter_map(|(alias, target)| Some((*alias, params::find(target)?)))
        .collect();
    let config = ctx.server.config().clone();
    ctx.reply_array_len((matching.len() + aliases.len() + compat.len()) * 2);
    for param in matching {
        ctx.reply_bulk(param.name.as_bytes());
        ctx.reply_bulk((param.get)(&config).as_bytes());
    }
    for (alias, param) in aliases {
        ctx.reply_bulk(alias.as_bytes());
        ctx.reply_bulk((param.get)(&config).as_bytes());
    }
    for param in compat {
        ctx.reply_bulk(param.name.as_bytes());
        ctx.reply_bulk((param.get)(&config).as_bytes());
    }
}

fn set_failed(argument: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{argument}') - {reason}")
}

/// Redis accepts any `hz` in `0..=INT_MAX` at run time and clamps it into
/// `MIN_HZ..=MAX_HZ` (the file and the command line refuse it instead); the
/// value is read strictly, as every numeric config.
fn runtime_value(param: &Param, value: &str) -> Result<String, String> {
    if param.name == "hz" {
        let hz = values::parse_strict(value)?;
        let hz = values::check_range(hz, 0, i64::from(i32::MAX))?;
        return Ok(hz.clamp(i64::from(MIN_HZ), i64::from(MAX_HZ)).to_string());
    }
    Ok(value.to_string())
}

/// Redis's name of `aof-enabled`, which `CONFIG SET` also takes.
const APPENDONLY: &str = "appendonly";

/// `CONFIG SET name value [name value ...]`: all or nothing, like Redis 7.0.
fn handle_config_set(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    if args.len() % 2 != 0 {
        ctx.reply_error(super::errors::SYNTAX);
        return;
    }
    // (parameter, value, the name errors quote: Redis quotes its canonical
    // name, and `appendonly` is Redis's name for `aof-enabled`).
    let mut changes: Vec<(&'static Param, String, &'static str)> = Vec::new();
    for pair in args[2..].chunks_exact(2) {
        let name = String::from_utf8_lossy(&pair[0]);
        let (param, quoted) = if name.eq_ignore_ascii_case(APPENDONLY) {
            // Redis's name for `aof-enabled`.
            let param = params::find("aof-enabled").expect("aof-enabled is a parameter");
            (param, APPENDONLY)
        } else {
            let compat = params::REDIS_COMPAT_PARAMS
                .iter()
                .any(|param| param.name.eq_ignore_ascii_case(&name));
            if compat {
                ctx.reply_error(&set_failed(&name, "can't set immutable config"));
                return;
            }
            let Some(param) = params::find(&name) else {
                ctx.reply_error(&format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
                return;
            };
            if !param.mutable {
                ctx.reply_error(&set_failed(&name, "can't set immutable config"));
                return;
            }
            // Errors quote the name as Redis spells it: an alias's own.
            (param, params::find_alias(&name).unwrap_or(param.name))
        };
        // Redis keeps an alias apart from its parameter: setting both in one
        // call is no duplicate, setting one twice is.
        let is_alias = |name: &str| params::find_alias(name).is_some();
        let duplicate = changes.iter().any(|(seen, _, seen_name)| {
            std::ptr::eq(*seen, param)
                && (*seen_name == quoted || !is_alias(seen_name) && !is_alias(quoted))
        });
        if duplicate {
            ctx.reply_error(&set_failed(&name, "duplicate parameter"));
            return;
        }
        changes.push((
            param,
            String::from_utf8_lossy(&pair[1]).into_owned(),
            quoted,
        ));
    }

    let mut candidate: Config = ctx.server.config().clone();
    for (param, value, quoted) in &changes {
        let applied =
            runtime_value(param, value).and_then(|value| (param.set)(&mut candidate, &value));
        if let Err(reason) = applied {
            ctx.reply_error(&set_failed(quoted, &reason));
            return;
        }
    }
    let aof_was_enabled = ctx.server.config().aof_enabled;
    if candidate.aof_enabled && !aof_was_enabled {
        // Started before the new configuration is in force, so a failure
        // leaves everything as it was (Redis's all-or-nothing CONFIG SET).
        if let Err(err) = crate::aof::enable(ctx.server, ctx.store, ctx.propagation) {
            tracing::warn!("Unable to turn on AOF: {err}");
            let quoted = changes
                .iter()
                .find(|(param, ..)| param.name == "aof-enabled")
                .map_or("aof-enabled", |(.., quoted)| quoted);
            ctx.reply_error(&set_failed(
                quoted,
                "Unable to turn on AOF. Check server logs.",
            ));
            return;
        }
    }
    if !candidate.aof_enabled && aof_was_enabled {
        crate::aof::disable(ctx.server, ctx.propagation);
    }
    let level_changed = {
        let mut config = ctx.server.config_mut();
        let changed = config.loglevel != candidate.loglevel;
        *config = candidate.clone();
        changed
    };
    if level_changed {
        ctx.server.apply_log_level(candidate.loglevel);
    }
    if let Some(live) = ctx.propagation.aof() {
        live.aof
            .set_policy(crate::aof::fsync_policy(candidate.appendfsync));
    }
    // The decoder reads the limit for every read; the store keeps its own
    // copy for the strings APPEND and SETRANGE may build.
    ctx.store
        .set_max_string_len(usize::try_from(candidate.proto_max_bulk_len).unwrap_or(usize::MAX));
    // Later writes convert collections by the new thresholds; existing
    // values keep their encoding, as in Redis.
    ctx.store.set_encoding_limits(candidate.encoding_limits());
    if let Some(idle_poll) = ctx.server.idle_poll() {
        idle_poll.set_max_us(candidate.idle_poll_max_us);
    }
    // Notifications read their flags from one atomic, not the config lock.
    ctx.server
        .pubsub
        .set_notify_flags(candidate.notify_keyspace_events);
    ctx.reply_ok();
}

fn handle_config_resetstat(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.server.stats.reset();
    ctx.server.command_stats.reset();
    if let Some(live) = ctx.propagation.aof() {
        live.aof.reset_stats();
    }
    ctx.server.offline_rewrite().reset_stats();
    ctx.reply_ok();
}

/// Lines of `CONFIG HELP`, as Redis's `addReplyHelp` sends them (without
/// `REWRITE`, which Redigo does not implement).
const CONFIG_HELP: &str = "\
GET <pattern>
    Return parameters matching the glob-like <pattern> and their values.
SET <directive> <value>
    Set the configuration <directive> to <value>.
RESETSTAT
    Reset statistics reported by the INFO command.";

fn handle_config_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("CONFIG", CONFIG_HELP);
}

#[cfg(test)]
mod tests;
