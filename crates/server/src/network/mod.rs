//! TCP serving: the accept loop ([`listener`]), one task per connection
//! ([`connection`]), when its replies wait for the end of the runtime's turn
//! ([`reply_deferral`]), and Redis's socket options and admission rules
//! ([`socket`]).

pub(crate) mod connection;
pub(crate) mod listener;
pub(crate) mod reply_deferral;
pub(crate) mod socket;
