//! WebSocket over HTTP/3 (RFC 9220): our server and client over real QUIC (quinn, in
//! process), certificates from a CA generated here, and raw QUIC peers where a test needs
//! to misbehave.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::http3::{self, Client, H3Error, Limits};
use ferrosocket::server::Server;
use ferrosocket::tls::ClientTls;
use ferrosocket::{Accept, ClientRequest, CloseCode, Config, Error, HandshakeError, Message, Response};

mod util;

use util::pki::TestCa as Pki;

fn pki() -> Pki {
    Pki::new()
}

/// Trusts only the test CA.
fn client_tls(pki: &Pki) -> ClientTls {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    ClientTls::Rustls(Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

fn endpoint(pki: &Pki, limits: &Limits) -> quinn::Endpoint {
    let config = http3::server_config(pki.chain.clone(), pki.key(), limits).unwrap();
    quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// An echo server over HTTP/3 that picks the client's first subprotocol and answers
/// permessage-deflate; `/private` is refused with 403, a header and a body; `/reset`
/// resets its stream after the first message; every other path echoes.
fn echo_server(pki: &Pki, limits: Limits, config: Config) -> SocketAddr {
    let endpoint = endpoint(pki, &limits);
    let addr = endpoint.local_addr().unwrap();
    tokio::spawn(http3::serve(
        endpoint,
        config,
        limits,
        |request| {
            if request.path() == "/private" {
                return Err(Response::new(403)
                    .header("x-reason", "members only")
                    .body("go away"));
            }
            let first = request.protocols().next().map(str::to_owned);
            Ok(first.map_or_else(Accept::new, |protocol| Accept::new().protocol(protocol)))
        },
        |mut ws, request| async move {
            while let Some(Ok(message)) = ws.next().await {
                if request.path() == "/reset" {
                    ws.get_mut().0.reset(0x10c);
                    return;
                }
                if message.is_data() && ws.send(message).await.is_err() {
                    break;
                }
            }
        },
    ));
    addr
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("wss://localhost:{}{path}", addr.port())
}

fn deflate() -> Config {
    Config::default().permessage_deflate(DeflateConfig::default())
}

#[tokio::test]
async fn echo_with_permessage_deflate_and_a_subprotocol() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), deflate());
    let request = ClientRequest::new(&url(addr, "/chat?room=1"))
        .unwrap()
        .protocol("chat.v2")
        .protocol("chat.v1");
    let (mut ws, response) = http3::connect_with(request, deflate(), Some(client_tls(&pki)))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.protocol(), Some("chat.v2"));
    let extensions = response.headers.get("sec-websocket-extensions").unwrap();
    assert!(extensions.starts_with("permessage-deflate"), "{extensions}");
    assert!(ws.connection().permessage_deflate().is_some());

    let big = "ferrosocket over QUIC ".repeat(10_000);
    for message in [
        Message::text("hello"),
        Message::binary(vec![7u8; 100_000]),
        Message::text(big),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
}

#[tokio::test]
async fn without_deflate_or_subprotocols_nothing_is_negotiated() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), deflate());
    let request = ClientRequest::new(&url(addr, "/plain")).unwrap();
    let (mut ws, response) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
        .await
        .unwrap();
    assert_eq!(response.protocol(), None);
    assert!(!response.headers.contains("sec-websocket-extensions"));
    assert!(ws.connection().permessage_deflate().is_none());
    ws.send(Message::text("plain")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("plain"));
}

