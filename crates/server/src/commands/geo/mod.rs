//! The geospatial commands.
//!
//! The handlers come with the sorted-set store API they stand on; until
//! then the arithmetic is only exercised by its unit tests.
#![allow(dead_code)]

mod format;
mod geohash;
mod search;
