//! The `ferrosocket` command-line tool, spawned as users and scripts run it: the client's
//! echo round trip in every mode, permessage-deflate on by default, proxies, HTTP/2 and
//! HTTP/3, `--one-message`, `--exit-on-eof`, the progress line, and its exit codes; the
//! `serve` mode over ws and wss, echo and broadcast.
#![cfg(feature = "cli")]

mod util;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use ferrosocket::{Accept, ClientRequest, Config, Message, Response};
use util::proxies::{dante, tinyproxy, Pki, TempDir};

const CLI: &str = env!("CARGO_BIN_EXE_ferrosocket");

/// Runs the client with `args`, `input` on standard input (closed after it).
fn client(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(CLI)
        .args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `ferrosocket serve` with `args`, killed when dropped; its URL from the `listening on` line.
struct Serving {
    child: Child,
    url: String,
}

impl Serving {
    fn start(args: &[&str]) -> Serving {
        let mut child = Command::new(CLI)
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no listening line: {line:?}"))
            .to_owned();
        Serving { child, url }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lines_go_out_and_echoes_come_back_in_every_mode() {
    let server = Serving::start(&["127.0.0.1:0"]);
    let lines = "hello\nκόσμε 𝄞\n{\"json\":[1,2,3]}\n";
    let output = client(&[&server.url], lines.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), lines);
    let output = client(&["--binary", &server.url], b"raw\nbytes\n");
    assert_eq!(
        (output.status.code(), stdout(&output).as_str()),
        (Some(0), "raw\nbytes\n")
    );
    let output = client(&["--mode", "base64", &server.url], b"AP8A\nnot base64!\n/w==\n");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "AP8A\n/w==\n", "the bad line is skipped");
    assert!(stderr(&output).contains("not base64"), "{}", stderr(&output));
}

#[test]
fn permessage_deflate_is_negotiated_by_default_both_ways() {
    let server = Serving::start(&["127.0.0.1:0"]);
    let output = client(&["-v", &server.url], b"compressed?\n");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("extensions permessage-deflate"),
        "{}",
        stderr(&output)
    );
    let output = client(&["-v", "--no-deflate", &server.url], b"plain\n");
    assert!(stderr(&output).contains("extensions none"), "{}", stderr(&output));
    // The server side accepts it from another client.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let request = ClientRequest::new(&server.url).unwrap();
        let config = Config::default().permessage_deflate(Default::default());
        let (mut ws, _) = ferrosocket::tokio::connect_with(request, config, None)
            .await
            .unwrap();
        assert!(ws.connection().permessage_deflate().is_some());
        let big = Message::text("squeeze ".repeat(10_000));
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), big);
    });
}

#[test]
fn one_message_sends_a_line_prints_one_answer_and_exits() {
    let server = Serving::start(&["127.0.0.1:0"]);
    let output = client(&["--one-message", &server.url], b"first\nsecond\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "first\n");
}

#[test]
fn broadcast_reaches_every_client() {
    let server = Serving::start(&["127.0.0.1:0", "--broadcast"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mut listener, _) = ferrosocket::tokio::connect(&server.url).await.unwrap();
        // Make sure the listener is registered before the CLI client speaks.
        listener.send(Message::text("here")).await.unwrap();
        assert_eq!(listener.next().await.unwrap().unwrap(), Message::text("here"));
        let url = server.url.clone();
        let output = tokio::task::spawn_blocking(move || client(&["-1", &url], b"to all\n"))
            .await
            .unwrap();
        assert_eq!(stdout(&output), "to all\n");
        assert_eq!(listener.next().await.unwrap().unwrap(), Message::text("to all"));
    });
}

/// The test PKI's files: the server's chain and key, the CA to trust.
struct Pem {
    chain: String,
    key: String,
    ca: String,
}

/// Writes `pki`'s PEM files into a directory of their own (removed when it is dropped).
fn pem_files(pki: &Pki, name: &str) -> (TempDir, Pem) {
    let dir = TempDir::new(name);
    let pem = Pem {
        chain: dir.write("chain.pem", &pki.ca.chain_pem),
        key: dir.write("key.pem", &pki.ca.key_pem),
        ca: dir.write("ca.pem", &pki.ca.ca_pem),
    };
    (dir, pem)
}

