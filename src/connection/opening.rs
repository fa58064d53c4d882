//! The opening handshake as a value: each [`Opening`] stage is consumed by its step,
//! which returns the next stage or the open connection's parameters. A step that cannot
//! happen in a stage is not written: every stage names what it waits for.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::BytesMut;

use crate::config::Config;
use crate::deflate::{self, DeflateParams};
use crate::error::Result;
use crate::extensions;
use crate::handshake::http::{self, HeadLimits};
use crate::handshake::{
    self, Accept, ClientRequest, HandshakeError, PendingClientHandshake, Request, Response, ValidatedRequest,
};
use crate::message::Event;

/// Where the opening handshake stands.
#[derive(Debug)]
pub(super) enum Opening {
    /// Client: request queued, reading the response head (`scanned` bytes searched so far).
    AwaitingResponse {
        pending: PendingClientHandshake,
        scanned: usize,
    },
    /// Client: the server refused; reading the body of its response.
    ReadingRefusal {
        response: Box<Response>,
        remaining: usize,
    },
    /// Client: the request could not be sent (an unsafe field); the first step reports it.
    Unsendable(HandshakeError),
    /// Server: reading the request head.
    ReadingRequest { scanned: usize },
    /// Server: a complete request, not yet validated or shown to the application.
    RequestReceived(Box<Request>),
    /// Server: a valid request shown to the application, waiting for accept or reject.
    AwaitingDecision(Box<Decision>),
}

/// What a server needs to answer a valid request.
#[derive(Debug)]
pub(super) struct Decision {
    validated: ValidatedRequest,
    /// The subprotocols the client offered.
    protocols: Vec<String>,
    /// The permessage-deflate parameters to accept with, if an offer was acceptable.
    deflate: Option<DeflateParams>,
}

/// Where a step led.
pub(super) enum Step {
    /// Still in the handshake; the event, if any, is for the application.
    Stay(Opening, Option<Event>),
    /// The client is open with these parameters.
    Open(Option<DeflateParams>, Event),
}

/// The input a step reads from.
pub(super) struct Input<'a> {
    pub(super) bytes: &'a mut BytesMut,
    pub(super) eof: bool,
    pub(super) config: &'a Config,
}

impl Input<'_> {
    fn limits(&self) -> HeadLimits {
        HeadLimits {
            max_bytes: self.config.max_header_bytes,
            max_headers: self.config.max_headers,
        }
    }

    /// Splits a complete HTTP head off the input.
    fn take_head(&mut self, scanned: &mut usize) -> Result<Option<http::Head>> {
        match http::find_head_end(self.bytes, scanned, self.limits())? {
            Some(end) => {
                let head = self.bytes.split_to(end);
                Ok(Some(http::parse_head(&head, self.limits())?))
            }
            None if self.eof => Err(HandshakeError::Incomplete.into()),
            None => Ok(None),
        }
    }
}

impl Opening {
    /// Advances as far as `input` allows.
    pub(super) fn step(self, mut input: Input<'_>) -> Result<Step> {
        match self {
            Opening::ReadingRequest { mut scanned } => match input.take_head(&mut scanned)? {
                Some(head) => {
                    let request = Box::new(Request::from_head(head)?);
                    Opening::RequestReceived(request).step(input)
                }
                None => Ok(Step::Stay(Opening::ReadingRequest { scanned }, None)),
            },
            Opening::RequestReceived(request) => {
                let decision = Decision::new(&request, input.config)?;
                Ok(Step::Stay(
                    Opening::AwaitingDecision(Box::new(decision)),
                    Some(Event::Request(request)),
                ))
            }
            Opening::AwaitingDecision(_) => Ok(Step::Stay(self, None)),
            Opening::Unsendable(error) => Err(error.into()),
            Opening::AwaitingResponse { pending, mut scanned } => match input.take_head(&mut scanned)? {
                Some(head) => response_received(pending, head, input),
                None => Ok(Step::Stay(Opening::AwaitingResponse { pending, scanned }, None)),
            },
            Opening::ReadingRefusal {
                mut response,
                remaining,
            } => {
                if input.bytes.len() < remaining && !input.eof {
                    return Ok(Step::Stay(Opening::ReadingRefusal { response, remaining }, None));
                }
                let body_len = remaining.min(input.bytes.len());
                response.body = input.bytes.split_to(body_len).freeze();
                Err(HandshakeError::Rejected(response).into())
            }
        }
    }
}

