//! The server side: QUIC connections whose requests arrive as [`Upgrade`]s, to accept as
//! WebSockets or refuse with a response.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quinn::{RecvStream, SendStream, VarInt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::{mpsc, watch};

use super::control::{self, read_frame_header, read_payload, skip};
use super::frame::{self, Settings};
use super::{field_section, qpack, within, within_handshake, Fields, H3Error, H3Stream, WebSocket, ALPN};
use crate::{Accept, Config, Connection, Error, HandshakeError, Request, Response, Result, TlsError};

/// What one QUIC connection may ask of an HTTP/3 server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// The largest request field section (`SETTINGS_MAX_FIELD_SECTION_SIZE`, counted as
    /// RFC 9114 §4.2.2 says); a larger one is answered 431. 16 KiB by default.
    pub max_field_section_size: u64,
    /// Request streams — WebSockets, and requests not yet answered — open at once on one
    /// connection (QUIC's stream limit: the peer cannot open more). 100 by default.
    pub max_streams_per_connection: u32,
    /// Request streams a connection may cancel (reset, or end, or let time out) before
    /// their request arrived, over its life; one more closes the connection with
    /// `H3_EXCESSIVE_LOAD`. Bounds the "rapid reset" pattern. 200 by default.
    pub max_cancelled_requests: u32,
    /// QUIC's idle timeout: a connection with no packets for this long is gone (a peer that
    /// vanished). We send QUIC keep-alives at a third of it, so a quiet WebSocket to a live
    /// peer is never mistaken for one. 30 s by default.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_field_section_size: 16 << 10,
            max_streams_per_connection: 100,
            max_cancelled_requests: 200,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

impl Limits {
    /// Sets [`max_field_section_size`](Self::max_field_section_size).
    pub fn max_field_section_size(mut self, bytes: u64) -> Self {
        self.max_field_section_size = bytes;
        self
    }

    /// Sets [`max_streams_per_connection`](Self::max_streams_per_connection).
    pub fn max_streams_per_connection(mut self, streams: u32) -> Self {
        self.max_streams_per_connection = streams;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`max_cancelled_requests`](Self::max_cancelled_requests).
    pub fn max_cancelled_requests(mut self, requests: u32) -> Self {
        self.max_cancelled_requests = requests;
        self
    }
}

/// A quinn server configuration for HTTP/3 with this certificate chain and key: TLS 1.3
/// (rustls, ring), ALPN `h3`, and the stream limits of `limits`.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    limits: &Limits,
) -> Result<quinn::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| Error::Tls(TlsError::Setup(e.to_string())))?;
    server_config_with(tls, limits)
}

/// A quinn server configuration over your rustls configuration (client certificates,
/// resolvers): ALPN `h3` is set if it names none, and the stream limits of `limits`.
pub fn server_config_with(mut tls: rustls::ServerConfig, limits: &Limits) -> Result<quinn::ServerConfig> {
    if tls.alpn_protocols.is_empty() {
        tls.alpn_protocols = vec![ALPN.to_vec()];
    }
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| Error::Tls(TlsError::Setup(e.to_string())))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(limits.max_streams_per_connection))
        // The peer's control and QPACK streams, and room for grease.
        .max_concurrent_uni_streams(VarInt::from_u32(8))
        .max_idle_timeout(limits.idle_timeout.try_into().ok())
        .keep_alive_interval(Some(limits.idle_timeout / 3));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// One HTTP/3 connection of a server: its control streams run in the background, and each
/// request stream's request arrives from [`next`](Self::next) as an [`Upgrade`].
#[derive(Debug)]
pub struct ServerConnection {
    conn: quinn::Connection,
    upgrades: mpsc::Receiver<Upgrade>,
}

impl ServerConnection {
    /// Completes the QUIC handshake of `incoming` within `config`'s handshake deadline
    /// and starts serving it.
    pub async fn accept(
        incoming: quinn::Incoming,
        config: &Config,
        limits: &Limits,
    ) -> Result<ServerConnection> {
        let connecting = incoming.accept().map_err(std::io::Error::from)?;
        let conn = within_handshake(config.handshake_timeout, connecting)
            .await?
            .map_err(std::io::Error::from)?;
        Ok(ServerConnection::new(conn, config.handshake_timeout, limits))
    }

