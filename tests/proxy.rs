//! Every connector (tokio, smol, async-std, blocking, compio) through real proxies: Dante's
//! `danted` for SOCKS5 (`socks5h://` and `socks5://`, ws and wss with TLS inside the
//! tunnel, a refusal) and `tinyproxy` for HTTP `CONNECT` with Basic authentication; our own
//! SOCKS5 server for what Dante cannot show here (username and password, which destination
//! was sent).

mod util;

use ferrosocket::client::{Connector, Proxy};
use ferrosocket::{Error, HandshakeError, Message, ProxyError};
use futures_util::{SinkExt, StreamExt};
use util::proxies::{connector, dante, echo_servers, tinyproxy, Pki, RecordingSocks};

/// One connector on every runtime: connect, echo a text and a 256 KiB binary message, close.
/// The error of the connect, if it fails.
fn echo_on(runtime: Runtime, connector: Connector) -> Result<(), Error> {
    let big = Message::binary(vec![7u8; 256 << 10]);
    let messages = [Message::text("through the proxy"), big];
    match runtime {
        Runtime::Tokio => tokio_runtime().block_on(async {
            let (mut ws, _) = connector.connect().await?;
            echo_async(&mut ws, &messages).await
        }),
        Runtime::Smol => smol::block_on(async {
            let (mut ws, _) = connector.connect_smol().await?;
            echo_async(&mut ws, &messages).await
        }),
        Runtime::AsyncStd => async_std::task::block_on(async {
            let (mut ws, _) = connector.connect_async_std().await?;
            echo_async(&mut ws, &messages).await
        }),
        Runtime::Blocking => {
            let (mut ws, _) = connector.connect_blocking()?;
            for message in messages {
                ws.send(message.clone())?;
                assert_eq!(ws.read()?, message);
            }
            ws.close(1000, "")?;
            while !matches!(ws.read(), Err(Error::ConnectionClosed | Error::AlreadyClosed)) {}
            Ok(())
        }
        #[cfg(feature = "compio")]
        Runtime::Compio => compio::runtime::Runtime::new().unwrap().block_on(async {
            let (mut ws, _) = connector.connect_compio().await?;
            for message in messages {
                ws.send(message.clone()).await?;
                assert_eq!(ws.read().await?, message);
            }
            ws.close(1000, "").await
        }),
    }
}

