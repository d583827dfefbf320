//! Decoding throughput of a pipelined stream of `SET key:N value` requests,
//! reported both in bytes (MB/s) and in requests (elements/s).
//!
//! `cargo bench -p redigo-resp -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redigo_resp::{RequestCodec, encode};
use tokio_util::codec::Decoder;

/// Requests in one pipelined stream.
const REQUESTS: usize = 10_000;

/// A typical network read: Redis's `PROTO_IOBUF_LEN`.
const READ_SIZE: usize = 16 * 1024;

fn multibulk_stream() -> Vec<u8> {
    let mut buf = BytesMut::new();
    for n in 0..REQUESTS {
        let key = format!("key:{n}");
        encode::command(&mut buf, &[&b"SET"[..], key.as_bytes(), b"value"]);
    }
    buf.to_vec()
}

fn inline_stream() -> Vec<u8> {
    (0..REQUESTS)
        .flat_map(|n| format!("SET key:{n} value\r\n").into_bytes())
        .collect()
}

/// Decodes `wire` delivered in `chunk`-sized reads; returns the request count.
fn decode(wire: &[u8], chunk: usize) -> usize {
    let mut codec = RequestCodec::new();
    let mut buf = BytesMut::with_capacity(chunk.min(wire.len()));
    let mut requests = 0;
    for piece in wire.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(request) = codec.decode(&mut buf).expect("valid stream") {
            black_box(&request);
            requests += 1;
        }
    }
    assert_eq!(requests, REQUESTS);
    requests
}

fn bench_streams(c: &mut Criterion, group_name: &str, throughput: impl Fn(&[u8]) -> Throughput) {
    let multibulk = multibulk_stream();
    let inline = inline_stream();
    let mut group = c.benchmark_group(group_name);
    for (name, wire, chunk) in [
        ("multibulk/one_buffer", &multibulk, multibulk.len()),
        ("multibulk/16k_reads", &multibulk, READ_SIZE),
        ("inline/16k_reads", &inline, READ_SIZE),
    ] {
        group.throughput(throughput(wire));
        group.bench_function(name, |b| b.iter(|| decode(black_box(wire), chunk)));
    }
    group.finish();
}

fn bytes_per_second(c: &mut Criterion) {
    bench_streams(c, "decode_bytes", |wire| {
        Throughput::Bytes(wire.len() as u64)
    });
}

fn requests_per_second(c: &mut Criterion) {
    bench_streams(c, "decode_requests", |_| {
        Throughput::Elements(REQUESTS as u64)
    });
}

criterion_group!(benches, bytes_per_second, requests_per_second);
criterion_main!(benches);
