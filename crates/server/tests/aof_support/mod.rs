//! Helpers shared by the `aof_*` integration tests: an in-process dataset
//! with the AOF started on it, writes applied by running the real commands
//! on it (through `redigo_server::testing::Session`), and what a dataset
//! holds, live or loaded from a file.

#![allow(dead_code)] // Each test file uses a different subset.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redigo_aof::{AofWriter, FaultInjector, FaultyAofWriter, FsyncPolicy, Replay};
use redigo_server::ServerState;
use redigo_server::aof::{self, AofOptions, Persistence, WriterFactory};
use redigo_server::config::Config;
use redigo_server::dataset::{self, Dataset, SharedDataset};
use redigo_server::testing::Session;
use redigo_store::Value;

/// `(db, key)` -> `(value, deadline)`.
pub type Model = BTreeMap<(usize, Vec<u8>), (Value, Option<u64>)>;

/// A far-future deadline base, so nothing expires during a test.
pub const FAR_DEADLINE: u64 = 4_000_000_000_000;

/// [`AofOptions::max_inline_fsync`] for tests that count where fsyncs run.
/// The production limit (10 ms) is wall-clock time: on a loaded 2-core CI
/// machine a test thread descheduled that long inside an fsync passed for a
/// slow disk and sent the next fsync to the fsync thread. No such pause
/// comes near this.
pub const COUNTED_INLINE_FSYNC_LIMIT: Duration = Duration::from_millis(300);

/// A server state and dataset with the AOF at `dir/appendonly.aof` started.
pub fn start(
    dir: &Path,
    appendfsync: &str,
    options: AofOptions,
) -> (Arc<ServerState>, SharedDataset, Persistence) {
    let mut config = Config::default();
    config.set("aof-enabled", "yes").unwrap();
    config.set("appendfsync", appendfsync).unwrap();
    config
        .set(
            "aof-path",
            &dir.join("appendonly.aof").display().to_string(),
        )
        .unwrap();
    config.set("databases", "4").unwrap();
    let dataset = Dataset::new(&config).shared();
    let state = Arc::new(ServerState::new(config, None, None));
    let persistence = aof::start(&state, &dataset, options)
        .expect("AOF starts")
        .expect("AOF enabled");
    (state, dataset, persistence)
}

thread_local! {
    /// The client the writes below run as (one a thread, reused: a session
    /// holds a server state of its own, not worth building per write).
    static SESSION: RefCell<Session> = RefCell::new(Session::new());
}

/// Runs `args` in `db` through the real dispatcher and handler, under a
/// lock already held, and returns the reply (the caller ends the batch).
/// The AOF's MISCONF gate does not apply (see [`Session`]): tests that
/// inject write faults still apply every write they mean to.
pub fn run_locked(data: &mut Dataset, db: usize, args: &[&[u8]]) -> Vec<u8> {
    SESSION.with(|session| {
        let mut session = session.borrow_mut();
        session.select(db);
        session.run(data, args)
    })
}

/// Runs `SET key value [PXAT deadline]` in `db` and ends the batch
/// (propagation included).
pub fn set(
    state: &ServerState,
    data: &SharedDataset,
    db: usize,
    key: &[u8],
    value: &[u8],
    deadline: Option<u64>,
) {
    let mut guard = dataset::lock(data);
    set_locked(&mut guard, db, key, value, deadline);
    guard.finish_batch(&state.stats);
}

/// [`set`] under a lock already held, leaving the batch open.
pub fn set_locked(data: &mut Dataset, db: usize, key: &[u8], value: &[u8], deadline: Option<u64>) {
    let deadline = deadline.map(|d| d.to_string());
    let mut args: Vec<&[u8]> = vec![b"SET", key, value];
    if let Some(deadline) = &deadline {
        args.extend([b"PXAT".as_slice(), deadline.as_bytes()]);
    }
    assert_eq!(run_locked(data, db, &args), b"+OK\r\n");
}