#[tokio::test]
async fn a_refusal_arrives_with_its_status_headers_and_body() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), Config::default());
    let request = ClientRequest::new(&url(addr, "/private")).unwrap();
    match http3::connect_with(request, Config::default(), Some(client_tls(&pki))).await {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 403);
            assert_eq!(response.headers.get("x-reason"), Some("members only"));
            assert_eq!(&response.body[..], b"go away");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_websockets_share_one_quic_connection() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), Config::default());
    let first = ClientRequest::new(&url(addr, "/one")).unwrap();
    let client = Client::connect(&first, Some(client_tls(&pki)), Some(Duration::from_secs(10)))
        .await
        .unwrap();
    let (mut one, _) = client.open(&first, Config::default()).await.unwrap();
    let second = ClientRequest::new(&url(addr, "/two")).unwrap();
    let (mut two, _) = client.open(&second, Config::default()).await.unwrap();
    assert_ne!(one.get_ref().0.id(), two.get_ref().0.id());
    // Interleaved: neither waits for the other.
    one.send(Message::text("to one")).await.unwrap();
    two.send(Message::text("to two")).await.unwrap();
    assert_eq!(two.next().await.unwrap().unwrap(), Message::text("to two"));
    assert_eq!(one.next().await.unwrap().unwrap(), Message::text("to one"));
    // Closing one leaves the other (and the connection) open.
    one.close(CloseCode::NORMAL, "done").await.unwrap();
    assert!(matches!(one.next().await, Some(Ok(Message::Close(_)))));
    two.send(Message::text("still here")).await.unwrap();
    assert_eq!(two.next().await.unwrap().unwrap(), Message::text("still here"));
    assert!(client.connection().close_reason().is_none());
}

/// A server that reads each WebSocket to its end (closing first when `close_first`) and
/// reports everything it read; its address and the reports.
fn recording_server(pki: &Pki, close_first: bool) -> (SocketAddr, Reports) {
    let endpoint = endpoint(pki, &Limits::default());
    let addr = endpoint.local_addr().unwrap();
    let (ended, reports) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(http3::serve(
        endpoint,
        Config::default(),
        Limits::default(),
        |_| Ok(Accept::new()),
        move |mut ws, _| {
            let ended = ended.clone();
            async move {
                if close_first {
                    ws.close(CloseCode::NORMAL, "server first").await.unwrap();
                }
                let mut seen = Vec::new();
                while let Some(item) = ws.next().await {
                    seen.push(item.map_err(|e| e.to_string()));
                }
                ended.send(seen).unwrap();
            }
        },
    ));
    (addr, reports)
}

type Reports = tokio::sync::mpsc::UnboundedReceiver<Vec<Result<Message, String>>>;

#[tokio::test]
async fn the_close_handshake_ends_with_fin_on_both_sides() {
    let pki = pki();
    let (addr, mut server_end) = recording_server(&pki, false);
    let request = ClientRequest::new(&url(addr, "/bye")).unwrap();
    let (mut ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
        .await
        .unwrap();
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    // The server answered, finished its side (FIN) and our stream ends cleanly.
    assert!(ws.next().await.is_none());
    let seen = tokio::time::timeout(Duration::from_secs(5), server_end.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(seen.as_slice(), [Ok(Message::Close(Some(_)))]),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_stream_reset_is_an_abnormal_closure() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), Config::default());
    let request = ClientRequest::new(&url(addr, "/reset")).unwrap();
    let (mut ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
        .await
        .unwrap();
    ws.send(Message::text("reset me")).await.unwrap();
    // RFC 9220 §3: a reset stream is an abnormal closure, reported as 1006 without a
    // Close frame, and then the end.
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::ABNORMAL),
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none());
}

