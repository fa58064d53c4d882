//! The ws-style server toolkit: routing, verification, headers, client tracking, broadcast,
//! client IPs, shutdown and the handshake timeout.
#![cfg(feature = "tokio")]

use std::time::Duration;

use ferrosocket::server::Server;
use ferrosocket::{
    tokio as tws, Accept, ClientRequest, CloseCode, Config, Error, HandshakeError, Message, Response,
};
use tokio::io::AsyncReadExt;

async fn connect(
    url: &str,
    headers: &[(&str, &str)],
) -> ferrosocket::Result<(
    tws::WebSocketStream<tws::MaybeTlsStream<tokio::net::TcpStream>>,
    ferrosocket::Response,
)> {
    let mut request = ClientRequest::new(url)?;
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    tws::connect_with(request, Config::default(), Some(Duration::from_secs(5))).await
}

#[tokio::test]
async fn broadcast_to_all_and_to_all_but_the_sender() {
    let mut server = Server::builder().path("/chat").bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/chat", server.local_addr().unwrap());
    let clients = server.clients().clone();
    tokio::spawn(async move {
        while let Some(mut incoming) = server.accept().await {
            let clients = server.clients().clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = incoming.reader.next().await {
                    if let Message::Text(text) = &message {
                        if text.as_str().starts_with("all:") {
                            clients.broadcast(&message);
                        } else {
                            clients.broadcast_except(incoming.client.id(), &message);
                        }
                    }
                }
            });
        }
    });
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(connect(&url, &[]).await.unwrap().0);
    }
    while clients.len() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sockets[0].send(Message::text("all:hello")).await.unwrap();
    for ws in &mut sockets {
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("all:hello"));
    }
    sockets[1].send(Message::text("others:hi")).await.unwrap();
    assert_eq!(
        sockets[0].next().await.unwrap().unwrap(),
        Message::text("others:hi")
    );
    assert_eq!(
        sockets[2].next().await.unwrap().unwrap(),
        Message::text("others:hi")
    );
    // The sender got nothing: its next message is the next broadcast.
    sockets[2].send(Message::text("all:end")).await.unwrap();
    assert_eq!(
        sockets[1].next().await.unwrap().unwrap(),
        Message::text("all:end")
    );

    // Closing a client removes it from the tracked set.
    let mut gone = sockets.pop().unwrap();
    tws::close(&mut gone, 1000, "", Duration::from_secs(5))
        .await
        .unwrap();
    drop(gone);
    for _ in 0..500 {
        if clients.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(clients.len(), 2);
}

#[tokio::test]
async fn verify_hook_path_headers_and_client_ip() {
    let mut server = Server::builder()
        .path("/secure")
        .trust_forwarded_for(true)
        .verify(|request, peer| {
            assert!(peer.addr.unwrap().ip().is_loopback());
            match request.headers.get("authorization") {
                Some("Bearer good") => Ok(Accept::new().header("Set-Cookie", "session=1")),
                _ => Err(Response::new(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("unauthorized")),
            }
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let accepted = tokio::spawn(async move {
        server
            .accept()
            .await
            .map(|i| (i.peer.ip(), i.request.path().to_owned()))
    });

    match connect(&format!("ws://{addr}/secure"), &[("Authorization", "Bearer bad")]).await {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => {
            assert_eq!((r.status, &r.body[..]), (401, &b"unauthorized"[..]))
        }
        other => panic!("{other:?}"),
    }
    match connect(
        &format!("ws://{addr}/elsewhere"),
        &[("Authorization", "Bearer good")],
    )
    .await
    {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => assert_eq!(r.status, 400),
        other => panic!("{other:?}"),
    }
    let (_ws, response) = connect(
        &format!("ws://{addr}/secure?x=1"),
        &[
            ("Authorization", "Bearer good"),
            ("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.headers.get("set-cookie"), Some("session=1"));
    let (ip, path) = accepted.await.unwrap().unwrap();
    assert_eq!(ip.unwrap().to_string(), "203.0.113.7");
    assert_eq!(path, "/secure");
}

#[tokio::test]
async fn close_sends_going_away_to_every_client() {
    let mut server = Server::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let (mut a, _) = connect(&url, &[]).await.unwrap();
    let (mut b, _) = connect(&url, &[]).await.unwrap();
    let mut readers = Vec::new();
    for _ in 0..2 {
        readers.push(server.accept().await.unwrap().reader);
    }
    let drivers: Vec<_> = readers
        .into_iter()
        .map(|mut reader| tokio::spawn(async move { while reader.next().await.is_some() {} }))
        .collect();
    server.close(true).await;
    for ws in [&mut a, &mut b] {
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
            other => panic!("{other:?}"),
        }
    }
    for driver in drivers {
        driver.await.unwrap();
    }
    assert!(server.accept().await.is_none(), "no more connections after close");
}

#[tokio::test]
async fn silent_clients_are_dropped_after_the_handshake_timeout() {
    let server = Server::builder()
        .handshake_timeout(Duration::from_millis(200))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the server hung up: {read:?}"
    );
    drop(server);
}
