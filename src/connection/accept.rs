//! The server's decision on an upgrade request: accept (with the 101, or the open
//! connection for an HTTP server that answers itself, or over HTTP/2) or refuse.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::opening::{self, Decision, Opening};
use super::Connection;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::handshake::{Accept, Request, Response};
use crate::message::Event;
use crate::role::Role;

impl Connection {
    /// Server: accepts the pending upgrade request and queues the 101 response. The
    /// connection is open from here on; frames the client sent early are processed next.
    pub fn accept(&mut self, accept: Accept) -> Result<()> {
        let response = self.open_accepted(accept)?;
        let mut head = Vec::with_capacity(256);
        response.encode_head(&mut head);
        self.sending.encoder.queue_raw(&head);
        Ok(())
    }

    /// Server: refuses the pending upgrade request with `response` (e.g. a 401 with a body).
    /// The connection is closed; flush the response, then close the transport.
    pub fn reject(&mut self, response: Response) -> Result<()> {
        self.pending_decision()?;
        response.check_outgoing()?;
        self.queue_refusal(&response);
        self.finish();
        Ok(())
    }

    /// Server: carries out the application's decision on the pending request, as the
    /// adapters' `accept_with` callbacks return it: accepts, or refuses and returns
    /// [`HandshakeError::Rejected`](crate::HandshakeError::Rejected) with the response.
    pub fn decide(&mut self, decision: core::result::Result<Accept, Response>) -> Result<()> {
        match decision {
            Ok(accept) => self.accept(accept),
            Err(response) => {
                self.reject(response.clone())?;
                Err(crate::HandshakeError::Rejected(Box::new(response)).into())
            }
        }
    }

    /// Server over HTTP/2 (RFC 8441): the HTTP server received an extended CONNECT with
    /// `:protocol websocket` and hands over its head as a [`Request`] (method `CONNECT`, the
    /// `sec-websocket-*` fields). Negotiates as over HTTP/1.1 — the subprotocol `accept`
    /// names must have been offered, permessage-deflate per `config` — and returns the open
    /// connection and the 200 response to send on the stream.
    ///
    /// ```
    /// use ferrosocket::{Accept, Config, Connection, Request, State};
    /// let request = Request::new("CONNECT", "/chat")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-protocol", "chat");
    /// let (conn, response) =
    ///     Connection::accept_extended_connect(&request, Accept::new().protocol("chat"), Config::default())?;
    /// assert_eq!((response.status, response.protocol()), (200, Some("chat")));
    /// assert_eq!(conn.state(), State::Open);
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    pub fn accept_extended_connect(
        request: &Request,
        accept: Accept,
        config: Config,
    ) -> Result<(Connection, Response)> {
        let (response, deflate) = opening::extended_connect(request, &accept, &config)?;
        // A server masks nothing: it needs no randomness, so this works without std too.
        Ok((
            Connection::open_with_rng(Role::Server, config, deflate, None),
            response,
        ))
    }

    /// Server, for HTTP servers that write the response themselves (hyper, axum): validates
    /// `request`, negotiates subprotocol and extensions, and returns the open connection with
    /// the 101 [`Response`] to send. After sending it, move the upgraded I/O's bytes through
    /// the connection. A failed request gives the error; answer with
    /// [`HandshakeError::to_response`](crate::HandshakeError::to_response).
    pub fn accept_upgrade(
        request: Request,
        accept: Accept,
        config: Config,
    ) -> Result<(Connection, Response)> {
        let mut conn = Connection::from_request(request, &[], config);
        match conn.next_event()? {
            Some(Event::Request(_)) => {}
            _ => return Err(Error::NoPendingRequest),
        }
        let response = conn.open_accepted(accept)?;
        Ok((conn, response))
    }

    fn pending_decision(&self) -> Result<&Decision> {
        match self.opening.as_deref() {
            Some(Opening::AwaitingDecision(decision)) => Ok(decision),
            _ => Err(Error::NoPendingRequest),
        }
    }

    /// Opens the connection for the pending request; returns the 101 to send.
    fn open_accepted(&mut self, accept: Accept) -> Result<Response> {
        let (response, deflate) = self.pending_decision()?.accept(&accept)?;
        self.become_open(deflate);
        Ok(response)
    }

    pub(super) fn queue_refusal(&mut self, response: &Response) {
        let mut out = Vec::with_capacity(128 + response.body.len());
        response.encode_refusal(&mut out);
        self.sending.encoder.queue_raw(&out);
    }
}
