//! The effective configuration: command-line [`Options`], the `-u` URL and
//! the environment, resolved once at startup.
//!
//! Precedence: explicit `-h`/`-p`/`-n`/`-a`/`--user` override what the URL
//! says (redis-cli applies options left to right instead; the difference
//! only shows when both name the same setting), and `-a` or the URL password
//! override `REDIGOCLI_AUTH` (as `REDISCLI_AUTH` for redis-cli).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::format::{OutputMode, RawDelimiters};
use crate::options::{DEFAULT_HOST, DEFAULT_PORT, Options, os_bytes};
use crate::transport::Endpoint;
use crate::uri::{self, UriError};

/// Why the command line cannot be used; the messages are redis-cli's.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `-u` with a malformed URI.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// A word starting with `-` where the command should begin: an option
    /// this client does not know (no command name starts with `-`).
    #[error("Unrecognized option or bad number of args for: '{0}'")]
    UnrecognizedOption(String),
}

/// The environment variable holding the password (redis-cli: `REDISCLI_AUTH`).
pub const AUTH_ENV: &str = "REDIGOCLI_AUTH";
/// Set (to anything) to format as on a terminal even when stdout is not one
/// (redis-cli: `FAKETTY`).
pub const FAKE_TTY_ENV: &str = "FAKETTY";
/// The warning printed to stderr when a password is given on the command line.
pub const PASSWORD_WARNING: &str = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.";

/// Everything the client needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Host to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Unix socket path (`-s`), used instead of host and port.
    pub socket: Option<PathBuf>,
    /// ACL user name for `AUTH user password`.
    pub user: Option<Vec<u8>>,
    /// Password for `AUTH`.
    pub password: Option<Vec<u8>>,
    /// Database to `SELECT` after connecting.
    pub db: i64,
    /// How many times to send a one-shot command; negative: forever.
    pub repeat: i64,
    /// Pause after each command of a one-shot repetition.
    pub interval: Duration,
    /// How replies are printed.
    pub output: OutputMode,
    /// `-d` and `-D`.
    pub delimiters: RawDelimiters,
    /// `-x`: append stdin as the last argument.
    pub last_arg_from_stdin: bool,
    /// `-e`: a one-shot error reply goes to stderr and exits 1.
    pub error_exit_code: bool,
    /// `--pipe` mass insertion.
    pub pipe: bool,
    /// `--scan`: list keys.
    pub scan: bool,
    /// `--pattern` for `--scan`.
    pub pattern: Option<Vec<u8>>,
    /// `--pipe-timeout`; `None` waits forever.
    pub pipe_timeout: Option<Duration>,
    /// Whether to print [`PASSWORD_WARNING`].
    pub warn_about_password: bool,
    /// The command to send; empty for the interactive or scripted mode.
    pub command: Vec<Vec<u8>>,
}

