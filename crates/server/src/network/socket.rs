//! Socket options and admission rules Redis applies to its listening and
//! accepted sockets: the listen backlog (`tcp-backlog`), TCP keepalive
//! (`tcp-keepalive`) and protected mode (`protected-mode`).
//!
//! The listener is built with `socket2` rather than `TcpListener::bind`,
//! which fixes the backlog at 128 and offers no way to change it; accepted
//! sockets get keepalive through `socket2` too, portably (the standard
//! library has no keepalive setter).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{TcpListener, TcpStream};

use crate::config::Config;

/// Redis's reply to a non-loopback client in protected mode, byte for byte
/// as Redis 7.0.15 sends it (typo "Setup a an" included).
pub(crate) const PROTECTED_MODE_REPLY: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Listens on `address` with a queue of `backlog` pending connections, as
/// Redis's `anetTcpServer`: `SO_REUSEADDR` (not on Windows, where it would
/// let another process steal the port), and IPv6 sockets IPv6 only.
pub(crate) fn listen(address: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&address.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// Applies Redis's per-client socket options: no Nagle delay, and with
/// `keepalive_secs > 0` TCP keepalive as Redis's `anetKeepAlive` sets it:
/// first probe after `keepalive_secs` idle, then every third of that, and
/// the peer is dropped after 3 unanswered probes (where the platform lets
/// those be set).
pub(crate) fn configure_accepted(socket: &TcpStream, keepalive_secs: u64) -> io::Result<()> {
    socket.set_nodelay(true)?;
    if keepalive_secs == 0 {
        return Ok(());
    }
    let idle = Duration::from_secs(keepalive_secs);
    let keepalive = TcpKeepalive::new().with_time(idle);
    #[cfg(any(target_os = "linux", target_os = "macos", windows))]
    let keepalive = keepalive.with_interval(Duration::from_secs((keepalive_secs / 3).max(1)));
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    let keepalive = keepalive.with_retries(3);
    SockRef::from(socket).set_tcp_keepalive(&keepalive)
}

/// Whether protected mode refuses a client from `peer`. As Redis 7.0's
/// `clientAcceptHandler`: protected mode is on, the default user has no
/// password, and the peer is not `127.0.0.1` or `::1` (Redis compares the
/// address text, so other 127/8 addresses count as remote). Bound to
/// loopback only, every peer is local; bound beyond it, remote peers are
/// refused until a password is set.
pub(crate) fn protected_mode_denies(config: &Config, peer: IpAddr) -> bool {
    let peer = match peer {
        // A dual-stack socket reports IPv4 peers as mapped addresses.
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let local = peer == IpAddr::V4(Ipv4Addr::LOCALHOST) || peer == IpAddr::V6(Ipv6Addr::LOCALHOST);
    config.protected_mode && config.requirepass.is_empty() && !local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_remote_peers_only_without_a_password() {
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let mut config = Config::default();
        assert!(config.protected_mode, "on by default, as in Redis");
        assert!(protected_mode_denies(&config, remote));
        assert!(protected_mode_denies(&config, "fd00::2".parse().unwrap()));
        assert!(protected_mode_denies(&config, "127.0.0.2".parse().unwrap()));
        for local in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(
                !protected_mode_denies(&config, local.parse().unwrap()),
                "{local}"
            );
        }
        config.requirepass = "secret".to_string();
        assert!(!protected_mode_denies(&config, remote));
        config.requirepass.clear();
        config.protected_mode = false;
        assert!(!protected_mode_denies(&config, remote));
    }

    #[test]
    fn accepted_sockets_get_redis_keepalive() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = listen("127.0.0.1:0".parse().unwrap(), 511).unwrap();
            let address = listener.local_addr().unwrap();
            let _client = TcpStream::connect(address).await.unwrap();
            let (accepted, _) = listener.accept().await.unwrap();
            let sock = SockRef::from(&accepted);
            assert!(!sock.keepalive().unwrap());
            configure_accepted(&accepted, 300).unwrap();
            assert!(sock.keepalive().unwrap());
            assert!(sock.tcp_nodelay().unwrap());
            #[cfg(any(target_os = "linux", target_os = "macos"))]
            {
                assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(300));
                assert_eq!(
                    sock.tcp_keepalive_interval().unwrap(),
                    Duration::from_secs(100)
                );
                assert_eq!(sock.tcp_keepalive_retries().unwrap(), 3);
            }
        });
    }
}
