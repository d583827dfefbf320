//! Checking and fixing an AOF, as `redis-check-aof` 7.0 does for a
//! single (old-style) AOF file.
//!
//! [`check`] reads the whole file with [`Replay`] and reports how much of it
//! is good; [`fix`] truncates the file to that good prefix after asking a
//! confirmation callback. Like `redis-check-aof` 7.0, `fix` truncates for a
//! damaged middle as well as for a cut-short end: everything from the first
//! bad record on is dropped, which the confirmation text makes explicit.
//!
//! The checker also applies `redis-check-aof`'s transaction rules: a `MULTI`
//! inside a `MULTI`, an `EXEC` without `MULTI`, and a `MULTI` whose `EXEC`
//! never came are errors, and the good prefix then ends *before* the open
//! `MULTI` (Redis never replays half a transaction).
//!
//! The `*_line` methods produce `redis-check-aof`'s own output lines so the
//! `redigo check-aof` command can print the same report.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use crate::error::{AofError, ReplayError};
use crate::replay::Replay;

/// The confirmation question `redis-check-aof --fix` asks after the
/// [`FixPlan::shrink_line`].
pub const CONTINUE_PROMPT: &str = "Continue? [y/N]: ";

/// What is wrong with an AOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckProblem {
    /// The last record is cut short.
    Truncated,
    /// A byte at `offset` is not what the format requires.
    Corrupt {
        /// Offset of the offending byte.
        offset: u64,
        /// What the format requires there.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A `MULTI` while a transaction was already open.
    UnexpectedMulti {
        /// Offset of the second `MULTI` record.
        offset: u64,
    },
    /// An `EXEC` with no open transaction.
    UnexpectedExec {
        /// Offset of the `EXEC` record.
        offset: u64,
    },
    /// The file ends inside a transaction.
    UnclosedMulti,
    /// The file has an RDB preamble, which Redigo does not read.
    RdbPreamble,
}

impl fmt::Display for CheckProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckProblem::Truncated => {
                f.write_str("Unexpected end of file: the last record is incomplete")
            }
            CheckProblem::Corrupt {
                offset,
                expected,
                found,
            } => write!(f, "0x{offset:>16x}: Expected {expected}, got: {found}"),
            CheckProblem::UnexpectedMulti { offset } => {
                write!(f, "0x{offset:>16x}: Unexpected MULTI")
            }
            CheckProblem::UnexpectedExec { offset } => {
                write!(f, "0x{offset:>16x}: Unexpected EXEC")
            }
            CheckProblem::UnclosedMulti => f.write_str("Reached EOF before reading EXEC for MULTI"),
            CheckProblem::RdbPreamble => {
                f.write_str("The AOF starts with an RDB preamble, which Redigo does not support")
            }
        }
    }
}

/// The result of checking one AOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The file's size.
    pub file_len: u64,
    /// Where the good prefix ends (`ok_up_to`); equals `file_len` when valid.
    pub valid_len: u64,
    /// The line the check stopped at, counted as `redis-check-aof` does
    /// (`ok_up_to_line`: 1 + the CRLF-terminated RESP lines read).
    pub line: u64,
    /// Complete commands in the good prefix.
    pub commands: u64,
    /// What is wrong, if anything.
    pub problem: Option<CheckProblem>,
}

impl CheckReport {
    /// Whether the whole file is a good AOF.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none() && self.valid_len == self.file_len
    }

    /// Bytes after the good prefix (`diff`).
    pub fn diff(&self) -> u64 {
        // `check_reader` callers pass the length; never underflow on a bad one.
        self.file_len.saturating_sub(self.valid_len)
    }

    /// Where the first bad record starts, if the file is not valid.
    pub fn first_bad_offset(&self) -> Option<u64> {
        (!self.is_valid()).then_some(self.valid_len)
    }

    /// `AOF analyzed: filename=..., size=..., ok_up_to=..., ok_up_to_line=..., diff=...`
    pub fn analyzed_line(&self, filename: &str) -> String {
        format!(
            "AOF analyzed: filename={filename}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
            self.file_len,
            self.valid_len,
            self.line,
            self.diff()
        )
    }

    /// The verdict line: `AOF <name> is valid`, `AOF <name> is empty`, or
    /// `AOF <name> is not valid. Use the --fix option to try fixing it.`
    pub fn verdict_line(&self, filename: &str) -> String {
        if self.file_len == 0 {
            format!("AOF {filename} is empty")
        } else if self.is_valid() {
            format!("AOF {filename} is valid")
        } else {
            format!("AOF {filename} is not valid. Use the --fix option to try fixing it.")
        }
    }

    /// Everything `redis-check-aof <file>` prints for this report, line by
    /// line (the problem line is Redigo's own wording of the problem).
    pub fn output_lines(&self, filename: &str) -> Vec<String> {
        let mut lines = vec![START_LINE.to_owned()];
        if self.file_len > 0 {
            if let Some(problem) = &self.problem {
                lines.push(problem.to_string());
            }
            lines.push(self.analyzed_line(filename));
        }
        lines.push(self.verdict_line(filename));
        lines
    }
}

