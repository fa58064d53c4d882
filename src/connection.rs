//! The sans-IO state machine: bytes in, events and bytes out.

use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Config;
use crate::deflate::{self, DeflateParams, Deflater, InflateError, Inflater};
use crate::error::{CapacityError, CloseCode, Error, HandshakeError, ProtocolError, Result};
use crate::extensions;
use crate::frame::{Header, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::handshake::http::{self, HeadLimits};
use crate::handshake::{
    self, Accept, ClientRequest, PendingClientHandshake, Request, Response, ValidatedRequest,
};
use crate::mask;
use crate::message::{CloseFrame, Event, Fragment, Message, MessageKind, Utf8Bytes};
use crate::outgoing::{Outgoing, SHARE_AT_LEAST};
use crate::rng::Rng;
use crate::utf8;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the upgrade request and masks every frame it sends.
    Client,
    /// Answers the upgrade request and requires masked frames.
    Server,
}

/// The connection's life cycle, as browsers' `readyState` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// The opening handshake is under way.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// This side sent a Close frame and waits for the peer's.
    Closing,
    /// Both Close frames were exchanged, the connection failed, or the transport ended.
    /// Flush what [`Connection::outgoing`] still holds; then the server closes the transport,
    /// and the client waits (briefly) for the server to do so.
    Closed,
}

/// Where the handshake or framing stands.
#[derive(Debug)]
enum Stage {
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
    /// Server: reading the request head.
    ReadingRequest { scanned: usize },
    /// Server: a complete request, not yet validated or shown to the application.
    RequestReceived(Box<Request>),
    /// Server: a valid request shown to the application, waiting for accept or reject.
    AwaitingDecision {
        validated: ValidatedRequest,
        protocols: Vec<String>,
        deflate: Option<DeflateParams>,
    },
    /// Frames flow.
    Open,
    /// Nothing more is read.
    Done,
}

/// The data frame whose payload is being received.
#[derive(Debug, Clone, Copy)]
struct FrameInProgress {
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes of this frame already consumed (the masking offset).
    consumed: usize,
    /// A single-frame message gathered in the read buffer itself: the `consumed` bytes stay
    /// there, unmasked and validated, and the whole payload is split off without a copy.
    in_place: bool,
}

/// The data message being received.
#[derive(Debug)]
struct MessageInProgress {
    kind: MessageKind,
    /// Payload bytes received so far, over all frames.
    size: u64,
    /// No chunk of it has been delivered yet (fragment events).
    first_chunk: bool,
    /// RSV1 was set: the payload is deflated.
    compressed: bool,
    /// Bytes of it already handed out as fragments.
    delivered: usize,
}

/// The negotiated permessage-deflate contexts.
#[derive(Debug)]
struct Compression {
    params: DeflateParams,
    deflater: Deflater,
    inflater: Inflater,
    threshold: usize,
}

/// A WebSocket connection, client or server, without I/O.
///
/// Feed it the bytes the transport reads with [`receive`](Self::receive), take
/// [`Event`]s from [`next_event`](Self::next_event), queue messages with the `send_*`
/// methods, and write what [`outgoing`](Self::outgoing) holds to the transport.
///
/// ```
/// use ferrosocket::{ClientRequest, Config, Connection, Event, handshake::Accept};
///
/// let mut client = Connection::client(ClientRequest::new("ws://localhost/chat")?, Config::default());
/// let mut server = Connection::server(Config::default());
///
/// // Move the client's upgrade request to the server; accept it.
/// server.receive(&client.take_outgoing());
/// let Some(Event::Request(request)) = server.next_event()? else { panic!() };
/// assert_eq!(request.path(), "/chat");
/// server.accept(Accept::new())?;
///
/// // Move the 101 back; the client opens.
/// client.receive(&server.take_outgoing());
/// assert!(matches!(client.next_event()?, Some(Event::Open(_))));
///
/// client.send_text("hello")?;
/// server.receive(&client.take_outgoing());
/// assert_eq!(server.next_event()?, Some(Event::Text("hello".into())));
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    stage: Stage,
    state: State,
    rng: Rng,
    /// Received bytes not yet consumed.
    read: BytesMut,
    /// Bytes queued for the transport.
    out: Outgoing,
    /// The payload of the pong that answers the latest ping, not yet written.
    pending_pong: Option<Bytes>,
    frame: Option<FrameInProgress>,
    message: Option<MessageInProgress>,
    /// Reassembles fragmented messages; reused from message to message.
    assembly: BytesMut,
    utf8: utf8::Validator,
    /// The kind of the fragmented message being sent, if one is.
    sending: Option<MessageKind>,
    /// Whether that message is compressed.
    sending_compressed: bool,
    compression: Option<Compression>,
    /// Compressed output of the message being sent; reused.
    scratch: Vec<u8>,
    close_sent: bool,
    eof: bool,
}

