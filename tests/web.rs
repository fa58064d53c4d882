//! One client program, two builds: in headless Chromium through `ferrosocket::web` (wasm32,
//! `wasm-bindgen-test`, against the echo server `tests/web/run.sh` starts), and natively on
//! tokio (the twin, against an echo server of its own). Only `connect` differs; every test
//! body is the same code: echo of text and binary, the negotiated subprotocol, a Close's
//! code and reason there and back, split halves, and a refused connection.

use ferrosocket::{CloseFrame, Error, Message};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// A test that runs in the browser on wasm32 and on tokio natively.
macro_rules! twin_test {
    ($name:ident $body:block) => {
        #[cfg(target_arch = "wasm32")]
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn $name() $body

        #[cfg(not(target_arch = "wasm32"))]
        #[tokio::test]
        async fn $name() $body
    };
}

// --- the only part that differs --------------------------------------------------------

#[cfg(target_arch = "wasm32")]
type Socket = ferrosocket::web::WebSocket;

/// Connects, offering `protocols`; the socket and the subprotocol the server chose.
#[cfg(target_arch = "wasm32")]
async fn connect(url: &str, protocols: &[&str]) -> Result<(Socket, Option<String>), Error> {
    let ws = ferrosocket::web::connect_with_protocols(url, protocols).await?;
    let protocol = ws.protocol();
    Ok((ws, protocol))
}

/// The echo server `tests/web/run.sh` started (`ferrosocket serve --subprotocol chat`).
#[cfg(target_arch = "wasm32")]
async fn echo_url() -> String {
    env!(
        "FERROSOCKET_WEB_ECHO",
        "the echo server's URL: run tests/web/run.sh"
    )
    .to_owned()
}

#[cfg(not(target_arch = "wasm32"))]
type Socket = ferrosocket::tokio::WebSocketStream<ferrosocket::tokio::MaybeTlsStream<tokio::net::TcpStream>>;

#[cfg(not(target_arch = "wasm32"))]
async fn connect(url: &str, protocols: &[&str]) -> Result<(Socket, Option<String>), Error> {
    let mut request = ferrosocket::ClientRequest::new(url)?;
    for protocol in protocols {
        request = request.protocol(*protocol);
    }
    let (ws, response) =
        ferrosocket::tokio::connect_with(request, ferrosocket::Config::default(), None).await?;
    Ok((ws, response.protocol().map(str::to_owned)))
}

/// An echo server like `ferrosocket serve --subprotocol chat`, in this process.
#[cfg(not(target_arch = "wasm32"))]
async fn echo_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let choose = |request: &ferrosocket::Request| {
                    let chat = request.protocols().any(|p| p == "chat");
                    Ok(if chat {
                        ferrosocket::Accept::new().protocol("chat")
                    } else {
                        ferrosocket::Accept::new()
                    })
                };
                let config = ferrosocket::Config::default().permessage_deflate(Default::default());
                let Ok(mut ws) = ferrosocket::tokio::accept_with(tcp, config, choose).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_data() && ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

// --- the program both builds run ---------------------------------------------------------

twin_test!(text_and_binary_echo_with_the_chosen_subprotocol {
    let (mut ws, protocol) = connect(&echo_url().await, &["chat", "superchat"]).await.unwrap();
    assert_eq!(protocol.as_deref(), Some("chat"));
    for message in [Message::text("hello κόσμε"), Message::binary((0..=255u8).cycle().take(70_000).collect::<Vec<_>>())] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    assert!(ws.buffered_amount() < 1 << 20);
    ws.close(1000, "").await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code.0, 1000),
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none(), "the stream ends after the Close");
});

twin_test!(a_close_code_and_reason_go_there_and_come_back {
    let (mut ws, protocol) = connect(&echo_url().await, &[]).await.unwrap();
    assert_eq!(protocol, None);
    ws.send(Message::Close(Some(CloseFrame::new(4001, "bye now")))).await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(frame.code.0, 4001);
            assert_eq!(frame.reason.as_str(), "bye now");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(ws.send(Message::text("late")).await, Err(Error::AlreadyClosed)));
});

twin_test!(split_halves_keep_the_order {
    let (ws, _) = connect(&echo_url().await, &[]).await.unwrap();
    let (mut sender, mut receiver) = ws.into_split();
    for n in 0..20 {
        sender.send(Message::text(format!("message {n}"))).await.unwrap();
    }
    for n in 0..20 {
        assert_eq!(receiver.next().await.unwrap().unwrap(), Message::text(format!("message {n}")));
    }
    sender.close(1000, "done").await.unwrap();
    assert!(matches!(receiver.next().await, Some(Ok(Message::Close(Some(_))))));
});

twin_test!(a_refused_connection_is_an_io_error {
    match connect("ws://127.0.0.1:9/", &[]).await {
        Err(Error::Io(error)) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("connected to the discard port"),
    }
});

/// What only the browser refuses: codes a script may not close with.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn the_browser_allows_only_1000_and_3000_to_4999() {
    let (mut ws, _) = connect(&echo_url().await, &[]).await.unwrap();
    assert!(matches!(
        ws.close(1001, "").await,
        Err(Error::InvalidCloseCode(1001))
    ));
    ws.send(Message::Ping(Default::default())).await.unwrap(); // the browser pings itself
    ws.send(Message::text("still open")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("still open"));
}