    /// Serves an established QUIC connection: sends our SETTINGS (extended CONNECT
    /// enabled), and reads each request stream's request within `handshake_timeout`.
    pub fn new(
        conn: quinn::Connection,
        handshake_timeout: Option<Duration>,
        limits: &Limits,
    ) -> ServerConnection {
        let settings = Settings {
            enable_connect_protocol: true,
            max_field_section_size: Some(limits.max_field_section_size),
        };
        tokio::spawn(control::run(conn.clone(), settings, watch::channel(None).0));
        let (sender, upgrades) = mpsc::channel(limits.max_streams_per_connection.max(1) as usize);
        tokio::spawn(accept_requests(
            conn.clone(),
            sender,
            handshake_timeout,
            limits.clone(),
        ));
        ServerConnection { conn, upgrades }
    }

    /// The next request; `None` once the connection has ended.
    pub async fn next(&mut self) -> Option<Upgrade> {
        self.upgrades.recv().await
    }

    /// The client's address.
    pub fn remote_address(&self) -> SocketAddr {
        self.conn.remote_address()
    }

    /// The QUIC connection.
    pub fn connection(&self) -> &quinn::Connection {
        &self.conn
    }
}

/// Accepts request streams and reads their requests, each in a task of its own; once the
/// application dropped its [`ServerConnection`], further requests are rejected.
async fn accept_requests(
    conn: quinn::Connection,
    upgrades: mpsc::Sender<Upgrade>,
    deadline: Option<Duration>,
    limits: Limits,
) {
    let cancelled = Arc::new(AtomicU32::new(0));
    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
        if upgrades.is_closed() {
            let rejected = VarInt::from_u32(0x10b); // H3_REQUEST_REJECTED
            let _ = send.reset(rejected);
            let _ = recv.stop(rejected);
            continue;
        }
        let (conn, upgrades, limits, cancelled) =
            (conn.clone(), upgrades.clone(), limits.clone(), cancelled.clone());
        tokio::spawn(async move {
            let read = read_request(&mut recv, limits.max_field_section_size);
            let outcome = within(deadline, read)
                .await
                .unwrap_or(Err(H3Error::RequestTimeout));
            match outcome {
                Ok((request, websocket)) => {
                    let upgrade = Upgrade {
                        request,
                        websocket,
                        send,
                        recv,
                        remote: conn.remote_address(),
                    };
                    let _ = upgrades.send(upgrade).await;
                }
                Err(H3Error::FieldSectionTooLarge) => {
                    let _ = recv.stop(VarInt::from_u32(0x107));
                    let _ = respond(
                        &mut send,
                        &Response::new(431).body("request header fields too large\n"),
                    )
                    .await;
                }
                Err(H3Error::Message) => {
                    let _ = respond(&mut send, &Response::new(400).body("malformed HTTP/3 request\n")).await;
                }
                Err(error @ (H3Error::Reset(_) | H3Error::RequestTimeout | H3Error::Transport(_))) => {
                    if matches!(error, H3Error::RequestTimeout) {
                        let code = VarInt::from_u32(error.code() as u32);
                        let _ = send.reset(code);
                        let _ = recv.stop(code);
                    }
                    if cancelled.fetch_add(1, Ordering::Relaxed) >= limits.max_cancelled_requests {
                        control::close(&conn, H3Error::ExcessiveLoad);
                    }
                }
                // Frame and QPACK errors are the connection's (RFC 9114 §8, RFC 9204 §2.2).
                Err(error) => control::close(&conn, error),
            }
        });
    }
}

/// Reads a request's HEADERS (skipping unknown frames before it) and makes it a
/// [`Request`]; also says whether it is an extended CONNECT for a WebSocket.
async fn read_request(recv: &mut RecvStream, limit: u64) -> std::result::Result<(Request, bool), H3Error> {
    let block = loop {
        // A stream that ends before its request is a cancelled one, like a reset.
        let (frame_type, len) = read_frame_header(recv).await?.ok_or(H3Error::Reset(0x10c))?;
        match frame_type {
            frame::HEADERS if len > limit => return Err(H3Error::FieldSectionTooLarge),
            frame::HEADERS => break read_payload(recv, len, limit).await?,
            t if t == frame::DATA || frame::is_control_only(t) || frame::is_http2_only(t) => {
                return Err(H3Error::FrameUnexpected)
            }
            _ => skip(recv, len).await?,
        }
    };
    request_from_fields(&block, limit)
}