impl Connection {
    /// A client connection; the upgrade request is queued in [`outgoing`](Self::outgoing).
    pub fn client(request: ClientRequest, config: Config) -> Self {
        let mut conn = Connection::new(Role::Client, config, Stage::Done);
        let mut head = Vec::with_capacity(256);
        let offer = conn.config.permessage_deflate.as_ref().map(|d| d.offer());
        let pending = request.encode(conn.rng.nonce(), offer.as_deref(), &mut head);
        conn.out.tail().extend_from_slice(&head);
        conn.stage = Stage::AwaitingResponse { pending, scanned: 0 };
        conn
    }

    /// A server connection that reads the upgrade request from the bytes it receives.
    pub fn server(config: Config) -> Self {
        Connection::new(Role::Server, config, Stage::ReadingRequest { scanned: 0 })
    }

    /// A server connection for a request an HTTP server already parsed (Node's `noServer`
    /// mode and `handleUpgrade`), with the bytes the HTTP server read past the request head.
    ///
    /// The first [`next_event`](Self::next_event) validates the request: it yields
    /// [`Event::Request`], or an error with a 400/426 response queued.
    pub fn from_request(request: Request, leftover: &[u8], config: Config) -> Self {
        let mut conn = Connection::new(Role::Server, config, Stage::RequestReceived(Box::new(request)));
        conn.read.extend_from_slice(leftover);
        conn
    }

