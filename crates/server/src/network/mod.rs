//! TCP serving: the accept loop ([`listener`]), one task per connection
//! ([`connection`]) and Redis's socket options and admission rules
//! ([`socket`]).

pub(crate) mod connection;
pub(crate) mod listener;
pub(crate) mod socket;