/// A request's field section as a [`Request`], checked as RFC 9114 §4.3.1 and RFC 8441 §4
/// ask; also whether it is an extended CONNECT for a WebSocket.
pub(crate) fn request_from_fields(block: &[u8], limit: u64) -> std::result::Result<(Request, bool), H3Error> {
    let fields = Fields::parse(
        qpack::decode(block, limit)?,
        &["method", "scheme", "authority", "path", "protocol"],
    )?;
    let method = fields.pseudo(":method").ok_or(H3Error::Message)?;
    let protocol = fields.pseudo(":protocol");
    let path = fields.pseudo(":path");
    let authority = fields.pseudo(":authority");
    let scheme = fields.pseudo(":scheme");
    // RFC 9114 §4.3.1, with RFC 8441 §4's extended CONNECT: :scheme and :path with
    // :protocol; a plain CONNECT has neither; everything else both.
    let well_formed = match (method, protocol) {
        ("CONNECT", Some(_)) => scheme.is_some() && path.is_some() && authority.is_some(),
        ("CONNECT", None) => scheme.is_none() && path.is_none() && authority.is_some(),
        (_, Some(_)) => false,
        _ => scheme.is_some() && path.is_some_and(|p| !p.is_empty()),
    };
    if !well_formed {
        return Err(H3Error::Message);
    }
    let websocket = method == "CONNECT" && protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket"));
    let mut request = Request::new(method, path.or(authority).unwrap_or_default());
    if let (Some(authority), false) = (authority, fields.regular.contains("host")) {
        request.headers.append("host", authority);
    }
    for (name, value) in fields.regular.iter() {
        request.headers.append(name, value);
    }
    Ok((request, websocket))
}

/// Writes the HEADERS of an accepting `response`; the stream goes on.
async fn write_head(send: &mut SendStream, response: &Response) -> std::io::Result<()> {
    let status = response.status.to_string();
    let head = frame::frame(
        frame::HEADERS,
        &field_section(&[(":status", &status)], &response.headers),
    );
    send.write_all(&head).await.map_err(std::io::Error::from)
}

/// Writes `response` — its HEADERS, its body as DATA — and finishes the stream.
async fn respond(send: &mut SendStream, response: &Response) -> std::io::Result<()> {
    let status = response.status.to_string();
    let mut headers = response.headers.clone();
    if !response.body.is_empty() && !headers.contains("content-length") {
        headers.append("content-length", response.body.len().to_string());
    }
    let mut out = frame::frame(frame::HEADERS, &field_section(&[(":status", &status)], &headers));
    if !response.body.is_empty() {
        out.extend_from_slice(&frame::frame(frame::DATA, &response.body));
    }
    send.write_all(&out).await?;
    send.finish()?;
    Ok(())
}

/// A request that arrived on an HTTP/3 connection: accept it as a WebSocket (an extended
/// CONNECT with `:protocol websocket`) or refuse it with a response.
#[derive(Debug)]
pub struct Upgrade {
    request: Request,
    websocket: bool,
    send: SendStream,
    recv: RecvStream,
    remote: SocketAddr,
}

impl Upgrade {
    /// The request: `:method` and `:path` as method and target, `:authority` as `host`,
    /// then the fields as sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether it is an extended CONNECT with `:protocol websocket`.
    pub fn is_websocket(&self) -> bool {
        self.websocket
    }

    /// The client's address.
    pub fn remote_address(&self) -> SocketAddr {
        self.remote
    }

