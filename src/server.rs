//! A server layer in the spirit of Node `ws`'s `WebSocketServer`, on the tokio adapter.
//!
//! It binds (or takes) a listener, runs every handshake on its own task with a timeout, lets a
//! `verify` hook accept (subprotocol, extra headers) or refuse (any status, e.g. 401) each
//! request, optionally restricts the path, tracks open clients for broadcasting, and hands
//! each connection to the application as an [`Incoming`]: the request, the peer's address,
//! a [`Reader`] for its messages and a cloneable [`Client`] handle to send to it.
//!
//! ```no_run
//! use ferrosocket::server::Server;
//! use ferrosocket::Message;
//!
//! # async fn run() -> std::io::Result<()> {
//! let mut server = Server::builder().path("/chat").bind("127.0.0.1:8080").await?;
//! while let Some(mut incoming) = server.accept().await {
//!     let clients = server.clients().clone();
//!     tokio::spawn(async move {
//!         while let Some(Ok(message)) = incoming.reader.next().await {
//!             if message.is_data() {
//!                 clients.broadcast(&message).await; // to everyone, the sender included
//!             }
//!         }
//!     });
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::tokio::WebSocketStream;
use crate::{Accept, CloseCode, Config, Message, Request, Response, Result};

/// The hook that accepts or refuses a request (ws's `verifyClient`, `handleProtocols` and
/// `headers` in one).
type Verify = dyn Fn(&Request, &Peer) -> std::result::Result<Accept, Response> + Send + Sync;

/// Configures a [`Server`].
pub struct ServerBuilder {
    config: Config,
    handshake_timeout: Duration,
    path: Option<String>,
    verify: Arc<Verify>,
    track_clients: bool,
    trust_forwarded_for: bool,
    heartbeat: Option<(Duration, Duration)>,
    backlog: usize,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("path", &self.path)
            .field("track_clients", &self.track_clients)
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            config: Config::default(),
            handshake_timeout: Duration::from_secs(10),
            path: None,
            verify: Arc::new(|_, _| Ok(Accept::new())),
            track_clients: true,
            trust_forwarded_for: false,
            heartbeat: None,
            backlog: 128,
        }
    }
}

impl ServerBuilder {
    /// Engine settings for every connection (limits, permessage-deflate, …).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// How long a client may take to complete the handshake (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Only accept upgrades for this path (ws's `path`); others get 400.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Accepts (choosing a subprotocol, adding headers) or refuses each request.
    pub fn verify<F>(mut self, verify: F) -> Self
    where
        F: Fn(&Request, &Peer) -> std::result::Result<Accept, Response> + Send + Sync + 'static,
    {
        self.verify = Arc::new(verify);
        self
    }

    /// Keep the set of open clients for [`Server::clients`] (default on, ws's
    /// `clientTracking`).
    pub fn track_clients(mut self, on: bool) -> Self {
        self.track_clients = on;
        self
    }

    /// Take [`Peer::ip`] from `X-Forwarded-For` (only behind a proxy you trust).
    pub fn trust_forwarded_for(mut self, on: bool) -> Self {
        self.trust_forwarded_for = on;
        self
    }

    /// Pings every client every `interval` and terminates those that miss a pong for
    /// `timeout` (ws's heartbeat example); their [`Reader`] yields a `TimedOut` error.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat = Some((interval, timeout));
        self
    }

    /// Binds to `addr` and starts accepting.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(self.listen(TcpListener::bind(addr).await?))
    }

    /// Starts accepting on an existing listener.
    pub fn listen(self, listener: TcpListener) -> Server {
        let local_addr = listener.local_addr().ok();
        let clients = Clients::default();
        let (sender, receiver) = mpsc::channel(self.backlog);
        let acceptor = tokio::spawn(accept_loop(listener, Arc::new(self), clients.clone(), sender));
        Server {
            local_addr,
            clients,
            incoming: receiver,
            acceptor,
        }
    }
}

/// A running WebSocket server.
#[derive(Debug)]
pub struct Server {
    local_addr: Option<SocketAddr>,
    clients: Clients,
    incoming: mpsc::Receiver<Incoming>,
    acceptor: JoinHandle<()>,
}

impl Server {
    /// A builder with the defaults: any path, accept every valid request, track clients,
    /// 10 s handshake timeout.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Binds to `addr` with the defaults.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Server::builder().bind(addr).await
    }

    /// The bound address (ws's `address()`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The open clients (empty unless tracking is on).
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The next connection whose handshake succeeded; `None` once the server is closed.
    pub async fn accept(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }

    /// Stops accepting; with `close_clients`, sends every open client a Close with 1001
    /// (going away). Connections already handed out keep running until they close.
    pub async fn close(&mut self, close_clients: bool) {
        self.acceptor.abort();
        self.incoming.close();
        if close_clients {
            for client in self.clients.snapshot() {
                let _ = client.close(CloseCode::GOING_AWAY, "server shutting down").await;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    options: Arc<ServerBuilder>,
    clients: Clients,
    out: mpsc::Sender<Incoming>,
) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (options, clients, out) = (options.clone(), clients.clone(), out.clone());
        tokio::spawn(async move {
            let handshake = handshake(stream, addr, &options);
            if let Ok(Ok((mut ws, request, peer))) =
                tokio::time::timeout(options.handshake_timeout, handshake).await
            {
                if let Some((interval, timeout)) = options.heartbeat {
                    crate::tokio::heartbeat(&mut ws, interval, timeout);
                }
                let incoming = Incoming::new(ws, *request, peer, &clients, options.track_clients);
                let _ = out.send(incoming).await;
            }
        });
    }
}

