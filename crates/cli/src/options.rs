//! Command-line options, spelled as redis-cli spells them.
//!
//! redis-cli's options are single-dash letters (`-h` is the *host*, not
//! help) and everything from the first positional argument on is the command
//! to send, even words that look like options: `redigo-cli incrby k -5` and
//! `redigo-cli get -p` send those words to the server. clap is configured
//! for that (`trailing_var_arg` + `allow_hyphen_values`, no `-h` help flag).
//!
//! [`Options`] is the parsed command line; [`crate::Settings::resolve`]
//! combines it with the environment and the `-u` URL.

use std::ffi::OsString;

use clap::{ArgAction, Parser};

/// redis-cli's default host.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// redis-cli's default port.
pub const DEFAULT_PORT: u16 = 6379;
/// Seconds `--pipe` waits for replies after the input ended (redis-cli's default).
pub const DEFAULT_PIPE_TIMEOUT_SECS: u64 = 30;

/// The parsed command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "redigo-cli",
    version,
    about = "Command-line client for Redigo and Redis (redis-cli compatible)",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    after_help = "Examples:\n  cat /etc/passwd | redigo-cli -x set mypasswd\n  redigo-cli -r 100 lpush mylist x\n  redigo-cli -r 100 -i 1 info | grep used_memory_human:\n  redigo-cli --pipe < commands.resp\n\nWhen no command is given, redigo-cli starts in interactive mode\n(or reads one command per line when stdin is not a terminal)."
)]
pub struct Options {
    /// Server hostname (default: 127.0.0.1).
    #[arg(short = 'h', value_name = "hostname")]
    pub host: Option<String>,

    /// Server port (default: 6379).
    #[arg(short = 'p', value_name = "port")]
    pub port: Option<u16>,

    /// Server socket (overrides hostname and port).
    #[arg(short = 's', value_name = "socket")]
    pub socket: Option<std::path::PathBuf>,

    /// Password to use when connecting to the server (the REDIGOCLI_AUTH
    /// environment variable is safer; this argument takes precedence).
    #[arg(short = 'a', long = "pass", value_name = "password")]
    pub password: Option<OsString>,

    /// Used to send ACL style 'AUTH username pass'. Needs -a.
    #[arg(long = "user", value_name = "username")]
    pub user: Option<OsString>,

    /// Server URI, e.g. redis://user:password@host:port/db (all parts optional).
    #[arg(short = 'u', value_name = "uri")]
    pub uri: Option<String>,

    /// Execute the command N times (-1: forever).
    #[arg(short = 'r', value_name = "repeat", allow_negative_numbers = true)]
    pub repeat: Option<i64>,

    /// When -r is used, wait this many seconds (may be fractional) after each command.
    #[arg(short = 'i', value_name = "interval")]
    pub interval: Option<f64>,

    /// Database number.
    #[arg(short = 'n', value_name = "db", allow_negative_numbers = true)]
    pub db: Option<i64>,

    /// Read the last argument from stdin.
    #[arg(short = 'x')]
    pub last_arg_from_stdin: bool,

    /// Delimiter between response bulks for raw formatting (default: \n).
    #[arg(short = 'd', value_name = "delimiter")]
    pub bulk_delimiter: Option<String>,

    /// Delimiter between responses for raw formatting (default: \n).
    #[arg(short = 'D', value_name = "delimiter")]
    pub reply_delimiter: Option<String>,

    /// Return exit error code when command execution fails.
    #[arg(short = 'e')]
    pub error_exit_code: bool,

    /// Use raw formatting for replies (default when stdout is not a tty).
    #[arg(long = "raw", overrides_with_all = ["no_raw", "csv"])]
    pub raw: bool,

    /// Force formatted output even when stdout is not a tty.
    #[arg(long = "no-raw", overrides_with_all = ["raw", "csv"])]
    pub no_raw: bool,

    /// Output in CSV format.
    #[arg(long = "csv", overrides_with_all = ["raw", "no_raw"])]
    pub csv: bool,

    /// Transfer raw Redis protocol from stdin to the server.
    #[arg(long = "pipe")]
    pub pipe: bool,

    /// In --pipe mode, give up when no reply arrives for this many seconds after
    /// all data was sent (0: wait forever).
    #[arg(long = "pipe-timeout", value_name = "n", default_value_t = DEFAULT_PIPE_TIMEOUT_SECS)]
    pub pipe_timeout: u64,

    /// List all keys using the SCAN command.
    #[arg(long = "scan")]
    pub scan: bool,

    /// Keys pattern when using --scan (default: *).
    #[arg(long = "pattern", value_name = "pat")]
    pub pattern: Option<OsString>,

    /// Don't show the warning about passwords on the command line.
    #[arg(long = "no-auth-warning")]
    pub no_auth_warning: bool,

    /// Output this help and exit.
    #[arg(long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Output version and exit.
    #[arg(long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,

    /// The command and its arguments; none starts the interactive mode.
    #[arg(
        value_name = "cmd [arg [arg ...]]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

/// The bytes of a command-line argument: arguments are binary-safe on Unix;
/// elsewhere they are converted lossily from UTF-16.
pub fn os_bytes(arg: &OsString) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        arg.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        arg.to_string_lossy().into_owned().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        Options::try_parse_from(std::iter::once("redigo-cli").chain(args.iter().copied()))
            .expect("valid options")
    }

    #[test]
    fn single_dash_letters() {
        let options = parse(&["-h", "example", "-p", "7000", "-n", "2", "-a", "pw", "ping"]);
        assert_eq!(options.host.as_deref(), Some("example"));
        assert_eq!(options.port, Some(7000));
        assert_eq!(options.db, Some(2));
        assert_eq!(options.password, Some("pw".into()));
        assert_eq!(options.command, ["ping"]);
    }

    #[test]
    fn words_after_the_command_are_not_options() {
        let options = parse(&["-r", "-1", "incrby", "k", "-5", "-p", "--raw"]);
        assert_eq!(options.repeat, Some(-1));
        assert_eq!(options.command, ["incrby", "k", "-5", "-p", "--raw"]);
        assert!(!options.raw);
    }

    #[test]
    fn the_last_output_option_wins() {
        let options = parse(&["--raw", "--csv"]);
        assert!(options.csv && !options.raw);
        let options = parse(&["--csv", "--no-raw"]);
        assert!(options.no_raw && !options.csv);
        let options = parse(&["--raw", "--no-raw"]);
        assert!(options.no_raw && !options.raw);
        let options = parse(&["--no-raw", "--raw"]);
        assert!(options.raw && !options.no_raw);
    }

    #[test]
    fn fractional_interval() {
        assert_eq!(parse(&["-i", "0.01"]).interval, Some(0.01));
    }
}
