//! The command table: every family's specs, looked up by name.

use std::collections::HashMap;

use super::spec::CommandSpec;

/// The longest command name the table accepts for lookup; longer names are
/// unknown without hashing (Redis's longest is 28 bytes).
const MAX_COMMAND_NAME_LEN: usize = 64;

/// The result of resolving a request's arguments to a command.
#[derive(Clone, Copy, Debug)]
pub enum Lookup {
    /// The command (or subcommand) to run.
    Found(&'static CommandSpec),
    /// No command by that name.
    UnknownCommand,
    /// A container command with an unknown subcommand.
    UnknownSubcommand(&'static CommandSpec),
}

/// All commands, by lower-case name. Built once at start-up.
#[derive(Debug)]
pub struct CommandTable {
    by_name: HashMap<&'static [u8], &'static CommandSpec, foldhash::fast::RandomState>,
}

impl CommandTable {
    /// A table of the given families (each a family file's `COMMANDS`).
    ///
    /// # Panics
    /// If two families declare the same name: that is a programming error
    /// caught by the table's unit test, never by input.
    pub fn new(families: &[&'static [CommandSpec]]) -> CommandTable {
        let mut by_name = HashMap::default();
        for spec in families.iter().flat_map(|family| family.iter()) {
            assert!(
                spec.name.len() <= MAX_COMMAND_NAME_LEN,
                "command name too long: {}",
                spec.name
            );
            let previous = by_name.insert(spec.name.as_bytes(), spec);
            assert!(previous.is_none(), "command {} declared twice", spec.name);
        }
        CommandTable { by_name }
    }

    /// The table of every command Redigo implements.
    pub fn standard() -> CommandTable {
        CommandTable::new(super::FAMILIES)
    }

    /// The top-level command called `name` (any case).
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > MAX_COMMAND_NAME_LEN {
            return None;
        }
        let mut lower = [0u8; MAX_COMMAND_NAME_LEN];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).copied()
    }

    /// Resolves `name` or `container|sub` (any case), as `COMMAND INFO` does.
    pub fn get_full_name(&self, full_name: &[u8]) -> Option<&'static CommandSpec> {
        match full_name.iter().position(|&b| b == b'|') {
            None => self.get(full_name),
            Some(bar) => {
                let container = self.get(&full_name[..bar])?;
                find_subcommand(container, &full_name[bar + 1..])
            }
        }
    }

    /// Resolves a request as Redis's `lookupCommand` does: a container with at
    /// least one argument resolves to its subcommand.
    pub fn lookup<A: AsRef<[u8]>>(&self, args: &[A]) -> Lookup {
        let spec = args.first().and_then(|name| self.get(name.as_ref()));
        resolve(spec, args)
    }

    /// [`CommandTable::lookup`] for a client that usually repeats its
    /// command: `hint`, the top-level command its last request named, is
    /// compared with the name first (a few bytes, case-insensitively) and
    /// the table is hashed only when they differ; `hint` is then updated.
    /// A hint is a top-level name, which never contains `|`, so it cannot
    /// match a name the table would not.
    pub fn lookup_hinted<A: AsRef<[u8]>>(
        &self,
        args: &[A],
        hint: &mut Option<&'static CommandSpec>,
    ) -> Lookup {
        let Some(name) = args.first().map(AsRef::as_ref) else {
            return Lookup::UnknownCommand;
        };
        let spec = match *hint {
            Some(spec) if spec.name.as_bytes().eq_ignore_ascii_case(name) => Some(spec),
            _ => {
                let found = self.get(name);
                if found.is_some() {
                    *hint = found;
                }
                found
            }
        };
        resolve(spec, args)
    }

    /// Every top-level command, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.by_name.values().copied()
    }

    /// How many top-level commands there are (`COMMAND COUNT`).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// A request's top-level command (if known) resolved as Redis's
/// `lookupCommand` does: a container with at least one argument resolves to
/// its subcommand.
fn resolve<A: AsRef<[u8]>>(spec: Option<&'static CommandSpec>, args: &[A]) -> Lookup {
    let Some(spec) = spec else {
        return Lookup::UnknownCommand;
    };
    match args.get(1) {
        Some(sub) if spec.is_container() => match find_subcommand(spec, sub.as_ref()) {
            Some(sub_spec) => Lookup::Found(sub_spec),
            None => Lookup::UnknownSubcommand(spec),
        },
        _ => Lookup::Found(spec),
    }
}

