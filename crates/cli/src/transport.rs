//! The byte stream under a connection: TCP, or a Unix domain socket (`-s`).
//!
//! Both carry the same RESP; this enum lets the rest of the client treat
//! them alike (read, write, clone for `--pipe`'s writer thread, shut down,
//! time out reads). Unix sockets exist only on Unix; elsewhere `-s` fails
//! to connect with an explanatory error.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `-h host -p port`.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// `-s path`.
    UnixSocket(PathBuf),
}

impl fmt::Display for Endpoint {
    /// As redis-cli names the server in messages: `host:port` (IPv6
    /// addresses in brackets, as `anetFormatAddr`) or the socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::UnixSocket(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An open stream to the server.
#[derive(Debug)]
pub enum Transport {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix domain socket connection.
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

impl Transport {
    /// Connects to `endpoint`, trying every address a host name resolves to.
    pub fn connect(endpoint: &Endpoint) -> io::Result<Transport> {
        match endpoint {
            Endpoint::Tcp { host, port } => {
                let mut last_error =
                    io::Error::new(io::ErrorKind::NotFound, "Name or service not known");
                for candidate in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect(candidate) {
                        Ok(stream) => {
                            // Interactive round trips: do not let Nagle delay small commands.
                            let _ = stream.set_nodelay(true);
                            return Ok(Transport::Tcp(stream));
                        }
                        Err(error) => last_error = error,
                    }
                }
                Err(last_error)
            }
            Endpoint::UnixSocket(path) => connect_unix(path),
        }
    }

    /// A second handle on the same stream (for a writer thread).
    pub fn try_clone(&self) -> io::Result<Transport> {
        match self {
            Transport::Tcp(stream) => stream.try_clone().map(Transport::Tcp),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.try_clone().map(Transport::Unix),
        }
    }

    /// Shuts both directions down, waking up any thread blocked on it.
    pub fn shutdown(&self) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => stream.shutdown(Shutdown::Both),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.shutdown(Shutdown::Both),
        }
    }

    /// Makes reads give up after `timeout` (`None`: block).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => stream.set_read_timeout(timeout),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.set_read_timeout(timeout),
        }
    }
}

#[cfg(unix)]
fn connect_unix(path: &Path) -> io::Result<Transport> {
    std::os::unix::net::UnixStream::connect(path).map(Transport::Unix)
}

#[cfg(not(unix))]
fn connect_unix(_path: &Path) -> io::Result<Transport> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "Unix sockets are not supported on this platform",
    ))
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => stream.read(buf),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => stream.write(buf),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => stream.flush(),
            #[cfg(unix)]
            Transport::Unix(stream) => stream.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_display_as_redis_cli_names_them() {
        let tcp = |host: &str| Endpoint::Tcp {
            host: host.to_owned(),
            port: 6379,
        };
        assert_eq!(tcp("127.0.0.1").to_string(), "127.0.0.1:6379");
        assert_eq!(tcp("::1").to_string(), "[::1]:6379");
        assert_eq!(
            Endpoint::UnixSocket(PathBuf::from("/tmp/r.sock")).to_string(),
            "/tmp/r.sock"
        );
    }
}