    /// Accepts the WebSocket: negotiates subprotocol and permessage-deflate as over
    /// HTTP/1.1 and HTTP/2, answers 200 and runs the engine over the stream. A request that
    /// is not a valid WebSocket extended CONNECT is answered with its refusal (400, or 426
    /// with `Sec-WebSocket-Version: 13`), and its error returned.
    pub async fn accept(self, accept: Accept, config: Config) -> Result<WebSocket> {
        self.decide(config, move |_| Ok(accept))
            .await?
            .ok_or(Error::Handshake(HandshakeError::Rejected(Box::new(
                Response::new(400),
            ))))
    }

    /// Answers with `response` (a 2xx) as it is and returns the stream without an engine:
    /// for relays and proxies that pass a WebSocket's bytes through. [`accept`](Self::accept)
    /// is this with the negotiation and the engine.
    pub async fn accept_raw(mut self, response: Response) -> Result<H3Stream> {
        response.check_outgoing()?;
        if !(200..300).contains(&response.status) {
            return Err(Error::Handshake(HandshakeError::Rejected(Box::new(response))));
        }
        write_head(&mut self.send, &response).await?;
        Ok(H3Stream::new(self.send, self.recv))
    }

    /// Refuses with `response` (status, headers, body).
    pub async fn refuse(mut self, response: Response) -> Result<()> {
        response.check_outgoing()?;
        let _ = self.recv.stop(VarInt::from_u32(0x100)); // H3_NO_ERROR: the answer is complete
        respond(&mut self.send, &response).await?;
        Ok(())
    }

    /// Lets `decide` see the request and accept (subprotocol, headers) or refuse with a
    /// response; then answers. `Ok(None)` when refused; a request that is not a valid
    /// WebSocket extended CONNECT is refused for `decide`, and its error returned.
    pub async fn decide(
        mut self,
        config: Config,
        decide: impl FnOnce(&Request) -> std::result::Result<Accept, Response>,
    ) -> Result<Option<WebSocket>> {
        if !self.websocket {
            let error = HandshakeError::MalformedHttp("extended CONNECT with :protocol websocket expected");
            self.refuse(error.to_response()).await?;
            return Err(Error::Handshake(error));
        }
        let accept = match decide(&self.request) {
            Ok(accept) => accept,
            Err(refusal) => {
                self.refuse(refusal).await?;
                return Ok(None);
            }
        };
        match Connection::accept_extended_connect(&self.request, accept, config) {
            Ok((conn, response)) => {
                let status = response.status.to_string();
                let head = frame::frame(
                    frame::HEADERS,
                    &field_section(&[(":status", &status)], &response.headers),
                );
                self.send.write_all(&head).await.map_err(std::io::Error::from)?;
                Ok(Some(crate::tokio::from_connection(
                    H3Stream::new(self.send, self.recv),
                    conn,
                )))
            }
            Err(Error::Handshake(error)) => {
                self.refuse(error.to_response()).await?;
                Err(Error::Handshake(error))
            }
            Err(other) => {
                self.refuse(Response::new(500)).await?;
                Err(other)
            }
        }
    }
}

/// Serves WebSockets over HTTP/3 on `endpoint` until it closes: each connection and each
/// request in a task of its own; `decide` accepts or refuses each request (see
/// [`Upgrade::decide`]), `handler` runs each accepted WebSocket with its request.
pub async fn serve<D, H, F>(endpoint: quinn::Endpoint, config: Config, limits: Limits, decide: D, handler: H)
where
    D: Fn(&Request) -> std::result::Result<Accept, Response> + Send + Sync + 'static,
    H: Fn(WebSocket, Request) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let decide = Arc::new(decide);
    let handler = Arc::new(handler);
    while let Some(incoming) = endpoint.accept().await {
        let (config, limits, decide, handler) =
            (config.clone(), limits.clone(), decide.clone(), handler.clone());
        tokio::spawn(async move {
            let Ok(mut connection) = ServerConnection::accept(incoming, &config, &limits).await else {
                return;
            };
            while let Some(upgrade) = connection.next().await {
                let (config, decide, handler) = (config.clone(), decide.clone(), handler.clone());
                tokio::spawn(async move {
                    let request = upgrade.request().clone();
                    if let Ok(Some(ws)) = upgrade.decide(config, |request| decide(request)).await {
                        handler(ws, request).await;
                    }
                });
            }
        });
    }
}
