//! The client side: one QUIC connection to a server, on which [`Client::open`] opens
//! WebSockets, each an extended CONNECT on a stream of its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quinn::VarInt;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::control::{self, read_frame_header, read_payload, skip};
use super::frame::{self, Settings};
use super::{field_section, qpack, within_handshake, Fields, H3Error, H3Stream, WebSocket, ALPN};
use crate::handshake::Headers;
use crate::tls::ClientTls;
use crate::{ClientRequest, Config, Connection, Error, HandshakeError, Response, Result, TlsError};

/// The most of a refusal's body kept for [`HandshakeError::Rejected`].
const MAX_REFUSAL_BODY: u64 = 64 << 10;

/// A quinn client configuration for HTTP/3 from the crate's TLS settings (the same roots
/// and client certificates as the TCP connectors; rustls only: QUIC's TLS is rustls here),
/// with ALPN `h3`.
pub fn client_config(tls: ClientTls) -> Result<quinn::ClientConfig> {
    #[allow(unreachable_patterns)] // without native-tls, Rustls is the only variant
    let tls = match tls {
        ClientTls::Rustls(config) => config,
        _ => {
            return Err(Error::Tls(TlsError::Setup(
                "HTTP/3 needs rustls, not native-tls".into(),
            )))
        }
    };
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| Error::Tls(TlsError::Setup(e.to_string())))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    // The server's control and QPACK streams; a server opens no request streams.
    transport
        .max_concurrent_uni_streams(VarInt::from_u32(8))
        .max_concurrent_bidi_streams(VarInt::from_u32(0))
        // Quiet WebSockets must outlive QUIC's idle timeout (30 s): keep-alives well within it.
        .keep_alive_interval(Some(Duration::from_secs(10)));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// Connects to a `wss://` URL over HTTP/3 with the default roots (30 s deadline).
pub async fn connect(url: &str) -> Result<(WebSocket, Response)> {
    let config = Config::default().handshake_timeout(Duration::from_secs(30));
    connect_with(ClientRequest::new(url)?, config, None).await
}

/// Connects over HTTP/3 with a full request and config, over a QUIC connection of its own;
/// `tls` as for the TCP connectors (`None`: the default roots). `config`'s handshake
/// deadline covers the QUIC handshake and the extended CONNECT.
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
    tls: Option<ClientTls>,
) -> Result<(WebSocket, Response)> {
    let client = Client::connect(&request, tls, config.handshake_timeout).await?;
    client.open(&request, config).await
}

/// A QUIC connection to an HTTP/3 server, for as many WebSockets as the server allows at
/// once. It stays open while the `Client` or any of its WebSockets is alive.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

/// What the client and its WebSockets share; the last one gone closes the connection.
#[derive(Debug)]
struct Shared {
    conn: quinn::Connection,
    settings: watch::Receiver<Option<Settings>>,
    control: tokio::task::AbortHandle,
    _endpoint: quinn::Endpoint,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.control.abort();
        self.conn.close(VarInt::from_u32(0x100), b""); // H3_NO_ERROR
    }
}