/// The first line `redis-check-aof` prints for a single-file AOF.
pub const START_LINE: &str = "Start checking Old-Style AOF";

/// Checks the AOF at `path`.
pub fn check(path: impl AsRef<Path>) -> Result<CheckReport, AofError> {
    let path = path.as_ref();
    let open_err = |source| AofError::Open {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    let file_len = file.metadata().map_err(open_err)?.len();
    check_reader(file, file_len).map_err(|source| AofError::Replay {
        path: path.to_owned(),
        source,
    })
}

/// Checks an AOF of `file_len` bytes read from `reader`. Only I/O errors are
/// returned as errors; format problems are in the report.
pub fn check_reader<R: Read>(reader: R, file_len: u64) -> Result<CheckReport, ReplayError> {
    let mut replay = Replay::new(reader);
    // The open MULTI's offset and the commands before it: the good prefix
    // cannot end inside a transaction.
    let mut open_multi: Option<(u64, u64)> = None;
    let mut problem = None;
    // Where the good prefix ends and how many commands it holds, once known.
    let mut stop: Option<(u64, u64)> = None;
    while let Some(item) = replay.next() {
        match item {
            Ok(entry) => {
                let name = entry.args.first().map(|a| &a[..]).unwrap_or_default();
                let before = replay.commands() - 1;
                if name.eq_ignore_ascii_case(b"MULTI") {
                    if open_multi.is_some() {
                        problem = Some(CheckProblem::UnexpectedMulti {
                            offset: entry.offset,
                        });
                        break;
                    }
                    open_multi = Some((entry.offset, before));
                } else if name.eq_ignore_ascii_case(b"EXEC") && open_multi.take().is_none() {
                    problem = Some(CheckProblem::UnexpectedExec {
                        offset: entry.offset,
                    });
                    stop = Some((entry.offset, before));
                    break;
                }
            }
            Err(err) => {
                let at = match err {
                    ReplayError::Truncated { valid_len, .. } => {
                        problem = Some(CheckProblem::Truncated);
                        valid_len
                    }
                    ReplayError::Corrupt {
                        offset,
                        record_start,
                        expected,
                        found,
                    } => {
                        problem = Some(CheckProblem::Corrupt {
                            offset,
                            expected,
                            found,
                        });
                        record_start
                    }
                    ReplayError::RdbPreamble => {
                        problem = Some(CheckProblem::RdbPreamble);
                        0
                    }
                    io @ ReplayError::Io { .. } => return Err(io),
                };
                stop = Some((at, replay.commands()));
            }
        }
    }
    let (mut valid_len, mut commands) = stop.unwrap_or((replay.valid_len(), replay.commands()));
    if let Some((multi_start, before)) = open_multi {
        // An unfinished transaction is dropped whole.
        valid_len = multi_start;
        commands = before;
        problem.get_or_insert(CheckProblem::UnclosedMulti);
    }
    Ok(CheckReport {
        file_len,
        valid_len,
        line: 1 + replay.crlfs(),
        commands,
        problem,
    })
}

/// What [`fix`] is about to do, shown to the user before it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixPlan {
    /// The file's size now.
    pub file_len: u64,
    /// Bytes that will be removed.
    pub removed: u64,
    /// The size after the fix.
    pub new_len: u64,
}

impl FixPlan {
    /// `This will shrink the AOF <name> from X bytes, with Y bytes, to Z bytes`
    pub fn shrink_line(&self, filename: &str) -> String {
        format!(
            "This will shrink the AOF {filename} from {} bytes, with {} bytes, to {} bytes",
            self.file_len, self.removed, self.new_len
        )
    }
}

/// What [`fix`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixOutcome {
    /// Nothing to fix.
    AlreadyValid(CheckReport),
    /// The file was cut to its good prefix (`Successfully truncated AOF <name>`).
    Truncated {
        /// The check that found the problem.
        report: CheckReport,
        /// What was done.
        plan: FixPlan,
    },
    /// The confirmation callback said no (`Aborting...`).
    Declined(CheckReport),
}

impl FixOutcome {
    /// The last line `redis-check-aof --fix` prints for this outcome.
    pub fn result_line(&self, filename: &str) -> String {
        match self {
            FixOutcome::AlreadyValid(report) => report.verdict_line(filename),
            FixOutcome::Truncated { .. } => format!("Successfully truncated AOF {filename}"),
            FixOutcome::Declined(_) => "Aborting...".to_owned(),
        }
    }
}

/// Checks the AOF at `path` and, if it is not valid, truncates it to its good
/// prefix once `confirm` (shown the plan) returns true. The truncation is
/// fsynced.
///
/// A file with an RDB preamble cannot be fixed this way: truncating it to
/// nothing would lose all data, so that is an [`AofError::Unfixable`].
pub fn fix(
    path: impl AsRef<Path>,
    confirm: impl FnOnce(&FixPlan) -> bool,
) -> Result<FixOutcome, AofError> {
    let path = path.as_ref();
    let report = check(path)?;
    if report.is_valid() {
        return Ok(FixOutcome::AlreadyValid(report));
    }
    if report.problem == Some(CheckProblem::RdbPreamble) {
        return Err(AofError::Unfixable {
            path: path.to_owned(),
            reason: CheckProblem::RdbPreamble.to_string(),
        });
    }
    let plan = FixPlan {
        file_len: report.file_len,
        removed: report.diff(),
        new_len: report.valid_len,
    };
    if !confirm(&plan) {
        return Ok(FixOutcome::Declined(report));
    }
    truncate_to(path, plan.new_len)?;
    Ok(FixOutcome::Truncated { report, plan })
}

