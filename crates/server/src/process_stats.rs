//! What the operating system knows about this process: resident memory and
//! CPU time, for `INFO memory` and `INFO cpu`. Read from `/proc` on Linux;
//! elsewhere the values are reported as 0.

/// CPU time used by the process, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTimes {
    /// Kernel time.
    pub system: f64,
    /// User time.
    pub user: f64,
}

/// Resident set size in bytes (0 where unknown).
pub fn rss_bytes() -> u64 {
    imp::rss_bytes()
}

/// CPU time used so far (zero where unknown).
pub fn cpu_times() -> CpuTimes {
    imp::cpu_times()
}

/// The OS description for `INFO server` (`os:`), like Redis's uname line.
pub fn os_description() -> String {
    imp::os_description()
}

#[cfg(target_os = "linux")]
mod imp {
    use super::CpuTimes;

    /// Page size assumed for `/proc/self/statm` (4 KiB on every Linux target
    /// Redigo builds for that does not need libc to ask).
    const PAGE_SIZE: u64 = 4096;
    /// `USER_HZ`: the unit of `/proc/self/stat` times, 100 on Linux.
    const CLOCK_TICKS_PER_SEC: f64 = 100.0;
    /// Fields of `/proc/self/stat` after the `(comm)` field: utime is the
    /// 14th field overall, the 12th after `comm`'s closing parenthesis.
    const UTIME_AFTER_COMM: usize = 11;

    pub fn rss_bytes() -> u64 {
        std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * PAGE_SIZE)
    }

    pub fn cpu_times() -> CpuTimes {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return CpuTimes::default();
        };
        // The command name may contain spaces; fields restart after ')'.
        let Some(after_comm) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return CpuTimes::default();
        };
        let mut fields = after_comm.split_whitespace().skip(UTIME_AFTER_COMM);
        let mut next = || {
            fields
                .next()
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
                / CLOCK_TICKS_PER_SEC
        };
        let user = next();
        let system = next();
        CpuTimes { system, user }
    }

    pub fn os_description() -> String {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        format!("Linux {} {}", release.trim(), std::env::consts::ARCH)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::CpuTimes;

    pub fn rss_bytes() -> u64 {
        0
    }

    pub fn cpu_times() -> CpuTimes {
        CpuTimes::default()
    }

    pub fn os_description() -> String {
        format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn linux_reports_a_resident_size_and_some_cpu() {
        assert!(super::rss_bytes() > 0);
        let mut spin = 0u64;
        for i in 0..2_000_000u64 {
            spin = spin.wrapping_add(i * i);
        }
        assert!(spin > 0);
        let times = super::cpu_times();
        assert!(times.user >= 0.0 && times.system >= 0.0);
        assert!(super::os_description().starts_with("Linux "));
    }
}
