//! The tokio-util codecs: [`RequestCodec`] for servers, [`FrameCodec`] for
//! clients. Both encode [`Frame`]s; they differ in what they decode.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::decode::{DecodeStats, ReplyDecoder, RequestDecoder};
use crate::{Frame, Limits, ProtocolError, Request};

/// Server side: decodes client requests (multibulk or inline, exactly as
/// Redis 7.0 does) and encodes reply frames.
///
/// Empty requests are consumed without producing an item. After a
/// [`ProtocolError`], send its [`encode_reply`](ProtocolError::encode_reply)
/// and close the connection, as Redis does.
#[derive(Debug, Default)]
pub struct RequestCodec {
    decoder: RequestDecoder,
}

impl RequestCodec {
    /// A codec with Redis's default [`Limits`].
    pub fn new() -> RequestCodec {
        RequestCodec::default()
    }

    /// A codec enforcing `limits`.
    pub fn with_limits(limits: Limits) -> RequestCodec {
        RequestCodec {
            decoder: RequestDecoder::with_limits(limits),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        self.decoder.limits()
    }

    /// Changes the limits, e.g. after `CONFIG SET proto-max-bulk-len`. They
    /// apply to every length line decoded from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.decoder.set_limits(limits);
    }

    /// Whether the client still has to authenticate (Redis's `authRequired`).
    pub fn auth_required(&self) -> bool {
        self.decoder.auth_required()
    }

    /// While set, multibulk counts above 10 and bulk lengths above 16 KiB are
    /// refused with Redis's `unauthenticated ...` errors. Clear it once the
    /// client has authenticated.
    pub fn set_auth_required(&mut self, required: bool) {
        self.decoder.set_auth_required(required);
    }

    /// Work counters, for tests and diagnostics.
    pub fn stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// True when the decoder holds no part of a request (though the buffer may).
    pub fn is_idle(&self) -> bool {
        self.decoder.is_idle()
    }

    /// Bytes of the arguments already received of a multibulk request still
    /// arriving (Redis's `argv_len_sum` while it parses one), 0 otherwise.
    pub fn partial_args_len(&self) -> usize {
        self.decoder.partial_args_len()
    }
}

impl Decoder for RequestCodec {
    type Item = Request;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        self.decoder.decode(src)
    }

    /// A client that disconnects in the middle of a request is not an error
    /// to Redis: the partial request is dropped silently.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        self.decoder.decode(src)
    }
}

/// Client side: decodes any RESP2 frame (replies) and encodes frames
/// (commands, built with [`Frame::command`] or [`crate::encode::command`]).
#[derive(Debug, Default)]
pub struct FrameCodec {
    decoder: ReplyDecoder,
}

impl FrameCodec {
    /// A codec with Redis's default [`Limits`].
    pub fn new() -> FrameCodec {
        FrameCodec::default()
    }

    /// A codec enforcing `limits`.
    pub fn with_limits(limits: Limits) -> FrameCodec {
        FrameCodec {
            decoder: ReplyDecoder::with_limits(limits),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        self.decoder.limits()
    }

    /// Changes the limits for everything decoded from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.decoder.set_limits(limits);
    }

    /// Work counters, for tests and diagnostics.
    pub fn stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// True when the decoder holds no part of a frame (though the buffer may).
    pub fn is_idle(&self) -> bool {
        self.decoder.is_idle()
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        self.decoder.decode(src)
    }

    /// A stream that ends inside a frame is [`ProtocolError::Incomplete`].
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        match self.decoder.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() && self.decoder.is_idle() => Ok(None),
            None => Err(ProtocolError::Incomplete),
        }
    }
}

/// Both codecs encode frames the same way.
macro_rules! impl_frame_encoders {
    ($codec:ty) => {
        impl Encoder<Frame> for $codec {
            type Error = ProtocolError;

            fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
                frame.encode_into(dst);
                Ok(())
            }
        }

        impl Encoder<&Frame> for $codec {
            type Error = ProtocolError;

            fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
                frame.encode_into(dst);
                Ok(())
            }
        }
    };
}

impl_frame_encoders!(RequestCodec);
impl_frame_encoders!(FrameCodec);
