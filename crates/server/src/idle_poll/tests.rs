//! Unit tests of idle polling: the window's and the budget's arithmetic,
//! and a runtime that polls while work keeps coming and sleeps once it
//! stops.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::runtime::ServerRuntime;

#[test]
fn a_short_sleep_opens_the_window_and_longer_ones_within_the_limit_double_it() {
    let mut window = PollWindow { window_us: 0 };
    window.after_sleep(10, 200);
    assert_eq!(window.window_us, GROW_START_US, "opens at the start value");
    window.after_sleep(70, 200);
    assert_eq!(window.window_us, 100);
    window.after_sleep(150, 200);
    assert_eq!(window.window_us, 200);
    window.after_sleep(199, 200);
    assert_eq!(window.window_us, 200, "never wider than the limit");
}

#[test]
fn a_sleep_the_window_would_have_caught_changes_nothing() {
    let mut window = PollWindow { window_us: 100 };
    window.after_sleep(100, 200);
    assert_eq!(window.window_us, 100);
    window.after_sleep(3, 200);
    assert_eq!(window.window_us, 100);
}

#[test]
fn sleeps_longer_than_the_limit_close_the_window_by_halves() {
    let mut window = PollWindow { window_us: 200 };
    let mut widths = Vec::new();
    for _ in 0..9 {
        window.after_sleep(5_000, 200);
        widths.push(window.window_us);
    }
    assert_eq!(widths, [100, 50, 25, 12, 6, 3, 1, 0, 0]);
}

#[test]
fn a_lower_limit_narrows_the_window() {
    let mut window = PollWindow { window_us: 200 };
    window.after_sleep(20, 40);
    assert_eq!(window.window_us, 40);
    window.after_sleep(20, 0);
    assert_eq!(window.window_us, 0);
}

#[test]
fn the_budget_allows_polling_up_to_the_time_the_work_took() {
    let mut budget = PollBudget::default();
    budget.add_awake(100);
    budget.add_polled(50);
    assert!(budget.allows(), "50 µs of polling beside 50 µs of work");
    budget.add_awake(10);
    budget.add_polled(10);
    assert!(!budget.allows(), "60 µs of polling beside 50 µs of work");
    budget.add_awake(20);
    assert!(budget.allows(), "more work pays for it");
}

#[test]
fn the_budget_forgets_old_history_by_halves_keeping_its_ratio() {
    let mut budget = PollBudget::default();
    budget.add_awake(BUDGET_HISTORY_US);
    budget.add_polled(BUDGET_HISTORY_US / 2 + 100);
    assert!(!budget.allows());
    budget.add_awake(4);
    assert!(budget.awake_us <= BUDGET_HISTORY_US / 2 + 2, "{budget:?}");
    assert!(!budget.allows(), "halving keeps the ratio: {budget:?}");
}

/// A runtime built as the server's, with idle polling at `max_us`; a thread
/// sends `messages` bytes over TCP `gap` apart, a task reads them and
/// reports each as a batch; then the runtime has nothing to do for a while.
/// Returns the stats after the messages, and two samples of them taken
/// 50 ms apart once idle.
fn run_paced(
    max_us: u64,
    messages: usize,
    gap: Duration,
) -> (IdlePollStats, IdlePollStats, IdlePollStats) {
    let runtime = ServerRuntime::new(1).expect("runtime");
    let idle_poll = runtime.idle_poll().expect("a current-thread runtime polls");
    idle_poll.set_max_us(max_us);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).unwrap();
        for _ in 0..messages {
            // Spins rather than sleeps: a sleep's own wake-up is longer
            // than the gaps this paces.
            let until = Instant::now() + gap;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
            stream.write_all(b"x").expect("send");
        }
        let mut end = [0u8; 1];
        let _ = stream.read(&mut end);
    });
    let (accepted, _) = listener.accept().expect("accept");
    accepted.set_nonblocking(true).unwrap();
    let work = Arc::clone(&idle_poll);
    runtime.block_on(async move {
        let mut stream = tokio::net::TcpStream::from_std(accepted).expect("tokio stream");
        let mut received = 0;
        let mut buf = [0u8; 64];
        while received < messages {
            let n = tokio::io::AsyncReadExt::read(&mut stream, &mut buf)
                .await
                .expect("read");
            assert!(n > 0, "the sender closed early");
            received += n;
            work.note_work();
        }
        let busy = work.stats();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let idle = work.stats();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let still_idle = work.stats();
        tokio::io::AsyncWriteExt::write_all(&mut stream, b".")
            .await
            .expect("release the sender");
        sender.join().expect("sender");
        (busy, idle, still_idle)
    })
}

#[test]
fn a_runtime_polls_while_requests_come_close_together_and_sleeps_once_they_stop() {
    let (busy, idle, still_idle) =
        run_paced(DEFAULT_IDLE_POLL_MAX_US, 3_000, Duration::from_micros(30));
    assert!(busy.batches > 0 && busy.batches <= 3_000, "{busy:?}");
    assert!(busy.rounds > 0, "polling started: {busy:?}");
    assert!(
        busy.hits > 0,
        "polling caught requests that would have woken the thread: {busy:?}"
    );
    assert!(
        idle.misses > busy.misses || busy.polls == idle.polls,
        "the last round ended without work: {busy:?} {idle:?}"
    );
    assert_eq!(
        idle.polls, still_idle.polls,
        "an idle runtime sleeps instead of polling: {idle:?} {still_idle:?}"
    );
}

#[test]
fn with_the_limit_at_zero_a_runtime_never_polls() {
    let (busy, _, still_idle) = run_paced(0, 300, Duration::from_micros(30));
    assert!(busy.batches > 0, "{busy:?}");
    assert_eq!(
        (still_idle.rounds, still_idle.polls),
        (0, 0),
        "{still_idle:?}"
    );
}
