//! In-memory keyspace (work in progress: see issue 4).

pub mod glob;
pub mod numeric;
