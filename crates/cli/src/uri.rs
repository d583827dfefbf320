//! `-u redis://[[user:]password@]host[:port][/db]`, parsed as redis-cli 7.0's
//! `parseRedisUri` parses it.
//!
//! The rules are redis-cli's, including its leniency: the user name and
//! password are percent-decoded, the host is taken as written, and the port
//! and database go through C's `atoi` (so `:abc` is port 0). Only the
//! `redis://` scheme is accepted; TLS (`rediss://`) is not supported.

use thiserror::Error;

use crate::c_number::atoi;

/// The scheme every URI must start with (compared case-insensitively).
const SCHEME: &str = "redis://";
/// The TLS scheme, recognised only to give a precise error.
const TLS_SCHEME: &str = "rediss://";

/// What a URI sets; absent parts keep the other options' values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisUri {
    /// `user` of `user:password@`.
    pub user: Option<Vec<u8>>,
    /// `password` of `[user:]password@`.
    pub password: Option<Vec<u8>>,
    /// The host, when the authority names one.
    pub host: Option<String>,
    /// The port after `host:`.
    pub port: Option<u16>,
    /// The database after `/`.
    pub db: Option<i64>,
}

/// Why a URI was rejected; the messages are redis-cli's.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UriError {
    /// Neither `redis://` nor `rediss://`.
    #[error("Invalid URI scheme")]
    InvalidScheme,
    /// `rediss://` needs TLS, which this client does not implement.
    #[error("rediss:// is only supported when redigo-cli is compiled with OpenSSL")]
    TlsUnsupported,
    /// A `%` without two following characters.
    #[error("Incomplete URI encoding")]
    IncompleteEncoding,
    /// A `%` followed by something other than two hex digits.
    #[error("Illegal character in URI encoding")]
    IllegalEncoding,
}

/// Parses `uri` as redis-cli does.
///
/// ```
/// let uri = redigo_cli::uri::parse("redis://al:p%40ss@example:7000/3").unwrap();
/// assert_eq!(uri.user.as_deref(), Some(&b"al"[..]));
/// assert_eq!(uri.password.as_deref(), Some(&b"p@ss"[..]));
/// assert_eq!((uri.host.as_deref(), uri.port, uri.db), (Some("example"), Some(7000), Some(3)));
/// ```
pub fn parse(uri: &str) -> Result<RedisUri, UriError> {
    let starts_with = |scheme: &str| {
        uri.len() >= scheme.len()
            && uri.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
    };
    if starts_with(TLS_SCHEME) {
        return Err(UriError::TlsUnsupported);
    }
    if !starts_with(SCHEME) {
        return Err(UriError::InvalidScheme);
    }
    let mut rest = &uri[SCHEME.len()..];
    let mut parsed = RedisUri::default();

    if let Some(at) = rest.find('@') {
        let mut credentials = &rest[..at];
        if let Some(colon) = credentials.find(':') {
            parsed.user = Some(percent_decode(&credentials[..colon])?);
            credentials = &credentials[colon + 1..];
        }
        parsed.password = Some(percent_decode(credentials)?);
        rest = &rest[at + 1..];
    }
    if rest.is_empty() {
        return Ok(parsed);
    }

    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
        None => (rest, None),
    };
    if !authority.is_empty() {
        let host = match authority.find(':') {
            Some(colon) => {
                parsed.port =
                    Some(u16::try_from(atoi(&authority.as_bytes()[colon + 1..])).unwrap_or(0));
                &authority[..colon]
            }
            None => authority,
        };
        parsed.host = Some(host.to_owned());
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        parsed.db = Some(atoi(path.as_bytes()));
    }
    Ok(parsed)
}

/// `%hh` decoding as redis-cli's `percentDecode` (hex digits in either case).
fn percent_decode(text: &str) -> Result<Vec<u8>, UriError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if bytes.len() - i < 3 {
                return Err(UriError::IncompleteEncoding);
            }
            let hex = |b: u8| (b as char).to_digit(16);
            match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => out.push((high * 16 + low) as u8),
                _ => return Err(UriError::IllegalEncoding),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial_uris() {
        assert_eq!(parse("redis://").unwrap(), RedisUri::default());
        let uri = parse("REDIS://secret@localhost").unwrap();
        assert_eq!(uri.password.as_deref(), Some(&b"secret"[..]));
        assert_eq!(uri.user, None);
        assert_eq!(uri.host.as_deref(), Some("localhost"));
        assert_eq!(uri.port, None);
        let uri = parse("redis://:6380/2").unwrap();
        assert_eq!(
            (uri.host.as_deref(), uri.port, uri.db),
            (Some(""), Some(6380), Some(2))
        );
        let uri = parse("redis:///5").unwrap();
        assert_eq!((uri.host, uri.db), (None, Some(5)));
    }

    #[test]
    fn errors_are_redis_cli_messages() {
        assert_eq!(
            parse("http://x").unwrap_err().to_string(),
            "Invalid URI scheme"
        );
        assert_eq!(
            parse("redis://%4@h").unwrap_err(),
            UriError::IncompleteEncoding
        );
        assert_eq!(
            parse("redis://%zz@h").unwrap_err(),
            UriError::IllegalEncoding
        );
        assert_eq!(parse("rediss://h").unwrap_err(), UriError::TlsUnsupported);
    }
}
