//! The static description of a command: what `COMMAND INFO` and `COMMAND DOCS`
//! report, what dispatch checks (arity, flags) and the handler that runs it.
//!
//! Everything here is `'static` data so that each family's generated
//! `specs.rs` can declare its commands as one `const COMMANDS:
//! &[CommandSpec]`, written with the `const fn` builders below so that only
//! the fields a command has are spelled out. The metadata is copied from
//! Redis 7.0 (see `tools/gen_command_specs.py`) so that introspection
//! replies are byte-identical to the oracle's.

use bytes::Bytes;

use super::context::ExecContext;

/// Runs one command. `args[0]` is the command name as the client sent it (any
/// case), `args[1..]` its arguments; for a subcommand `args[1]` is the
/// subcommand name. Arity has already been checked against the spec. The
/// handler writes exactly one reply into the context.
pub type Handler = fn(&mut ExecContext<'_>, &[Bytes]);

/// A command flag, as `COMMAND INFO` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// May modify the keyspace.
    Write,
    /// Reads the keyspace only.
    Readonly,
    /// May grow memory use.
    Denyoom,
    /// Implemented by a module (never set here).
    Module,
    /// Administrative command.
    Admin,
    /// Pub/sub related.
    Pubsub,
    /// Not allowed from scripts.
    Noscript,
    /// May block the client.
    Blocking,
    /// Allowed while the dataset loads.
    Loading,
    /// Allowed on a stale replica.
    Stale,
    /// Not shown by MONITOR.
    SkipMonitor,
    /// Not recorded by SLOWLOG.
    SkipSlowlog,
    /// Cluster ASKING related.
    Asking,
    /// O(1) or O(log N).
    Fast,
    /// Allowed before authentication.
    NoAuth,
    /// May replicate even though it is not a write.
    MayReplicate,
    /// Keys are optional.
    NoMandatoryKeys,
    /// Not allowed in MULTI.
    NoMulti,
    /// Key positions depend on the arguments.
    MovableKeys,
    /// Allowed while a script is busy.
    AllowBusy,
    /// Not allowed during async loading.
    NoAsyncLoading,
}

impl Flag {
    /// The name `COMMAND INFO` prints.
    pub fn name(self) -> &'static str {
        match self {
            Flag::Write => "write",
            Flag::Readonly => "readonly",
            Flag::Denyoom => "denyoom",
            Flag::Module => "module",
            Flag::Admin => "admin",
            Flag::Pubsub => "pubsub",
            Flag::Noscript => "noscript",
            Flag::Blocking => "blocking",
            Flag::Loading => "loading",
            Flag::Stale => "stale",
            Flag::SkipMonitor => "skip_monitor",
            Flag::SkipSlowlog => "skip_slowlog",
            Flag::Asking => "asking",
            Flag::Fast => "fast",
            Flag::NoAuth => "no_auth",
            Flag::MayReplicate => "may_replicate",
            Flag::NoMandatoryKeys => "no_mandatory_keys",
            Flag::NoMulti => "no_multi",
            Flag::MovableKeys => "movablekeys",
            Flag::AllowBusy => "allow_busy",
            Flag::NoAsyncLoading => "no_async_loading",
        }
    }
}

/// Where the search for a key spec's keys starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After the first (from `startfrom`) argument equal to `keyword`.
    Keyword {
        /// The keyword, e.g. `STREAMS`.
        keyword: &'static str,
        /// Index to start searching from; negative counts from the end.
        startfrom: i32,
    },
    /// Not describable.
    Unknown,
}

/// How keys are found once the search began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// A run of keys: `lastkey` relative to the start (-1 = last argument).
    Range {
        /// Last key, relative to the begin index; negative counts from the end.
        lastkey: i32,
        /// Distance between keys.
        keystep: i32,
        /// With `lastkey == -1`: take `1/limit` of the remaining arguments.
        limit: i32,
    },
    /// An argument gives the number of keys.
    Keynum {
        /// Index of the count, relative to the begin index.
        keynumidx: i32,
        /// First key, relative to the begin index.
        firstkey: i32,
        /// Distance between keys.
        keystep: i32,
    },
    /// Not describable.
    Unknown,
}

