//! Bounds on what a peer may announce, with Redis 7.0's defaults.
//!
//! Every length a peer sends is checked against these limits *before* the
//! decoder acts on it, and no limit is ever used to size an allocation up
//! front: the decoders only reserve room for bytes that have actually arrived
//! (see [`crate::decode`]).

/// Redis's default `proto-max-bulk-len`: the largest bulk string a client may
/// send (512 MiB). Larger announcements get `invalid bulk length`.
pub const PROTO_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

/// Redis's `PROTO_INLINE_MAX_SIZE` (64 KiB): how many bytes may be buffered
/// while waiting for the end of an inline command or of a `*`/`$` length line.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Redis 7.0's multibulk count limit: `processMultibulkBuffer` rejects counts
/// above `INT_MAX` (Redis 6 and older used `1024*1024`).
pub const PROTO_MAX_MULTIBULK_LEN: u64 = i32::MAX as u64;

/// The deepest array nesting [`crate::FrameCodec`] accepts in a reply. Real
/// Redis replies nest a handful of levels; the bound keeps a hostile peer from
/// building frames whose recursive drop or encode would exhaust the stack.
pub const MAX_FRAME_DEPTH: usize = 128;

/// While a client has not authenticated (`requirepass` or ACL users with
/// passwords), Redis rejects multibulk counts above this with
/// `unauthenticated multibulk length`.
pub const UNAUTHENTICATED_MAX_MULTIBULK_LEN: u64 = 10;

/// While a client has not authenticated, Redis rejects bulk lengths above this
/// with `unauthenticated bulk length`.
pub const UNAUTHENTICATED_MAX_BULK_LEN: u64 = 16 * 1024;

/// The limits a codec enforces. [`Limits::default`] is Redis 7.0's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted bulk string (`proto-max-bulk-len`).
    pub max_bulk_len: u64,
    /// Largest number of buffered bytes without a line end (inline command,
    /// `*` or `$` line, or a reply's status/error/integer line).
    pub max_inline_len: usize,
    /// Largest accepted array / multibulk element count.
    pub max_multibulk_len: u64,
    /// Deepest array nesting accepted in replies ([`crate::FrameCodec`] only;
    /// requests are flat).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: PROTO_MAX_BULK_LEN,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
            max_multibulk_len: PROTO_MAX_MULTIBULK_LEN,
            max_depth: MAX_FRAME_DEPTH,
        }
    }
}
