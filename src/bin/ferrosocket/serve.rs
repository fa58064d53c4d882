//! The server, over ws or wss, until Ctrl-C: an echo server (each connection's messages
//! written back in order on its own stream, so the answer to a client's Close follows every
//! echo before it), or a broadcast server on the toolkit's [`Server`] (each message to every
//! client).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::server::{Clients, Incoming, Server};
use ferrosocket::{Accept, Config, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::{tls, Exit, ServeArgs};

/// How long a client may take over TLS and the upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection is served with.
struct Setup {
    config: Config,
    protocols: Vec<String>,
    tls: Option<TlsAcceptor>,
    verbose: bool,
}

pub async fn run(args: ServeArgs) -> Exit {
    let mut config = Config::default().max_message_size(args.max_message_size);
    if !args.no_deflate {
        config = config.permessage_deflate(DeflateConfig::default());
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(chain), Some(key)) => match tls::server_config(chain, key) {
            Ok(config) => Some(TlsAcceptor::from(config)),
            Err(error) => {
                eprintln!("error: {}", error.0);
                return Exit::Usage;
            }
        },
        _ => None,
    };
    let listener = match TcpListener::bind(&args.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", args.addr);
            return Exit::ConnectFailed;
        }
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let addr = listener
        .local_addr()
        .map_or_else(|_| args.addr.clone(), |a| a.to_string());
    println!("listening on {scheme}://{addr}");
    let _ = std::io::stdout().flush();
    let setup = Arc::new(Setup {
        config,
        protocols: args.subprotocols,
        tls,
        verbose: args.verbose,
    });
    if args.broadcast {
        broadcast(listener, setup).await
    } else {
        echo(listener, setup).await
    }
}

/// The first of our subprotocols the client offered, if any.
fn choose(protocols: &[String], request: &Request) -> Accept {
    let offered: Vec<&str> = request.protocols().collect();
    match protocols.iter().find(|ours| offered.contains(&ours.as_str())) {
        Some(chosen) => Accept::new().protocol(chosen.clone()),
        None => Accept::new(),
    }
}

/// Echoes on each connection's own stream until Ctrl-C.
async fn echo(listener: TcpListener, setup: Arc<Setup>) -> Exit {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, addr)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let setup = setup.clone();
                tokio::spawn(async move {
                    let ended = match &setup.tls {
                        Some(tls) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                            Ok(Ok(stream)) => echo_over(stream, &setup).await,
                            Ok(Err(error)) => format!("failed TLS: {error}"),
                            Err(_) => "timed out in TLS".to_owned(),
                        },
                        None => echo_over(tcp, &setup).await,
                    };
                    if setup.verbose {
                        eprintln!("{addr} {ended}");
                    }
                });
            }
            _ = tokio::signal::ctrl_c() => return Exit::Success,
        }
    }
}

/// The upgrade and the echo on one stream: how it ended.
async fn echo_over<S: AsyncRead + AsyncWrite + Unpin>(stream: S, setup: &Setup) -> String {
    let decide = |request: &Request| Ok(choose(&setup.protocols, request));
    let upgrade = ferrosocket::tokio::accept_with(stream, setup.config.clone(), decide);
    let mut ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(error)) => return format!("failed the upgrade: {error}"),
        Err(_) => return "timed out in the upgrade".to_owned(),
    };
    loop {
        match ws.next().await {
            Some(Ok(message)) if message.is_data() => {
                if let Err(error) = ws.send(message).await {
                    return format!("failed: {error}");
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return format!("failed: {error}"),
            None => return "closed".to_owned(),
        }
    }
}

/// Broadcasts each message to every client through the toolkit's server until Ctrl-C.
async fn broadcast(listener: TcpListener, setup: Arc<Setup>) -> Exit {
    let protocols = setup.protocols.clone();
    let mut builder = Server::builder()
        .config(setup.config.clone())
        .handshake_timeout(HANDSHAKE_TIMEOUT)
        .verify(move |request, _peer| Ok(choose(&protocols, request)));
    if let Some(tls) = &setup.tls {
        builder = builder.tls(tls.clone());
    }
    let mut server = builder.listen(listener);
    let clients = server.clients().clone();
    loop {
        tokio::select! {
            incoming = server.accept() => match incoming {
                Some(incoming) => {
                    tokio::spawn(broadcast_from(incoming, clients.clone(), setup.verbose));
                }
                None => return Exit::Success,
            },
            _ = tokio::signal::ctrl_c() => {
                server.close(true).await;
                return Exit::Success;
            }
        }
    }
}

/// Sends each message one client sends to every client.
async fn broadcast_from(incoming: Incoming, clients: Clients, verbose: bool) {
    let Incoming { mut reader, peer, .. } = incoming;
    let who = peer
        .ip()
        .map_or_else(|| "a client".to_owned(), |ip| ip.to_string());
    if verbose {
        eprintln!("{who} connected");
    }
    let ended = loop {
        match reader.next().await {
            Some(Ok(message)) if message.is_data() => {
                clients.broadcast(&message);
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => break format!("failed: {error}"),
            None => break "closed".to_owned(),
        }
    };
    if verbose {
        eprintln!("{who} {ended}");
    }
}
