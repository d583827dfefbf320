//! `redigo check-aof [--fix] [--yes] <file>`: `redis-check-aof` for Redigo's
//! single-file AOF.
//!
//! The output lines and exit codes are `redis-check-aof` 7.0's: 0 for a
//! valid (or successfully fixed) file, 1 otherwise. `--fix` truncates the
//! file to its good prefix after asking on standard input (the same
//! `Continue? [y/N]: ` question), unless `--yes` is given.

use std::io::{BufRead, Write};
use std::path::Path;

use redigo_aof::{AofError, CONTINUE_PROMPT, FixOutcome, check, fix};

/// The subcommand's name on the `redigo` command line.
pub const SUBCOMMAND: &str = "check-aof";

/// The usage line, printed for bad arguments.
pub const USAGE: &str = "Usage: redigo check-aof [--fix] [--yes] <file.aof>";

/// Exit code of a valid or repaired file.
const EXIT_OK: i32 = 0;
/// Exit code of a damaged file, a declined fix or bad usage.
const EXIT_FAILURE: i32 = 1;

/// Runs the subcommand with `args` (after `check-aof`); answers come from
/// `input`. Returns the exit code.
pub fn run(args: &[String], input: &mut dyn BufRead, out: &mut dyn Write) -> i32 {
    let mut fix_requested = false;
    let mut assume_yes = false;
    let mut files = Vec::new();
    let mut bad_usage = false;
    for arg in args {
        match arg.as_str() {
            "--fix" => fix_requested = true,
            "--yes" | "-y" => assume_yes = true,
            other if other.starts_with('-') => bad_usage = true,
            other => files.push(other),
        }
    }
    let file = match files.as_slice() {
        [file] if !bad_usage => *file,
        _ => {
            let _ = writeln!(out, "{USAGE}");
            return EXIT_FAILURE;
        }
    };
    {}
    match check_file(file, fix_requested, assume_yes, input, out) {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(out, "{}", describe(file, &err));
            EXIT_FAILURE
        }
    }
}

fn describe(file: &str, err: &AofError) -> String {
    match err {
        AofError::Open { source, .. } => {
            format!(
                "Cannot open file {file}: {}",
                redigo_aof::os_error_text(source)
            )
        }
        other => other.to_string(),
    }
}

fn check_file(
    file: &str,
    fix_requested: bool,
    assume_yes: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<i32, AofError> {
    let path = Path::new(file);
    let report = check(path)?;
    let mut lines = report.output_lines(file);
    if report.is_valid() || report.file_len == 0 || !fix_requested {
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        return Ok(if report.is_valid() || report.file_len == 0 {
            EXIT_OK
        } else {
            EXIT_FAILURE
        });
    }
    // Everything but the verdict, then the question.
    lines.pop();
    for line in &lines {
        let _ = writeln!(out, "{line}");
    }
    let outcome = fix(path, |plan| {
        let _ = writeln!(out, "{}", plan.shrink_line(file));
        let _ = write!(out, "{CONTINUE_PROMPT}");
        let _ = out.flush();
        if assume_yes {
            return true;
        }
        let mut answer = String::new();
        input.read_line(&mut answer).is_ok() && answer.trim_start().starts_with(['y', 'Y'])
    })?;
    let _ = writeln!(out, "{}", outcome.result_line(file));
    Ok(match outcome {
        FixOutcome::Truncated { .. } | FixOutcome::AlreadyValid(_) => EXIT_OK,
        FixOutcome::Declined(_) => EXIT_FAILURE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SELECT: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n";
    const CUT: &[u8] = b"*3\r\n$3\r\nSET\r\n$1";

    fn run_on(file: &Path, args: &[&str], answer: &str) -> (i32, String) {
        let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        argv.push(file.display().to_string());
        let mut out = Vec::new();
        let code = run(&argv, &mut answer.as_bytes(), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn reports_fixes_after_confirmation_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.aof");
        std::fs::write(&path, [SELECT, SET, CUT].concat()).unwrap();
        let name = path.display().to_string();

        let (code, out) = run_on(&path, &[], "");
        assert_eq!(code, 1);
        assert!(out.starts_with("Start checking Old-Style AOF\n"), "{out}");
        assert!(
            out.contains(&format!(
                "AOF analyzed: filename={name}, size=65, ok_up_to=50, ok_up_to_line=16, diff=15"
            )),
            "{out}"
        );
        assert!(out.ends_with(&format!(
            "AOF {name} is not valid. Use the --fix option to try fixing it.\n"
        )));

        let (code, out) = run_on(&path, &["--fix"], "n\n");
        assert_eq!(code, 1);
        assert!(out.ends_with("Continue? [y/N]: Aborting...\n"), "{out}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 65);

        let (code, out) = run_on(&path, &["--fix"], "y\n");
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(&format!(
            "This will shrink the AOF {name} from 65 bytes, with 15 bytes, to 50 bytes\n"
        )));
        assert!(out.ends_with(&format!(
            "Continue? [y/N]: Successfully truncated AOF {name}\n"
        )));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 50);

        let (code, out) = run_on(&path, &[], "");
        assert_eq!(code, 0);
        assert!(out.ends_with(&format!("AOF {name} is valid\n")), "{out}");
    }

    #[test]
    fn yes_skips_the_question() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.aof");
        std::fs::write(&path, [SET, CUT].concat()).unwrap();
        let (code, _) = run_on(&path, &["--fix", "--yes"], "");
        assert_eq!(code, 0);
        assert_eq!(std::fs::read(&path).unwrap(), SET);
    }

    #[test]
    fn bad_usage_and_missing_files_fail() {
        let mut out = Vec::new();
        assert_eq!(run(&[], &mut &b""[..], &mut out), 1);
        assert_eq!(String::from_utf8(out).unwrap(), format!("{USAGE}\n"));
        let mut out = Vec::new();
        let code = run(&["/nonexistent/x.aof".to_string()], &mut &b""[..], &mut out);
        assert_eq!(code, 1);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("Cannot open file /nonexistent/x.aof: "),
            "{out}"
        );
        #[cfg(unix)]
        assert_eq!(
            out,
            "Cannot open file /nonexistent/x.aof: No such file or directory\n"
        );
    }
}