impl Client {
    /// Connects to the server of `request` (its host and port; the scheme is `https`
    /// whatever the URL says: QUIC is always encrypted) within `timeout`.
    pub async fn connect(
        request: &ClientRequest,
        tls: Option<ClientTls>,
        timeout: Option<Duration>,
    ) -> Result<Client> {
        let tls = match tls {
            Some(tls) => tls,
            None => ClientTls::default_config().map_err(Error::Tls)?,
        };
        let quic = client_config(tls)?;
        let connecting = async {
            let addr = tokio::net::lookup_host((request.host(), request.port()))
                .await?
                .next()
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
                })?;
            let local: SocketAddr = if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }
                .parse()
                .expect("an address");
            let mut endpoint = quinn::Endpoint::client(local)?;
            endpoint.set_default_client_config(quic);
            let conn = endpoint
                .connect(addr, request.host())
                .map_err(|e| Error::Tls(TlsError::InvalidServerName(format!("{}: {e}", request.host()))))?
                .await
                .map_err(std::io::Error::from)?;
            Ok::<_, Error>(Client::over(endpoint, conn))
        };
        within_handshake(timeout, connecting).await?
    }

    /// Runs HTTP/3 on a QUIC connection you made (ALPN `h3`) from `endpoint`.
    pub fn over(endpoint: quinn::Endpoint, conn: quinn::Connection) -> Client {
        let (peer, settings) = watch::channel(None);
        let control = tokio::spawn(control::run(conn.clone(), Settings::default(), peer)).abort_handle();
        Client {
            shared: Arc::new(Shared {
                conn,
                settings,
                control,
                _endpoint: endpoint,
            }),
        }
    }

    /// The QUIC connection.
    pub fn connection(&self) -> &quinn::Connection {
        &self.shared.conn
    }

    /// Opens a WebSocket for `request` (its path, subprotocols, headers) on this connection:
    /// waits for the server's SETTINGS to allow extended CONNECT, sends it with the
    /// permessage-deflate offer of `config`, and checks the answer as over HTTP/2. A
    /// refusal is [`HandshakeError::Rejected`] with the response and (up to 64 KiB of) its
    /// body. `config`'s handshake deadline bounds it all.
    pub async fn open(&self, request: &ClientRequest, config: Config) -> Result<(WebSocket, Response)> {
        let deadline = config.handshake_timeout;
        let opening = self.open_inner(request, config);
        within_handshake(deadline, opening).await?
    }

    async fn open_inner(&self, request: &ClientRequest, config: Config) -> Result<(WebSocket, Response)> {
        let offer = config.permessage_deflate.as_ref().map(|deflate| deflate.offer());
        let headers = request.extended_connect_headers(offer.as_deref())?;
        let host = request.host();
        let authority = if host.contains(':') {
            format!("[{host}]:{}", request.port())
        } else {
            format!("{host}:{}", request.port())
        };
        let (mut response, mut stream) = self
            .open_raw(
                &authority,
                request.target(),
                &headers,
                config.max_header_bytes as u64,
            )
            .await?;
        if !(200..300).contains(&response.status) {
            // The refusal's body: the DATA of the stream, as much as we keep.
            let mut body = Vec::new();
            let _ = (&mut stream).take(MAX_REFUSAL_BODY).read_to_end(&mut body).await;
            response.body = body.into();
            return Err(Error::Handshake(HandshakeError::Rejected(Box::new(response))));
        }
        let conn = Connection::open_extended_connect(request, &response, config)?;
        Ok((crate::tokio::from_connection(stream, conn), response))
    }

    /// Sends an extended CONNECT for a WebSocket at `authority` and `target` with `headers`
    /// as they are, and returns the response with its stream, unchecked and without an
    /// engine: for relays and proxies that pass a WebSocket's bytes through (the stream
    /// carries the refusal's body when the status is not 2xx). `max_field_section` bounds
    /// the response's fields. [`open`](Self::open) is this plus the checks and the engine.
    pub async fn open_raw(
        &self,
        authority: &str,
        target: &str,
        headers: &Headers,
        max_field_section: u64,
    ) -> Result<(Response, H3Stream)> {
        let mut settings = self.shared.settings.clone();
        let peer = settings
            .wait_for(Option::is_some)
            .await
            .map_err(|_| H3Error::Transport(std::io::ErrorKind::ConnectionAborted))?
            .unwrap_or_default();
        if !peer.enable_connect_protocol {
            return Err(H3Error::ExtendedConnectDisabled.into());
        }
        let pseudo = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":authority", authority),
            (":path", target),
        ];
        let block = field_section(&pseudo, headers);
        if peer
            .max_field_section_size
            .is_some_and(|max| (block.len() as u64) > max)
        {
            return Err(H3Error::FieldSectionTooLarge.into());
        }
        let (mut send, mut recv) = self.shared.conn.open_bi().await.map_err(std::io::Error::from)?;
        send.write_all(&frame::frame(frame::HEADERS, &block))
            .await
            .map_err(std::io::Error::from)?;
        let response = read_response(&mut recv, max_field_section).await?;
        Ok((response, H3Stream::new(send, recv).keeping(self.shared.clone())))
    }
}

/// Reads the final response's HEADERS (interim 1xx ones are skipped).
async fn read_response(recv: &mut quinn::RecvStream, limit: u64) -> Result<Response> {
    loop {
        let (frame_type, len) = read_frame_header(recv).await?.ok_or(H3Error::Frame)?;
        match frame_type {
            frame::HEADERS => {
                let block = read_payload(recv, len, limit).await.map_err(|e| match e {
                    H3Error::ExcessiveLoad => H3Error::FieldSectionTooLarge,
                    other => other,
                })?;
                let fields = Fields::parse(qpack::decode(&block, limit)?, &["status"])?;
                let status = fields
                    .pseudo(":status")
                    .and_then(|s| s.parse::<u16>().ok())
                    .filter(|s| (100..600).contains(s) && *s != 101)
                    .ok_or(H3Error::Message)?;
                if status < 200 {
                    continue;
                }
                let mut response = Response::new(status);
                response.headers = fields.regular;
                return Ok(response);
            }
            t if t == frame::DATA || frame::is_control_only(t) || frame::is_http2_only(t) => {
                return Err(H3Error::FrameUnexpected.into())
            }
            _ => skip(recv, len).await?,
        }
    }
}
