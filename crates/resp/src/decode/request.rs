//! The server-side request decoder: Redis's `processInputBuffer` dispatch.
//!
//! As in Redis, the first byte of a request decides its form: `*` starts a
//! multibulk request ([`super::multibulk`]), anything else an inline command
//! ([`super::inline`]). Requests that turn out empty (`*0`, `*-1`, a blank
//! line) are consumed silently and decoding goes on with the next one, so the
//! caller only ever sees commands.

use bytes::BytesMut;

use super::line_scan::LineScanner;
use super::multibulk::{self, PartialMultibulk};
use super::{DecodeStats, inline};
use crate::{Limits, ProtocolError, Request};

/// What one decoding step achieved.
pub(super) enum Progress {
    /// The buffer ends inside the current request.
    NeedMore,
    /// A request that Redis ignores was consumed.
    Empty,
    /// The multibulk count line was consumed; arguments follow.
    Started(PartialMultibulk),
    /// A complete command.
    Request(Request),
}

/// The request form being decoded.
#[derive(Debug, Default)]
enum State {
    /// Between requests.
    #[default]
    Idle,
    /// Waiting for the newline of an inline command.
    Inline,
    /// Waiting for the end of the `*<count>` line.
    MultibulkCount,
    /// Reading the `$<len>` + payload pairs of a multibulk request.
    MultibulkArgs(PartialMultibulk),
}

/// Limits and authentication state that decide which requests are accepted.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Policy {
    pub(super) limits: Limits,
    /// Redis's `authRequired(c)`: stricter length limits apply.
    pub(super) auth_required: bool,
}

/// Decodes client requests exactly as Redis 7.0's networking.c does.
#[derive(Debug, Default)]
pub(crate) struct RequestDecoder {
    state: State,
    scanner: LineScanner,
    policy: Policy,
    stats: DecodeStats,
}

impl RequestDecoder {
    pub(crate) fn with_limits(limits: Limits) -> RequestDecoder {
        RequestDecoder {
            policy: Policy {
                limits,
                auth_required: false,
            },
            ..RequestDecoder::default()
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.policy.limits
    }

    pub(crate) fn set_limits(&mut self, limits: Limits) {
        self.policy.limits = limits;
    }

    pub(crate) fn auth_required(&self) -> bool {
        self.policy.auth_required
    }

    pub(crate) fn set_auth_required(&mut self, required: bool) {
        self.policy.auth_required = required;
    }

    pub(crate) fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// True when no part of a request has been consumed and kept.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    pub(crate) fn partial_args_len(&self) -> usize {
        match &self.state {
            State::MultibulkArgs(partial) => partial.args_len(),
            _ => 0,
        }
    }

    /// Decodes the next non-empty request, consuming what it has parsed.
    /// After an error the stream is out of sync; the decoder resets itself,
    /// but the connection should be closed (Redis replies and closes).
    pub(crate) fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        let result = self.decode_request(src);
        if result.is_err() {
            self.state = State::Idle;
            self.scanner.reset();
        }
        result
    }

    fn decode_request(&mut self, src: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
        loop {
            let progress = match &mut self.state {
                State::Idle => {
                    let Some(&first) = src.first() else {
                        return Ok(None);
                    };
                    self.state = if first == b'*' {
                        State::MultibulkCount
                    } else {
                        State::Inline
                    };
                    continue;
                }
                State::Inline => inline::decode_line(
                    src,
                    &mut self.scanner,
                    &self.policy.limits,
                    &mut self.stats,
                )?,
                State::MultibulkCount => {
                    multibulk::decode_count(src, &mut self.scanner, &self.policy, &mut self.stats)?
                }
                State::MultibulkArgs(partial) => multibulk::decode_args(
                    partial,
                    src,
                    &mut self.scanner,
                    &self.policy,
                    &mut self.stats,
                )?,
            };
            match progress {
                Progress::NeedMore => return Ok(None),
                Progress::Empty => self.state = State::Idle,
                Progress::Started(partial) => self.state = State::MultibulkArgs(partial),
                Progress::Request(request) => {
                    self.state = State::Idle;
                    return Ok(Some(request));
                }
            }
        }
    }
}