/// One Redis 7.0 key specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Free-form notes.
    pub notes: Option<&'static str>,
    /// Access flags such as `RW`, `access`, `update`.
    pub flags: &'static [&'static str],
    /// Where the search begins.
    pub begin_search: BeginSearch,
    /// How keys are found from there.
    pub find_keys: FindKeys,
}

/// Builders for the generated key specs: flags, where the search begins
/// and how keys are found; notes only where Redis has them.
impl KeySpec {
    /// A key spec without notes.
    pub const fn new(
        flags: &'static [&'static str],
        begin_search: BeginSearch,
        find_keys: FindKeys,
    ) -> KeySpec {
        KeySpec {
            notes: None,
            flags,
            begin_search,
            find_keys,
        }
    }

    /// The one key at argument `index` (Redis's most common key spec).
    pub const fn key_at(flags: &'static [&'static str], index: i32) -> KeySpec {
        KeySpec::new(flags, BeginSearch::Index(index), FindKeys::range(0, 1, 0))
    }

    /// Every argument from `index` to the last, each a key.
    pub const fn keys_from(flags: &'static [&'static str], index: i32) -> KeySpec {
        KeySpec::new(flags, BeginSearch::Index(index), FindKeys::range(-1, 1, 0))
    }

    /// Sets the free-form notes.
    pub const fn notes(self, notes: &'static str) -> KeySpec {
        KeySpec {
            notes: Some(notes),
            ..self
        }
    }
}

impl FindKeys {
    /// [`FindKeys::Range`] in Redis's argument order.
    pub const fn range(lastkey: i32, keystep: i32, limit: i32) -> FindKeys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        }
    }

    /// [`FindKeys::Keynum`] in Redis's argument order.
    pub const fn keynum(keynumidx: i32, firstkey: i32, keystep: i32) -> FindKeys {
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        }
    }
}

impl BeginSearch {
    /// [`BeginSearch::Keyword`] in Redis's argument order.
    pub const fn keyword(keyword: &'static str, startfrom: i32) -> BeginSearch {
        BeginSearch::Keyword { keyword, startfrom }
    }
}

/// One documented argument (a node of the `COMMAND DOCS` argument tree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Argument name.
    pub name: &'static str,
    /// `string`, `integer`, `key`, `oneof`, `block`, `pure-token`, ...
    pub kind: &'static str,
    /// Index into the command's key specs, for `key` arguments.
    pub key_spec_index: Option<u32>,
    /// The literal token that introduces the argument.
    pub token: Option<&'static str>,
    /// Short description.
    pub summary: Option<&'static str>,
    /// Version that added the argument.
    pub since: Option<&'static str>,
    /// Version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// `optional`, `multiple`, `multiple_token`.
    pub flags: &'static [&'static str],
    /// Children of a `oneof` or `block`.
    pub arguments: &'static [Arg],
}

/// Builders for the generated argument trees: an argument is its name and
/// type plus only the fields Redis reports for it, so each node of a
/// `COMMAND DOCS` tree reads as one line instead of a nine-field literal.
impl Arg {
    /// An argument with no key spec, token, summary, versions, flags or
    /// children.
    pub const fn new(name: &'static str, kind: &'static str) -> Arg {
        Arg {
            name,
            kind,
            key_spec_index: None,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            flags: &[],
            arguments: &[],
        }
    }

    /// Sets the index into the command's key specs (`key` arguments).
    pub const fn key_spec(self, index: u32) -> Arg {
        Arg {
            key_spec_index: Some(index),
            ..self
        }
    }

