//! Runs the examples as their users would and checks what they do. `cargo test` builds the
//! example binaries next to this test's; each server is started on a free port and stopped
//! (killed by its PID) when its guard drops.
#![cfg(feature = "tokio")]

mod util;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferrosocket::{tokio as tws, ClientRequest, Config, Error, HandshakeError, Message};

use util::process::example;

/// A running example; killed on drop.
struct Running {
    child: Child,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server example on a free port and waits for its `listening on …://ADDR` line.
fn start(name: &str, args: &[&str]) -> Running {
    let mut child = Command::new(example(name))
        .arg("127.0.0.1:0")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e} (build the examples first)"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{name} printed {line:?}");
    let addr = line.trim().rsplit("://").next().unwrap().to_owned();
    Running { child, addr }
}

async fn connect(url: &str) -> tws::WebSocketStream<tws::MaybeTlsStream<tokio::net::TcpStream>> {
    tws::connect(url).await.unwrap().0
}

async fn next_text(ws: &mut tws::WebSocketStream<tws::MaybeTlsStream<tokio::net::TcpStream>>) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
        {
            Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn echo_server_on_every_runtime() {
    for runtime in ["tokio", "smol", "async-std", "std"] {
        let server = start("echo_server", &["--runtime", runtime]);
        let (mut ws, response) = tws::connect_with(
            ClientRequest::new(&format!("ws://{}", server.addr))
                .unwrap()
                .protocol("chat"),
            Config::default().permessage_deflate(Default::default()),
            None,
        )
        .await
        .unwrap();
        assert_eq!(response.protocol(), Some("chat"), "{runtime}");
        assert!(ws.connection().permessage_deflate().is_some(), "{runtime}");
        ws.send(Message::text("x".repeat(5000))).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "x".repeat(5000), "{runtime}");
    }
}

#[tokio::test]
async fn broadcast_chat_to_others_and_to_all() {
    let server = start("broadcast_chat", &[]);
    let url = format!("ws://{}", server.addr);
    let (mut a, mut b) = (connect(&url).await, connect(&url).await);
    tokio::time::sleep(Duration::from_millis(100)).await; // both joined
    a.send(Message::text("hi b")).await.unwrap();
    assert_eq!(next_text(&mut b).await, "hi b");
    a.send(Message::text("/all everyone")).await.unwrap();
    assert_eq!(
        next_text(&mut a).await,
        "everyone",
        "the sender gets /all but not the first message"
    );
    assert_eq!(next_text(&mut b).await, "everyone");
}

#[tokio::test]
async fn counter_counts_and_announces_the_online_count() {
    let server = start("counter", &["--interval-ms", "20"]);
    let url = format!("ws://{}", server.addr);
    let mut first = connect(&url).await;
    assert_eq!(next_text(&mut first).await, "online: 1");
    let mut second = connect(&url).await;
    // The tutorial's client: read the numbers, close at 10.
    let mut numbers = Vec::new();
    loop {
        let text = next_text(&mut second).await;
        if let Ok(n) = text.parse::<u32>() {
            numbers.push(n);
            if n == 10 {
                break;
            }
        }
    }
    assert_eq!(numbers, (0..=10).collect::<Vec<_>>());
    second.close(1000, "").await.unwrap();
    while second.next().await.is_some() {}
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("online: 1") || !seen.iter().any(|t| t == "online: 2") {
        let text = next_text(&mut first).await;
        if text.starts_with("online") {
            seen.push(text);
        }
    }
}

#[tokio::test]
async fn auth_upgrade_refuses_without_the_token() {
    let server = start("auth_upgrade", &[]);
    let url = format!("ws://{}", server.addr);
    match tws::connect(&url).await {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => {
            assert_eq!(
                (r.status, r.headers.get("www-authenticate")),
                (401, Some("Bearer"))
            );
        }
        other => panic!("{other:?}"),
    }
    let request = ClientRequest::new(&url)
        .unwrap()
        .header("Authorization", "Bearer secret-token");
    let (mut ws, response) = tws::connect_with(request, Config::default(), None).await.unwrap();
    assert_eq!(
        response.headers.get("x-user"),
        Some("alice"),
        "the session store's answer"
    );
    assert_eq!(next_text(&mut ws).await, "hello, authenticated client");
    let unknown = ClientRequest::new(&url)
        .unwrap()
        .header("Authorization", "Bearer stale");
    assert!(matches!(
        tws::connect_with(unknown, Config::default(), None).await,
        Err(Error::Handshake(HandshakeError::Rejected(r))) if r.status == 401
    ));
    let mut ws = connect(&format!("{url}/?token=secret-token")).await;
    assert_eq!(next_text(&mut ws).await, "hello, authenticated client");
}

#[tokio::test]
async fn client_ip_direct_and_behind_a_proxy() {
    let direct = start("client_ip", &[]);
    let mut ws = connect(&format!("ws://{}", direct.addr)).await;
    assert_eq!(next_text(&mut ws).await, "your ip: 127.0.0.1");
    let proxied = start("client_ip", &["--trust-proxy"]);
    let request = ClientRequest::new(&format!("ws://{}", proxied.addr))
        .unwrap()
        .header("X-Forwarded-For", "198.51.100.4");
    let (mut ws, _) = tws::connect_with(request, Config::default(), None).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "your ip: 198.51.100.4");
}

