//! Append-only file support (work in progress: see issue 6).