#[tokio::test]
async fn the_toolkit_adopts_http3_websockets() {
    let pki = pki();
    let mut server = Server::builder().build();
    let handle = server.handle();
    let clients = server.clients().clone();
    let endpoint = endpoint(&pki, &Limits::default());
    let addr = endpoint.local_addr().unwrap();
    tokio::spawn(http3::serve(
        endpoint,
        Config::default(),
        Limits::default(),
        |_| Ok(Accept::new()),
        move |ws, request| {
            let handle = handle.clone();
            async move {
                let incoming = handle.adopt(ws, request, None);
                let _ = handle.submit(incoming).await;
            }
        },
    ));
    tokio::spawn(async move {
        while let Some(incoming) = server.accept().await {
            incoming.client.subscribe(incoming.request.path());
            tokio::spawn(async move {
                let mut reader = incoming.reader;
                while reader.next().await.is_some() {}
            });
        }
    });
    let mut sockets = Vec::new();
    for path in ["/news", "/news", "/sport"] {
        let request = ClientRequest::new(&url(addr, path)).unwrap();
        let (ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
            .await
            .unwrap();
        sockets.push(ws);
    }
    tokio::time::timeout(Duration::from_secs(5), async {
        while clients.len() < 3 || clients.subscribers("/news") < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(clients.publish("/news", &Message::text("headline")), 2);
    assert_eq!(clients.broadcast(&Message::text("everyone")), 3);
    for (i, ws) in sockets.iter_mut().enumerate() {
        if i < 2 {
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("headline"));
        }
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("everyone"));
    }
}

/// A raw HTTP/3-speaking QUIC connection (ALPN h3) to `addr`, for tests that misbehave.
async fn raw_connection(pki: &Pki, addr: SocketAddr) -> quinn::Connection {
    let ClientTls::Rustls(tls) = client_tls(pki) else {
        unreachable!()
    };
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    endpoint.connect(addr, "localhost").unwrap().await.unwrap()
}

#[tokio::test]
async fn a_rapid_reset_loop_closes_the_connection_after_the_limit() {
    let pki = pki();
    let limits = Limits::default()
        .max_cancelled_requests(50)
        .max_streams_per_connection(10);
    let addr = echo_server(&pki, limits, Config::default());
    let conn = raw_connection(&pki, addr).await;
    let mut opened = 0;
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let Ok((mut send, mut recv)) = conn.open_bi().await else {
                break;
            };
            // Begin a request (a frame header with nothing after it), then cancel it.
            let _ = send.write_all(&[0x01, 0x10]).await;
            let _ = send.reset(quinn::VarInt::from_u32(0x10c));
            let _ = recv.stop(quinn::VarInt::from_u32(0x10c));
            opened += 1;
            if opened > 10_000 {
                break;
            }
        }
        conn.closed().await
    })
    .await
    .expect("the server must close the connection");
    match outcome {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(close.error_code.into_inner(), H3Error::ExcessiveLoad.code())
        }
        other => panic!("{other:?}"),
    }
    // Closed within a stream window of the limit, not after thousands.
    assert!((50..=200).contains(&opened), "{opened} streams opened");
}

#[tokio::test]
async fn a_silent_request_stream_is_rejected_at_the_handshake_deadline() {
    let pki = pki();
    let config = Config::default().handshake_timeout(Duration::from_millis(300));
    let addr = echo_server(&pki, Limits::default(), config);
    let conn = raw_connection(&pki, addr).await;
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&[0x21, 0x00]).await.unwrap(); // a reserved frame type, empty: not a request
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), recv.read(&mut buf))
        .await
        .unwrap();
    match read {
        Err(quinn::ReadError::Reset(code)) => assert_eq!(code.into_inner(), H3Error::RequestTimeout.code()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_request_is_answered_431_and_an_oversized_offer_fails_locally() {
    let pki = pki();
    let limits = Limits::default().max_field_section_size(1024);
    let addr = echo_server(&pki, limits, Config::default());
    // Our client knows the server's limit from its SETTINGS and does not send.
    let request = ClientRequest::new(&url(addr, "/"))
        .unwrap()
        .header("x-big", "b".repeat(2000));
    match http3::connect_with(request, Config::default(), Some(client_tls(&pki))).await {
        Err(Error::Io(error)) => {
            let cause = error.get_ref().and_then(|e| e.downcast_ref::<H3Error>());
            assert_eq!(cause, Some(&H3Error::FieldSectionTooLarge));
        }
        other => panic!("{other:?}"),
    }
    // A raw peer that sends one anyway gets 431.
    let conn = raw_connection(&pki, addr).await;
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&[0x01, 0x48, 0x00]).await.unwrap(); // HEADERS of 2048 bytes
    let answer = tokio::time::timeout(Duration::from_secs(5), recv.read_to_end(4096))
        .await
        .unwrap()
        .unwrap();
    // HEADERS, then a literal ":status" "431" somewhere in its field section.
    assert_eq!(answer[0], 0x01);
    assert!(answer.windows(3).any(|w| w == b"431"), "{answer:?}");
}

#[tokio::test]
async fn a_close_from_the_server_is_answered_before_the_client_goes() {
    let pki = pki();
    let (addr, mut server_end) = recording_server(&pki, true);
    // The client drops everything (and so closes the QUIC connection) as soon as its
    // stream ends: its Close reply must have reached the server by then.
    {
        let request = ClientRequest::new(&url(addr, "/")).unwrap();
        let (mut ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
            .await
            .unwrap();
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.reason, "server first"),
            other => panic!("{other:?}"),
        }
        assert!(ws.next().await.is_none());
    }
    let seen = tokio::time::timeout(Duration::from_secs(5), server_end.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(seen.as_slice(), [Ok(Message::Close(Some(frame)))] if frame.code == CloseCode::NORMAL),
        "{seen:?}"
    );
}