#[tokio::test]
async fn heartbeat_terminates_clients_that_do_not_answer() {
    let server = start("heartbeat", &["--interval-ms", "50", "--timeout-ms", "100"]);
    let url = format!("ws://{}", server.addr);
    // The live client is read all along, so it answers every ping.
    let (mut live_sink, mut live_stream) = futures_util::StreamExt::split(connect(&url).await);
    let (texts, mut received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = futures_util::StreamExt::next(&mut live_stream).await {
            if let Message::Text(text) = message {
                let _ = texts.send(text.as_str().to_owned());
            }
        }
    });
    let request = ClientRequest::new(&url).unwrap();
    let (mut deaf, _) = tws::connect_with(request, Config::default().auto_pong(false), None)
        .await
        .unwrap();
    // The deaf client sees pings but never answers: the server ends the connection.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match deaf.next().await {
                Some(Ok(Message::Ping(_))) => continue,
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                None | Some(Err(_)) => return None,
                Some(Ok(other)) => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("terminated in time");
    assert!(
        ended.is_none() || ended == Some(ferrosocket::CloseCode::ABNORMAL),
        "{ended:?}"
    );
    // The live client (auto-pong on) is still there and gets its echo.
    futures_util::SinkExt::send(&mut live_sink, Message::text("still here"))
        .await
        .unwrap();
    assert_eq!(received.recv().await.as_deref(), Some("still here"));
}