/// Runs `DEL key` in `db` (propagated only when the key existed) and ends
/// the batch.
pub fn del(state: &ServerState, data: &SharedDataset, db: usize, key: &[u8]) {
    let mut guard = dataset::lock(data);
    del_locked(&mut guard, db, key);
    guard.finish_batch(&state.stats);
}

/// [`del`] under a lock already held, leaving the batch open.
pub fn del_locked(data: &mut Dataset, db: usize, key: &[u8]) {
    let reply = run_locked(data, db, &[b"DEL", key]);
    assert!(
        reply == b":0\r\n" || reply == b":1\r\n",
        "DEL replied {reply:?}"
    );
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Every key of the live dataset, through a snapshot.
pub fn live_model(data: &SharedDataset) -> Model {
    let mut model = Model::new();
    let mut guard = dataset::lock(data);
    let mut handle = guard
        .store
        .begin_snapshot(now_ms())
        .expect("no snapshot running");
    loop {
        let batch = guard.store.snapshot_next(&mut handle, 1024);
        if batch.is_empty() {
            return model;
        }
        for entry in batch {
            model.insert(
                (entry.db, entry.key.to_vec()),
                (entry.value, entry.expire_at_ms),
            );
        }
    }
}

/// A string value, as models hold it.
pub fn string(bytes: &'static [u8]) -> Value {
    Value::String(bytes::Bytes::from_static(bytes))
}

/// What replaying the AOF at `path` yields: the file loaded by the server's
/// own loader (the real command handlers) into a fresh dataset, read back
/// as [`live_model`] reads a live one.
pub fn replay_model(path: &Path) -> Model {
    let config = Config::default();
    let dataset = Dataset::new(&config).shared();
    let server = ServerState::new(config, None, None);
    aof::load(path, &server, &dataset, false).expect("AOF loads");
    live_model(&dataset)
}

/// Commands in the AOF at `path`.
pub fn record_count(path: &Path) -> usize {
    Replay::open(path)
        .unwrap()
        .inspect(|e| assert!(e.is_ok(), "{e:?}"))
        .count()
}

/// A writer factory that opens [`FaultyAofWriter`]s and hands the test the
/// injector of the most recently opened one.
pub fn faulty_factory() -> (WriterFactory, Arc<Mutex<Option<FaultInjector>>>) {
    let injector = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&injector);
    let factory: WriterFactory = Arc::new(move |path: &Path, policy: FsyncPolicy| {
        let writer = FaultyAofWriter::open(path, policy)?;
        *slot.lock().unwrap() = Some(writer.faults());
        Ok(Box::new(writer) as Box<dyn AofWriter>)
    });
    (factory, injector)
}

/// Polls `condition` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    condition()
}

/// A real server with custom AOF options on its own runtime thread; shuts
/// down (flushing the AOF) when dropped.
pub struct InProcessServer {
    pub port: u16,
    pub state: Arc<ServerState>,
    pub dataset: SharedDataset,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessServer {
    pub fn start(overrides: &[(&str, &str)], aof: AofOptions) -> InProcessServer {
        let mut config = Config::default();
        config.set("port", "0").unwrap();
        for (key, value) in overrides {
            config.set(key, value).unwrap();
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = redigo_server::runtime::ServerRuntime::new(config.io_threads).unwrap();
            let aof = AofOptions {
                tick_commit: runtime.tick_commit(),
                ..aof
            };
            runtime.block_on(async move {
                let options = redigo_server::ServerOptions {
                    aof,
                    ..redigo_server::ServerOptions::default()
                };
                let server = redigo_server::Server::bind(config, options).await.unwrap();
                let _ = ready_tx.send((
                    server.port(),
                    Arc::clone(server.state()),
                    Arc::clone(server.dataset()),
                ));
                server.run(std::future::pending()).await.unwrap();
            });
        });
        let (port, state, dataset) = ready_rx.recv().expect("server started");
        InProcessServer {
            port,
            state,
            dataset,
            thread: Some(thread),
        }
    }

