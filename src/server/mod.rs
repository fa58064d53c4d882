//! A server layer in the spirit of Node `ws`'s `WebSocketServer`, on the tokio adapter.
//!
//! It accepts connections from any [`Listener`] (TCP, a Unix socket, your own source; TLS
//! with [`ServerBuilder::tls`] or any stream you wrap), runs every handshake on its own task
//! with a timeout, lets a `verify` hook — plain or async, such as a token lookup — accept
//! (subprotocol, extra headers) or refuse (any status, e.g. 401) each request, reports every
//! failed handshake to a hook, optionally restricts the path, tracks open clients for
//! broadcasting, and hands each connection to the application as an [`Incoming`]: the
//! request, the peer, a [`Reader`] (a `Stream` of its messages) and a cloneable [`Client`]
//! handle to send to it. Connections upgraded elsewhere (axum, hyper, over HTTP/1.1 or
//! HTTP/2) join the same set through [`ServerHandle::adopt`].
//!
//! Sending never waits for a client's socket: each [`Client`] has a send queue bounded in
//! bytes, drained by a writer task of its own, with an [`Overflow`] policy for clients that
//! stop reading. [`Clients`] broadcasts and publishes to topics with the message framed once;
//! [`cluster`] (features `redis`, `async-nats`) carries both to other server processes.
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
//!                 clients.broadcast(&message); // to everyone, the sender included; never waits
//!             }
//!         }
//!     });
//! }
//! # Ok(()) }
//! ```

mod client;
#[cfg(any(feature = "redis", feature = "async-nats"))]
pub mod cluster;
mod listener;
mod registry;

use crate::tls::server::ServerTls;
pub use client::{Client, Delivery, Overflow, Reader};
pub use listener::{Io, Listener, Socket};
pub use registry::{Clients, TopicChange};

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::tokio::WebSocketStream;
use crate::{Accept, CloseCode, Config, Connection, Error, Request, Response, Result};

type Decision = std::result::Result<Accept, Response>;

/// The hook that accepts or refuses a request (ws's `verifyClient`, `handleProtocols` and
/// `headers` in one); it may wait, e.g. for a database.
type Verify = dyn Fn(&Request, &Peer) -> Pin<Box<dyn Future<Output = Decision> + Send>> + Send + Sync;

/// The hook that hears of every failed handshake.
type OnHandshakeError = dyn Fn(HandshakeFailure) + Send + Sync;

/// A handshake that did not produce a connection, as [`ServerBuilder::on_handshake_error`]
/// reports it (ws's `wsClientError`, plus refusals and timeouts).
#[derive(Debug)]
#[non_exhaustive]
pub struct HandshakeFailure {
    /// Why: an invalid request (`Error::Handshake`), a refusal by `verify` or the path
    /// (`HandshakeError::Rejected` with the response sent), a timeout or another I/O error
    /// (`Error::Io`, kind `TimedOut` for the handshake timeout), TLS.
    pub error: Error,
    /// Who it was (the forwarded address is known only if the request was read).
    pub peer: Peer,
    /// The request, if it was read.
    pub request: Option<Request>,
}

/// Configures a [`Server`].
///
/// ```no_run
/// use std::time::Duration;
/// use ferrosocket::server::Server;
/// use ferrosocket::{deflate::DeflateConfig, Accept, Config, Response};
///
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::builder()
///     .path("/chat")
///     .config(Config::default().max_message_size(1 << 20).permessage_deflate(DeflateConfig::default()))
///     .verify(|request, _peer| match request.protocols().next() {
///         Some(protocol) => Ok(Accept::new().protocol(protocol)),
///         None => Err(Response::new(400).body("a subprotocol is required")),
///     })
///     .heartbeat(Duration::from_secs(30), Duration::from_secs(10))
///     .on_handshake_error(|failure| eprintln!("{:?}: {}", failure.peer.addr, failure.error))
///     .bind("127.0.0.1:8080")
///     .await?;
/// # Ok(()) }
/// ```
pub struct ServerBuilder {
    config: Config,
    handshake_timeout: Duration,
    path: Option<String>,
    verify: Arc<Verify>,
    on_handshake_error: Option<Arc<OnHandshakeError>>,
    tls: ServerTls,
    track_clients: bool,
    trust_forwarded_for: bool,
    heartbeat: Option<(Duration, Duration)>,
    backlog: usize,
    send_queue_limit: usize,
    overflow: Overflow,
    shutdown_timeout: Duration,
    queue_hooks: client::QueueHooks,
    on_topic: Option<registry::TopicHook>,
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
            verify: Arc::new(|_, _| Box::pin(std::future::ready(Ok(Accept::new())))),
            on_handshake_error: None,
            tls: None,
            track_clients: true,
            trust_forwarded_for: false,
            heartbeat: None,
            backlog: 128,
            send_queue_limit: 1 << 20,
            overflow: Overflow::Drop,
            shutdown_timeout: Duration::from_secs(5),
            queue_hooks: client::QueueHooks::default(),
            on_topic: None,
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
        F: Fn(&Request, &Peer) -> Decision + Send + Sync + 'static,
    {
        self.verify = Arc::new(move |request, peer| Box::pin(std::future::ready(verify(request, peer))));
        self
    }

