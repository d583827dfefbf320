//! RESP2 frames and codecs (work in progress: see issue 3).

mod frame;
pub use frame::Frame;