    /// Sets the literal token that introduces the argument.
    pub const fn token(self, token: &'static str) -> Arg {
        Arg {
            token: Some(token),
            ..self
        }
    }

    /// Sets the short description.
    pub const fn summary(self, summary: &'static str) -> Arg {
        Arg {
            summary: Some(summary),
            ..self
        }
    }

    /// Sets the version that added the argument.
    pub const fn since(self, version: &'static str) -> Arg {
        Arg {
            since: Some(version),
            ..self
        }
    }

    /// Sets the version that deprecated the argument.
    pub const fn deprecated_since(self, version: &'static str) -> Arg {
        Arg {
            deprecated_since: Some(version),
            ..self
        }
    }

    /// Sets the flags (`optional`, `multiple`, `multiple_token`).
    pub const fn flags(self, flags: &'static [&'static str]) -> Arg {
        Arg { flags, ..self }
    }

    /// Sets the children of a `oneof` or `block`.
    pub const fn arguments(self, arguments: &'static [Arg]) -> Arg {
        Arg { arguments, ..self }
    }
}

/// What `COMMAND DOCS` reports for a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandDocs {
    /// One-line description.
    pub summary: &'static str,
    /// First Redis version with the command.
    pub since: &'static str,
    /// Command group, e.g. `string`, `server`, `connection`.
    pub group: &'static str,
    /// Time complexity.
    pub complexity: &'static str,
    /// `deprecated`, `syscmd`.
    pub doc_flags: &'static [&'static str],
    /// Version that deprecated the command.
    pub deprecated_since: Option<&'static str>,
    /// What replaces a deprecated command.
    pub replaced_by: Option<&'static str>,
    /// `(version, change)` pairs.
    pub history: &'static [(&'static str, &'static str)],
    /// The argument tree.
    pub arguments: &'static [Arg],
}

/// Builders for the generated docs: the four fields every command has, then
/// only those Redis reports for it.
impl CommandDocs {
    /// Docs with no doc flags, deprecation, history or arguments.
    pub const fn new(
        summary: &'static str,
        since: &'static str,
        group: &'static str,
        complexity: &'static str,
    ) -> CommandDocs {
        CommandDocs {
            summary,
            since,
            group,
            complexity,
            doc_flags: &[],
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            arguments: &[],
        }
    }

    /// Sets the doc flags (`deprecated`, `syscmd`).
    pub const fn doc_flags(self, doc_flags: &'static [&'static str]) -> CommandDocs {
        CommandDocs { doc_flags, ..self }
    }

    /// Sets the version that deprecated the command.
    pub const fn deprecated_since(self, version: &'static str) -> CommandDocs {
        CommandDocs {
            deprecated_since: Some(version),
            ..self
        }
    }

    /// Sets what replaces a deprecated command.
    pub const fn replaced_by(self, replacement: &'static str) -> CommandDocs {
        CommandDocs {
            replaced_by: Some(replacement),
            ..self
        }
    }

    /// Sets the `(version, change)` history.
    pub const fn history(self, history: &'static [(&'static str, &'static str)]) -> CommandDocs {
        CommandDocs { history, ..self }
    }

    /// Sets the argument tree.
    pub const fn arguments(self, arguments: &'static [Arg]) -> CommandDocs {
        CommandDocs { arguments, ..self }
    }
}