#[tokio::test]
async fn the_stream_limit_holds_and_frees_up_when_a_websocket_ends() {
    let pki = pki();
    let addr = echo_server(
        &pki,
        Limits::default().max_streams_per_connection(2),
        Config::default(),
    );
    let request = ClientRequest::new(&url(addr, "/")).unwrap();
    let client = Client::connect(&request, Some(client_tls(&pki)), Some(Duration::from_secs(10)))
        .await
        .unwrap();
    let (mut first, _) = client.open(&request, Config::default()).await.unwrap();
    let (_second, _) = client.open(&request, Config::default()).await.unwrap();
    // A third stream is over QUIC's limit: the peer cannot even open it.
    let short = Config::default().handshake_timeout(Duration::from_millis(300));
    assert!(matches!(
        client.open(&request, short.clone()).await,
        Err(Error::TimedOut(ferrosocket::Timeout::Handshake))
    ));
    first.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(first.next().await, Some(Ok(Message::Close(_)))));
    assert!(first.next().await.is_none());
    drop(first);
    let (mut third, _) = client.open(&request, Config::default()).await.unwrap();
    third.send(Message::text("room again")).await.unwrap();
    assert_eq!(third.next().await.unwrap().unwrap(), Message::text("room again"));
}

#[tokio::test]
async fn the_message_size_limit_holds_over_quic() {
    let pki = pki();
    let addr = echo_server(&pki, Limits::default(), Config::default().max_message_size(1024));
    let request = ClientRequest::new(&url(addr, "/")).unwrap();
    let (mut ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
        .await
        .unwrap();
    ws.send(Message::binary(vec![0u8; 1024])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8; 1024])
    );
    ws.send(Message::binary(vec![0u8; 1025])).await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_client_refuses_a_server_without_extended_connect() {
    // A bare HTTP/3 server (raw quinn) whose SETTINGS do not enable extended CONNECT.
    let pki = pki();
    let endpoint = endpoint(&pki, &Limits::default());
    let addr = endpoint.local_addr().unwrap();
    tokio::spawn(async move {
        let conn = endpoint.accept().await.unwrap().await.unwrap();
        let mut control = conn.open_uni().await.unwrap();
        control.write_all(&[0x00, 0x04, 0x00]).await.unwrap(); // control stream, empty SETTINGS
        let _ = conn.closed().await;
        drop(control);
    });
    let request = ClientRequest::new(&url(addr, "/")).unwrap();
    match http3::connect_with(request, Config::default(), Some(client_tls(&pki))).await {
        Err(Error::Io(error)) => {
            let cause = error.get_ref().and_then(|e| e.downcast_ref::<H3Error>());
            assert_eq!(cause, Some(&H3Error::ExtendedConnectDisabled));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_quiet_websocket_outlives_the_quic_idle_timeout() {
    let pki = pki();
    let addr = echo_server(
        &pki,
        Limits::default().idle_timeout(Duration::from_millis(600)),
        Config::default(),
    );
    let request = ClientRequest::new(&url(addr, "/quiet")).unwrap();
    let (mut ws, _) = http3::connect_with(request, Config::default(), Some(client_tls(&pki)))
        .await
        .unwrap();
    // Three idle timeouts of silence: QUIC keep-alives hold the connection.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("still here"));
}