/// Cuts the file at `path` to `len` bytes and fsyncs it: what [`fix`] does
/// once confirmed, and what the server does when it loads a truncated AOF
/// under `aof-load-truncated yes` (cutting at
/// [`ReplayError::Truncated::valid_len`](crate::ReplayError)).
pub fn truncate_to(path: impl AsRef<Path>, len: u64) -> Result<(), AofError> {
    let path = path.as_ref();
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| AofError::Open {
            path: path.to_owned(),
            source,
        })?;
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|source| AofError::Truncate {
            path: path.to_owned(),
            len,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(aof: &[u8]) -> CheckReport {
        check_reader(aof, aof.len() as u64).unwrap()
    }

    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n";
    const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
    const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

    #[test]
    fn a_valid_file_is_valid() {
        let aof = [SET, MULTI, SET, EXEC].concat();
        let r = report(&aof);
        assert!(r.is_valid(), "{r:?}");
        assert_eq!(
            (r.valid_len, r.commands, r.diff()),
            (aof.len() as u64, 4, 0)
        );
        assert_eq!(r.verdict_line("x.aof"), "AOF x.aof is valid");
    }

    #[test]
    fn an_unclosed_multi_is_cut_before_the_multi() {
        let aof = [SET, MULTI, SET].concat();
        let r = report(&aof);
        assert_eq!(r.problem, Some(CheckProblem::UnclosedMulti));
        assert_eq!((r.valid_len, r.commands), (SET.len() as u64, 1));
        assert_eq!(r.first_bad_offset(), Some(SET.len() as u64));
    }

    #[test]
    fn transaction_nesting_errors_are_reported() {
        let r = report(&[SET, EXEC, SET].concat());
        assert_eq!(
            r.problem,
            Some(CheckProblem::UnexpectedExec {
                offset: SET.len() as u64
            })
        );
        assert_eq!((r.valid_len, r.commands), (SET.len() as u64, 1));

        let r = report(&[MULTI, SET, MULTI].concat());
        let second = (MULTI.len() + SET.len()) as u64;
        assert_eq!(
            r.problem,
            Some(CheckProblem::UnexpectedMulti { offset: second })
        );
        assert_eq!((r.valid_len, r.commands), (0, 0));
    }

    #[test]
    fn a_truncated_record_inside_a_transaction_drops_the_transaction() {
        let aof = [SET, MULTI, SET, &EXEC[..5]].concat();
        let r = report(&aof);
        assert_eq!(r.problem, Some(CheckProblem::Truncated));
        assert_eq!((r.valid_len, r.commands), (SET.len() as u64, 1));
    }

    #[test]
    fn output_lines_follow_redis_check_aof() {
        let aof = [SET, &SET[..7]].concat();
        let r = report(&aof);
        let lines = r.output_lines("t.aof");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], START_LINE);
        assert_eq!(lines[1], CheckProblem::Truncated.to_string());
        assert_eq!(
            lines[2],
            format!(
                "AOF analyzed: filename=t.aof, size={}, ok_up_to={}, ok_up_to_line=9, diff=7",
                aof.len(),
                SET.len()
            )
        );
        assert_eq!(
            lines[3],
            "AOF t.aof is not valid. Use the --fix option to try fixing it."
        );
        assert_eq!(
            report(b"").output_lines("e.aof"),
            [START_LINE, "AOF e.aof is empty"]
        );
    }

    #[test]
    fn fix_asks_first_and_refuses_rdb_preambles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.aof");
        std::fs::write(&path, [SET, &SET[..10]].concat()).unwrap();
        let declined = fix(&path, |plan| {
            assert_eq!((plan.new_len, plan.removed), (SET.len() as u64, 10));
            false
        })
        .unwrap();
        assert!(matches!(declined, FixOutcome::Declined(_)));
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            SET.len() as u64 + 10
        );
        assert!(matches!(
            fix(&path, |_| true).unwrap(),
            FixOutcome::Truncated { .. }
        ));
        assert_eq!(std::fs::read(&path).unwrap(), SET);
        assert!(matches!(
            fix(&path, |_| panic!("nothing to ask")).unwrap(),
            FixOutcome::AlreadyValid(_)
        ));

        std::fs::write(&path, b"REDIS0010\xfa").unwrap();
        assert!(matches!(
            fix(&path, |_| true),
            Err(AofError::Unfixable { .. })
        ));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 10);
    }

    #[test]
    fn empty_files_are_reported_as_empty() {
        let r = report(b"");
        assert!(r.is_valid());
        assert_eq!(r.verdict_line("e.aof"), "AOF e.aof is empty");
    }
}
