//! `MEMORY USAGE|STATS|DOCTOR|MALLOC-STATS|PURGE|HELP`: Redis 7.0's
//! `memoryCommand`, over what Redigo knows of its memory.
//!
//! * `USAGE key [SAMPLES count]` is the store's estimate
//!   ([`redigo_store::DbHandle::memory_usage`]), in the spirit of Redis's
//!   `objectComputeSize`: exact for a string and a small (packed)
//!   collection, and for a big collection the structure exactly plus its
//!   elements extrapolated from `count` of them (default 5, 0 for all,
//!   which is exact). The key's entry and table bucket are included, as
//!   Redis adds the key's sds and its `dictEntry`. The figures differ from
//!   Redis's, whose layout differs; the arguments, errors and reply shape
//!   are Redis's. As in Redis the lookup neither expires the key nor
//!   counts as an access.
//! * `STATS` answers every field Redis 7.0 has, in its order. Redigo's
//!   `used_memory` counts the keyspace (entries, tables, expiry heaps, a
//!   snapshot in progress), so: `total.allocated` is that figure,
//!   `peak.allocated` its peak (`used_memory_peak`), `startup.allocated`
//!   what it is for the empty databases, `db.N` the tables' and expiry
//!   heaps' own bytes. Redigo has no replication, cluster, Lua or functions
//!   and does not count client or AOF buffers in `used_memory`: those
//!   fields are 0. It uses the system allocator, which keeps no statistics,
//!   so the `allocator.*` fields are faked exactly as Redis fakes them for
//!   a non-jemalloc build (`allocated` = `used_memory`, `active` and
//!   `resident` = RSS), and every ratio is derived as Redis derives it.
//! * `DOCTOR` runs Redis's checks on those figures and answers its texts.
//! * `MALLOC-STATS` answers what Redis built without jemalloc answers.
//! * `PURGE` returns free heap pages to the system now (glibc's
//!   `malloc_trim`, see [`crate::memory_release`]), as Redis's purges
//!   jemalloc's dirty pages, and answers `OK`.

mod specs;

use bytes::Bytes;

use super::arguments::{integer, is_keyword};
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::process_stats;
use crate::stats::Stats;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// Elements `MEMORY USAGE` samples by default (Redis's
/// `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
const DEFAULT_SAMPLES: usize = 5;

fn handle_memory_usage(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    // Redis's loop: `SAMPLES n` any number of times, n >= 0 (0 means all).
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if is_keyword(&args[j], "SAMPLES") && j + 1 < args.len() {
            match integer(&args[j + 1]) {
                None => return ctx.reply_error(errors::NOT_INTEGER),
                Some(n) if n < 0 => return ctx.reply_error(errors::SYNTAX),
                Some(0) => samples = usize::MAX,
                Some(n) => samples = usize::try_from(n).unwrap_or(usize::MAX),
            }
            j += 2;
        } else {
            return ctx.reply_error(errors::SYNTAX);
        }
    }
    match ctx.db().memory_usage(&args[2], samples) {
        Some(bytes) => ctx.reply_integer(i64::try_from(bytes).unwrap_or(i64::MAX)),
        None => ctx.reply_null(),
    }
}

/// Redis's `redisMemOverhead`, from Redigo's figures (see the module docs).
struct MemoryOverhead {
    peak_allocated: u64,
    total_allocated: u64,
    startup_allocated: u64,
    /// `db.N`: (index, table bytes, expiry heap bytes).
    dbs: Vec<(usize, u64, u64)>,
    overhead_total: u64,
    total_keys: u64,
    bytes_per_key: u64,
    dataset: u64,
    dataset_perc: f32,
    peak_perc: f32,
    allocator_allocated: u64,
    allocator_active: u64,
    allocator_resident: u64,
    process_rss: u64,
}

impl MemoryOverhead {
    fn gather(ctx: &ExecContext<'_>) -> MemoryOverhead {
        let used = ctx.store.used_memory() as u64;
        ctx.server.stats.note_memory(used);
        let peak = Stats::get(&ctx.server.stats.used_memory_peak).max(used);
        let startup = ctx.store.empty_memory() as u64;
        let dbs: Vec<(usize, u64, u64)> = ctx
            .store
            .db_overheads()
            .iter()
            .map(|db| (db.db, db.table as u64, db.expiry as u64))
            .collect();
        let total_keys = ctx
            .store
            .db_overheads()
            .iter()
            .map(|db| db.keys as u64)
            .sum();
        let overhead_total = startup + dbs.iter().map(|(_, t, e)| t + e).sum::<u64>();
        let dataset = used.saturating_sub(overhead_total);
        // Redis: 1 when nothing was allocated since startup.
        let net_usage = if used > startup { used - startup } else { 1 };
        let rss = process_stats::rss_bytes();
        MemoryOverhead {
            peak_allocated: peak,
            total_allocated: used,
            startup_allocated: startup,
            dbs,
            overhead_total,
            total_keys,
            bytes_per_key: net_usage.checked_div(total_keys).unwrap_or(0),
            dataset,
            dataset_perc: dataset as f32 * 100.0 / net_usage as f32,
            peak_perc: used as f32 * 100.0 / peak as f32,
            // Redis's fallback when the allocator keeps no statistics.
            allocator_allocated: used,
            allocator_active: rss,
            allocator_resident: rss,
            process_rss: rss,
        }
    }

