//! A decoded client request: the argument vector of one command.

use bytes::{Bytes, BytesMut};

/// One command as the client sent it, whether as a multibulk array or an
/// inline line: `args()[0]` is the command name, the rest its arguments.
/// Never empty: empty requests (`\r\n`, `*0\r\n`, `*-1\r\n`, blank inline
/// lines) are consumed by the decoder without producing a `Request`, as Redis
/// ignores them.
///
/// Multibulk arguments are zero-copy slices of the read buffer. A slice keeps
/// the whole buffer allocation alive, so copy an argument
/// (`Bytes::copy_from_slice`) before storing it for long, e.g. as a key or a
/// value in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    args: Vec<Bytes>,
}

impl Request {
    /// A request with these arguments (for tests and for replaying commands).
    pub fn new(args: Vec<Bytes>) -> Request {
        Request { args }
    }

    /// The command name followed by its arguments.
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    /// Takes the argument vector.
    pub fn into_args(self) -> Vec<Bytes> {
        self.args
    }

    /// The command name (first argument), or empty for an empty request.
    pub fn name(&self) -> &[u8] {
        self.args.first().map_or(&[], |name| &name[..])
    }

    /// Number of arguments including the command name (Redis's `argc`).
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// True when there are no arguments (never for decoded requests).
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Appends the multibulk form (`*N\r\n$len\r\narg\r\n...`), as a client
    /// or an append-only file writes it.
    pub fn encode_into(&self, buf: &mut BytesMut) {
        crate::encode::command(buf, &self.args);
    }
}

impl From<Vec<Bytes>> for Request {
    fn from(args: Vec<Bytes>) -> Self {
        Request { args }
    }
}

impl From<Request> for Vec<Bytes> {
    fn from(request: Request) -> Self {
        request.args
    }
}