fn find_subcommand(container: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|spec| spec.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::Flag;

    /// Every command of `table` and every subcommand.
    fn every_spec(table: &CommandTable) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        table
            .iter()
            .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands))
    }

    #[test]
    fn standard_table_has_unique_lowercase_names_and_sane_arities() {
        let table = CommandTable::standard();
        for spec in table.iter() {
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert_ne!(spec.arity, 0, "{} has arity 0", spec.name);
            for sub in spec.subcommands {
                let prefix = format!("{}|", spec.name);
                assert!(
                    sub.name.starts_with(&prefix),
                    "{} under {}",
                    sub.name,
                    spec.name
                );
                assert!(sub.subcommands.is_empty());
            }
        }
    }

    #[test]
    fn every_spec_has_its_docs() {
        let table = CommandTable::standard();
        let specs = every_spec(&table);
        for spec in specs {
            let docs = &spec.docs;
            assert!(
                !docs.summary.is_empty() && !docs.since.is_empty() && !docs.group.is_empty(),
                "{} has no docs",
                spec.name
            );
        }
    }

    #[test]
    fn no_command_has_a_cross_protocol_name() {
        // Dispatch checks for `POST` and `Host:` only among unknown names.
        let table = CommandTable::standard();
        assert!(matches!(table.lookup(&["POST"]), Lookup::UnknownCommand));
        assert!(matches!(table.lookup(&["Host:"]), Lookup::UnknownCommand));
    }

    #[test]
    fn a_hinted_lookup_finds_what_a_plain_lookup_finds() {
        let table = CommandTable::standard();
        let mut hint = None;
        let requests: [&[&str]; 9] = [
            &["ZADD", "k", "1", "m"],
            &["zadd", "k"],
            &["ZaDd"],
            &["zaddx"],
            &["config", "GET", "x"],
            &["CONFIG", "nope"],
            &["config"],
            &["config|get", "x"],
            &["get", "k"],
        ];
        for args in requests {
            let plain = table.lookup(args);
            let hinted = table.lookup_hinted(args, &mut hint);
            let name = |lookup: Lookup| match lookup {
                Lookup::Found(spec) => format!("found {}", spec.name),
                Lookup::UnknownCommand => "unknown".to_string(),
                Lookup::UnknownSubcommand(spec) => format!("unknown sub of {}", spec.name),
            };
            assert_eq!(name(hinted), name(plain), "{args:?}");
        }
        // The hint follows the last known top-level command.
        assert_eq!(hint.map(|spec| spec.name), Some("get"));
        assert!(matches!(
            table.lookup_hinted(&["GET", "k"], &mut hint),
            Lookup::Found(spec) if spec.name == "get"
        ));
        assert!(matches!(
            table.lookup_hinted(&["getx"], &mut hint),
            Lookup::UnknownCommand
        ));
        assert_eq!(hint.map(|spec| spec.name), Some("get"));
    }

    #[test]
    fn flag_sets_match_the_flag_lists() {
        let table = CommandTable::standard();
        let specs = every_spec(&table);
        let all = [
            Flag::Write,
            Flag::Readonly,
            Flag::Denyoom,
            Flag::Module,
            Flag::Admin,
            Flag::Pubsub,
            Flag::Noscript,
            Flag::Blocking,
            Flag::Loading,
            Flag::Stale,
            Flag::SkipMonitor,
            Flag::SkipSlowlog,
            Flag::Asking,
            Flag::Fast,
            Flag::NoAuth,
            Flag::MayReplicate,
            Flag::NoMandatoryKeys,
            Flag::NoMulti,
            Flag::MovableKeys,
            Flag::AllowBusy,
            Flag::NoAsyncLoading,
        ];
        for spec in specs {
            for flag in all {
                assert_eq!(
                    spec.has(flag),
                    spec.flags.contains(&flag),
                    "{} {flag:?}",
                    spec.name
                );
            }
        }
        assert!(table.get(b"zadd").unwrap().has(Flag::Write));
        assert!(!table.get(b"zadd").unwrap().has(Flag::Readonly));
    }

    #[test]
    fn stats_find_a_spec_by_address_or_name() {
        let table = CommandTable::standard();
        let stats = crate::commands::CommandStats::new(&table);
        let specs = every_spec(&table);
        for spec in specs {
            let by_spec = stats.of(spec).expect("counters");
            let by_name = stats.get(spec.name).expect("counters");
            assert!(std::ptr::eq(by_spec, by_name), "{}", spec.name);
        }
        // A copy of a spec (another address) is found by its name.
        let copy: &'static CommandSpec = Box::leak(Box::new(*table.get(b"get").unwrap()));
        assert!(std::ptr::eq(
            stats.of(copy).unwrap(),
            stats.get("get").unwrap()
        ));
    }

    #[test]
    fn lookup_is_case_insensitive_and_resolves_subcommands() {
        let table = CommandTable::standard();
        assert!(matches!(table.lookup(&["PiNg"]), Lookup::Found(s) if s.name == "ping"));
        assert!(matches!(table.lookup(&["nope"]), Lookup::UnknownCommand));
        assert!(
            matches!(table.lookup(&["CONFIG", "Get", "x"]), Lookup::Found(s) if s.name == "config|get")
        );
        assert!(matches!(table.lookup(&["config"]), Lookup::Found(s) if s.name == "config"));
        assert!(
            matches!(table.lookup(&["config", "x"]), Lookup::UnknownSubcommand(s) if s.name == "config")
        );
        assert!(table.get_full_name(b"CONFIG|GET").is_some());
        assert!(table.get(&[b'a'; 100]).is_none());
    }
}
