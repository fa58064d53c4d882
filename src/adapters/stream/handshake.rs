//! The opening handshake over an async transport: the client's, the server's (with the
//! application's decision), and the entry points each runtime module generates from them.

use std::future::{poll_fn, Future};

use super::transport::AsyncTransport;
use super::websocket::WebSocketStream;
use crate::{Accept, ClientRequest, Connection, Event, HandshakeError, Request, Response, Result};

/// Client handshake over `io`: sends the request, waits for the 101.
pub async fn client<T: AsyncTransport>(
    io: T,
    request: ClientRequest,
    config: crate::Config,
) -> Result<(WebSocketStream<T>, Response)> {
    let mut ws = WebSocketStream::from_connection(io, Connection::client(request, config));
    ws.flush().await?;
    match ws.next_event().await {
        Some(Ok(Event::Open(response))) => Ok((ws, *response)),
        Some(Err(e)) => Err(e),
        _ => Err(HandshakeError::Incomplete.into()),
    }
}

/// Server handshake over a stream whose engine reads (or was given) the request: `decide`
/// accepts or refuses it. A refusal is written out and returned as
/// [`HandshakeError::Rejected`].
///
/// It takes the stream whole, rather than a transport and an engine to combine, so the
/// future holds one copy of them while it waits: that future is most of what an idle
/// connection's task weighs.
#[allow(clippy::manual_async_fn)] // on purpose: see the comment in the body
pub fn server<T, F>(mut ws: WebSocketStream<T>, decide: F) -> impl Future<Output = Result<WebSocketStream<T>>>
where
    T: AsyncTransport,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    // An async block that uses the captured stream in place: an `async fn` would keep its
    // argument and a working copy, doubling what the task weighs while it waits.
    async move {
        ws.answer_request(decide).await?;
        Ok(ws)
    }
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Reads the upgrade request and answers it as `decide` says.
    async fn answer_request<F>(&mut self, decide: F) -> Result<()>
    where
        F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
    {
        let request = self.read_request().await?;
        self.answer(decide(&request)).await
    }

    /// Reads the upgrade request (a server whose decision takes a while, e.g. an async
    /// lookup, answers later with [`answer`](Self::answer)).
    pub(crate) async fn read_request(&mut self) -> Result<Box<Request>> {
        match self.next_event().await {
            Some(Ok(Event::Request(request))) => Ok(request),
            Some(Err(e)) => Err(e),
            _ => Err(HandshakeError::Incomplete.into()),
        }
    }

    /// Answers the pending request; a refusal is written out, the transport shut down,
    /// and the refusal returned as [`HandshakeError::Rejected`].
    pub(crate) async fn answer(&mut self, decision: std::result::Result<Accept, Response>) -> Result<()> {
        let decided = self.conn.decide(decision);
        self.flush().await?;
        if decided.is_err() {
            let _ = poll_fn(|cx| self.io.poll_shutdown_transport(cx)).await;
        }
        decided
    }
}

/// Generates a runtime module's handshake entry points over its glue type, so the tokio and
/// futures-io modules share one definition: `client`, `from_connection`, `accept`,
/// `accept_with` and `accept_request`.
macro_rules! handshake_entry_points {
    ($glue:ident, $read:path, $write:path) => {
        /// Performs the client handshake over an existing transport (TCP, TLS, a proxy tunnel).
        pub async fn client<S>(
            stream: S,
            request: $crate::ClientRequest,
            config: $crate::Config,
        ) -> $crate::Result<(WebSocketStream<S>, $crate::Response)>
        where
            S: $read + $write + Unpin,
        {
            $crate::stream::client($glue::new(stream), request, config).await
        }

        /// Wraps a transport whose handshake an HTTP server already did (see
        /// [`Connection::accept_upgrade`](crate::Connection::accept_upgrade)), e.g. a hyper
        /// upgrade wrapped in `hyper_util::rt::TokioIo`.
        pub fn from_connection<S: $read + $write + Unpin>(
            stream: S,
            conn: $crate::Connection,
        ) -> WebSocketStream<S> {
            $crate::stream::WebSocketStream::from_connection($glue::new(stream), conn)
        }

        // The server entry points return the handshake future itself rather than wrapping
        // it in an `async fn` of their own: it stays as small as it can be (see
        // `stream::server`).

        /// Performs the server handshake, accepting any valid request.
        pub fn accept<S: $read + $write + Unpin>(
            stream: S,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>> {
            accept_with(stream, $crate::Config::default(), |_| {
                Ok($crate::Accept::new())
            })
        }

        /// Performs the server handshake; `decide` accepts (subprotocol, headers) or refuses
        /// with any response. Wrap it in the runtime's timeout to bound the handshake.
        pub fn accept_with<S, F>(
            stream: S,
            config: $crate::Config,
            decide: F,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>>
        where
            S: $read + $write + Unpin,
            F: FnOnce(&$crate::Request) -> std::result::Result<$crate::Accept, $crate::Response>,
        {
            let conn = $crate::Connection::server(config);
            $crate::stream::server(from_connection(stream, conn), decide)
        }

        /// Like [`accept_with`] for a request an HTTP server already parsed, with the bytes
        /// it read past the head (Node's `noServer` + `handleUpgrade`).
        pub fn accept_request<S, F>(
            stream: S,
            request: $crate::Request,
            leftover: &[u8],
            config: $crate::Config,
            decide: F,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>>
        where
            S: $read + $write + Unpin,
            F: FnOnce(&$crate::Request) -> std::result::Result<$crate::Accept, $crate::Response>,
        {
            let conn = $crate::Connection::from_request(request, leftover, config);
            $crate::stream::server(from_connection(stream, conn), decide)
        }
    };
}

pub(crate) use handshake_entry_points;
