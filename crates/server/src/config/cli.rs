//! The command line: `redigo [--config FILE] [--<parameter> VALUE]...`.
//!
//! Every parameter of [`PARAMS`] is a `--flag`; flags override the file,
//! which overrides the defaults. Boolean flags may be bare (`--aof-enabled`
//! means yes) or given a value with `=` (`--aof-enabled=false`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use super::params::PARAMS;
use super::{Config, ConfigError, SetError};

const CONFIG_FLAG: &str = "config";

/// What the command line asks for.
#[derive(Debug)]
pub enum CliOutcome {
    /// Run the server with this configuration.
    Run {
        /// The merged configuration.
        config: Box<Config>,
        /// The file it was read from, if any (`INFO server` reports it).
        config_file: Option<PathBuf>,
    },
    /// Print this (help, version or a usage error) and exit with `code`.
    Exit {
        /// What to print.
        message: String,
        /// The exit code: 0 for help and version.
        code: i32,
    },
}

fn command() -> Command {
    let mut cmd = Command::new("redigo")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A Redis-compatible in-memory key/value server (follows Redis 7.0)")
        .after_help(
            "Every option can also be set in the TOML config file, under the same name.\n\n\
             To check or repair an append-only file instead of serving:\n  \
             redigo check-aof [--fix] [--yes] <file.aof>",
        )
        .arg(
            Arg::new(CONFIG_FLAG)
                .long(CONFIG_FLAG)
                .short('c')
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("TOML configuration file (defaults apply without one)"),
        );
    for param in PARAMS {
        let mut arg = Arg::new(param.name)
            .long(param.name)
            .help(param.help)
            .action(ArgAction::Set);
        if param.boolean {
            arg = arg
                .value_name("yes|no")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("yes");
        } else {
            arg = arg.value_name("VALUE").allow_hyphen_values(true);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Parses `args` (program name first), reads the config file if one is
/// given and applies the overrides.
pub fn parse_command_line<I, T>(args: I) -> Result<CliOutcome, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            return Ok(CliOutcome::Exit {
                message: err.render().to_string(),
                code,
            });
        }
    };
    let config_file = matches.get_one::<PathBuf>(CONFIG_FLAG).cloned();
    let mut config = match &config_file {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    for param in PARAMS {
        if let Some(value) = matches.get_one::<String>(param.name) {
            config.set(param.name, value).map_err(|err| {
                let message = match err {
                    SetError::BadValue { reason, .. } => reason,
                    other => other.to_string(),
                };
                ConfigError::CommandLine {
                    key: param.name.to_string(),
                    value: value.clone(),
                    message,
                }
            })?;
        }
    }
    Ok(CliOutcome::Run {
        config: Box::new(config),
        config_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Appendfsync;

    fn run(args: &[&str]) -> Result<Config, ConfigError> {
        let argv = std::iter::once("redigo").chain(args.iter().copied());
        match parse_command_line(argv)? {
            CliOutcome::Run { config, .. } => Ok(*config),
            CliOutcome::Exit { message, .. } => panic!("unexpected exit: {message}"),
        }
    }

    #[test]
    fn no_arguments_means_defaults() {
        assert_eq!(run(&[]).unwrap(), Config::default());
    }

    #[test]
    fn flags_override_and_booleans_may_be_bare() {
        let config = run(&["--port", "6380", "--aof-enabled", "--appendfsync", "never"]).unwrap();
        assert_eq!(config.port, 6380);
        assert!(config.aof_enabled);
        assert_eq!(config.appendfsync, Appendfsync::No);
        let config = run(&["--aof-enabled=false", "--bind", "0.0.0.0"]).unwrap();
        assert!(!config.aof_enabled);
        assert_eq!(config.bind, "0.0.0.0");
    }

    #[test]
    fn bad_values_name_the_flag_and_value() {
        let err = run(&["--port", "99999"]).unwrap_err().to_string();
        assert!(err.contains("--port") && err.contains("99999"), "{err}");
    }

    #[test]
    fn help_lists_every_parameter() {
        let argv = ["redigo", "--help"];
        let CliOutcome::Exit { message, code } = parse_command_line(argv).unwrap() else {
            panic!("--help should exit");
        };
        assert_eq!(code, 0);
        assert!(message.contains("redigo check-aof [--fix] [--yes] <file.aof>"));
        for param in PARAMS {
            assert!(
                message.contains(&format!("--{}", param.name)),
                "{}",
                param.name
            );
        }
    }
}
