//! The registry and the outbox, driven directly (no sockets): delivery
//! order and shapes, output accounting, and the `pubsub` output limit.

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::client::ClientHandle;
use crate::config::Config;
use crate::state::ServerState;

fn server(limits: &str) -> ServerState {
    let mut config = Config::default();
    config.client_output_buffer_limit.apply(limits).unwrap();
    ServerState::new(config, None, None)
}

/// A client handle with its own id, as the listener would register it.
fn client(server: &ServerState) -> ClientHandle {
    let handle = ClientHandle::detached();
    let id = server.clients.next_id();
    handle.lock().id = id;
    server.clients.register(handle.clone(), id);
    handle
}

fn subscribe(server: &ServerState, handle: &ClientHandle, channel: &str) {
    let mut out = BytesMut::new();
    let mut state = handle.lock();
    server.pubsub.subscribe(
        &mut state,
        handle,
        Namespace::Global,
        &Bytes::copy_from_slice(channel.as_bytes()),
        &mut out,
    );
}

#[test]
fn a_message_is_queued_in_each_subscriber_s_outbox_and_counted_as_unsent_output() {
    let server = server("pubsub 0 0 0");
    let a = client(&server);
    let b = client(&server);
    subscribe(&server, &a, "ch");
    subscribe(&server, &b, "ch");
    let mut out = BytesMut::new();
    server
        .pubsub
        .psubscribe(&mut b.lock(), &b, &Bytes::from_static(b"c*"), &mut out);
    assert_eq!(publish(&server, None, Namespace::Global, b"ch", b"hi"), 3);
    assert_eq!(
        &a.lock().pubsub.queued[..],
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );
    // The channel's message first, then the pattern's.
    assert_eq!(
        &b.lock().pubsub.queued[..],
        &b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n"[..]
    );
    let queued = a.lock().pubsub.queued.len();
    assert_eq!(a.lock().unsent_output(), queued);
    // Drained into the reply buffer after what is already there.
    let mut reply = BytesMut::from(&b"+OK\r\n"[..]);
    a.lock().pubsub.drain_into(&mut reply);
    assert!(reply.starts_with(b"+OK\r\n*3\r\n$7\r\nmessage"));
    assert!(a.lock().pubsub.queued.is_empty());
    // The shard namespace is apart and has no patterns.
    assert_eq!(publish(&server, None, Namespace::Shard, b"ch", b"hi"), 0);
}

#[test]
fn a_subscriber_that_never_reads_is_closed_at_the_hard_limit_and_its_outbox_freed() {
    // 64 KiB hard limit, over the 16 KiB that count as the static buffer.
    let server = server("pubsub 65536 0 0");
    let slow = client(&server);
    subscribe(&server, &slow, "ch");
    let message = vec![b'x'; 1000];
    let mut peak = 0;
    let mut closed_after = None;
    for i in 0..1000 {
        publish(&server, None, Namespace::Global, b"ch", &message);
        let state = slow.lock();
        peak = peak.max(state.pubsub.queued.len());
        if state.kill_requested {
            closed_after = Some(i);
            break;
        }
    }
    let closed_after = closed_after.expect("the subscriber was never closed");
    // Closed as soon as the unsent output reached 16 KiB + 64 KiB.
    assert!(peak <= 16 * 1024 + 65536 + 1100, "peak {peak}");
    assert!(
        closed_after < 90,
        "closed only after {closed_after} messages"
    );
    let state = slow.lock();
    assert_eq!(state.pubsub.queued.capacity(), 0, "outbox not freed");
    assert_eq!(
        server
            .stats
            .client_output_buffer_limit_disconnections
            .load(Ordering::Relaxed),
        1
    );
    drop(state);
    // Nothing more is queued for a closed client.
    publish(&server, None, Namespace::Global, b"ch", &message);
    assert!(slow.lock().pubsub.queued.is_empty());
}

#[test]
fn the_normal_class_does_not_apply_to_subscribers() {
    // Normal clients limited to 1 KiB, subscribers unlimited.
    let server = server("normal 1024 0 0 pubsub 0 0 0");
    let sub = client(&server);
    subscribe(&server, &sub, "ch");
    for _ in 0..100 {
        publish(&server, None, Namespace::Global, b"ch", &[b'x'; 1000]);
    }
    assert!(!sub.lock().kill_requested);
    assert_eq!(sub.lock().limit_class(), ClientClass::Pubsub);
}

#[test]
fn a_closed_connection_s_subscriptions_leave_the_registry() {
    let server = server("pubsub 0 0 0");
    let a = client(&server);
    subscribe(&server, &a, "ch");
    let mut out = BytesMut::new();
    server
        .pubsub
        .psubscribe(&mut a.lock(), &a, &Bytes::from_static(b"p*"), &mut out);
    assert_eq!(server.pubsub.channel_count(), 1);
    server.pubsub.forget_client(&a);
    assert_eq!(server.pubsub.channel_count(), 0);
    assert_eq!(server.pubsub.pattern_count(), 0);
    assert_eq!(publish(&server, None, Namespace::Global, b"ch", b"x"), 0);
}
