//! Fitting `maxclients` to the process's open-file limit, as Redis 7.0's
//! `adjustOpenFilesLimit` does at start-up.
//!
//! Every client is a file descriptor, and the server needs some more for
//! itself (listeners, the AOF, the runtime's poller, logs):
//! [`RESERVED_FDS`]. When `RLIMIT_NOFILE` is below `maxclients +
//! RESERVED_FDS`, the server first tries to raise it (stepping down by 16
//! until the kernel accepts, as Redis does), and if it cannot reach that,
//! lowers `maxclients` to what the limit allows, with Redis's warnings. So
//! a client beyond the limit is refused with `-ERR max number of clients
//! reached` rather than left hanging in the accept queue while `accept`
//! fails with `EMFILE`.
//!
//! Only Unix has such a limit; elsewhere this does nothing.

use crate::config::Config;

/// File descriptors kept for the server's own use (Redis's
/// `CONFIG_MIN_RESERVED_FDS`).
pub const RESERVED_FDS: u64 = 32;

/// Why the server cannot start with the open-file limit it has.
#[derive(Debug, thiserror::Error)]
#[error(
    "Your current 'ulimit -n' of {current} is not enough for the server to start. Please increase your open file limit to at least {needed}. Exiting."
)]
pub struct FdLimitError {
    /// The limit in force.
    pub current: u64,
    /// What `maxclients` needs.
    pub needed: u64,
}

/// Raises the open-file limit for `config.maxclients`, or lowers
/// `maxclients` to fit it (see the module docs).
#[cfg(unix)]
pub fn adjust_open_files_limit(config: &mut Config) -> Result<(), FdLimitError> {
    /// Redis lowers its attempt by this much after each refusal.
    const DECREMENT: u64 = 16;
    /// What Redis assumes when the limit cannot be read.
    const ASSUMED_LIMIT: u64 = 1024;

    let needed = u64::from(config.maxclients) + RESERVED_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        let err = std::io::Error::last_os_error();
        config.maxclients = (ASSUMED_LIMIT - RESERVED_FDS) as u32;
        tracing::warn!(
            "Unable to obtain the current NOFILE limit ({err}), assuming {ASSUMED_LIMIT} and setting the max clients configuration accordingly."
        );
        return Ok(());
    }
    // `rlim_t` is `u64` on 64-bit targets but narrower on some 32-bit ones.
    #[allow(clippy::useless_conversion)]
    let old = u64::from(limit.rlim_cur);
    if old >= needed {
        return Ok(());
    }
    let mut best = needed;
    let mut refusal = None;
    while best > old {
        let attempt = libc::rlimit {
            rlim_cur: best as libc::rlim_t,
            rlim_max: best as libc::rlim_t,
        };
        // SAFETY: `attempt` is a valid `rlimit`.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &attempt) } != -1 {
            break;
        }
        refusal = Some(std::io::Error::last_os_error());
        if best < DECREMENT {
            best = old;
            break;
        }
        best -= DECREMENT;
    }
    let best = best.max(old);
    if best >= needed {
        tracing::info!(
            "Increased maximum number of open files to {needed} (it was originally set to {old})."
        );
        return Ok(());
    }
    if best <= RESERVED_FDS {
        return Err(FdLimitError {
            current: old,
            needed,
        });
    }
    let requested = config.maxclients;
    config.maxclients = u32::try_from(best - RESERVED_FDS).unwrap_or(u32::MAX);
    let reason = refusal.map_or_else(|| "unknown".to_string(), |e| e.to_string());
    tracing::warn!(
        "You requested maxclients of {requested} requiring at least {needed} max file descriptors."
    );
    tracing::warn!(
        "Server can't set maximum open files to {needed} because of OS error: {reason}."
    );
    tracing::warn!(
        "Current maximum open files is {best}. maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
        config.maxclients
    );
    Ok(())
}

/// No open-file limit to fit outside Unix.
#[cfg(not(unix))]
pub fn adjust_open_files_limit(_config: &mut Config) -> Result<(), FdLimitError> {
    Ok(())
}