async fn handshake(
    stream: TcpStream,
    addr: SocketAddr,
    options: &ServerBuilder,
) -> Result<(WebSocketStream<TcpStream>, Box<Request>, Peer)> {
    stream.set_nodelay(true)?;
    let mut seen = None;
    let mut peer = Peer {
        addr,
        forwarded_for: None,
        trusted: options.trust_forwarded_for,
    };
    let ws = crate::tokio::accept_with(stream, options.config.clone(), |request| {
        peer.forwarded_for = forwarded_for(request);
        seen = Some(Box::new(request.clone()));
        if let Some(path) = &options.path {
            if request.path() != path {
                return Err(Response::new(400).body("no WebSocket endpoint at this path\n"));
            }
        }
        (options.verify)(request, &peer)
    })
    .await?;
    let request = seen.ok_or(crate::HandshakeError::Incomplete)?;
    Ok((ws, request, peer))
}

/// The first address of `X-Forwarded-For`, if it parses.
fn forwarded_for(request: &Request) -> Option<IpAddr> {
    request.headers.list("x-forwarded-for").next()?.parse().ok()
}

/// Who is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The TCP peer's address.
    pub addr: SocketAddr,
    /// The first address in `X-Forwarded-For`, as the client (or a proxy) claims it.
    pub forwarded_for: Option<IpAddr>,
    trusted: bool,
}

impl Peer {
    /// The client's IP: `X-Forwarded-For` when the server trusts it, else the TCP peer's.
    pub fn ip(&self) -> IpAddr {
        match (self.trusted, self.forwarded_for) {
            (true, Some(ip)) => ip,
            _ => self.addr.ip(),
        }
    }
}

/// A connection the server accepted.
#[derive(Debug)]
pub struct Incoming {
    /// The upgrade request (path, query, headers, cookies).
    pub request: Request,
    /// Who connected.
    pub peer: Peer,
    /// Its messages.
    pub reader: Reader,
    /// A handle to send to it; clone it freely (ws's `ws` object).
    pub client: Client,
}

impl Incoming {
    fn new(
        ws: WebSocketStream<TcpStream>,
        request: Request,
        peer: Peer,
        clients: &Clients,
        track: bool,
    ) -> Self {
        let (sink, stream) = ws.split();
        let client = Client {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            peer,
            sink: Arc::new(tokio::sync::Mutex::new(sink)),
        };
        if track {
            clients.insert(client.clone());
        }
        let reader = Reader {
            stream,
            clients: track.then(|| clients.clone()),
            id: client.id,
        };
        Incoming {
            request,
            peer,
            reader,
            client,
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// A handle for sending to one connection; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Client {
    id: u64,
    peer: Peer,
    sink: Arc<tokio::sync::Mutex<Sink>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .finish()
    }
}

impl Client {
    /// A number unique to this connection within the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Who this client is.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Sends a message (waiting while the connection's outgoing buffer is full).
    pub async fn send(&self, message: Message) -> Result<()> {
        self.sink.lock().await.send(message).await
    }

    /// Starts the closing handshake; the client's [`Reader`] ends when it completes.
    pub async fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let frame = crate::CloseFrame::new(code.into(), crate::Utf8Bytes::from(reason.to_owned()));
        self.sink.lock().await.send(Message::Close(Some(frame))).await
    }
}

/// Reads one connection's messages; removes the client from the tracked set when dropped.
#[derive(Debug)]
pub struct Reader {
    stream: SplitStream<WebSocketStream<TcpStream>>,
    clients: Option<Clients>,
    id: u64,
}

impl Reader {
    /// The next message; `None` once the connection has closed.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        let message = self.stream.next().await;
        if message.is_none() {
            self.untrack();
        }
        message
    }

    fn untrack(&mut self) {
        if let Some(clients) = self.clients.take() {
            clients.remove(self.id);
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.untrack();
    }
}

/// The set of open clients (ws's `clients`).
#[derive(Debug, Clone, Default)]
pub struct Clients {
    inner: Arc<Mutex<HashMap<u64, Client>>>,
}

impl Clients {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Client>> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn insert(&self, client: Client) {
        self.lock().insert(client.id, client);
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// How many clients are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no client is open.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The open clients now.
    pub fn snapshot(&self) -> Vec<Client> {
        self.lock().values().cloned().collect()
    }

    /// Sends `message` to every open client; returns how many it reached.
    pub async fn broadcast(&self, message: &Message) -> usize {
        self.broadcast_except(0, message).await
    }

    /// Sends `message` to every open client but the one with id `except` (ws's "broadcast
    /// to everyone else"); returns how many it reached.
    pub async fn broadcast_except(&self, except: u64, message: &Message) -> usize {
        let mut reached = 0;
        for client in self.snapshot() {
            if client.id != except && client.send(message.clone()).await.is_ok() {
                reached += 1;
            }
        }
        reached
    }
}
