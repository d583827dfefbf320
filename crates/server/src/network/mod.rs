//! TCP serving: the accept loop ([`listener`]) and one task per connection
//! ([`connection`]).

pub(crate) mod connection;
pub(crate) mod listener;
