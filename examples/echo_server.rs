//! Echoes every message back with the same type; selects the client's first subprotocol and
//! accepts any valid permessage-deflate offer.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//!     [--runtime tokio|tokio-split|toolkit|smol|async-std|std|compio] [--max-message-size BYTES]
//!     [--deflate-memory dedicated|shared|minimal]
//! ```
//! `tokio-split` splits each connection (`into_split`): a reader task hands messages over a
//! channel to a writer task, the shape of most real servers. `toolkit` is the server toolkit
//! (`server::Server`): each echo is queued with `Client::send` for the client's writer task.
//! `compio` serves on one thread
//! with completion-based I/O (io_uring on Linux).
//! The message limit defaults to 256 MiB, which Autobahn's chapter 9 needs. `--deflate-memory`
//! picks the permessage-deflate memory profile (default `shared`, see `deflate::Memory`).
//! The Autobahn|Testsuite drives it as the server under test. Prints a `listening` line once
//! bound.

use std::sync::OnceLock;
use std::time::Duration;

use ferrosocket::deflate::{DeflateConfig, Memory};
use ferrosocket::{Accept, Config, Error, Message, Request, Response};

/// `--max-message-size`, once parsed.
static MAX_MESSAGE_SIZE: OnceLock<usize> = OnceLock::new();
/// `--deflate-memory`, once parsed.
static DEFLATE_MEMORY: OnceLock<Memory> = OnceLock::new();

fn config() -> Config {
    Config::default()
        .max_message_size(*MAX_MESSAGE_SIZE.get().unwrap_or(&(256 << 20)))
        .permessage_deflate(
            DeflateConfig::default().memory(DEFLATE_MEMORY.get().copied().unwrap_or_default()),
        )
}

/// Accepts every request, selecting the client's first subprotocol if it offers any.
fn decide(request: &Request) -> Result<Accept, Response> {
    Ok(match request.protocols().next() {
        Some(protocol) => Accept::new().protocol(protocol),
        None => Accept::new(),
    })
}

fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:9001".to_owned();
    let mut runtime = "tokio".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => runtime = args.next().unwrap_or_default(),
            "--max-message-size" => match args.next().and_then(|n| n.parse().ok()) {
                Some(bytes) => {
                    let _ = MAX_MESSAGE_SIZE.set(bytes);
                }
                None => {
                    eprintln!("--max-message-size takes a number of bytes");
                    std::process::exit(2);
                }
            },
            "--deflate-memory" => {
                let memory = match args.next().as_deref() {
                    Some("dedicated") => Memory::Dedicated,
                    Some("shared") => Memory::SharedCompressor,
                    Some("minimal") => Memory::Minimal,
                    _ => {
                        eprintln!("--deflate-memory takes dedicated, shared or minimal");
                        std::process::exit(2);
                    }
                };
                let _ = DEFLATE_MEMORY.set(memory);
            }
            _ => addr = arg,
        }
    }
    match runtime.as_str() {
        "tokio" => tokio_server(&addr),
        "tokio-split" => tokio_split_server(&addr),
        "toolkit" => toolkit_server(&addr),
        "smol" => smol::block_on(smol_server(&addr)),
        "async-std" => async_std::task::block_on(async_std_server(&addr)),
        "std" => std_server(&addr),
        "compio" => compio::runtime::Runtime::new()?.block_on(compio_server(&addr)),
        other => {
            eprintln!(
                "unknown runtime {other:?}: use tokio, tokio-split, toolkit, smol, async-std, std or compio"
            );
            std::process::exit(2);
        }
    }
}

fn report(result: ferrosocket::Result<()>) {
    match result {
        Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
        Err(e) => eprintln!("connection ended: {e}"),
    }
}

fn tokio_server(addr: &str) -> std::io::Result<()> {
    serve_tokio(addr, "tokio", |stream| async move {
        // `ws` lives in this future and is used in place: moving it into another future
        // (an `echo(ws)` helper) would keep a second copy in the task.
        let mut ws = accept_tokio(stream).await?;
        while let Some(message) = ws.next().await {
            let message = message?;
            if message.is_data() {
                ws.feed(message).await?; // flushed in one write before the next read
            }
        }
        Ok(())
    })
}

fn tokio_split_server(addr: &str) -> std::io::Result<()> {
    serve_tokio(addr, "tokio, split halves", |stream| async move {
        let (mut sender, mut receiver) = accept_tokio(stream).await?.into_split();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(16);
        let writer = tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                sender.send(message).await?;
            }
            Ok::<_, Error>(())
        });
        while let Some(message) = receiver.next().await {
            let message = message?;
            if message.is_data() && tx.send(message).await.is_err() {
                break; // the writer failed: its error is reported below
            }
        }
        drop(tx);
        writer.await.expect("the writer task")
    })
}

