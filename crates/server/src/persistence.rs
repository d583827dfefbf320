//! The persistence status `INFO persistence` reports. The AOF writer owns
//! the values; until it is wired in they keep Redis's idle defaults.

/// Fields of `INFO persistence` about the AOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistenceStatus {
    /// Whether the dataset is being loaded.
    pub loading: bool,
    /// Whether an AOF rewrite runs.
    pub aof_rewrite_in_progress: bool,
    /// Whether a rewrite is scheduled.
    pub aof_rewrite_scheduled: bool,
    /// Duration of the last rewrite in seconds, -1 if none.
    pub aof_last_rewrite_time_sec: i64,
    /// Duration of the running rewrite in seconds, -1 if none.
    pub aof_current_rewrite_time_sec: i64,
    /// `ok` or `err`.
    pub aof_last_bgrewrite_status: &'static str,
    /// `ok` or `err`.
    pub aof_last_write_status: &'static str,
    /// Number of AOF rewrites since start.
    pub aof_rewrites: u64,
    /// `aof_rewrites_consecutive_failures`.
    pub aof_rewrites_consecutive_failures: u64,
}

impl Default for PersistenceStatus {
    fn default() -> PersistenceStatus {
        PersistenceStatus {
            loading: false,
            aof_rewrite_in_progress: false,
            aof_rewrite_scheduled: false,
            aof_last_rewrite_time_sec: -1,
            aof_current_rewrite_time_sec: -1,
            aof_last_bgrewrite_status: "ok",
            aof_last_write_status: "ok",
            aof_rewrites: 0,
            aof_rewrites_consecutive_failures: 0,
        }
    }
}
