//! [`ServerRuntime`]: the tokio runtime a server runs on, built from
//! `io-threads`.
//!
//! * `io-threads 1` (the default, as in Redis): a current-thread runtime,
//!   so every connection runs on the thread that calls
//!   [`ServerRuntime::block_on`], as every client runs on Redis's main
//!   thread. Its park hook, run each time the thread has no task left,
//!   starts the server's [`TickCommit`]: under `appendfsync always` it
//!   writes and fsyncs once for every connection that ran in that tick, as
//!   Redis's `beforeSleep` does; and, when a batch ran since the last
//!   park, it may poll the sockets a little longer instead of sleeping
//!   ([`IdlePoll`]).
//! * More I/O threads: a multi-thread runtime with that many workers, and
//!   no park hook: there a task woken from the hook goes to the shared
//!   queue while the worker parks anyway, so a reply could wait for the
//!   next socket event. The fsync thread does the group commits instead.
//!
//! The `redigo` binary and the in-process test servers both build their
//! runtime here, so tests run the production arrangement.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Builder, Runtime};

use crate::aof::{AofOptions, TickCommit};
use crate::idle_poll::IdlePoll;

/// The name of the runtime's threads (worker threads with more than one I/O
/// thread; with one, connections run on the thread that called
/// [`ServerRuntime::block_on`]).
pub const IO_THREAD_NAME: &str = "redigo-io";

/// See the module docs.
#[derive(Debug)]
pub struct ServerRuntime {
    runtime: Runtime,
    tick_commit: Option<Arc<TickCommit>>,
    idle_poll: Option<Arc<IdlePoll>>,
}

impl ServerRuntime {
    /// Builds the runtime for `io_threads` threads serving connections.
    pub fn new(io_threads: usize) -> std::io::Result<ServerRuntime> {
        if io_threads <= 1 {
            let tick_commit = TickCommit::new();
            // Off until the server applies its `idle-poll-max-us`.
            let idle_poll = Arc::new(IdlePoll::new(0));
            let (tick, idle) = (Arc::clone(&tick_commit), Arc::clone(&idle_poll));
            let idle_unpark = Arc::clone(&idle_poll);
            let runtime = Builder::new_current_thread()
                .on_thread_park(move || {
                    tick.on_park();
                    idle.on_park();
                })
                .on_thread_unpark(move || idle_unpark.on_unpark())
                .enable_all()
                .build()?;
            runtime.spawn(Arc::clone(&tick_commit).committer());
            let tick = Arc::clone(&tick_commit);
            runtime.spawn(Arc::clone(&idle_poll).poller(move || tick.on_park()));
            return Ok(ServerRuntime {
                runtime,
                tick_commit: Some(tick_commit),
                idle_poll: Some(idle_poll),
            });
        }
        let runtime = Builder::new_multi_thread()
            .worker_threads(io_threads)
            .thread_name(IO_THREAD_NAME)
            .enable_all()
            .build()?;
        Ok(ServerRuntime {
            runtime,
            tick_commit: None,
            idle_poll: None,
        })
    }

    /// The end-of-tick commit the park hook runs, if this runtime has one.
    pub fn tick_commit(&self) -> Option<Arc<TickCommit>> {
        self.tick_commit.clone()
    }

    /// The idle polling the park hook runs, if this runtime has one.
    pub fn idle_poll(&self) -> Option<Arc<IdlePoll>> {
        self.idle_poll.clone()
    }

    /// Production AOF options wired to this runtime's end-of-tick commit.
    pub fn aof_options(&self) -> AofOptions {
        AofOptions {
            tick_commit: self.tick_commit(),
            ..AofOptions::default()
        }
    }

    /// Runs `future` to completion on this runtime (with one I/O thread,
    /// every connection runs on the calling thread meanwhile).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
