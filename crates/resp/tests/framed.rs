//! The codecs inside tokio-util's `Framed` over an in-memory duplex stream,
//! as a server and a client use them.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use redigo_resp::{Frame, FrameCodec, ProtocolError, RequestCodec};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Framed, FramedRead};

#[tokio::test]
async fn server_reads_requests_and_writes_replies() {
    let (client, server) = tokio::io::duplex(64);
    let mut server = Framed::new(server, RequestCodec::new());
    let mut client = Framed::new(client, FrameCodec::new());

    client
        .send(Frame::command(["SET", "key", "value"]))
        .await
        .unwrap();
    let request = server.next().await.unwrap().unwrap();
    assert_eq!(request.args(), [&b"SET"[..], b"key", b"value"]);

    server.send(Frame::simple("OK")).await.unwrap();
    server
        .send(&Frame::Array(vec![Frame::Integer(1), Frame::Null]))
        .await
        .unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), Frame::simple("OK"));
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Frame::Array(vec![Frame::Integer(1), Frame::Null])
    );
}

#[tokio::test]
async fn request_stream_ends_quietly_mid_request() {
    let (mut client, server) = tokio::io::duplex(64);
    client
        .write_all(b"PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel")
        .await
        .unwrap();
    drop(client);
    let requests: Vec<_> = FramedRead::new(server, RequestCodec::new()).collect().await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].as_ref().unwrap().args(),
        [Bytes::from_static(b"PING")]
    );
}

#[tokio::test]
async fn reply_stream_ending_mid_frame_is_an_error() {
    let (mut server, client) = tokio::io::duplex(64);
    server.write_all(b"+OK\r\n*2\r\n:1\r\n").await.unwrap();
    drop(server);
    let mut replies = FramedRead::new(client, FrameCodec::new());
    assert_eq!(replies.next().await.unwrap().unwrap(), Frame::simple("OK"));
    assert!(matches!(
        replies.next().await,
        Some(Err(ProtocolError::Incomplete))
    ));
}