async fn echo_async<S>(ws: &mut S, messages: &[Message]) -> Result<(), Error>
where
    S: futures_util::Sink<Message, Error = Error>
        + futures_util::Stream<Item = Result<Message, Error>>
        + Unpin,
{
    for message in messages {
        ws.send(message.clone()).await?;
        assert_eq!(ws.next().await.expect("an echo")?, *message);
    }
    ws.send(Message::Close(None)).await?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Runtime {
    Tokio,
    Smol,
    AsyncStd,
    Blocking,
    #[cfg(feature = "compio")]
    Compio,
}

const RUNTIMES: &[Runtime] = &[
    Runtime::Tokio,
    Runtime::Smol,
    Runtime::AsyncStd,
    Runtime::Blocking,
    #[cfg(feature = "compio")]
    Runtime::Compio,
];

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_connector_reaches_ws_and_wss_through_dante() {
    let Some(dante) = dante() else { return };
    let pki = Pki::new();
    let (ws, wss) = echo_servers(&pki);
    for &runtime in RUNTIMES {
        for (scheme, port) in [("ws", ws), ("wss", wss)] {
            for proxy in [Proxy::socks5h(&dante.address), Proxy::socks5(&dante.address)] {
                let url = format!("{scheme}://localhost:{port}/");
                let result = echo_on(runtime, connector(&url, &pki).via(proxy.clone()));
                assert!(result.is_ok(), "{runtime:?} {url} via {proxy:?}: {result:?}");
            }
        }
    }
}

#[test]
fn a_refusal_from_dante_is_typed() {
    let Some(dante) = dante() else { return };
    let pki = Pki::new();
    let closed = util::process::free_port();
    for &runtime in RUNTIMES {
        let url = format!("ws://127.0.0.1:{closed}/");
        let result = echo_on(runtime, connector(&url, &pki).via(Proxy::socks5h(&dante.address)));
        assert!(
            matches!(result, Err(Error::Proxy(ProxyError::Refused(5)))),
            "{runtime:?}: connection refused (5), got {result:?}"
        );
    }
}

#[test]
fn every_connector_reaches_ws_and_wss_through_tinyproxy_with_credentials() {
    let Some(tinyproxy) = tinyproxy() else { return };
    let pki = Pki::new();
    let (ws, wss) = echo_servers(&pki);
    let with_credentials: Proxy = format!("http://user:secret@{}", tinyproxy.address)
        .parse()
        .unwrap();
    for &runtime in RUNTIMES {
        for url in [format!("ws://localhost:{ws}/"), format!("wss://localhost:{wss}/")] {
            let result = echo_on(runtime, connector(&url, &pki).via(with_credentials.clone()));
            assert!(result.is_ok(), "{runtime:?} {url}: {result:?}");
        }
        let url = format!("ws://127.0.0.1:{ws}/");
        match echo_on(
            runtime,
            connector(&url, &pki).via(Proxy::http(&tinyproxy.address)),
        ) {
            Err(Error::Handshake(HandshakeError::Rejected(response))) => {
                assert_eq!(response.status, 407, "{runtime:?}");
                assert!(response.headers.get("proxy-authenticate").is_some());
            }
            other => panic!("{runtime:?}: expected a 407, got {other:?}"),
        }
    }
}

/// `Connector::dial` gives the tunnelled TCP connection alone, for a handshake the connector
/// does not do itself (here the plain client handshake over it, as hyper's HTTP/2 would).
#[test]
fn dial_gives_the_tunnel_for_a_handshake_done_elsewhere() {
    let (Some(dante), Some(tinyproxy)) = (dante(), tinyproxy()) else {
        return;
    };
    let pki = Pki::new();
    let (ws, _) = echo_servers(&pki);
    let url = format!("ws://localhost:{ws}/dialled");
    let with_credentials: Proxy = format!("http://user:secret@{}", tinyproxy.address)
        .parse()
        .unwrap();
    for proxy in [
        Proxy::socks5h(&dante.address),
        Proxy::socks5(&dante.address),
        with_credentials,
    ] {
        tokio_runtime().block_on(async {
            let tcp = connector(&url, &pki).via(proxy.clone()).dial().await.unwrap();
            let request = ferrosocket::ClientRequest::new(&url).unwrap();
            let (mut ws, _) = ferrosocket::tokio::client(tcp, request, Default::default())
                .await
                .unwrap_or_else(|e| panic!("{proxy:?}: {e:?}"));
            echo_async(&mut ws, &[Message::text("dialled")]).await.unwrap();
        });
    }
    // A refusal is the same typed error as the connector's.
    let closed = util::process::free_port();
    let refused = tokio_runtime().block_on(
        connector(&format!("ws://127.0.0.1:{closed}/"), &pki)
            .via(Proxy::socks5h(&dante.address))
            .dial(),
    );
    assert!(
        matches!(refused, Err(Error::Proxy(ProxyError::Refused(5)))),
        "{refused:?}"
    );
}

#[test]
fn socks5_credentials_are_sent_and_a_wrong_password_is_refused() {
    let pki = Pki::new();
    let (ws, _) = echo_servers(&pki);
    let socks = RecordingSocks::start(Some(("alice", "s3cret")));
    let url = format!("ws://localhost:{ws}/");
    for &runtime in RUNTIMES {
        let right: Proxy = format!("socks5h://alice:s3cret@{}", socks.address)
            .parse()
            .unwrap();
        echo_on(runtime, connector(&url, &pki).via(right)).unwrap();
        assert_eq!(socks.destinations.recv().unwrap(), format!("name localhost:{ws}"));
        let wrong = Proxy::socks5h(&socks.address).credentials("alice", "guess");
        let result = echo_on(runtime, connector(&url, &pki).via(wrong));
        assert!(
            matches!(result, Err(Error::Proxy(ProxyError::AuthenticationFailed))),
            "{runtime:?}: {result:?}"
        );
        let none = echo_on(runtime, connector(&url, &pki).via(Proxy::socks5h(&socks.address)));
        assert!(
            matches!(none, Err(Error::Proxy(ProxyError::NoAcceptableMethod))),
            "{runtime:?}: {none:?}"
        );
    }
}

#[test]
fn socks5_sends_an_address_it_resolved_and_socks5h_the_name() {
    let pki = Pki::new();
    let (ws, _) = echo_servers(&pki);
    let socks = RecordingSocks::start(None);
    let url = format!("ws://localhost:{ws}/");
    for &runtime in RUNTIMES {
        echo_on(runtime, connector(&url, &pki).via(Proxy::socks5(&socks.address))).unwrap();
        let sent = socks.destinations.recv().unwrap();
        assert!(
            sent == format!("address 127.0.0.1:{ws}") || sent == format!("address [::1]:{ws}"),
            "{runtime:?}: {sent}"
        );
        echo_on(runtime, connector(&url, &pki).via(Proxy::socks5h(&socks.address))).unwrap();
        assert_eq!(socks.destinations.recv().unwrap(), format!("name localhost:{ws}"));
    }
}

/// The contract other tools drive: `wscat URL --proxy socks5://HOST:PORT` (and `socks5h://`,
/// `http://`), with `--ca FILE` for wss: each stdin line is sent, each echo printed, EOF closes.
#[test]
fn wscat_goes_through_every_kind_of_proxy() {
    let (Some(dante), Some(tinyproxy)) = (dante(), tinyproxy()) else {
        return;
    };
    let pki = Pki::new();
    let (ws, wss) = echo_servers(&pki);
    let ca = std::env::temp_dir().join(format!("ferrosocket-proxy-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, &pki.ca.ca_pem).unwrap();
    let proxies = [
        format!("socks5://{}", dante.address),
        format!("socks5h://{}", dante.address),
        format!("http://user:secret@{}", tinyproxy.address),
    ];
    for proxy in &proxies {
        for url in [format!("ws://localhost:{ws}/"), format!("wss://localhost:{wss}/")] {
            let mut child = std::process::Command::new(util::process::example("wscat"))
                .args([url.as_str(), "--proxy", proxy, "--ca"])
                .arg(&ca)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"one\ntwo\n").unwrap();
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{url} via {proxy}: {stderr}");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                "one\ntwo\n",
                "{url} via {proxy}"
            );
        }
    }
    let _ = std::fs::remove_file(ca);
}