    /// The live AOF (the dataset's propagation log owns it).
    pub fn aof(&self) -> Arc<aof::Aof> {
        let data = dataset::lock(&self.dataset);
        Arc::clone(&data.aof().expect("the AOF is on").aof)
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.state
            .request_shutdown(redigo_server::ShutdownMode::default());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A file whose fsync takes a while, as a real disk's does: while one
/// runs, other clients' batches pile up and share the next fsync.
#[derive(Debug)]
pub struct SlowDisk(pub std::fs::File);

/// How long a [`SlowDisk`] fsync takes.
pub const SLOW_FSYNC: Duration = Duration::from_millis(5);

/// The fsync handle of a [`SlowDisk`].
#[derive(Debug)]
struct SlowSync(std::fs::File);

impl redigo_aof::SyncTarget for SlowSync {
    fn sync_data(&self) -> std::io::Result<()> {
        std::thread::sleep(SLOW_FSYNC);
        self.0.sync_data()
    }
}

impl redigo_aof::AofStorage for SlowDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::Write::write(&mut self.0, buf)
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.0.set_len(len)?;
        std::io::Seek::seek(&mut self.0, std::io::SeekFrom::Start(len)).map(drop)
    }
    fn file_len(&mut self) -> std::io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        std::thread::sleep(SLOW_FSYNC);
        self.0.sync_data()
    }
    fn sync_target(&self) -> std::io::Result<Box<dyn redigo_aof::SyncTarget>> {
        Ok(Box::new(SlowSync(self.0.try_clone()?)))
    }
}

/// The [`WriterFactory`] of [`SlowDisk`]s.
pub fn slow_disk_factory() -> WriterFactory {
    Arc::new(|path: &Path, policy: FsyncPolicy| {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| redigo_aof::AofError::Open {
                path: path.to_owned(),
                source,
            })?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(|source| {
            redigo_aof::AofError::Open {
                path: path.to_owned(),
                source,
            }
        })?;
        let writer = redigo_aof::FileAofWriter::with_storage(SlowDisk(file), policy)?;
        Ok(Box::new(writer) as Box<dyn AofWriter>)
    })
}

/// One field of an `INFO` reply.
pub fn info_field(info: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(info)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::to_owned))
}

/// Rewrites the AOF of `data` now (a BGREWRITEAOF with default hooks) and
/// waits up to `patience` for the rewrite to finish successfully.
pub fn rewrite_now(aof: &Arc<aof::Aof>, data: &SharedDataset, patience: Duration) {
    {
        let mut guard = dataset::lock(data);
        let d = &mut *guard;
        aof.start_rewrite(
            &mut d.store,
            &mut d.propagation,
            now_ms(),
            aof::RewriteHooks::default(),
        )
        .unwrap();
    }
    assert!(wait_until(patience, || !aof.rewrite_in_progress()));
    assert!(aof.report().last_bgrewrite_ok);
}

/// The commands of the AOF at `path`, as (lossy) strings.
pub fn records_as_strings(path: &Path) -> Vec<Vec<String>> {
    Replay::open(path)
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .collect()
}

/// Checks the AOF at `path` with `redis-check-aof`, then starts
/// redis-server 7.0 loading a copy of it (under `scratch/redis`) and waits
/// until it has loaded. `None` when `redis-check-aof` is not installed.
pub fn redis_loading_checked_aof(path: &Path, scratch: &Path) -> Option<redigo_tests::Oracle> {
    if !redigo_tests::tool_available("redis-check-aof") {
        return None;
    }
    let out = std::process::Command::new("redis-check-aof")
        .arg(path)
        .output()
        .expect("run redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("is valid"), "{text}");
    let redis_dir = scratch.join("redis");
    std::fs::create_dir_all(&redis_dir).unwrap();
    std::fs::copy(path, redis_dir.join("appendonly.aof")).unwrap();
    Some(redigo_tests::oracle_loading_aof(&redis_dir).expect("redis-server is installed"))
}

/// Runs each command in db 0 as its own batch (propagation included).
pub fn run_all(data: &SharedDataset, commands: &[&[&str]]) {
    for command in commands {
        let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
        let mut guard = dataset::lock(data);
        run_locked(&mut guard, 0, &args);
        guard.propagation.flush();
    }
}
