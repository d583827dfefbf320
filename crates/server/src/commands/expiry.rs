//! The expiry command family (written by the keyspace-commands helper).

use super::spec::CommandSpec;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = &[];