impl Decision {
    /// Validates a request and negotiates what can be negotiated before the application
    /// decides.
    fn new(request: &Request, config: &Config) -> Result<Self> {
        let validated = handshake::validate_request(request)?;
        Ok(Decision {
            validated,
            protocols: request.protocols().map(str::to_owned).collect(),
            deflate: negotiate_deflate(request, config),
        })
    }

    /// The 101 response for `accept`, and the compression it agrees to. A subprotocol the
    /// client did not offer is refused, and the request stays pending.
    pub(super) fn accept(&self, accept: &Accept) -> Result<(Response, Option<DeflateParams>)> {
        handshake::server::check_accept(accept, self.protocols.iter().map(String::as_str))?;
        let extensions = self.deflate.map(|params| params.response());
        let response = handshake::server::accepted(Some(&self.validated), accept, extensions.as_deref());
        Ok((response, self.deflate))
    }
}

/// The permessage-deflate parameters agreed to from the request's offers, if configured. A
/// malformed extension header declines every extension rather than the upgrade.
fn negotiate_deflate(request: &Request, config: &Config) -> Option<DeflateParams> {
    let deflate = config.permessage_deflate.as_ref()?;
    let offers = extensions::parse_all(request.headers.get_all("sec-websocket-extensions")).ok()?;
    deflate.negotiate(&offers)
}

/// RFC 8441: an HTTP/2 (or HTTP/3) extended CONNECT with `:protocol websocket`, which the
/// HTTP server checked. Subprotocol and permessage-deflate are negotiated as over HTTP/1.1;
/// there is no key and no accept hash, and the answer is a 200.
pub(super) fn extended_connect(
    request: &Request,
    accept: &Accept,
    config: &Config,
) -> Result<(Response, Option<DeflateParams>)> {
    handshake::server::validate_extended_connect(request)?;
    handshake::server::check_accept(accept, request.protocols())?;
    let deflate = negotiate_deflate(request, config);
    let extensions = deflate.map(|params| params.response());
    Ok((
        handshake::server::accepted(None, accept, extensions.as_deref()),
        deflate,
    ))
}

/// Client: a response head arrived. A 101 is checked and opens the connection; any other
/// status is a refusal whose body is read next.
fn response_received(pending: PendingClientHandshake, head: http::Head, input: Input<'_>) -> Result<Step> {
    let response = PendingClientHandshake::parse_response(head)?;
    if response.status != 101 {
        let length = response
            .headers
            .get("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let remaining = length.min(input.config.max_header_bytes.max(64 << 10));
        let refusal = Opening::ReadingRefusal {
            response: Box::new(response),
            remaining,
        };
        return refusal.step(input);
    }
    pending.validate(&response)?;
    let deflate = accepted_extensions(&response, input.config)?;
    Ok(Step::Open(deflate, Event::Open(Box::new(response))))
}

/// Client: the permessage-deflate parameters a server's answer agrees to; an extension we
/// did not offer (per `config`) fails the handshake.
pub(super) fn accepted_extensions(response: &Response, config: &Config) -> Result<Option<DeflateParams>> {
    let extensions = extensions::parse_all(response.headers.get_all("sec-websocket-extensions"))
        .map_err(|_| HandshakeError::InvalidHeader("Sec-WebSocket-Extensions"))?;
    match (extensions.as_slice(), &config.permessage_deflate) {
        ([], _) => Ok(None),
        ([extension], Some(offered)) if extension.name.eq_ignore_ascii_case(deflate::NAME) => {
            Ok(Some(offered.accept_response(extension)?))
        }
        ([extension, ..], _) => Err(HandshakeError::UnofferedExtension(extension.name.clone()).into()),
    }
}

/// Client, RFC 8441: the answer to an extended CONNECT. A 200 with an offered subprotocol
/// (if any) and extensions as offered opens the connection; any other status is a refusal.
pub(super) fn extended_connect_answered(
    request: &ClientRequest,
    response: &Response,
    config: &Config,
) -> Result<Option<DeflateParams>> {
    if !(200..300).contains(&response.status) {
        return Err(HandshakeError::Rejected(Box::new(response.clone())).into());
    }
    handshake::check_chosen_protocol(request.protocols(), response)?;
    accepted_extensions(response, config)
}
