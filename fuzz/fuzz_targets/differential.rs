//! Differential fuzzing against tungstenite: the same client-to-server frame bytes go
//! through ferrosocket's server engine and tungstenite's, with the same limits. Both must
//! deliver the same data messages and end the same way — still reading, the peer's Close,
//! or a failure with the same close code — unless the input falls under one of the
//! explained divergences listed in `divergence` (choices, not bugs), which are skipped.
#![no_main]

use std::io::{self, Cursor, Read, Write};

use ferrosocket::{Config, Connection, Event, Role};
use libfuzzer_sys::fuzz_target;
use tungstenite::protocol::{Message, Role as TungsteniteRole, WebSocket, WebSocketConfig};

const LIMIT: usize = 4096;

#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// All input consumed; more is awaited.
    Reading,
    /// The peer's Close arrived.
    PeerClosed,
    /// The connection failed with this close code (0: an error without one).
    Failed(u16),
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    messages: Vec<(bool, Vec<u8>)>,
    ending: Ending,
}

fn ferrosocket(data: &[u8], limit: Option<usize>) -> Outcome {
    let config = Config::default().max_message_size(limit.unwrap_or(usize::MAX));
    let mut server = Connection::open(Role::Server, config, None);
    server.receive(data);
    let mut messages = Vec::new();
    let ending = loop {
        match server.next_event() {
            Ok(Some(Event::Text(text))) => messages.push((true, text.as_bytes().to_vec())),
            Ok(Some(Event::Binary(data))) => messages.push((false, data.to_vec())),
            Ok(Some(Event::Close(_))) => break Ending::PeerClosed,
            Ok(Some(_)) => {}
            Ok(None) => break Ending::Reading,
            Err(error) => break Ending::Failed(error.close_code().map_or(0, |code| code.0)),
        }
    };
    Outcome { messages, ending }
}