    /// Like [`verify`](Self::verify) for a decision that waits (a token or session lookup):
    /// `verify` gets the request and the peer and returns a future that owns what it needs.
    /// The handshake timeout covers the wait.
    ///
    /// ```no_run
    /// use ferrosocket::server::Server;
    /// use ferrosocket::{Accept, Response};
    /// # async fn lookup(token: Option<String>) -> bool { token.is_some() }
    /// # async fn run() -> std::io::Result<()> {
    /// let server = Server::builder()
    ///     .verify_async(|request, _peer| {
    ///         let token = request.headers.get("authorization").map(str::to_owned);
    ///         async move {
    ///             if lookup(token).await { Ok(Accept::new()) } else { Err(Response::new(401)) }
    ///         }
    ///     })
    ///     .bind("127.0.0.1:8080")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn verify_async<F, Fut>(mut self, verify: F) -> Self
    where
        F: Fn(&Request, &Peer) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Decision> + Send + 'static,
    {
        self.verify = Arc::new(move |request, peer| Box::pin(verify(request, peer)));
        self
    }

    /// Called for every handshake that did not produce a connection — an invalid request, a
    /// refusal, a timeout, a TLS failure — with the error and the peer, instead of dropping
    /// it silently.
    pub fn on_handshake_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(HandshakeFailure) + Send + Sync + 'static,
    {
        self.on_handshake_error = Some(Arc::new(hook));
        self
    }

    /// Serves `wss://`: every accepted stream goes through this TLS acceptor first (within
    /// the handshake timeout), e.g. one built from a `rustls::ServerConfig`.
    #[cfg(feature = "rustls")]
    pub fn tls(mut self, acceptor: tokio_rustls::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
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
    /// `timeout` (ws's heartbeat example); their [`Reader`] yields
    /// [`Error::TimedOut`]`(`[`Timeout::Pong`](crate::Timeout::Pong)`)`.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat = Some((interval, timeout));
        self
    }

    /// The most bytes each client's send queue holds (default 1 MiB; uWebSockets'
    /// `maxBackpressure`): what [`Client::send`] and broadcasts queue beyond it meets the
    /// [`on_overflow`](Self::on_overflow) policy.
    pub fn send_queue_limit(mut self, bytes: usize) -> Self {
        self.send_queue_limit = bytes;
        self
    }

    /// What a client whose queue is full does with one more message (default
    /// [`Overflow::Drop`]; [`Overflow::Close`] drops the slow consumer instead).
    pub fn on_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Calls `hook` with the client and the message's size whenever a message is dropped
    /// because the client's queue was full (uWebSockets' `dropped`): under
    /// [`Overflow::Drop`] the message, under [`Overflow::Close`] the one that closed it.
    /// It runs on the sending task, with no lock held: keep it short.
    pub fn on_dropped<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Client, usize) + Send + Sync + 'static,
    {
        self.queue_hooks.dropped = Some(Box::new(hook));
        self
    }

    /// Calls `hook` with a client whose send queue held `below` bytes or more and has
    /// just fallen below (uWebSockets' `drain`, Node's `'drain'`): the moment to resume
    /// sending to a slow client. It runs on the client's writer task.
    pub fn on_drain<F>(mut self, below: usize, hook: F) -> Self
    where
        F: Fn(&Client) + Send + Sync + 'static,
    {
        self.queue_hooks.drain = Some((below, Box::new(hook)));
        self
    }

    /// Calls `hook` when a topic gains its first subscriber or loses its last (by
    /// unsubscribing or leaving): what a cluster needs to follow topics upstream one by
    /// one. It runs on the task that changed the subscription, with no lock held. Counts
    /// at any time: [`Clients::subscribers`].
    pub fn on_topic<F>(mut self, hook: F) -> Self
    where
        F: Fn(&str, TopicChange) + Send + Sync + 'static,
    {
        self.on_topic = Some(registry::TopicHook(Arc::new(hook)));
        self
    }

    /// How long [`Server::close`] waits for clients to take their Close before it
    /// terminates them (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Binds to `addr` (TCP) and starts accepting.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(self.listen(TcpListener::bind(addr).await?))
    }

    /// Starts accepting from `listener`: TCP, a Unix socket, or any [`Listener`].
    pub fn listen(self, listener: impl Listener) -> Server {
        let mut server = self.build();
        server.local_addr = listener.local_addr();
        server.add_listener(listener);
        server
    }

    /// A server with no listener of its own (ws's `noServer`): connections come from
    /// [`Server::add_listener`] or are upgraded elsewhere and handed in with
    /// [`ServerHandle::adopt`].
    pub fn build(mut self) -> Server {
        let (sender, receiver) = mpsc::channel(self.backlog);
        let clients = Clients::default();
        if let Some(hook) = self.on_topic.take() {
            clients.set_topic_hook(hook);
        }
        let queue_hooks = Arc::new(std::mem::take(&mut self.queue_hooks));
        Server {
            local_addr: None,
            handle: ServerHandle {
                queue_hooks,
                options: Arc::new(self),
                clients,
                incoming: sender,
            },
            incoming: receiver,
            acceptors: Vec::new(),
        }
    }
}

