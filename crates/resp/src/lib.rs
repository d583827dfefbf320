//! RESP2, the Redis serialization protocol, for servers and clients.
//!
//! `redigo-resp` is the wire layer of Redigo and usable on its own:
//!
//! * [`Frame`]: the RESP2 value model.
//! * [`RequestCodec`]: a [`tokio_util::codec`] codec for servers. It decodes
//!   client requests, multibulk (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`) and inline
//!   (`ECHO "hi"\r\n`), exactly as Redis 7.0's networking.c does, with the same
//!   leniencies, limits and error texts ([`ProtocolError`]).
//! * [`FrameCodec`]: a codec for clients, decoding any frame (replies).
//! * [`encode`]: functions writing replies straight into a buffer, without
//!   building frames, for the server's hot path.
//! * [`split_args`]: Redis's `sdssplitargs` quoting rules, shared by inline
//!   commands and command-line prompts.
//!
//! Decoding is incremental and linear in the input however it is chunked,
//! bulk strings are zero-copy slices of the read buffer, and no announced
//! length is trusted for allocation (see [`decode`] and [`Limits`]).
//!
//! ```
//! use bytes::BytesMut;
//! use redigo_resp::{Frame, RequestCodec, encode};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = RequestCodec::new();
//! let mut input = BytesMut::from(&b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nPING\r\n"[..]);
//!
//! let echo = codec.decode(&mut input).unwrap().expect("a whole request");
//! assert_eq!(echo.args(), [&b"ECHO"[..], b"hello"]);
//! let ping = codec.decode(&mut input).unwrap().expect("an inline request");
//! assert_eq!(ping.name(), b"PING");
//! assert_eq!(codec.decode(&mut input).unwrap(), None);
//!
//! let mut output = BytesMut::new();
//! encode::bulk(&mut output, &echo.args()[1]);
//! codec.encode(Frame::simple("PONG"), &mut output).unwrap();
//! assert_eq!(&output[..], b"$5\r\nhello\r\n+PONG\r\n");
//! ```

mod codec;
mod decimal;
pub mod decode;
pub mod encode;
mod error;
mod frame;
mod limits;
mod request;
mod split_args;

pub use codec::{FrameCodec, RequestCodec};
pub use decode::DecodeStats;
pub use error::{ProtocolError, UnbalancedQuotes};
pub use frame::Frame;
pub use limits::{
    Limits, MAX_FRAME_DEPTH, PROTO_INLINE_MAX_SIZE, PROTO_MAX_BULK_LEN, PROTO_MAX_MULTIBULK_LEN,
    UNAUTHENTICATED_MAX_BULK_LEN, UNAUTHENTICATED_MAX_MULTIBULK_LEN,
};
pub use request::Request;
pub use split_args::split_args;