    fn total_frag(&self) -> f32 {
        self.process_rss as f32 / self.total_allocated as f32
    }

    fn total_frag_bytes(&self) -> i64 {
        difference(self.process_rss, self.total_allocated)
    }

    fn allocator_frag(&self) -> f32 {
        self.allocator_active as f32 / self.allocator_allocated as f32
    }

    fn allocator_frag_bytes(&self) -> i64 {
        difference(self.allocator_active, self.allocator_allocated)
    }

    fn allocator_rss(&self) -> f32 {
        self.allocator_resident as f32 / self.allocator_active as f32
    }

    fn allocator_rss_bytes(&self) -> i64 {
        difference(self.allocator_resident, self.allocator_active)
    }

    fn rss_extra(&self) -> f32 {
        self.process_rss as f32 / self.allocator_resident as f32
    }

    fn rss_extra_bytes(&self) -> i64 {
        difference(self.process_rss, self.allocator_resident)
    }
}

/// `a - b` as Redis prints a `size_t` difference through
/// `addReplyLongLong` (negative when `b` is larger).
fn difference(a: u64, b: u64) -> i64 {
    a.wrapping_sub(b) as i64
}

/// A double as Redis's RESP2 `addReplyDouble` writes it: `%.17g` (the
/// figures are C floats promoted to double), `inf`/`-inf`, `nan`.
fn format_double(value: f32) -> String {
    let d = f64::from(value);
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if d.is_nan() {
        return "nan".to_string();
    }
    if d == 0.0 {
        return "0".to_string();
    }
    const PRECISION: i32 = 17;
    let scientific = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let (mantissa, exponent) = scientific.split_once('e').expect("`e` format");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let trim = |text: String| -> String {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if (-4..PRECISION).contains(&exponent) {
        let decimals = (PRECISION - 1 - exponent) as usize;
        trim(format!("{d:.decimals$}"))
    } else {
        let mantissa = trim(mantissa.to_string());
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

fn reply_field_integer(ctx: &mut ExecContext<'_>, name: &str, value: i64) {
    ctx.reply_bulk(name.as_bytes());
    ctx.reply_integer(value);
}

fn reply_field_double(ctx: &mut ExecContext<'_>, name: &str, value: f32) {
    ctx.reply_bulk(name.as_bytes());
    ctx.reply_bulk(format_double(value).as_bytes());
}

/// Fields of `MEMORY STATS` besides the `db.N` ones (Redis's
/// `addReplyMapLen(c, 27 + num_dbs)`).
const STATS_FIXED_FIELDS: usize = 27;

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn handle_memory_stats(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let mh = MemoryOverhead::gather(ctx);
    // RESP2 has no map: a flat array of names and values.
    ctx.reply_array_len(2 * (STATS_FIXED_FIELDS + mh.dbs.len()));
    reply_field_integer(ctx, "peak.allocated", as_i64(mh.peak_allocated));
    reply_field_integer(ctx, "total.allocated", as_i64(mh.total_allocated));
    reply_field_integer(ctx, "startup.allocated", as_i64(mh.startup_allocated));
    for name in [
        "replication.backlog",
        "clients.slaves",
        "clients.normal",
        "cluster.links",
        "aof.buffer",
        "lua.caches",
        "functions.caches",
    ] {
        reply_field_integer(ctx, name, 0);
    }
    for &(db, table, expiry) in &mh.dbs {
        ctx.reply_bulk(format!("db.{db}").as_bytes());
        ctx.reply_array_len(6);
        reply_field_integer(ctx, "overhead.hashtable.main", as_i64(table));
        reply_field_integer(ctx, "overhead.hashtable.expires", as_i64(expiry));
        reply_field_integer(ctx, "overhead.hashtable.slot-to-keys", 0);
    }
    reply_field_integer(ctx, "overhead.total", as_i64(mh.overhead_total));
    reply_field_integer(ctx, "keys.count", as_i64(mh.total_keys));
    reply_field_integer(ctx, "keys.bytes-per-key", as_i64(mh.bytes_per_key));
    reply_field_integer(ctx, "dataset.bytes", as_i64(mh.dataset));
    reply_field_double(ctx, "dataset.percentage", mh.dataset_perc);
    reply_field_double(ctx, "peak.percentage", mh.peak_perc);
    reply_field_integer(ctx, "allocator.allocated", as_i64(mh.allocator_allocated));
    reply_field_integer(ctx, "allocator.active", as_i64(mh.allocator_active));
    reply_field_integer(ctx, "allocator.resident", as_i64(mh.allocator_resident));
    reply_field_double(ctx, "allocator-fragmentation.ratio", mh.allocator_frag());
    reply_field_integer(
        ctx,
        "allocator-fragmentation.bytes",
        mh.allocator_frag_bytes(),
    );
    reply_field_double(ctx, "allocator-rss.ratio", mh.allocator_rss());
    reply_field_integer(ctx, "allocator-rss.bytes", mh.allocator_rss_bytes());
    reply_field_double(ctx, "rss-overhead.ratio", mh.rss_extra());
    reply_field_integer(ctx, "rss-overhead.bytes", mh.rss_extra_bytes());
    reply_field_double(ctx, "fragmentation", mh.total_frag());
    reply_field_integer(ctx, "fragmentation.bytes", mh.total_frag_bytes());
}

/// Below this `total.allocated` Redis's doctor calls the instance empty.
const DOCTOR_EMPTY_BYTES: u64 = 5 * 1024 * 1024;
/// Fragmentation and RSS overheads are reported above this many bytes.
const DOCTOR_OVERHEAD_BYTES: i64 = 10 << 20;

const DOCTOR_FINE: &str = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_HEADER: &str =
    "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
const DOCTOR_BIG_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
/// Redis prints its `ZMALLOC_LIB` into this one: `libc` here.
const DOCTOR_HIGH_FRAG: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n";
const DOCTOR_HIGH_ALLOC_FRAG: &str = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
const DOCTOR_HIGH_ALLOC_RSS: &str = " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
const DOCTOR_HIGH_PROC_RSS: &str = " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n";
const DOCTOR_FOOTER: &str = "I'm here to keep you safe, Sam. I want to help you.\n";

/// Redis's `getMemoryDoctorReport` over Redigo's figures. The checks on
/// replica buffers, client buffers and cached scripts never fire: Redigo
/// has no replicas or scripts and counts no client buffers.
fn doctor_report(mh: &MemoryOverhead) -> String {
    if mh.total_allocated < DOCTOR_EMPTY_BYTES {
        return DOCTOR_EMPTY.to_string();
    }
    let findings = [
        (
            mh.peak_allocated as f32 / mh.total_allocated as f32 > 1.5,
            DOCTOR_BIG_PEAK,
        ),
        (
            mh.total_frag() > 1.4 && mh.total_frag_bytes() > DOCTOR_OVERHEAD_BYTES,
            DOCTOR_HIGH_FRAG,
        ),
        (
            mh.allocator_frag() > 1.1 && mh.allocator_frag_bytes() > DOCTOR_OVERHEAD_BYTES,
            DOCTOR_HIGH_ALLOC_FRAG,
        ),
        (
            mh.allocator_rss() > 1.1 && mh.allocator_rss_bytes() > DOCTOR_OVERHEAD_BYTES,
            DOCTOR_HIGH_ALLOC_RSS,
        ),
        (
            mh.rss_extra() > 1.1 && mh.rss_extra_bytes() > DOCTOR_OVERHEAD_BYTES,
            DOCTOR_HIGH_PROC_RSS,
        ),
    ];
    if findings.iter().all(|(found, _)| !found) {
        return DOCTOR_FINE.to_string();
    }
    let mut report = DOCTOR_HEADER.to_string();
    for (_, text) in findings.iter().filter(|(found, _)| *found) {
        report.push_str(text);
    }
    report.push_str(DOCTOR_FOOTER);
    report
}

fn handle_memory_doctor(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    let report = doctor_report(&MemoryOverhead::gather(ctx));
    // RESP2's form of Redis's verbatim string.
    ctx.reply_bulk(report.as_bytes());
}

/// What Redis answers to `MEMORY MALLOC-STATS` when built without
/// jemalloc, as Redigo is (the system allocator keeps no report).
const MALLOC_STATS_UNSUPPORTED: &str = "Stats not supported for the current allocator";

fn handle_memory_malloc_stats(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_bulk(MALLOC_STATS_UNSUPPORTED.as_bytes());
}

fn handle_memory_purge(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    // An explicit request, so the heap walk runs here, as Redis purges
    // jemalloc's arenas synchronously.
    ctx.server.memory_release.trim();
    ctx.reply_ok();
}

/// Lines of `MEMORY HELP`, Redis 7.0's text.
const MEMORY_HELP: &str = "\
DOCTOR
    Return memory problems reports.
MALLOC-STATS
    Return internal statistics report from the memory allocator.
PURGE
    Attempt to purge dirty pages for reclamation by the allocator.
STATS
    Return information about the memory usage of the server.
USAGE <key> [SAMPLES <count>]
    Return memory in bytes used by <key> and its value. Nested values are
    sampled up to <count> times (default: 5, 0 means sample all).";

fn handle_memory_help(ctx: &mut ExecContext<'_>, _args: &[Bytes]) {
    ctx.reply_help("MEMORY", MEMORY_HELP);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_c_s_percent_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(0.0), "0");
        // Redis's `dataset.percentage` of a float, promoted to double.
        assert_eq!(format_double(99.856_55), "99.856552124023438");
        assert_eq!(format_double(1.186_153_4), "1.1861534118652344");
        assert_eq!(format_double(1.0 / 3.0), "0.3333333432674408");
        assert_eq!(format_double(f32::INFINITY), "inf");
        assert_eq!(format_double(f32::NAN), "nan");
        assert_eq!(format_double(1e20), "1.0000000200408773e+20");
        assert_eq!(format_double(1e-5), "9.9999997473787516e-06");
    }
}
