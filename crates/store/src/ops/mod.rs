//! The typed command operations, one file per command family. They are all
//! methods of [`DbHandle`](crate::DbHandle); this module holds the option and
//! outcome types they take and return.

pub mod collections;
pub mod expire;
pub mod hashes;
pub mod keyspace;
pub mod lists;
pub mod sets;
pub mod strings;
pub mod zsets;