fn toolkit_server(addr: &str) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut server = ferrosocket::server::Server::builder()
            .config(config())
            .verify(|request, _peer| decide(request))
            // A queue that holds the largest message twice: an echo server drops nothing.
            .send_queue_limit(config().max_message_size.saturating_mul(2))
            .track_clients(false)
            .bind(addr)
            .await?;
        let local = server.local_addr().expect("a TCP listener");
        println!("echo_server (server toolkit) listening on ws://{local}");
        while let Some(mut incoming) = server.accept().await {
            tokio::spawn(async move {
                while let Some(message) = incoming.reader.next().await {
                    match message {
                        Ok(message) if message.is_data() => {
                            if incoming.client.send(message).is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(error) => return report(Err(error)),
                    }
                }
            });
        }
        Ok(())
    })
}

type TokioSocket = ferrosocket::tokio::WebSocketStream<tokio::net::TcpStream>;

/// The handshake (10 s limit), boxed: the task then keeps only what the connection needs once
/// it is open (about 1 KiB rather than 2.1 — what an idle connection weighs).
fn accept_tokio(
    stream: tokio::net::TcpStream,
) -> std::pin::Pin<Box<impl std::future::Future<Output = ferrosocket::Result<TokioSocket>>>> {
    Box::pin(async move {
        stream.set_nodelay(true)?;
        let accept = ferrosocket::tokio::accept_with(stream, config(), decide);
        tokio::time::timeout(Duration::from_secs(10), accept)
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    })
}

/// Accepts on a multi-threaded tokio runtime; `serve` runs each connection on its own task.
fn serve_tokio<F, Fut>(addr: &str, flavor: &str, serve: F) -> std::io::Result<()>
where
    F: Fn(tokio::net::TcpStream) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = ferrosocket::Result<()>> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!(
            "echo_server ({flavor}) listening on ws://{}",
            listener.local_addr()?
        );
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(stream).map_report());
        }
    })
}

async fn smol_server(addr: &str) -> std::io::Result<()> {
    let listener = smol::net::TcpListener::bind(addr).await?;
    println!("echo_server (smol) listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        smol::spawn(
            async move {
                stream.set_nodelay(true)?;
                let accept = ferrosocket::smol::accept_with(stream, config(), decide);
                let mut ws = smol::future::or(accept, async {
                    smol::Timer::after(Duration::from_secs(10)).await;
                    Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
                })
                .await?;
                while let Some(message) = ws.next().await {
                    let message = message?;
                    if message.is_data() {
                        ws.feed(message).await?; // flushed in one write before the next read
                    }
                }
                Ok(())
            }
            .map_report(),
        )
        .detach();
    }
}

async fn async_std_server(addr: &str) -> std::io::Result<()> {
    let listener = async_std::net::TcpListener::bind(addr).await?;
    println!(
        "echo_server (async-std) listening on ws://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        async_std::task::spawn(
            async move {
                stream.set_nodelay(true)?;
                let accept = ferrosocket::futures_io::accept_with(stream, config(), decide);
                let mut ws = async_std::future::timeout(Duration::from_secs(10), accept)
                    .await
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
                while let Some(message) = ws.next().await {
                    let message = message?;
                    if message.is_data() {
                        // Queued; a burst of echoes goes out in one write before the next read.
                        ws.feed(message).await?;
                    }
                }
                Ok(())
            }
            .map_report(),
        );
    }
}

async fn compio_server(addr: &str) -> std::io::Result<()> {
    let listener = compio::net::TcpListener::bind(addr).await?;
    println!(
        "echo_server (compio) listening on ws://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        compio::runtime::spawn(async move {
            report(
                async {
                    stream.set_nodelay(true)?;
                    // The engine bounds the handshake; no deadline afterwards.
                    let config = config().handshake_timeout(Duration::from_secs(10));
                    let mut ws = ferrosocket::compio::accept_with(stream, config, decide).await?;
                    loop {
                        match ws.read().await? {
                            // Queued; a burst of echoes goes out in one write before the next read.
                            message @ (Message::Text(_) | Message::Binary(_)) => ws.write(message)?,
                            Message::Close(_) => return Ok(()),
                            _ => {}
                        }
                    }
                }
                .await,
            )
        })
        .detach();
    }
}

fn std_server(addr: &str) -> std::io::Result<()> {
    let listener = std::net::TcpListener::bind(addr)?;
    println!("echo_server (std) listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            report((|| {
                stream.set_nodelay(true)?;
                // Bound the handshake; no timeout afterwards.
                stream.set_read_timeout(Some(Duration::from_secs(10)))?;
                let mut ws = ferrosocket::blocking::accept_with(stream, config(), decide)?;
                ws.get_ref().set_read_timeout(None)?;
                loop {
                    match ws.read()? {
                        message @ (Message::Text(_) | Message::Binary(_)) => ws.send(message)?,
                        Message::Close(_) => return Ok(()),
                        _ => {}
                    }
                }
            })())
        });
    }
    Ok(())
}

/// Logs how a connection task ended. A combinator, not `async move { report(self.await) }`:
/// an async block keeps the future it captured and the one it awaits, twice the task's size.
trait MapReport: std::future::Future<Output = ferrosocket::Result<()>> + Sized {
    fn map_report(self) -> impl std::future::Future<Output = ()> {
        futures_util::FutureExt::map(self, report)
    }
}

impl<F: std::future::Future<Output = ferrosocket::Result<()>>> MapReport for F {}
