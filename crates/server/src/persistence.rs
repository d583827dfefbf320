//! [`PersistenceReport`]: the one report of the server's persistence, which
//! `INFO persistence` prints.
//!
//! Each value has one owner, and the report is assembled from them when
//! asked for, never copied into a status kept on the side:
//!
//! * the rewrite history (`aof_rewrite*`, `aof_last_bgrewrite_status`) is
//!   the [`RewriteState`](crate::aof::rewrite::RewriteState) of the live
//!   AOF while it is on, of the [`OfflineRewrite`](crate::aof::OfflineRewrite)
//!   while it is off (the history passes between them when the AOF is
//!   turned on or off, as Redis keeps it);
//! * the write status, sizes, buffer and fsync counters belong to the live
//!   [`Aof`](crate::aof::Aof) ([`Aof::report`](crate::aof::Aof::report)),
//!   and Redis prints them only while the AOF is on;
//! * `loading` is the server's ([`ServerState::loading`]), set while the
//!   AOF is replayed at start-up.
//!
//! [`report`] picks the owners in force; `INFO` only formats the result.

use crate::propagation::PropagationLog;
use crate::shared::ServerState;

/// What `INFO persistence` reports about the AOF. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistenceReport {
    /// `loading`: the AOF is being replayed.
    pub loading: bool,
    /// `aof_rewrite_in_progress`.
    pub rewrite_in_progress: bool,
    /// `aof_rewrite_scheduled` (and `aof_pending_rewrite`).
    pub rewrite_scheduled: bool,
    /// `aof_last_rewrite_time_sec`: -1 before the first rewrite.
    pub last_rewrite_time_sec: i64,
    /// `aof_current_rewrite_time_sec`: -1 when none runs.
    pub current_rewrite_time_sec: i64,
    /// `aof_last_bgrewrite_status` is `ok`.
    pub last_bgrewrite_ok: bool,
    /// `aof_rewrites`.
    pub rewrites: u64,
    /// `aof_rewrites_consecutive_failures`.
    pub rewrites_consecutive_failures: u64,
    /// `aof_last_write_status` is `ok`.
    pub last_write_ok: bool,
    /// The AOF is on: the fields below are reported (Redis adds them to
    /// `INFO` only then; they are zero otherwise).
    pub aof_on: bool,
    /// `aof_current_size`.
    pub current_size: u64,
    /// `aof_base_size`.
    pub base_size: u64,
    /// `aof_buffer_length`.
    pub buffer_length: usize,
    /// `aof_delayed_fsync`.
    pub delayed_fsync: u64,
    /// Completed fsyncs (Redigo's `aof_fsyncs`).
    pub fsyncs: u64,
}

impl Default for PersistenceReport {
    /// Redis's values with the AOF off and no rewrite ever run.
    fn default() -> PersistenceReport {
        PersistenceReport {
            loading: false,
            rewrite_in_progress: false,
            rewrite_scheduled: false,
            last_rewrite_time_sec: -1,
            current_rewrite_time_sec: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            rewrites_consecutive_failures: 0,
            last_write_ok: true,
            aof_on: false,
            current_size: 0,
            base_size: 0,
            buffer_length: 0,
            delayed_fsync: 0,
            fsyncs: 0,
        }
    }
}

/// The report of the persistence in force: the live AOF's (the dataset's
/// propagation log owns it) or, while the AOF is off, the offline
/// rewrites'. Call it under the dataset lock (`propagation` is the
/// dataset's).
pub fn report(server: &ServerState, propagation: &PropagationLog) -> PersistenceReport {
    let mut report = match propagation.aof() {
        Some(live) => live.aof.report(),
        None => server.offline_rewrite().report(),
    };
    report.loading = server.loading();
    report
}