#[tokio::test]
async fn round_trip_time_measures_pings() {
    let server = start("echo_server", &[]);
    let output = tokio::process::Command::new(example("round_trip_time"))
        .args([&format!("ws://{}", server.addr), "--count", "3"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(stdout.matches("ping ").count(), 3, "{stdout}");
    assert!(stdout.contains("rtt min/avg/max"), "{stdout}");
}

async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn multiple_paths_share_one_http_server() {
    let server = start("multiple_paths", &[]);
    assert!(http_get(&server.addr, "/")
        .await
        .contains("WebSocket endpoints: /echo /shout"));
    let mut echo = connect(&format!("ws://{}/echo", server.addr)).await;
    let mut shout = connect(&format!("ws://{}/shout", server.addr)).await;
    echo.send(Message::text("quiet")).await.unwrap();
    shout.send(Message::text("loud")).await.unwrap();
    assert_eq!(next_text(&mut echo).await, "quiet");
    assert_eq!(next_text(&mut shout).await, "LOUD");
    match tws::connect(&format!("ws://{}/nowhere", server.addr)).await {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => assert_eq!(r.status, 404),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn browser_chat_serves_its_page_and_chats() {
    let server = start("browser_chat", &[]);
    let page = http_get(&server.addr, "/").await;
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("new WebSocket('ws://' + location.host + '/ws')")
    );
    let url = format!("ws://{}/ws", server.addr);
    let (mut a, mut b) = (connect(&url).await, connect(&url).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.send(Message::text("hello")).await.unwrap();
    assert_eq!(next_text(&mut a).await, "hello");
    assert_eq!(next_text(&mut b).await, "hello");
}

/// Runs a self-contained example and returns its standard output, which must succeed.
async fn run_to_end(name: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(example(name))
        .args(args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name}: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn huge_message_is_received_in_chunks() {
    let stdout = run_to_end("huge_message", &["16"]).await;
    assert!(stdout.contains("server: 16777216 bytes in"), "{stdout}");
    assert!(
        stdout.contains("checksum") && stdout.contains("matches"),
        "{stdout}"
    );
}

#[tokio::test]
async fn pipe_file_copies_a_file_through_a_byte_stream() {
    let path = std::env::temp_dir().join(format!("pipe-file-test-{}", std::process::id()));
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let stdout = run_to_end("pipe_file", &[path.to_str().unwrap()]).await;
    std::fs::remove_file(&path).unwrap();
    assert!(
        stdout.contains("sent 3000000 bytes, the server wrote 3000000; identical: true"),
        "{stdout}"
    );
}

#[tokio::test]
async fn reconnecting_survives_hang_ups_and_an_outage() {
    let stdout = run_to_end("reconnecting", &[]).await;
    assert!(stdout.contains("attempt failed"), "the outage is seen: {stdout}");
    assert!(stdout.ends_with("4 connections, 12 echoes\n"), "{stdout}");
}

#[tokio::test]
async fn proxy_tunnels_and_reports_a_refusal() {
    let stdout = run_to_end("proxy", &[]).await;
    assert!(stdout.contains("echoed: hello through the proxy"), "{stdout}");
    assert!(
        stdout.contains("without credentials: ") && stdout.contains("407"),
        "{stdout}"
    );
}

#[tokio::test]
async fn tls_echo_runs() {
    let output = tokio::process::Command::new(example("tls_echo"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("echoed: Text(\"hello over TLS\")"),
        "{stdout}"
    );
}

#[tokio::test]
async fn wscat_sends_lines_and_closes_on_end_of_input() {
    use tokio::io::AsyncWriteExt;
    let server = start("echo_server", &[]);
    let mut child = tokio::process::Command::new(example("wscat"))
        .arg(format!("ws://{}/", server.addr))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all("one\nκόσμε\n".as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "one\nκόσμε\n");
}

/// A server that answers the upgrade, then sends a masked frame (servers must not mask):
/// wscat reports the protocol error and the 1002 it closed with, not a later "already
/// closed", and exits 1.
#[tokio::test]
async fn wscat_reports_why_the_engine_failed_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(socket.read_u8().await.unwrap());
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|line| {
                line.strip_prefix("Sec-WebSocket-Key: ")
                    .or_else(|| line.strip_prefix("sec-websocket-key: "))
            })
            .unwrap();
        let accept = ferrosocket::handshake::accept_key(key.trim());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        socket
            .write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
            .await
            .unwrap();
        // Read what the client sends (its Close) until it hangs up.
        let mut sink = Vec::new();
        let _ = socket.read_to_end(&mut sink).await;
        sink
    });
    let mut child = tokio::process::Command::new(example("wscat"))
        .arg(format!("ws://{addr}/"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let _ = stdin.write_all(b"too late\n").await;
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("masked") && stderr.contains("1002"), "{stderr}");
    assert!(!stderr.contains("after it was closed"), "{stderr}");
}

#[tokio::test]
async fn custom_event_loop_serves_several_clients() {
    let server = start("custom_event_loop", &[]);
    let url = format!("ws://{}/", server.addr);
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(connect(&url).await);
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        ws.send(Message::text(format!("client {i}"))).await.unwrap();
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        assert_eq!(next_text(ws).await, format!("client {i}"));
        ws.send(Message::binary(vec![i as u8; 100_000])).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::binary(vec![i as u8; 100_000])
        );
        let frame = tws::close(ws, 1000, "", Duration::from_secs(5)).await.unwrap();
        assert_eq!(frame.code, ferrosocket::CloseCode::NORMAL);
    }
}

/// cluster_chat, two nodes through a real Redis: every client's text reaches every client of
/// both nodes, in order; a client that stops reading is closed with 1013 and the others go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_chat_spans_nodes_and_drops_slow_consumers() {
    use util::broker::{start_broker, Broker};
    use util::process::{find_binary, free_port};
    let Some(binary) = find_binary("redis-server", "redis-server") else {
        return;
    };
    let port = free_port();
    let _redis = start_broker(Broker::Redis, &binary, port).await;
    let redis = Broker::Redis.url(port);
    let args = ["--redis", redis.as_str(), "--queue-limit", "262144"];
    let (node_1, node_2) = (start("cluster_chat", &args), start("cluster_chat", &args));
    let mut a = connect(&format!("ws://{}", node_1.addr)).await;
    let mut b = connect(&format!("ws://{}", node_1.addr)).await;
    let mut c = connect(&format!("ws://{}", node_2.addr)).await;
    let mut slow = connect(&format!("ws://{}", node_2.addr)).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the servers track all four
    a.send(Message::text("hi all")).await.unwrap();
    for ws in [&mut a, &mut b, &mut c, &mut slow] {
        assert_eq!(next_text(ws).await, "hi all");
    }
    // 16 MiB to everyone: the slow client's queue (256 KiB) overflows, the others keep up.
    let line = "x".repeat(64 * 1024);
    // The reading clients report their progress, and the sender keeps within two messages of
    // the slowest of them: on a loaded machine an unpaced sender would make them slow
    // consumers too.
    let progress: Vec<_> = (0..2)
        .map(|_| std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)))
        .collect();
    let readers: Vec<_> = [b, c]
        .into_iter()
        .zip(progress.clone())
        .map(|(mut ws, read)| {
            tokio::spawn(async move {
                for n in 0..256 {
                    assert!(next_text(&mut ws).await.starts_with(&format!("{n} ")));
                    read.store(n + 1, std::sync::atomic::Ordering::Release);
                }
            })
        })
        .collect();
    for n in 0..256 {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while progress
            .iter()
            .any(|read| read.load(std::sync::atomic::Ordering::Acquire) + 2 < n)
        {
            assert!(std::time::Instant::now() < deadline, "the readers stalled at {n}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        a.send(Message::text(format!("{n} {line}"))).await.unwrap();
        assert!(next_text(&mut a).await.starts_with(&format!("{n} ")));
    }
    for reader in readers {
        reader.await.unwrap();
    }
    let code = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.0),
                Some(Ok(_)) => continue,
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .expect("the slow client is closed");
    assert_eq!(code, Some(1013));
}

/// cluster_chat without a broker is a single-node chat.
#[tokio::test]
async fn cluster_chat_alone_is_a_single_node_chat() {
    let node = start("cluster_chat", &[]);
    let mut a = connect(&format!("ws://{}", node.addr)).await;
    let mut b = connect(&format!("ws://{}", node.addr)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    b.send(Message::text("just us")).await.unwrap();
    assert_eq!(next_text(&mut a).await, "just us");
    assert_eq!(next_text(&mut b).await, "just us");
}
