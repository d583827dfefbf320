//! INFO: the server report, with Redis 7.0's sections, field names and
//! layout (`# Section` headers, `field:value` lines, CRLF line ends, a blank
//! line between sections).

mod specs;

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::context::ExecContext;
use super::spec::CommandSpec;
use crate::process_stats;
use crate::state::{REDIS_VERSION, unix_time_ms};
use crate::stats::Stats;

/// The sections Redigo reports, in the order Redis prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];
/// Sections only `INFO all`/`everything` or an explicit request include.
const NOT_DEFAULT: &[&str] = &["commandstats"];
/// Replication backlog size Redis reports by default (`repl-backlog-size`).
const REPL_BACKLOG_SIZE: u64 = 1024 * 1024;
const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

fn handle_info(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let requested: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = requested.iter().any(|s| s == "all" || s == "everything");
    let default = requested.is_empty() || requested.iter().any(|s| s == "default");
    let mut report = String::new();
    for section in SECTIONS {
        let wanted = all
            || (default && !NOT_DEFAULT.contains(section))
            || requested.iter().any(|s| s == section);
        if !wanted {
            continue;
        }
        if !report.is_empty() {
            report.push_str("\r\n");
        }
        write_section(ctx, section, &mut report);
    }
    ctx.reply_bulk(report.as_bytes());
}

/// Appends `field:value\r\n`.
macro_rules! field {
    ($out:expr, $name:expr, $value:expr) => {
        let _ = write!($out, "{}:{}\r\n", $name, $value);
    };
}

fn write_section(ctx: &mut ExecContext<'_>, section: &str, out: &mut String) {
    match section {
        "server" => server_section(ctx, out),
        "clients" => clients_section(ctx, out),
        "memory" => memory_section(ctx, out),
        "persistence" => persistence_section(ctx, out),
        "stats" => stats_section(ctx, out),
        "replication" => replication_section(ctx, out),
        "cpu" => cpu_section(out),
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for line in ctx.server.command_stats.report_lines() {
                out.push_str(&line);
                out.push_str("\r\n");
            }
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, count) in ctx.server.stats.error_counts() {
                let _ = write!(out, "errorstat_{code}:count={count}\r\n");
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            field!(out, "cluster_enabled", 0);
        }
        "keyspace" => keyspace_section(ctx, out),
        _ => {}
    }
}

fn server_section(ctx: &ExecContext<'_>, out: &mut String) {
    let server = ctx.server;
    let uptime = server.started.elapsed().as_secs();
    let hz = server.config().hz;
    out.push_str("# Server\r\n");
    field!(out, "redis_version", REDIS_VERSION);
    field!(out, "redigo_version", env!("CARGO_PKG_VERSION"));
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", 0);
    field!(out, "redis_mode", "standalone");
    field!(out, "os", process_stats::os_description());
    field!(out, "arch_bits", usize::BITS);
    field!(out, "multiplexing_api", "tokio");
    field!(out, "process_id", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", server.run_id);
    field!(out, "tcp_port", server.port());
    field!(out, "server_time_usec", ctx.now_ms * 1000);
    field!(out, "uptime_in_seconds", uptime);
    field!(out, "uptime_in_days", uptime / SECONDS_PER_DAY);
    field!(out, "hz", hz);
    field!(out, "configured_hz", hz);
    let executable = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(out, "executable", executable);
    let config_file = server
        .config_file
        .as_ref()
        .and_then(|p| std::fs::canonicalize(p).ok().or_else(|| Some(p.clone())))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(out, "config_file", config_file);
    field!(out, "io_threads_active", 0);
}

fn clients_section(ctx: &ExecContext<'_>, out: &mut String) {
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", ctx.server.clients.len());
    field!(out, "cluster_connections", 0);
    field!(out, "maxclients", ctx.server.config().maxclients);
    field!(out, "client_recent_max_input_buffer", 0);
    field!(out, "client_recent_max_output_buffer", 0);
    field!(out, "blocked_clients", ctx.blocking.blocked_clients());
    field!(out, "tracking_clients", ctx.server.tracking.client_count());
    field!(
        out,
        "clients_in_timeout_table",
        ctx.blocking.clients_with_timeout()
    );
}

/// Redis's `bytesToHuman`: `512B`, `1.09M`, `2.00G`.
pub(crate) fn bytes_to_human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    const STEP: f64 = 1024.0;
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / STEP;
    for unit in UNITS {
        if value < STEP {
            return format!("{value:.2}{unit}");
        }
        value /= STEP;
    }
    format!("{:.2}E", value * STEP)
}