#[test]
fn wss_serve_and_client_with_a_ca_file_and_a_progress_line() {
    let pki = Pki::new();
    let (_dir, Pem { chain, key, ca }) = pem_files(&pki, "cli-wss");
    let server = Serving::start(&["127.0.0.1:0", "--tls-cert", &chain, "--tls-key", &key]);
    let url = server.url.replace("wss://127.0.0.1", "wss://localhost");
    assert!(url.starts_with("wss://"), "{url}");
    let big = format!("{}\n", "x".repeat(3 << 20));
    let output = client(&[&url, "--ca", &ca, "--progress"], big.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), big);
    assert!(
        stderr(&output).contains("sent 1 msgs 3.0 MiB, received 1 msgs 3.0 MiB"),
        "{}",
        stderr(&output)
    );
    // Without the CA the server's certificate is not trusted.
    let output = client(&[&url], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).to_lowercase().contains("certificate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn proxies_socks5_and_http() {
    let (Some(dante), Some(tinyproxy)) = (dante(), tinyproxy()) else {
        return;
    };
    let server = Serving::start(&["127.0.0.1:0"]);
    let url = server.url.replace("127.0.0.1", "localhost");
    for proxy in [
        format!("socks5://{}", dante.address),
        format!("socks5h://{}", dante.address),
        format!("http://user:secret@{}", tinyproxy.address),
    ] {
        let output = client(&[&url, "--proxy", &proxy], b"via a proxy\n");
        assert_eq!(output.status.code(), Some(0), "{proxy}: {}", stderr(&output));
        assert_eq!(stdout(&output), "via a proxy\n", "{proxy}");
    }
    let output = client(&[&url, "--proxy", &format!("http://{}", tinyproxy.address)], b"");
    assert_eq!(output.status.code(), Some(1), "a 407 from the proxy");
    assert!(stderr(&output).contains("407"), "{}", stderr(&output));
    let output = client(&[&url, "--proxy", "socks4://127.0.0.1:1"], b"");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn http2_and_http3_against_the_axum_example() {
    let pki = Pki::new();
    let (_dir, Pem { chain, key, ca }) = pem_files(&pki, "cli-h2");
    let port = util::process::free_port();
    let mut axum = Command::new(util::process::example("axum_echo"))
        .args([&format!("127.0.0.1:{port}"), "--tls", &chain, &key, "--http3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the axum_echo example (cargo builds examples for tests)");
    let mut lines = BufReader::new(axum.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains("listening"), "{line}");
    // It prints a line per upgrade: keep reading, or its prints fail on a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let url = format!("wss://localhost:{port}/cli");
    for (flag, over) in [
        (Some("--http2"), "HTTP/2"),
        (Some("--http3"), "HTTP/3"),
        (None, "HTTP/1.1"),
    ] {
        let mut args = vec![url.as_str(), "--ca", &ca, "-v"];
        args.extend(flag);
        let output = client(&args, b"one\ntwo\n");
        assert_eq!(output.status.code(), Some(0), "{over}: {}", stderr(&output));
        assert_eq!(stdout(&output), "one\ntwo\n", "{over}");
        let said = stderr(&output);
        assert!(said.contains(&format!("connected over {over}")), "{over}: {said}");
        assert!(said.contains("permessage-deflate"), "{over}: {said}");
    }
    // HTTP/2 through a SOCKS5 proxy (the tunnel, then TLS with ALPN h2 inside it).
    if let Some(dante) = dante() {
        let proxy = format!("socks5h://{}", dante.address);
        let output = client(
            &[&url, "--ca", &ca, "-v", "--http2", "--proxy", &proxy],
            b"tunnelled\n",
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), "tunnelled\n");
        assert!(
            stderr(&output).contains("connected over HTTP/2"),
            "{}",
            stderr(&output)
        );
    }
    // The proxy is really used: one that is not there is no connection.
    let nowhere = format!("socks5h://127.0.0.1:{}", util::process::free_port());
    let output = client(&[&url, "--ca", &ca, "--http2", "--proxy", &nowhere], b"");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let _ = axum.kill();
    let _ = axum.wait();
}

/// A server that follows `script` for each connection: refuse with 403, close with a code,
/// or send a masked frame (servers must not mask).
fn scripted(script: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || match script {
                "refuse" => {
                    let refuse = |_: &ferrosocket::Request| Err(Response::new(403).body("no entry"));
                    let _ = ferrosocket::blocking::accept_with(stream, Config::default(), refuse);
                }
                "close 1011" => {
                    let accept = |_: &ferrosocket::Request| Ok(Accept::new());
                    let mut ws =
                        ferrosocket::blocking::accept_with(stream, Config::default(), accept).unwrap();
                    ws.close(1011, "internal trouble").unwrap();
                    while ws.read().is_ok() {}
                }
                _ => {
                    let accept = |_: &ferrosocket::Request| Ok(Accept::new());
                    let ws = ferrosocket::blocking::accept_with(stream, Config::default(), accept).unwrap();
                    let (mut tcp, _) = ws.into_parts();
                    tcp.write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
    });
    url
}

#[test]
fn exit_codes_tell_what_happened() {
    let refused = client(&[&scripted("refuse")], b"");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("403") && stderr(&refused).contains("no entry"),
        "{}",
        stderr(&refused)
    );
    let unreachable = client(&[&format!("ws://127.0.0.1:{}/", util::process::free_port())], b"");
    assert_eq!(unreachable.status.code(), Some(1));
    assert_eq!(client(&["--no-such-flag", "ws://x/"], b"").status.code(), Some(2));
    assert_eq!(client(&["not a url"], b"").status.code(), Some(2));
    let closed = client(&[&scripted("close 1011")], b"");
    assert_eq!(closed.status.code(), Some(4));
    assert!(
        stderr(&closed).contains("1011 internal trouble"),
        "{}",
        stderr(&closed)
    );
    let broken = client(&[&scripted("masked")], b"");
    assert_eq!(broken.status.code(), Some(3));
    assert!(stderr(&broken).contains("1002"), "{}", stderr(&broken));
}

#[test]
fn exit_on_eof_does_not_wait_for_the_servers_close() {
    // A server that never answers the Close: without -E the client would wait 10 s.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let _ws = ferrosocket::blocking::accept(stream).unwrap();
        std::thread::sleep(Duration::from_secs(30));
    });
    let started = std::time::Instant::now();
    let output = client(&["--exit-on-eof", &url], b"");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