impl Settings {
    /// Combines `options` with the environment (`env` looks a variable up)
    /// and whether stdout is a terminal.
    pub fn resolve(
        options: Options,
        env: impl Fn(&str) -> Option<OsString>,
        stdout_is_terminal: bool,
    ) -> Result<Settings, SettingsError> {
        if let Some(first) = options.command.first() {
            if os_bytes(first).starts_with(b"-") {
                return Err(SettingsError::UnrecognizedOption(
                    first.to_string_lossy().into_owned(),
                ));
            }
        }
        let from_uri = match &options.uri {
            Some(text) => uri::parse(text)?,
            None => uri::RedisUri::default(),
        };
        let command_line_password = options
            .password
            .as_ref()
            .map(os_bytes)
            .or(from_uri.password);
        let warn_about_password = command_line_password.is_some() && !options.no_auth_warning;
        let password = command_line_password.or_else(|| {
            env(AUTH_ENV)
                .filter(|v| !v.is_empty())
                .map(|v| os_bytes(&v))
        });

        let terminal_like = stdout_is_terminal || env(FAKE_TTY_ENV).is_some();
        let output = if options.csv {
            OutputMode::Csv
        } else if options.raw {
            OutputMode::Raw
        } else if options.no_raw || terminal_like {
            OutputMode::Standard
        } else {
            OutputMode::Raw
        };
        let mut delimiters = RawDelimiters::default();
        if let Some(d) = options.bulk_delimiter {
            delimiters.between_elements = d.into_bytes();
        }
        if let Some(d) = options.reply_delimiter {
            delimiters.after_reply = d.into_bytes();
        }
        let interval = options
            .interval
            .filter(|secs| *secs > 0.0)
            // NaN is filtered above; an absurdly long pause is just long.
            .map(|secs| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
            .unwrap_or_default();

        Ok(Settings {
            host: options
                .host
                .or(from_uri.host)
                .unwrap_or_else(|| DEFAULT_HOST.to_owned()),
            port: options.port.or(from_uri.port).unwrap_or(DEFAULT_PORT),
            socket: options.socket,
            user: options.user.as_ref().map(os_bytes).or(from_uri.user),
            password,
            db: options.db.or(from_uri.db).unwrap_or(0),
            repeat: options.repeat.unwrap_or(1),
            interval,
            output,
            delimiters,
            last_arg_from_stdin: options.last_arg_from_stdin,
            error_exit_code: options.error_exit_code,
            pipe: options.pipe,
            scan: options.scan,
            pattern: options.pattern.as_ref().map(os_bytes),
            pipe_timeout: (options.pipe_timeout > 0)
                .then(|| Duration::from_secs(options.pipe_timeout)),
            warn_about_password,
            command: options.command.iter().map(os_bytes).collect(),
        })
    }

    /// Where to connect: the socket if given, else host and port.
    pub fn endpoint(&self) -> Endpoint {
        match &self.socket {
            Some(path) => Endpoint::UnixSocket(path.clone()),
            None => Endpoint::Tcp {
                host: self.host.clone(),
                port: self.port,
            },
        }
    }

    /// The server as redis-cli names it in messages: `host:port` (IPv6
    /// addresses in brackets) or the socket path.
    pub fn address(&self) -> String {
        self.endpoint().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolve(args: &[&str], auth_env: Option<&str>, tty: bool) -> Settings {
        let options =
            Options::try_parse_from(std::iter::once("redigo-cli").chain(args.iter().copied()))
                .expect("valid options");
        Settings::resolve(
            options,
            |name| {
                (name == AUTH_ENV)
                    .then(|| auth_env.map(OsString::from))
                    .flatten()
            },
            tty,
        )
        .expect("valid settings")
    }

    #[test]
    fn defaults_follow_the_terminal() {
        let on_tty = resolve(&[], None, true);
        assert_eq!(on_tty.output, OutputMode::Standard);
        assert_eq!(on_tty.address(), "127.0.0.1:6379");
        assert_eq!((on_tty.db, on_tty.repeat), (0, 1));
        assert_eq!(resolve(&[], None, false).output, OutputMode::Raw);
        assert_eq!(
            resolve(&["--no-raw"], None, false).output,
            OutputMode::Standard
        );
        assert_eq!(resolve(&["--raw"], None, true).output, OutputMode::Raw);
    }

    #[test]
    fn password_sources_and_warning() {
        let from_env = resolve(&[], Some("envpw"), true);
        assert_eq!(from_env.password.as_deref(), Some(&b"envpw"[..]));
        assert!(!from_env.warn_about_password);
        let from_flag = resolve(&["-a", "flagpw"], Some("envpw"), true);
        assert_eq!(from_flag.password.as_deref(), Some(&b"flagpw"[..]));
        assert!(from_flag.warn_about_password);
        assert!(!resolve(&["-a", "x", "--no-auth-warning"], None, true).warn_about_password);
        let from_uri = resolve(&["-u", "redis://u:p@h:1/4"], None, true);
        assert!(from_uri.warn_about_password);
        assert_eq!((from_uri.address(), from_uri.db), ("h:1".to_owned(), 4));
        assert_eq!(from_uri.user.as_deref(), Some(&b"u"[..]));
    }

    #[test]
    fn explicit_options_override_the_uri() {
        let settings = resolve(&["-u", "redis://h:1/4", "-p", "2", "-n", "5"], None, true);
        assert_eq!((settings.address(), settings.db), ("h:2".to_owned(), 5));
    }

    #[test]
    fn unknown_options_are_refused() {
        let options = Options::try_parse_from(["redigo-cli", "-z", "ping"]).expect("parses");
        let error = Settings::resolve(options, |_| None, true).expect_err("-z is unknown");
        assert_eq!(
            error.to_string(),
            "Unrecognized option or bad number of args for: '-z'"
        );
    }

    #[test]
    fn intervals_never_panic() {
        assert_eq!(
            resolve(&["-i", "0.5"], None, true).interval,
            Duration::from_millis(500)
        );
        assert_eq!(resolve(&["-i", "-1"], None, true).interval, Duration::ZERO);
        assert_eq!(resolve(&["-i", "NaN"], None, true).interval, Duration::ZERO);
        assert_eq!(
            resolve(&["-i", "1e300"], None, true).interval,
            Duration::MAX
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(resolve(&["-h", "::1"], None, true).address(), "[::1]:6379");
    }
}