/// A command (or a subcommand, whose `name` is `container|sub`).
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    /// Lower-case full name: `get`, or `config|get` for a subcommand.
    pub name: &'static str,
    /// Redis convention: positive = exact argument count (name included),
    /// negative = at least that many.
    pub arity: i32,
    /// Flags, in Redis's order.
    pub flags: &'static [Flag],
    /// The same flags as a set (bit `1 << flag as u32`), computed by
    /// [`CommandSpec::flags`]: dispatch tests several flags per command.
    flag_bits: u32,
    /// Legacy key positions: first key index (0 = no keys).
    pub first_key: i32,
    /// Legacy key positions: last key index (-1 = last argument).
    pub last_key: i32,
    /// Legacy key positions: step between keys.
    pub key_step: i32,
    /// ACL categories with their `@`.
    pub acl_categories: &'static [&'static str],
    /// Command tips (`nondeterministic_output`, ...).
    pub tips: &'static [&'static str],
    /// Redis 7.0 key specs.
    pub key_specs: &'static [KeySpec],
    /// `COMMAND DOCS` data.
    pub docs: CommandDocs,
    /// Subcommands of a container command (`config`, `client`, `command`).
    pub subcommands: &'static [CommandSpec],
    /// The implementation. Containers use [`container_handler`].
    pub handler: Handler,
}

/// Builders for the generated specs (`specs.rs` of each family): a command
/// is its name, arity, handler and docs plus only the fields that are not
/// empty, so each reads as a short chain instead of a twelve-field literal.
impl CommandSpec {
    /// A command with no flags, keys, ACL categories, tips, key specs,
    /// subcommands or docs: every generated spec sets its docs with
    /// [`CommandSpec::docs`] (the table's unit test checks that none is
    /// left empty).
    pub const fn new(name: &'static str, arity: i32, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags: &[],
            flag_bits: 0,
            first_key: 0,
            last_key: 0,
            key_step: 0,
            acl_categories: &[],
            tips: &[],
            key_specs: &[],
            docs: CommandDocs::new("", "", "", ""),
            subcommands: &[],
            handler,
        }
    }

    /// Sets the flags.
    pub const fn flags(self, flags: &'static [Flag]) -> CommandSpec {
        let mut flag_bits = 0;
        let mut i = 0;
        while i < flags.len() {
            flag_bits |= 1 << flags[i] as u32;
            i += 1;
        }
        CommandSpec {
            flags,
            flag_bits,
            ..self
        }
    }

    /// Sets the legacy key positions (first, last, step).
    pub const fn keys(self, first_key: i32, last_key: i32, key_step: i32) -> CommandSpec {
        CommandSpec {
            first_key,
            last_key,
            key_step,
            ..self
        }
    }

    /// Sets the ACL categories.
    pub const fn acl(self, acl_categories: &'static [&'static str]) -> CommandSpec {
        CommandSpec {
            acl_categories,
            ..self
        }
    }

    /// Sets the command tips.
    pub const fn tips(self, tips: &'static [&'static str]) -> CommandSpec {
        CommandSpec { tips, ..self }
    }

    /// Sets the key specs.
    pub const fn key_specs(self, key_specs: &'static [KeySpec]) -> CommandSpec {
        CommandSpec { key_specs, ..self }
    }

    /// Sets the `COMMAND DOCS` data.
    pub const fn docs(self, docs: CommandDocs) -> CommandSpec {
        CommandSpec { docs, ..self }
    }

    /// Sets the subcommands of a container.
    pub const fn subcommands(self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            subcommands,
            ..self
        }
    }

    /// Whether the spec carries `flag`.
    pub fn has(&self, flag: Flag) -> bool {
        self.flag_bits & (1 << flag as u32) != 0
    }

    /// Whether the argument count `argc` (name included) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Whether this is a container (has subcommands).
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// A subcommand's own name (the part after `|`, e.g. `get` for
    /// `config|get`); a top-level command's whole name.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }
}

/// The handler of container commands. Dispatch never calls it (a container is
/// resolved to its subcommand, or rejected by arity or as an unknown
/// subcommand), but a spec needs a function; should it run, it answers with
/// the unknown-subcommand error rather than panicking.
pub fn container_handler(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let sub = args.get(1).map(|a| a.as_ref()).unwrap_or_default();
    let container = args.first().map(|a| a.as_ref()).unwrap_or_default();
    ctx.reply_error(&super::errors::unknown_subcommand(sub, container));
}
