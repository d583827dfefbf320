//! In-memory keyspace (work in progress: see issue 4).