/// An in-memory transport: reads `input` then would block; writes are kept.
struct Pipe {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.input.read(buf)? {
            0 if !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn tungstenite(data: &[u8], limit: usize) -> Outcome {
    use tungstenite::error::Error;
    let pipe = Pipe {
        input: Cursor::new(data.to_vec()),
        output: Vec::new(),
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let mut ws = WebSocket::from_raw_socket(pipe, TungsteniteRole::Server, Some(config));
    let mut messages = Vec::new();
    let ending = loop {
        match ws.read() {
            Ok(Message::Text(text)) => messages.push((true, text.as_bytes().to_vec())),
            Ok(Message::Binary(data)) => messages.push((false, data.to_vec())),
            Ok(Message::Close(_)) => break Ending::PeerClosed,
            Ok(_) => {}
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break Ending::Reading,
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => break Ending::PeerClosed,
            Err(Error::Protocol(_)) => break Ending::Failed(1002),
            Err(Error::Utf8(_)) => break Ending::Failed(1007),
            Err(Error::Capacity(_)) => break Ending::Failed(1009),
            Err(_) => break Ending::Failed(0),
        }
    };
    // tungstenite answers some faults in a Close (an invalid close code: 1002) while handing
    // the peer's Close to the application: what it sent, unless it is the echo of the
    // peer's own code, is what counts. Its reply goes out with the next flush.
    let _ = ws.flush();
    // The code as the peer sent it (tungstenite may hand over another in its place).
    let peer_code = first_close_code(data);
    let ending = match (ending, first_close_code(&ws.get_ref().output)) {
        (Ending::PeerClosed, Some(code @ (1002 | 1007 | 1009))) if Some(code) != peer_code => {
            Ending::Failed(code)
        }
        (ending, _) => ending,
    };
    Outcome { messages, ending }
}

/// Where the two differ by design, not by bug: which divergence, or `None`.
///
/// 1. **Failing before the frame is complete.** ferrosocket judges each header byte as it
///    arrives (a reserved opcode, RSV bits, an unmasked frame, an oversized control frame,
///    a length over the limit fail at once); tungstenite reads the whole header, and for
///    most checks the whole frame, first. Checked, not assumed: with the rest of any frame
///    within the limit supplied (zeros), tungstenite must fail with the same code.
/// 2. **Two faults in one header, checked in another order.** A frame over the size limit
///    that is also out of place (a continuation with no message, RSV bits, say): one
///    reports the protocol error (1002), the other the size (1009). Checked: without its
///    limit ferrosocket still fails with 1002 (or waits for the payload the fault is in),
///    so the frame does have both faults. (tungstenite cannot be run without a limit: it
///    reserves the declared length.)
/// 3. **A Close with two faults.** An invalid close code and a reason that is not UTF-8:
///    ferrosocket reports the code (1002), tungstenite the reason (1007). Checked: that
///    Close's code alone, with an empty reason, fails both with 1002.
/// 4. **Close codes 1012–1014** (IANA-registered: service restart, try again later, bad
///    gateway) are valid here, as in Node `ws`; tungstenite refuses them with 1002.
///    Checked: the peer's Close carries one of them.
fn divergence(data: &[u8], ours: &Outcome, theirs: &Outcome) -> Option<&'static str> {
    if ours.messages != theirs.messages {
        return None;
    }
    match (&ours.ending, &theirs.ending) {
        (Ending::Failed(code), Ending::Reading) => {
            let padded = [data, &[0; LIMIT + 14]].concat();
            (tungstenite(&padded, LIMIT).ending == Ending::Failed(*code))
                .then_some("failing before the frame is complete")
        }
        (Ending::Failed(1002), Ending::Failed(1009)) | (Ending::Failed(1009), Ending::Failed(1002)) => {
            let unlimited = ferrosocket(data, None);
            let both_faults = unlimited.messages == ours.messages
                && matches!(unlimited.ending, Ending::Failed(1002) | Ending::Reading);
            both_faults.then_some("two faults in one header, checked in another order")
        }
        (Ending::PeerClosed, Ending::Failed(1002)) => {
            let code = first_close_code(data)?;
            (1012..=1014).contains(&code).then_some("close codes 1012-1014")
        }
        (Ending::Failed(1002), Ending::Failed(1007)) => {
            let payload = first_close_payload(data)?;
            let code_only = [&[0x88, 0x82, 0, 0, 0, 0][..], payload.get(..2)?].concat();
            let fails = |outcome: Outcome| outcome.ending == Ending::Failed(1002);
            let both = std::str::from_utf8(&payload[2..]).is_err()
                && fails(ferrosocket(&code_only, Some(LIMIT)))
                && fails(tungstenite(&code_only, LIMIT));
            both.then_some("a Close with two faults")
        }
        _ => None,
    }
}

/// The code of the first Close frame among `data`'s frames (masked or not), if any.
fn first_close_code(data: &[u8]) -> Option<u16> {
    let payload = first_close_payload(data)?;
    Some(u16::from_be_bytes(payload.get(..2)?.try_into().ok()?))
}

/// The unmasked payload of the first Close frame among `data`'s frames (masked or not), if
/// complete.
fn first_close_payload(mut data: &[u8]) -> Option<Vec<u8>> {
    while data.len() >= 2 {
        let (opcode, masked, short) = (data[0] & 0x0F, data[1] & 0x80 != 0, usize::from(data[1] & 0x7F));
        let (mut start, length): (usize, usize) = match short {
            126 => (4, usize::from(u16::from_be_bytes([*data.get(2)?, *data.get(3)?]))),
            127 => (
                10,
                usize::try_from(u64::from_be_bytes(data.get(2..10)?.try_into().ok()?)).ok()?,
            ),
            n => (2, n),
        };
        let key: [u8; 4] = if masked {
            let key = data.get(start..start + 4)?.try_into().ok()?;
            start += 4;
            key
        } else {
            [0; 4]
        };
        let payload = data.get(start..start.checked_add(length)?)?;
        if opcode == 0x8 {
            return Some(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect());
        }
        data = &data[start + length..];
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let ours = ferrosocket(data, Some(LIMIT));
    let theirs = tungstenite(data, LIMIT);
    if ours != theirs && divergence(data, &ours, &theirs).is_none() {
        panic!("ferrosocket {ours:?}\ntungstenite {theirs:?}");
    }
});