fn memory_section(ctx: &ExecContext<'_>, out: &mut String) {
    let used = ctx.store.used_memory() as u64;
    ctx.server.stats.note_memory(used);
    let peak = Stats::get(&ctx.server.stats.used_memory_peak).max(used);
    let rss = process_stats::rss_bytes();
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", used);
    field!(out, "used_memory_human", bytes_to_human(used));
    field!(out, "used_memory_rss", rss);
    field!(out, "used_memory_rss_human", bytes_to_human(rss));
    field!(out, "used_memory_peak", peak);
    field!(out, "used_memory_peak_human", bytes_to_human(peak));
    let peak_perc = if peak == 0 {
        100.0
    } else {
        used as f64 * 100.0 / peak as f64
    };
    field!(out, "used_memory_peak_perc", format!("{peak_perc:.2}%"));
    field!(out, "maxmemory", 0);
    field!(out, "maxmemory_human", "0B");
    field!(out, "maxmemory_policy", "noeviction");
    field!(out, "mem_allocator", "libc");
    field!(out, "lazyfree_pending_objects", 0);
}

fn persistence_section(ctx: &ExecContext<'_>, out: &mut String) {
    let aof_enabled = ctx.server.config().aof_enabled;
    let report = crate::persistence::report(ctx.server, ctx.propagation);
    let ok_or_err = |ok: bool| if ok { "ok" } else { "err" };
    let started_unix =
        (unix_time_ms() / 1000).saturating_sub(ctx.server.started.elapsed().as_secs());
    out.push_str("# Persistence\r\n");
    field!(out, "loading", u8::from(report.loading));
    field!(out, "async_loading", 0);
    // Redis's fields about forked children and RDB files, in its order:
    // Redigo never forks (its rewrite shares memory through the store's
    // snapshot, so there is no copy-on-write) and writes no RDB file.
    field!(out, "current_cow_peak", 0);
    field!(out, "current_cow_size", 0);
    field!(out, "current_cow_size_age", 0);
    field!(out, "current_fork_perc", "0.00");
    field!(out, "current_save_keys_processed", 0);
    field!(out, "current_save_keys_total", 0);
    field!(out, "rdb_changes_since_last_save", 0);
    field!(out, "rdb_bgsave_in_progress", 0);
    field!(out, "rdb_last_save_time", started_unix);
    field!(out, "rdb_last_bgsave_status", "ok");
    field!(out, "rdb_last_bgsave_time_sec", -1);
    field!(out, "rdb_current_bgsave_time_sec", -1);
    field!(out, "rdb_saves", 0);
    field!(out, "rdb_last_cow_size", 0);
    field!(out, "rdb_last_load_keys_expired", 0);
    field!(out, "rdb_last_load_keys_loaded", 0);
    field!(out, "aof_enabled", u8::from(aof_enabled));
    field!(
        out,
        "aof_rewrite_in_progress",
        u8::from(report.rewrite_in_progress)
    );
    field!(
        out,
        "aof_rewrite_scheduled",
        u8::from(report.rewrite_scheduled)
    );
    field!(
        out,
        "aof_last_rewrite_time_sec",
        report.last_rewrite_time_sec
    );
    field!(
        out,
        "aof_current_rewrite_time_sec",
        report.current_rewrite_time_sec
    );
    field!(
        out,
        "aof_last_bgrewrite_status",
        ok_or_err(report.last_bgrewrite_ok)
    );
    field!(out, "aof_rewrites", report.rewrites);
    field!(
        out,
        "aof_rewrites_consecutive_failures",
        report.rewrites_consecutive_failures
    );
    field!(
        out,
        "aof_last_write_status",
        ok_or_err(report.last_write_ok)
    );
    field!(out, "aof_last_cow_size", 0);
    field!(out, "module_fork_in_progress", 0);
    field!(out, "module_fork_last_cow_size", 0);
    if report.aof_on {
        // Redis adds these while the AOF is on.
        field!(out, "aof_current_size", report.current_size);
        field!(out, "aof_base_size", report.base_size);
        field!(
            out,
            "aof_pending_rewrite",
            u8::from(report.rewrite_scheduled)
        );
        field!(out, "aof_buffer_length", report.buffer_length);
        field!(out, "aof_pending_bio_fsync", 0);
        field!(out, "aof_delayed_fsync", report.delayed_fsync);
        // Redigo's own: fsyncs of the AOF since start (under `appendfsync
        // always`, group commit shows as far fewer fsyncs than writes).
        field!(out, "aof_fsyncs", report.fsyncs);
    }
}