/// A running WebSocket server.
#[derive(Debug)]
pub struct Server {
    local_addr: Option<SocketAddr>,
    handle: ServerHandle,
    incoming: mpsc::Receiver<Incoming>,
    acceptors: Vec<JoinHandle<()>>,
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

    /// Accepts from one more listener as well (a Unix socket beside TCP, a second port).
    pub fn add_listener(&mut self, listener: impl Listener) {
        let handle = self.handle.clone();
        self.acceptors.push(tokio::spawn(accept_loop(listener, handle)));
    }

    /// The bound address (ws's `address()`), for a TCP listener.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The open clients (empty unless tracking is on).
    pub fn clients(&self) -> &Clients {
        &self.handle.clients
    }

    /// A handle for code that upgrades connections itself (an axum or hyper handler) to
    /// hand them to this server.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// The next connection whose handshake succeeded; `None` once the server is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a connection is only taken when this returns it.
    pub async fn accept(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }

    /// Stops accepting; with `close_clients`, queues a Close with 1001 (going away) for
    /// every open client and waits until each has written it — at most the
    /// [`shutdown_timeout`](ServerBuilder::shutdown_timeout), after which the clients still
    /// writing (slow consumers) are terminated. How long it takes does not depend on them.
    ///
    /// # Cancel safety
    ///
    /// Accepting stops and the Closes are queued at the first poll; cancelled later, the
    /// slow clients are not terminated.
    pub async fn close(&mut self, close_clients: bool) {
        for acceptor in &self.acceptors {
            acceptor.abort();
        }
        self.incoming.close();
        if !close_clients {
            return;
        }
        let clients = self.handle.clients.snapshot();
        for client in &clients {
            let _ = client.close(CloseCode::GOING_AWAY, "server shutting down");
        }
        let all_written = futures_util::future::join_all(clients.iter().map(Client::finished));
        if tokio::time::timeout(self.handle.options.shutdown_timeout, all_written)
            .await
            .is_err()
        {
            for client in clients.iter().filter(|client| !client.is_finished()) {
                client.terminate();
            }
        }
    }
}

/// What adopting code needs of a [`Server`]: its settings and its clients. Cheap to clone
/// (into axum state, say).
#[derive(Clone)]
pub struct ServerHandle {
    options: Arc<ServerBuilder>,
    /// Taken out of the options so each client's queue can share them.
    queue_hooks: Arc<client::QueueHooks>,
    clients: Clients,
    incoming: mpsc::Sender<Incoming>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Takes in a WebSocket whose handshake happened elsewhere — axum's or hyper's upgrade,
    /// over HTTP/1.1 or HTTP/2 — so it gets what the server's own connections get: client
    /// tracking (and so broadcast), the heartbeat. `request` is the upgrade request (e.g.
    /// [`WebSocketUpgrade::request`](crate::axum::WebSocketUpgrade::request) cloned),
    /// `addr` the peer's address if known. The server's `verify` and path do not apply:
    /// the code that upgraded decided.
    ///
    /// Handle the returned [`Incoming`] where you are (the upgrade's task), or pass it to
    /// the server's [`accept`](Server::accept) loop with [`submit`](Self::submit).
    pub fn adopt<S>(&self, ws: WebSocketStream<S>, request: Request, addr: Option<SocketAddr>) -> Incoming
    where
        S: Io,
    {
        let (io, conn) = ws.into_parts();
        self.incoming_for(boxed(io.0, conn), request, self.peer(addr, None))
    }

