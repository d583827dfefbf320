//! Shared by the oracle tests: the store's results encoded as RESP2 the way
//! the server encodes them, so they compare byte for byte with
//! redis-server's replies.

#![allow(dead_code)] // each test file uses a different subset

use redigo_store::{ExpireOutcome, SetOutcome, StoreError};

pub enum Reply {
    Ok,
    Status(&'static str),
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Err(StoreError),
    Array(Vec<Reply>),
}

impl Reply {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Ok => b"+OK\r\n".to_vec(),
            Reply::Status(s) => format!("+{s}\r\n").into_bytes(),
            Reply::Nil => b"$-1\r\n".to_vec(),
            Reply::Int(n) => format!(":{n}\r\n").into_bytes(),
            Reply::Bulk(b) => [
                format!("${}\r\n", b.len()).into_bytes(),
                b.clone(),
                b"\r\n".to_vec(),
            ]
            .concat(),
            Reply::Err(e) => format!("-{e}\r\n").into_bytes(),
            Reply::Array(items) => {
                let mut out = format!("*{}\r\n", items.len()).into_bytes();
                for item in items {
                    out.extend(item.encode());
                }
                out
            }
        }
    }
}

pub fn bulk(v: Option<&[u8]>) -> Reply {
    v.map_or(Reply::Nil, |v| Reply::Bulk(v.to_vec()))
}

pub fn int<T: TryInto<i64>>(r: Result<T, StoreError>) -> Reply {
    match r {
        Ok(n) => Reply::Int(n.try_into().ok().expect("fits i64")),
        Err(e) => Reply::Err(e),
    }
}

pub fn float(r: Result<bytes::Bytes, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
}

pub fn ok<T>(value: T) -> Result<T, StoreError> {
    Ok(value)
}

pub fn status<T>(r: Result<T, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, |_| Reply::Ok)
}

pub fn set_reply(r: Result<SetOutcome, StoreError>, get: bool) -> Reply {
    match r {
        Err(e) => Reply::Err(e),
        Ok(o) if get => bulk(o.previous.as_deref()),
        Ok(o) => {
            if o.written {
                Reply::Ok
            } else {
                Reply::Nil
            }
        }
    }
}

pub fn expire_reply(r: Result<ExpireOutcome, StoreError>) -> Reply {
    int(r.map(|o| i64::from(o != ExpireOutcome::NotSet)))
}