    fn new(role: Role, config: Config, stage: Stage) -> Self {
        Connection {
            role,
            config,
            stage,
            state: State::Connecting,
            rng: Rng::new(),
            read: BytesMut::new(),
            out: Outgoing::default(),
            pending_pong: None,
            frame: None,
            message: None,
            assembly: BytesMut::new(),
            utf8: utf8::Validator::default(),
            sending: None,
            sending_compressed: false,
            compression: None,
            scratch: Vec::new(),
            close_sent: false,
            eof: false,
        }
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the connection stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The permessage-deflate parameters, if the extension was negotiated.
    pub fn permessage_deflate(&self) -> Option<DeflateParams> {
        self.compression.as_ref().map(|c| c.params)
    }

    fn enable_compression(&mut self, params: DeflateParams) {
        let Some(config) = &self.config.permessage_deflate else {
            return;
        };
        let (deflater, inflater) = params.contexts(self.role, config);
        self.compression = Some(Compression {
            params,
            deflater,
            inflater,
            threshold: config.threshold,
        });
    }

    /// The settings this connection was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---------------------------------------------------------------------------------------
    // Receiving

    /// Hands the engine bytes read from the transport. Nothing is parsed until
    /// [`next_event`](Self::next_event); bytes arriving after the connection closed are
    /// dropped.
    pub fn receive(&mut self, bytes: &[u8]) {
        if !matches!(self.stage, Stage::Done) {
            self.read.extend_from_slice(bytes);
        }
    }

    /// Lends the engine's receive buffer, so a transport reads into it directly instead of
    /// into a buffer of its own that [`receive`](Self::receive) then copies from.
    ///
    /// `fill` gets an empty buffer with spare capacity for at least `room` bytes and appends
    /// what it reads (tokio's `read_buf` does, without zeroing the spare capacity first). It
    /// cannot touch bytes the engine holds already. Returns what `fill` returns.
    ///
    /// ```
    /// use std::io::Read;
    /// # fn demo(conn: &mut ferrosocket::Connection, mut socket: impl Read) -> std::io::Result<()> {
    /// let n = conn.receive_with(4096, |buf| {
    ///     buf.resize(4096, 0);
    ///     let n = socket.read(buf)?;
    ///     buf.truncate(n);
    ///     Ok::<_, std::io::Error>(n)
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R {
        let held = self.read.len();
        // A message gathered in place already has its room: asking for more than it misses
        // would move the whole message to a bigger buffer.
        let room = match self.frame {
            Some(frame) if frame.in_place => {
                let missing = (frame.consumed as u64 + frame.remaining).saturating_sub(held as u64);
                room.min(usize::try_from(missing).unwrap_or(usize::MAX).max(1))
            }
            _ => room,
        };
        self.read.reserve(room);
        // The spare room, split off so `fill` only sees it; joined back without a copy.
        let mut fresh = self.read.split_off(held);
        let result = fill(&mut fresh);
        if !matches!(self.stage, Stage::Done) {
            self.read.unsplit(fresh);
        }
        result
    }

    /// Room left in the receive buffer: how much a transport can read into it (see
    /// [`receive_with`](Self::receive_with)) before it must grow. Zero when the engine holds
    /// no buffer, as after the handshake: a transport that waits for input can then read into
    /// a small buffer of its own and [`receive`](Self::receive) what arrives, so an idle
    /// connection holds no receive buffer at all.
    pub fn receive_capacity(&self) -> usize {
        self.read.capacity() - self.read.len()
    }

    /// Tells the engine the transport's read side ended. Once the buffered bytes are
    /// processed, a connection that saw no Close frame reports [`Event::Close`] with 1006.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Processes buffered bytes up to the next event.
    ///
    /// `Ok(None)` means more bytes are needed (or the connection is closed). An `Err` fails
    /// the connection: a Close frame with the error's [close code](Error::close_code) (or an
    /// HTTP error response during the handshake) is queued, the state becomes
    /// [`State::Closed`], and later calls return `Ok(None)`.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        let result = match &self.stage {
            Stage::AwaitingResponse { .. } => self.poll_response(),
            Stage::ReadingRefusal { .. } => self.poll_refusal(),
            Stage::ReadingRequest { .. } => self.poll_request(),
            Stage::RequestReceived(_) => self.validate_request(),
            Stage::AwaitingDecision { .. } | Stage::Done => Ok(None),
            Stage::Open => self.poll_frames(),
        };
        result.map_err(|e| self.fail(e))
    }

    fn head_limits(&self) -> HeadLimits {
        HeadLimits {
            max_bytes: self.config.max_header_bytes,
            max_headers: self.config.max_headers,
        }
    }

    /// Splits a complete HTTP head off the read buffer.
    fn take_head(&mut self, scanned: &mut usize) -> Result<Option<http::Head>> {
        match http::find_head_end(&self.read, scanned, self.head_limits())? {
            Some(end) => {
                let head = self.read.split_to(end);
                Ok(Some(http::parse_head(&head, self.head_limits())?))
            }
            None if self.eof => Err(HandshakeError::Incomplete.into()),
            None => Ok(None),
        }
    }

    fn poll_request(&mut self) -> Result<Option<Event>> {
        let Stage::ReadingRequest { mut scanned } = self.stage else {
            return Ok(None);
        };
        let head = self.take_head(&mut scanned);
        self.stage = Stage::ReadingRequest { scanned };
        match head? {
            Some(head) => {
                self.stage = Stage::RequestReceived(Box::new(Request::from_head(head)?));
                self.validate_request()
            }
            None => Ok(None),
        }
    }

    fn validate_request(&mut self) -> Result<Option<Event>> {
        let Stage::RequestReceived(request) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return Ok(None);
        };
        let validated = handshake::validate_request(&request)?;
        let protocols = request.protocols().map(str::to_owned).collect();
        // A malformed extension header declines every extension rather than the upgrade.
        let deflate = self.config.permessage_deflate.as_ref().and_then(|config| {
            let offers = extensions::parse_all(request.headers.get_all("sec-websocket-extensions")).ok()?;
            config.negotiate(&offers)
        });
        self.stage = Stage::AwaitingDecision {
            validated,
            protocols,
            deflate,
        };
        Ok(Some(Event::Request(request)))
    }

    /// Server: accepts the pending upgrade request and queues the 101 response. The
    /// connection is open from here on; frames the client sent early are processed next.
    pub fn accept(&mut self, accept: Accept) -> Result<()> {
        let response = self.open_accepted(accept)?;
        let mut head = Vec::with_capacity(256);
        response.encode_head(&mut head);
        self.out.tail().extend_from_slice(&head);
        Ok(())
    }

    /// Server, for HTTP servers that write the response themselves (hyper, axum): validates
    /// `request`, negotiates subprotocol and extensions, and returns the open connection with
    /// the 101 [`Response`] to send. After sending it, move the upgraded I/O's bytes through
    /// the connection. A failed request gives the error; answer with
    /// [`HandshakeError::to_response`].
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

    /// Opens the connection for the pending request; returns the 101 to send.
    fn open_accepted(&mut self, accept: Accept) -> Result<Response> {
        let Stage::AwaitingDecision {
            validated,
            protocols,
            deflate,
        } = &self.stage
        else {
            return Err(Error::NoPendingRequest);
        };
        if let Some(protocol) = &accept.protocol {
            if !protocols.iter().any(|p| p == protocol) {
                return Err(HandshakeError::UnofferedProtocol(protocol.clone()).into());
            }
        }
        let deflate = *deflate;
        let extensions = deflate.map(|params| params.response());
        let response = handshake::server::switching_protocols(validated, &accept, extensions.as_deref());
        if let Some(params) = deflate {
            self.enable_compression(params);
        }
        self.open();
        Ok(response)
    }

    /// Server: refuses the pending upgrade request with `response` (e.g. a 401 with a body).
    /// The connection is closed; flush the response, then close the transport.
    pub fn reject(&mut self, response: Response) -> Result<()> {
        if !matches!(self.stage, Stage::AwaitingDecision { .. }) {
            return Err(Error::NoPendingRequest);
        }
        self.queue_refusal(&response);
        Ok(())
    }

    fn queue_refusal(&mut self, response: &Response) {
        let mut out = Vec::with_capacity(128 + response.body.len());
        response.encode_refusal(&mut out);
        self.out.tail().extend_from_slice(&out);
        self.close_for_good();
    }

    fn poll_response(&mut self) -> Result<Option<Event>> {
        let Stage::AwaitingResponse { mut scanned, .. } = self.stage else {
            return Ok(None);
        };
        let head = self.take_head(&mut scanned);
        if let Stage::AwaitingResponse { scanned: resume, .. } = &mut self.stage {
            *resume = scanned;
        }
        let Some(head) = head? else {
            return Ok(None);
        };
        let Stage::AwaitingResponse { pending, .. } = &self.stage else {
            return Ok(None);
        };
        let response = PendingClientHandshake::parse_response(head)?;
        if response.status != 101 {
            let length = response
                .headers
                .get("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            let remaining = length.min(self.config.max_header_bytes.max(64 << 10));
            self.stage = Stage::ReadingRefusal {
                response: Box::new(response),
                remaining,
            };
            return self.poll_refusal();
        }
        pending.validate(&response)?;
        let extensions = extensions::parse_all(response.headers.get_all("sec-websocket-extensions"))
            .map_err(|_| HandshakeError::InvalidHeader("Sec-WebSocket-Extensions"))?;
        match (extensions.as_slice(), &self.config.permessage_deflate) {
            ([], _) => {}
            ([extension], Some(offered)) if extension.name.eq_ignore_ascii_case(deflate::NAME) => {
                let params = offered.accept_response(extension)?;
                self.enable_compression(params);
            }
            ([extension, ..], _) => {
                return Err(HandshakeError::UnofferedExtension(extension.name.clone()).into())
            }
        }
        self.open();
        Ok(Some(Event::Open(Box::new(response))))
    }

    /// The handshake is done. The buffer that held it goes unless frames follow in it, so a
    /// connection that waits for its first message holds no receive buffer.
    fn open(&mut self) {
        self.stage = Stage::Open;
        self.state = State::Open;
        if self.read.is_empty() {
            self.read = BytesMut::new();
        }
    }

    fn poll_refusal(&mut self) -> Result<Option<Event>> {
        let Stage::ReadingRefusal { response, remaining } = &mut self.stage else {
            return Ok(None);
        };
        if self.read.len() < *remaining && !self.eof {
            return Ok(None);
        }
        let body_len = (*remaining).min(self.read.len());
        response.body = self.read.split_to(body_len).freeze();
        let response = std::mem::replace(response, Box::new(Response::new(0)));
        Err(HandshakeError::Rejected(response).into())
    }

    fn poll_frames(&mut self) -> Result<Option<Event>> {
        loop {
            let Some(frame) = self.frame else {
                match self.start_frame()? {
                    Progress::Event(event) => return Ok(Some(event)),
                    Progress::Continue => continue,
                    Progress::NeedMore => return Ok(self.end_of_input()),
                }
            };
            let fresh = self.read.len() - if frame.in_place { frame.consumed } else { 0 };
            if frame.remaining > 0 && fresh == 0 {
                return Ok(self.end_of_input());
            }
            if let Some(event) = self.continue_frame(frame)? {
                return Ok(Some(event));
            }
        }
    }

    /// With no more bytes to process: the 1006 close if the transport ended.
    fn end_of_input(&mut self) -> Option<Event> {
        if !self.eof {
            return None;
        }
        self.close_for_good();
        Some(Event::Close(CloseFrame::new(CloseCode::ABNORMAL, "")))
    }

    /// Parses the next frame header and handles what can be handled at once.
    fn start_frame(&mut self) -> Result<Progress> {
        let Some((header, header_len)) = Header::parse(&self.read)? else {
            return Ok(Progress::NeedMore);
        };
        self.check_header(&header)?;
        let payload_len = header.payload_len as usize; // checked against the limits
        let available = self.read.len() - header_len;
        if header.opcode.is_control() {
            if available < payload_len {
                return Ok(Progress::NeedMore);
            }
            self.read.advance(header_len);
            let payload = self.take_payload(payload_len, header.mask);
            return self.control_frame(header.opcode, payload).map(Progress::Event);
        }
        let kind = match header.opcode {
            OpCode::Text => Some(MessageKind::Text),
            OpCode::Binary => Some(MessageKind::Binary),
            _ => None,
        };
        self.read.advance(header_len);
        // Fast path: a whole single-frame uncompressed message is already here.
        if let (Some(kind), true, true, false) = (kind, header.fin, available >= payload_len, header.rsv1) {
            if !self.config.fragment_events {
                let payload = self.take_payload(payload_len, header.mask);
                return self.whole_message(kind, payload).map(Progress::Event);
            }
        }
        if let Some(kind) = kind {
            self.message = Some(MessageInProgress {
                kind,
                size: 0,
                first_chunk: true,
                compressed: header.rsv1,
                delivered: 0,
            });
        }
        // A single-frame message still arriving is gathered where it lands. Room for it is
        // made once, up to 1 MiB: a header alone must not make us reserve more.
        let in_place = kind.is_some() && header.fin && !header.rsv1 && !self.config.fragment_events;
        if in_place {
            self.read
                .reserve(payload_len.min(1 << 20).saturating_sub(self.read.len()));
        }
        self.frame = Some(FrameInProgress {
            fin: header.fin,
            mask: header.mask,
            remaining: header.payload_len,
            consumed: 0,
            in_place,
        });
        Ok(Progress::Continue)
    }

    /// Enforces RFC 6455 §5 and the configured limits on a header before any payload is read.
    fn check_header(&self, header: &Header) -> Result<()> {
        // RSV1 marks a compressed message, on its first frame only.
        let rsv1_allowed =
            self.compression.is_some() && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if header.rsv2 || header.rsv3 || (header.rsv1 && !rsv1_allowed) {
            return Err(ProtocolError::ReservedBits.into());
        }
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) if !self.config.accept_unmasked_frames => {
                return Err(ProtocolError::UnmaskedFrame.into())
            }
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame.into()),
            _ => {}
        }
        if header.opcode.is_control() {
            if !header.fin {
                return Err(ProtocolError::FragmentedControlFrame.into());
            }
            if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong.into());
            }
            return Ok(());
        }
        match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation.into()),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation.into())
            }
            _ => {}
        }
        if header.payload_len > self.config.max_frame_size as u64 {
            return Err(CapacityError::FrameTooLarge {
                size: header.payload_len,
                max: self.config.max_frame_size,
            }
            .into());
        }
        let size = self.message.as_ref().map_or(0, |m| m.size) + header.payload_len;
        if size > self.config.max_message_size as u64 {
            return Err(CapacityError::MessageTooLarge {
                size,
                max: self.config.max_message_size,
            }
            .into());
        }
        Ok(())
    }

    /// Splits `len` bytes off the read buffer and unmasks them in place.
    fn take_payload(&mut self, len: usize, mask: Option<[u8; 4]>) -> Bytes {
        let mut payload = self.read.split_to(len);
        if let Some(key) = mask {
            mask::apply(&mut payload, key, 0);
        }
        payload.freeze()
    }

    fn whole_message(&mut self, kind: MessageKind, payload: Bytes) -> Result<Event> {
        Ok(match kind {
            MessageKind::Text => {
                utf8::validate(&payload)?;
                Event::Text(Utf8Bytes::from_validated(payload))
            }
            MessageKind::Binary => Event::Binary(payload),
        })
    }

    /// Unmasks and validates in place what has arrived of a single-frame message; splits the
    /// payload off once complete.
    fn continue_in_place(&mut self, mut frame: FrameInProgress) -> Result<Option<Event>> {
        let total = frame.consumed + frame.remaining as usize;
        let end = self.read.len().min(total);
        if let Some(key) = frame.mask {
            mask::apply(&mut self.read[frame.consumed..end], key, frame.consumed);
        }
        let kind = self.message.as_ref().map_or(MessageKind::Binary, |m| m.kind);
        if kind == MessageKind::Text {
            // Fail fast, as with any other frame.
            self.utf8.feed(&self.read[frame.consumed..end])?;
        }
        frame.remaining -= (end - frame.consumed) as u64;
        frame.consumed = end;
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return Ok(None);
        }
        self.frame = None;
        self.message = None;
        if kind == MessageKind::Text {
            self.utf8.finish()?;
        }
        let payload = self.read.split_to(total).freeze();
        Ok(Some(self.assembled(kind, payload)))
    }

    /// Consumes what has arrived of the current data frame's payload.
    fn continue_frame(&mut self, mut frame: FrameInProgress) -> Result<Option<Event>> {
        if frame.in_place {
            return self.continue_in_place(frame);
        }
        let take = frame.remaining.min(self.read.len() as u64) as usize;
        let mut chunk = self.read.split_to(take);
        if let Some(key) = frame.mask {
            mask::apply(&mut chunk, key, frame.consumed);
        }
        frame.consumed += take;
        frame.remaining -= take as u64;
        let frame_done = frame.remaining == 0;
        let message_done = frame_done && frame.fin;
        self.frame = if frame_done { None } else { Some(frame) };

        let Some(message) = self.message.as_mut() else {
            return Ok(None); // unreachable: data frames always belong to a message
        };
        message.size += take as u64;
        let (kind, compressed, delivered) = (message.kind, message.compressed, message.delivered);

        if compressed {
            let start = self.assembly.len();
            self.inflate(&chunk, message_done, delivered)?;
            if kind == MessageKind::Text {
                self.utf8.feed(&self.assembly[start..])?;
            }
        } else if kind == MessageKind::Text {
            // Fail fast: reject invalid UTF-8 as soon as it arrives.
            self.utf8.feed(&chunk)?;
        }
        if message_done && kind == MessageKind::Text {
            self.utf8.finish()?;
        }

        if self.config.fragment_events {
            let data = if compressed { self.assembly.split() } else { chunk };
            let Some(message) = self.message.as_mut() else {
                return Ok(None);
            };
            if data.is_empty() && !message_done && !message.first_chunk {
                return Ok(None);
            }
            message.delivered += data.len();
            let fragment = Fragment {
                kind,
                data: data.freeze(),
                is_first: std::mem::replace(&mut message.first_chunk, false),
                is_last: message_done,
            };
            if message_done {
                self.message = None;
            }
            return Ok(Some(Event::Fragment(fragment)));
        }
        if !compressed {
            if self.assembly.is_empty() && message_done {
                // A message that was one frame after all: hand over the chunk itself.
                self.message = None;
                return Ok(Some(self.assembled(kind, chunk.freeze())));
            }
            self.assembly.extend_from_slice(&chunk);
        }
        if !message_done {
            return Ok(None);
        }
        self.message = None;
        let payload = self.assembly.split().freeze();
        Ok(Some(self.assembled(kind, payload)))
    }

    /// Inflates a chunk of a compressed message into the assembly buffer, enforcing the
    /// message limit on the inflated size (`delivered` bytes were already handed out).
    fn inflate(&mut self, chunk: &[u8], message_done: bool, delivered: usize) -> Result<()> {
        let Some(compression) = self.compression.as_mut() else {
            return Err(ProtocolError::ReservedBits.into());
        };
        let max = self.config.max_message_size;
        let limit = max.saturating_sub(delivered);
        let mut result = compression.inflater.inflate(chunk, &mut self.assembly, limit);
        if message_done && result.is_ok() {
            result = compression.inflater.finish(&mut self.assembly, limit);
        }
        result.map_err(|e| match e {
            InflateError::Invalid => Error::InvalidCompressedData,
            InflateError::TooLarge => CapacityError::MessageTooLarge {
                size: (delivered + self.assembly.len()) as u64,
                max,
            }
            .into(),
        })
    }

    /// A reassembled message, already validated chunk by chunk.
    fn assembled(&self, kind: MessageKind, payload: Bytes) -> Event {
        match kind {
            MessageKind::Text => Event::Text(Utf8Bytes::from_validated(payload)),
            MessageKind::Binary => Event::Binary(payload),
        }
    }

    fn control_frame(&mut self, opcode: OpCode, payload: Bytes) -> Result<Event> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && !self.close_sent {
                    self.pending_pong = Some(payload.clone());
                }
                Ok(Event::Ping(payload))
            }
            OpCode::Pong => Ok(Event::Pong(payload)),
            _ => {
                let frame = parse_close_payload(payload)?;
                if !self.close_sent {
                    // Echo the code and reason (RFC 6455 §5.5.1, as `ws` and `websockets` do);
                    // an empty Close is answered with an empty one.
                    let reply = (frame.code != CloseCode::NO_STATUS).then_some(frame.code);
                    self.queue_close(reply, frame.reason.as_str());
                }
                self.close_for_good();
                Ok(Event::Close(frame))
            }
        }
    }

    /// Fails the connection: queues the close frame or HTTP error the error calls for.
    fn fail(&mut self, error: Error) -> Error {
        match (&error, self.state) {
            (Error::Handshake(e), State::Connecting) if self.role == Role::Server => {
                self.queue_refusal(&handshake::server::failure_response(e));
            }
            _ => {
                if let (Some(code), State::Open) = (error.close_code(), self.state) {
                    let reason = error.to_string();
                    self.queue_close(Some(code), truncate_utf8(&reason, 123));
                }
                self.close_for_good();
            }
        }
        error
    }

    /// No more reading: drops buffered input and state.
    fn close_for_good(&mut self) {
        self.stage = Stage::Done;
        self.state = State::Closed;
        self.read = BytesMut::new();
        self.assembly = BytesMut::new();
        self.frame = None;
        self.message = None;
    }

    // ---------------------------------------------------------------------------------------
    // Sending

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_data(OpCode::Text, Payload::Borrowed(text.as_bytes()), true, true)
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_data(OpCode::Binary, Payload::Borrowed(data), true, true)
    }

    /// Queues a message, choosing whether it may be compressed (Node `ws`'s `compress`
    /// option). With `compress` on, it is compressed if permessage-deflate was negotiated and
    /// it reaches the configured threshold.
    ///
    /// A text message's `data` must be UTF-8; [`send_text`](Self::send_text) guarantees it.
    pub fn send_message(&mut self, kind: MessageKind, data: &[u8], compress: bool) -> Result<()> {
        let opcode = match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        };
        self.send_data(opcode, Payload::Borrowed(data), true, compress)
    }

    /// Queues one fragment of a message: the first call opens a message of `kind`, the call
    /// with `is_last` ends it. Control frames may be sent between fragments; other messages
    /// may not.
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<()> {
        let opcode = match (self.sending, kind) {
            (None, MessageKind::Text) => OpCode::Text,
            (None, MessageKind::Binary) => OpCode::Binary,
            (Some(current), _) if current == kind => OpCode::Continuation,
            (Some(_), _) => return Err(Error::FragmentOrder),
        };
        self.send_data(opcode, Payload::Borrowed(data), is_last, true)?;
        self.sending = if is_last { None } else { Some(kind) };
        Ok(())
    }

    fn send_data(&mut self, opcode: OpCode, data: Payload<'_>, fin: bool, compress: bool) -> Result<()> {
        self.check_can_send()?;
        if opcode != OpCode::Continuation && self.sending.is_some() {
            return Err(Error::FragmentOrder);
        }
        // Whether a message is compressed is decided on its first frame; a fragmented one
        // is compressed whenever it may be, as its total size is unknown.
        let compressed = match (&self.compression, opcode) {
            (_, OpCode::Continuation) => self.sending_compressed,
            (Some(c), _) => compress && (!fin || data.bytes().len() >= c.threshold),
            (None, _) => false,
        };
        if !fin {
            self.sending_compressed = compressed;
        }
        if !compressed {
            return self.write_frame(opcode, fin, false, data);
        }
        // Refuse before the compressor's state moves on; deflate output is about the
        // input's size at worst.
        self.check_write_room(data.bytes().len() + MAX_HEADER_LEN)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        if let Some(compression) = self.compression.as_mut() {
            compression.deflater.compress(data.bytes(), fin, &mut scratch);
        }
        let rsv1 = opcode != OpCode::Continuation;
        self.write_frame_unchecked(opcode, fin, rsv1, Payload::Borrowed(&scratch));
        scratch.clear();
        if scratch.capacity() <= 64 << 10 {
            self.scratch = scratch; // keep small buffers, free large ones
        }
        Ok(())
    }

    /// Queues a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues an unsolicited pong (at most 125 bytes), e.g. a unidirectional heartbeat.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        self.check_can_send()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.write_frame(opcode, true, false, Payload::Borrowed(payload))
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes). Keep
    /// reading: messages the peer sent before its Close still arrive, then [`Event::Close`].
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = code.into();
        self.check_can_send()?;
        if !code.is_allowed_on_wire() {
            return Err(Error::InvalidCloseCode(code.0));
        }
        if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(Error::ControlPayloadTooLong);
        }
        self.queue_close(Some(code), reason);
        Ok(())
    }

    /// Queues any [`Message`]; `Message::Close(None)` sends a Close frame without a code.
    ///
    /// A server queues a large uncompressed payload by reference (a clone of its [`Bytes`])
    /// instead of copying it; [`outgoing_vectored`](Self::outgoing_vectored) then writes it
    /// with its header in one call.
    pub fn send(&mut self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => {
                self.send_data(OpCode::Text, Payload::Shared(text.as_shared()), true, true)
            }
            Message::Binary(data) => self.send_data(OpCode::Binary, Payload::Shared(data), true, true),
            Message::Ping(data) => self.ping(data),
            Message::Pong(data) => self.pong(data),
            Message::Close(Some(frame)) => self.close(frame.code, frame.reason.as_str()),
            Message::Close(None) => {
                self.check_can_send()?;
                self.queue_close(None, "");
                Ok(())
            }
        }
    }

    fn check_can_send(&self) -> Result<()> {
        match self.state {
            State::Connecting => Err(Error::NotOpen),
            State::Open => Ok(()),
            State::Closing | State::Closed => Err(Error::AlreadyClosed),
        }
    }

    fn queue_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                payload[..2].copy_from_slice(&code.0.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
            None => 0,
        };
        self.flush_pending_pong();
        // A close goes out whatever the write-buffer limit says.
        self.write_frame_unchecked(OpCode::Close, true, false, Payload::Borrowed(&payload[..len]));
        self.close_sent = true;
        if self.state == State::Open {
            self.state = State::Closing;
        }
        self.pending_pong = None;
    }

    /// Fails if `len` more bytes would take the write buffer over its limit.
    fn check_write_room(&self, len: usize) -> Result<()> {
        let size = self.out.len().saturating_add(len);
        if size > self.config.max_write_buffer_size {
            return Err(CapacityError::WriteBufferFull {
                size,
                max: self.config.max_write_buffer_size,
            }
            .into());
        }
        Ok(())
    }

    /// Encodes a frame into the write buffer if it fits under the limit.
    fn write_frame(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: Payload<'_>) -> Result<()> {
        self.check_write_room(payload.bytes().len() + MAX_HEADER_LEN)?;
        self.write_frame_unchecked(opcode, fin, rsv1, payload);
        Ok(())
    }

    /// Queues a frame, masked if this is a client; a large shared payload of a server frame
    /// is queued without a copy.
    fn write_frame_unchecked(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: Payload<'_>) {
        let mask = match self.role {
            Role::Client => Some(self.rng.mask_key()),
            Role::Server => None,
        };
        let bytes = payload.bytes();
        let mut header = Header::new(opcode, bytes.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        header.mask = mask;
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        if let (None, Payload::Shared(shared)) = (mask, payload) {
            if shared.len() >= SHARE_AT_LEAST {
                self.out.tail().extend_from_slice(&head[..head_len]);
                self.out.push_shared(shared.clone());
                return;
            }
        }
        let tail = self.out.tail();
        tail.reserve(head_len + bytes.len());
        tail.extend_from_slice(&head[..head_len]);
        let start = tail.len();
        tail.extend_from_slice(bytes);
        if let Some(key) = mask {
            mask::apply(&mut tail[start..], key, 0);
        }
    }

    fn flush_pending_pong(&mut self) {
        if let Some(payload) = self.pending_pong.take() {
            if !self.close_sent {
                self.write_frame_unchecked(OpCode::Pong, true, false, Payload::Borrowed(&payload));
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Outgoing bytes

    /// The next contiguous stretch of bytes waiting to be written to the transport (empty
    /// when nothing waits). After writing some of them, call
    /// [`advance_outgoing`](Self::advance_outgoing), and repeat until it is empty.
    ///
    /// Usually everything waiting is one stretch; a large payload queued by reference (see
    /// [`send`](Self::send)) is a stretch of its own.
    pub fn outgoing(&mut self) -> &[u8] {
        self.flush_pending_pong();
        self.out.front()
    }

    /// Fills `slices` with the stretches of bytes waiting to be written, in order, for one
    /// vectored write (`write_vectored`); returns how many it filled. Then call
    /// [`advance_outgoing`](Self::advance_outgoing) with the count written.
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// # fn demo(conn: &mut ferrosocket::Connection, socket: &mut impl Write) -> std::io::Result<()> {
    /// while conn.wants_write() {
    ///     let mut slices = [IoSlice::new(&[]); 16];
    ///     let filled = conn.outgoing_vectored(&mut slices);
    ///     let written = socket.write_vectored(&slices[..filled])?;
    ///     conn.advance_outgoing(written);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
        self.flush_pending_pong();
        self.out.io_slices(slices)
    }

    /// Marks `n` bytes of [`outgoing`](Self::outgoing) as written.
    pub fn advance_outgoing(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Takes all waiting outgoing bytes at once.
    pub fn take_outgoing(&mut self) -> Bytes {
        self.flush_pending_pong();
        self.out.take()
    }

    /// Bytes queued but not yet taken by the transport (Node's `bufferedAmount`), the
    /// signal for backpressure.
    pub fn buffered_amount(&self) -> usize {
        self.out.len() + self.pending_pong.as_ref().map_or(0, |p| p.len() + 2)
    }

    /// Whether anything waits to be written.
    pub fn wants_write(&self) -> bool {
        self.buffered_amount() > 0
    }

    /// Ends the connection at once, without a closing handshake (Node's `terminate()`):
    /// everything queued is dropped and the state becomes [`State::Closed`]. Close the
    /// transport next.
    pub fn terminate(&mut self) {
        self.close_for_good();
        self.out.clear();
        self.pending_pong = None;
        self.close_sent = true;
    }
}

/// A payload to send: borrowed, or shared by the application, which lets a server queue a
/// large one without copying it.
#[derive(Clone, Copy)]
enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl Payload<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Payload::Borrowed(bytes) => bytes,
            Payload::Shared(bytes) => bytes,
        }
    }
}

/// What starting a frame led to.
enum Progress {
    Event(Event),
    Continue,
    NeedMore,
}

/// Decodes and checks a Close frame's payload (RFC 6455 §5.5.1, §7.4).
fn parse_close_payload(payload: Bytes) -> Result<CloseFrame> {
    match payload.len() {
        0 => Ok(CloseFrame::new(CloseCode::NO_STATUS, "")),
        1 => Err(ProtocolError::InvalidClosePayload.into()),
        _ => {
            let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
            if !code.is_allowed_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0).into());
            }
            let reason = Utf8Bytes::try_from_bytes(payload.slice(2..))?;
            Ok(CloseFrame { code, reason })
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