    /// Queues an adopted connection for the server's [`accept`](Server::accept) loop; gives
    /// it back if the server was closed.
    ///
    /// # Cancel safety
    ///
    /// Cancelled while the queue is full, the connection is dropped (closed).
    pub async fn submit(&self, incoming: Incoming) -> std::result::Result<(), Incoming> {
        self.incoming.send(incoming).await.map_err(|rejected| rejected.0)
    }

    fn peer(&self, addr: Option<SocketAddr>, request: Option<&Request>) -> Peer {
        Peer {
            addr,
            forwarded_for: request.and_then(forwarded_for),
            trusted: self.options.trust_forwarded_for,
        }
    }

    fn incoming_for(&self, mut ws: Socket, request: Request, peer: Peer) -> Incoming {
        if let Some((interval, timeout)) = self.options.heartbeat {
            crate::tokio::heartbeat(&mut ws, interval, timeout);
        }
        let policy = client::QueuePolicy {
            limit: self.options.send_queue_limit,
            overflow: self.options.overflow,
            hooks: self.queue_hooks.clone(),
        };
        let track = self.options.track_clients;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let membership = track.then(|| Box::new(self.clients.clone()) as Box<dyn client::Membership>);
        let (client, reader) = Client::start(ws, id, peer, policy, membership);
        if track {
            self.clients.insert(client.clone());
        }
        Incoming {
            request,
            peer,
            reader,
            client,
        }
    }

    fn report(&self, error: Error, peer: Peer, request: Option<Request>) {
        crate::log::event!(debug, peer = ?peer.addr, %error, "handshake failed");
        if let Some(hook) = &self.options.on_handshake_error {
            hook(HandshakeFailure { error, peer, request });
        }
    }
}

/// A connection on the toolkit's transport type.
fn boxed<S: Io>(io: S, conn: Connection) -> Socket {
    crate::tokio::from_connection(Box::new(io) as Box<dyn Io>, conn)
}

impl Drop for Server {
    fn drop(&mut self) {
        for acceptor in &self.acceptors {
            acceptor.abort();
        }
    }
}

async fn accept_loop(mut listener: impl Listener, server: ServerHandle) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let server = server.clone();
        tokio::spawn(async move {
            let mut seen = None;
            let handshake = handshake(stream, addr, &server, &mut seen);
            let outcome = tokio::time::timeout(server.options.handshake_timeout, handshake).await;
            let request = seen.map(|request: Box<Request>| *request);
            let peer = server.peer(addr, request.as_ref());
            match outcome {
                Ok(Ok(ws)) => {
                    let request = request.unwrap_or_else(|| Request::new("GET", "/"));
                    let _ = server.incoming.send(server.incoming_for(ws, request, peer)).await;
                }
                Ok(Err(error)) => server.report(error, peer, request),
                Err(_) => server.report(io::Error::from(io::ErrorKind::TimedOut).into(), peer, request),
            }
        });
    }
}

/// TLS if configured, then the WebSocket handshake; the request, once read, goes to `seen`
/// so a failure can be reported with it.
async fn handshake<S: Io>(
    stream: S,
    addr: Option<SocketAddr>,
    server: &ServerHandle,
    seen: &mut Option<Box<Request>>,
) -> Result<Socket> {
    let options = &server.options;
    let io = crate::tls::server::accept(&options.tls, stream).await?;
    let mut ws = crate::tokio::from_connection(io, Connection::server(options.config.clone()));
    let request = ws.read_request().await?;
    let peer = server.peer(addr, Some(&request));
    let decision = match &options.path {
        Some(path) if request.path() != path => {
            Err(Response::new(400).body("no WebSocket endpoint at this path\n"))
        }
        _ => (options.verify)(&request, &peer).await,
    };
    *seen = Some(request);
    ws.answer(decision).await?;
    Ok(ws)
}

/// The first address of `X-Forwarded-For`, if it parses.
fn forwarded_for(request: &Request) -> Option<IpAddr> {
    request.headers.list("x-forwarded-for").next()?.parse().ok()
}

/// Who is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's IP address and port; `None` over a Unix socket, or for an adopted
    /// connection whose address was not given.
    pub addr: Option<SocketAddr>,
    /// The first address in `X-Forwarded-For`, as the client (or a proxy) claims it.
    pub forwarded_for: Option<IpAddr>,
    trusted: bool,
}

impl Peer {
    /// The client's IP: `X-Forwarded-For` when the server trusts it, else the peer's, if it
    /// has one.
    pub fn ip(&self) -> Option<IpAddr> {
        match (self.trusted, self.forwarded_for) {
            (true, Some(ip)) => Some(ip),
            _ => self.addr.map(|addr| addr.ip()),
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

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