fn stats_section(ctx: &ExecContext<'_>, out: &mut String) {
    let stats = &ctx.server.stats;
    let get = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        get(&stats.total_connections_received)
    );
    field!(
        out,
        "total_commands_processed",
        get(&stats.total_commands_processed)
    );
    field!(
        out,
        "instantaneous_ops_per_sec",
        stats.instantaneous_ops_per_sec()
    );
    field!(
        out,
        "total_net_input_bytes",
        get(&stats.total_net_input_bytes)
    );
    field!(
        out,
        "total_net_output_bytes",
        get(&stats.total_net_output_bytes)
    );
    field!(
        out,
        "rejected_connections",
        get(&stats.rejected_connections)
    );
    field!(out, "expired_keys", get(&stats.expired_keys));
    field!(out, "evicted_keys", 0);
    field!(out, "keyspace_hits", get(&stats.keyspace_hits));
    field!(out, "keyspace_misses", get(&stats.keyspace_misses));
    field!(out, "pubsub_channels", ctx.server.pubsub.channel_count());
    field!(out, "pubsub_patterns", ctx.server.pubsub.pattern_count());
    field!(
        out,
        "pubsubshard_channels",
        ctx.server.pubsub.shard_channel_count()
    );
    let (tracking_keys, tracking_items, tracking_prefixes) = ctx.server.tracking.totals();
    field!(out, "tracking_total_keys", tracking_keys);
    field!(out, "tracking_total_items", tracking_items);
    field!(out, "tracking_total_prefixes", tracking_prefixes);
    field!(out, "total_error_replies", get(&stats.total_error_replies));
    // Not in Redis 7.0's INFO (later versions have it): how many clients
    // `client-output-buffer-limit` closed.
    field!(
        out,
        "client_output_buffer_limit_disconnections",
        get(&stats.client_output_buffer_limit_disconnections)
    );
}

fn replication_section(ctx: &ExecContext<'_>, out: &mut String) {
    out.push_str("# Replication\r\n");
    field!(out, "role", "master");
    field!(out, "connected_slaves", 0);
    field!(out, "master_failover_state", "no-failover");
    field!(out, "master_replid", ctx.server.run_id);
    field!(out, "master_replid2", "0".repeat(40));
    field!(out, "master_repl_offset", 0);
    field!(out, "second_repl_offset", -1);
    field!(out, "repl_backlog_active", 0);
    field!(out, "repl_backlog_size", REPL_BACKLOG_SIZE);
    field!(out, "repl_backlog_first_byte_offset", 0);
    field!(out, "repl_backlog_histlen", 0);
}

fn cpu_section(out: &mut String) {
    let times = process_stats::cpu_times();
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", format!("{:.6}", times.system));
    field!(out, "used_cpu_user", format!("{:.6}", times.user));
    field!(out, "used_cpu_sys_children", "0.000000");
    field!(out, "used_cpu_user_children", "0.000000");
}

fn keyspace_section(ctx: &ExecContext<'_>, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for db in ctx.store.keyspace_info(ctx.now_ms) {
        let _ = write!(
            out,
            "db{}:keys={},expires={},avg_ttl={}\r\n",
            db.db, db.keys, db.expires, db.avg_ttl
        );
    }
}

#[cfg(test)]
mod tests {
    use super::bytes_to_human;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1138480), "1.09M");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(25276502016), "23.54G");
    }
}
