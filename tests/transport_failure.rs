//! A transport that fails (a TLS stream that read a bad record, a socket error) fails every
//! later call alike: each adapter reports the error once and then ends, rather than yielding
//! it again on every read. A non-blocking socket's `WouldBlock` is not a failure.
#![cfg(all(feature = "tokio", feature = "blocking"))]

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrosocket::{blocking, tokio as tws, Error, Message};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A transport whose reads fail with `InvalidData` once `failing` is set (writes go on).
struct Failing<S> {
    inner: S,
    failing: Arc<AtomicBool>,
}

fn bad_record() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "bad record")
}

impl<S: AsyncRead + Unpin> AsyncRead for Failing<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.failing.load(Ordering::SeqCst) {
            return Poll::Ready(Err(bad_record()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Failing<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: Read> Read for Failing<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(bad_record());
        }
        self.inner.read(buf)
    }
}

impl<S: Write> Write for Failing<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl blocking::Socket for Failing<std::net::TcpStream> {
    fn shutdown_write(&self) -> io::Result<()> {
        self.inner.shutdown(std::net::Shutdown::Write)
    }
}

fn is_bad_record(error: &Error) -> bool {
    matches!(error, Error::Io(e) if e.kind() == io::ErrorKind::InvalidData)
}

type Client = tws::WebSocketStream<tws::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server side accepted over a failing transport, and the client connected to it.
async fn failing_pair() -> (
    tws::WebSocketStream<Failing<tokio::net::TcpStream>>,
    Arc<AtomicBool>,
    Client,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let failing = Arc::new(AtomicBool::new(false));
    let flag = failing.clone();
    let server = tokio::spawn(async move {
        let (inner, _) = listener.accept().await.unwrap();
        tws::accept(Failing { inner, failing: flag }).await.unwrap()
    });
    let (client, _) = tws::connect(&format!("ws://{addr}/")).await.unwrap();
    (server.await.unwrap(), failing, client)
}

async fn next_within<S: futures_util::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(stream))
        .await
        .expect("the stream answers")
}

/// `messages` yields the transport's failure once and then ends; `client`, its peer, sees
/// the connection end without a closing handshake (1006).
async fn reported_once_then_ended<S>(messages: &mut S, client: &mut Client)
where
    S: futures_util::Stream<Item = ferrosocket::Result<Message>> + Unpin,
{
    let failure = next_within(messages).await.unwrap().unwrap_err();
    assert!(is_bad_record(&failure), "{failure:?}");
    for _ in 0..3 {
        assert!(next_within(messages).await.is_none(), "ended after the failure");
    }
    match next_within(client).await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, ferrosocket::CloseCode::ABNORMAL),
        other => panic!("expected the abnormal end, got {other:?}"),
    }
}

#[tokio::test]
async fn the_stream_reports_a_read_failure_once_then_ends() {
    let (mut server, failing, mut client) = failing_pair().await;
    client.send(Message::text("before")).await.unwrap();
    assert_eq!(
        next_within(&mut server).await.unwrap().unwrap(),
        Message::text("before")
    );
    failing.store(true, Ordering::SeqCst);
    reported_once_then_ended(&mut server, &mut client).await;
    assert!(server.send(Message::text("after")).await.is_err());
}

#[tokio::test]
async fn the_split_receiver_reports_a_read_failure_once_then_ends() {
    let (server, failing, mut client) = failing_pair().await;
    let (mut sender, mut receiver) = server.into_split();
    failing.store(true, Ordering::SeqCst);
    reported_once_then_ended(&mut receiver, &mut client).await;
    assert!(sender.send(Message::text("after")).await.is_err());
}

#[test]
fn the_blocking_socket_reports_a_read_failure_once_then_ends() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let failing = Arc::new(AtomicBool::new(false));
    let flag = failing.clone();
    let server = std::thread::spawn(move || {
        let (inner, _) = listener.accept().unwrap();
        blocking::accept(Failing { inner, failing: flag }).unwrap()
    });
    let (mut client, _) = blocking::connect(&format!("ws://{addr}/")).unwrap();
    let mut server = server.join().unwrap();
    client.send(Message::text("before")).unwrap();
    assert_eq!(server.read().unwrap(), Message::text("before"));
    failing.store(true, Ordering::SeqCst);
    assert!(is_bad_record(&server.read().unwrap_err()));
    assert!(matches!(server.read(), Err(Error::ConnectionClosed)));
    assert!(matches!(server.read(), Err(Error::AlreadyClosed)));
    match client.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, ferrosocket::CloseCode::ABNORMAL),
        other => panic!("expected the abnormal end, got {other:?}"),
    }
}

/// `WouldBlock` from a non-blocking socket is reported and the connection goes on.
#[test]
fn a_non_blocking_socket_goes_on_after_would_block() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || blocking::accept(listener.accept().unwrap().0).unwrap());
    let (mut client, _) = blocking::connect(&format!("ws://{addr}/")).unwrap();
    let mut server = server.join().unwrap();
    server.get_ref().set_nonblocking(true).unwrap();
    match server.read() {
        Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
        other => panic!("expected WouldBlock, got {other:?}"),
    }
    client.send(Message::text("later")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match server.read() {
            Ok(message) => break assert_eq!(message, Message::text("later")),
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(std::time::Instant::now() < deadline, "the message never came");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("the connection ended: {e:?}"),
        }
    }
}

/// The compio socket: its reads through owned buffers fail alike, and end alike.
#[cfg(feature = "compio")]
mod on_compio {
    use compio::buf::{BufResult, IoBufMut};
    use compio::io::util::Splittable;

    use super::*;

    /// A read half whose reads fail with `InvalidData` once `failing` is set.
    struct FailingRead<R> {
        inner: R,
        failing: Arc<AtomicBool>,
    }

    impl<R: compio::io::AsyncRead> compio::io::AsyncRead for FailingRead<R> {
        async fn read<B: IoBufMut>(&mut self, buf: B) -> BufResult<usize, B> {
            if self.failing.load(Ordering::SeqCst) {
                return BufResult(Err(bad_record()), buf);
            }
            self.inner.read(buf).await
        }
    }

    #[test]
    fn the_compio_socket_reports_a_read_failure_once_then_ends() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            compio::runtime::Runtime::new().unwrap().block_on(async move {
                let listener = compio::net::TcpListener::from_std(listener).unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                let (read, write) = stream.split();
                let failing = Arc::new(AtomicBool::new(false));
                let read = FailingRead {
                    inner: read,
                    failing: failing.clone(),
                };
                let mut ws = ferrosocket::compio::accept((read, write)).await.unwrap();
                assert_eq!(ws.read().await.unwrap(), Message::text("before"));
                failing.store(true, Ordering::SeqCst);
                let mut errors = Vec::new();
                for _ in 0..3 {
                    errors.push(ws.read().await.unwrap_err());
                }
                errors
            })
        });
        let (mut client, _) = blocking::connect(&format!("ws://{addr}/")).unwrap();
        client.send(Message::text("before")).unwrap();
        let errors = server.join().unwrap();
        assert!(is_bad_record(&errors[0]), "{errors:?}");
        assert!(matches!(errors[1], Error::ConnectionClosed), "{errors:?}");
        assert!(matches!(errors[2], Error::AlreadyClosed), "{errors:?}");
        match client.read() {
            Ok(Message::Close(Some(frame))) => assert_eq!(frame.code, ferrosocket::CloseCode::ABNORMAL),
            other => panic!("expected the abnormal end, got {other:?}"),
        }
    }
}
