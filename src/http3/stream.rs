//! One WebSocket's QUIC stream as a byte stream: reads take the payload of DATA frames and
//! skip the frames HTTP/3 lets a peer interleave; writes wrap bytes in DATA frames; the end
//! of the stream (FIN) is the end of the connection, a reset an abnormal one.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use quinn::{ReadError, RecvStream, SendStream, VarInt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::frame::{self, get_varint, varint_len};
use super::H3Error;

/// A request stream after the extended CONNECT was answered: the bytes of the WebSocket
/// carried in HTTP/3 DATA frames (RFC 9220 §3), as tokio's `AsyncRead + AsyncWrite`.
///
/// Reading ends (`Ok(0)`) when the peer finishes the stream, which RFC 9220 maps to a TCP
/// close; a reset arrives as an [`io::ErrorKind::ConnectionReset`] error wrapping
/// [`H3Error::Reset`], which the WebSocket reports as an abnormal closure (1006).
#[derive(Debug)]
pub struct H3Stream {
    send: SendStream,
    recv: RecvStream,
    reading: Reading,
    writing: Writing,
    /// What must live as long as the stream: a client's connection and endpoint.
    _keep: Option<Arc<dyn fmt::Debug + Send + Sync>>,
}

/// Where the reader is in the frames.
#[derive(Debug, Default)]
struct Reading {
    /// The start of a frame header.
    header: [u8; 16],
    header_len: usize,
    /// Payload bytes left of the DATA frame being read.
    data_left: u64,
    /// Payload bytes left of a frame being skipped (unknown types, trailers).
    skip_left: u64,
    /// A read failed: the stream is over, later reads see its end (as TCP's do after a
    /// reset), so a reader does not meet the same error again and again.
    failed: bool,
}

/// Where the writer is in the DATA frame it began, and in finishing the stream.
#[derive(Debug, Default)]
struct Writing {
    /// After FIN: until the peer acknowledged everything (or stopped reading).
    finishing: Option<Acknowledged>,
    /// The peer has everything, FIN included.
    finished: bool,
    /// The frame header, and how much of it is written.
    header: Vec<u8>,
    header_written: usize,
    /// Payload bytes the header promised and not yet written.
    frame_left: usize,
}

/// The peer's acknowledgement of all we sent (quinn's `SendStream::stopped`).
struct Acknowledged(Pin<Box<dyn Future<Output = Result<Option<VarInt>, quinn::StoppedError>> + Send + Sync>>);

impl fmt::Debug for Acknowledged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Acknowledged")
    }
}

/// The largest DATA frame one write makes: bigger writes become several frames.
const MAX_DATA_FRAME: usize = 1 << 20;

impl H3Stream {
    pub(crate) fn new(send: SendStream, recv: RecvStream) -> Self {
        H3Stream {
            send,
            recv,
            reading: Reading::default(),
            writing: Writing::default(),
            _keep: None,
        }
    }

    /// The stream, keeping `owner` alive as long as it lives.
    pub(crate) fn keeping(mut self, owner: Arc<dyn fmt::Debug + Send + Sync>) -> Self {
        self._keep = Some(owner);
        self
    }

    /// Resets both directions with HTTP/3 error `code` (the peer's WebSocket sees an
    /// abnormal closure): for when ending cleanly is not wanted, such as a server shedding
    /// load. Codes are HTTP/3's, such as 0x10c (`H3_REQUEST_CANCELLED`).
    pub fn reset(&mut self, code: u64) {
        let code = VarInt::from_u64(code).unwrap_or(VarInt::from_u32(0x102));
        let _ = self.send.reset(code);
        let _ = self.recv.stop(code);
    }

    /// The QUIC stream's id.
    pub fn id(&self) -> quinn::StreamId {
        self.send.id()
    }
}

fn read_error(error: ReadError) -> io::Error {
    match error {
        ReadError::Reset(code) => {
            io::Error::new(io::ErrorKind::ConnectionReset, H3Error::Reset(code.into_inner()))
        }
        other => io::Error::from(other),
    }
}

fn protocol_error(error: H3Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl AsyncRead for H3Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reading.failed {
            return Poll::Ready(Ok(()));
        }
        match this.poll_read_frames(cx, buf) {
            Poll::Ready(Err(error)) => {
                this.reading.failed = true;
                Poll::Ready(Err(error))
            }
            other => other,
        }
    }
}

impl H3Stream {
    fn poll_read_frames(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self;
        let state = &mut this.reading;
        loop {
            if state.data_left > 0 {
                // The payload goes straight into the caller's buffer.
                let room = buf
                    .remaining()
                    .min(usize::try_from(state.data_left).unwrap_or(usize::MAX));
                let target = buf.initialize_unfilled_to(room);
                let n = ready!(this.recv.poll_read(cx, target)).map_err(read_error)?;
                if n == 0 {
                    return Poll::Ready(Err(protocol_error(H3Error::Frame)));
                }
                buf.advance(n);
                state.data_left -= n as u64;
                return Poll::Ready(Ok(()));
            }
            if state.skip_left > 0 {
                let mut scratch = [0u8; 512];
                let room = scratch
                    .len()
                    .min(usize::try_from(state.skip_left).unwrap_or(usize::MAX));
                let n = ready!(this.recv.poll_read(cx, &mut scratch[..room])).map_err(read_error)?;
                if n == 0 {
                    return Poll::Ready(Err(protocol_error(H3Error::Frame)));
                }
                state.skip_left -= n as u64;
                continue;
            }
            // A frame header, read only as far as it goes so no payload is taken with it.
            let need = header_bytes_needed(&state.header[..state.header_len]);
            if need > 0 {
                let end = state.header_len + need;
                let n = ready!(this.recv.poll_read(cx, &mut state.header[state.header_len..end]))
                    .map_err(read_error)?;
                if n == 0 {
                    if state.header_len == 0 {
                        return Poll::Ready(Ok(())); // FIN between frames: the end.
                    }
                    return Poll::Ready(Err(protocol_error(H3Error::Frame)));
                }
                state.header_len += n;
                continue;
            }
            let (frame_type, n) = get_varint(&state.header)
                .ok_or(H3Error::Frame)
                .map_err(protocol_error)?;
            let (len, _) = get_varint(&state.header[n..])
                .ok_or(H3Error::Frame)
                .map_err(protocol_error)?;
            state.header_len = 0;
            match frame_type {
                frame::DATA => state.data_left = len,
                t if frame::is_control_only(t) || frame::is_http2_only(t) => {
                    return Poll::Ready(Err(protocol_error(H3Error::FrameUnexpected)));
                }
                // Trailers (HEADERS) end nothing for a tunnel; they and unknown types are skipped.
                _ => state.skip_left = len,
            }
        }
    }
}

/// How long a client's stream dropped without its end acknowledged keeps the QUIC
/// connection open for the peer to receive it.
const LINGER: Duration = Duration::from_secs(5);

impl Drop for H3Stream {
    fn drop(&mut self) {
        // A client's connection closes when its last stream goes, and closing a QUIC
        // connection discards what is still unsent — such as the Close reply the engine
        // just wrote. So the stream is finished and the connection kept open (on the
        // runtime, in the background) until the peer acknowledged it all, within LINGER.
        // A server's connection is the client's to close: nothing to do there.
        let Some(keep) = self._keep.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let _ = self.send.finish();
        let acknowledged = self.send.stopped();
        runtime.spawn(async move {
            let _ = tokio::time::timeout(LINGER, acknowledged).await;
            drop(keep);
        });
    }
}

/// How many more bytes the frame header that starts `header` needs: 0 when complete.
fn header_bytes_needed(header: &[u8]) -> usize {
    let Some(&first) = header.first() else { return 1 };
    let type_len = varint_len(first);
    match header.get(type_len) {
        None => type_len + 1 - header.len(),
        Some(&len_first) => type_len + varint_len(len_first) - header.len(),
    }
}

impl AsyncWrite for H3Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let state = &mut this.writing;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if state.frame_left == 0 {
            // Begin a frame for (up to a limit) what the caller has now. Until its payload is
            // written, later calls continue it with the bytes the caller still has to write.
            state.frame_left = buf.len().min(MAX_DATA_FRAME);
            state.header = frame::header(frame::DATA, state.frame_left);
            state.header_written = 0;
        }
        while state.header_written < state.header.len() {
            let n = ready!(Pin::new(&mut this.send).poll_write(cx, &state.header[state.header_written..]))?;
            state.header_written += n;
        }
        let room = buf.len().min(state.frame_left);
        let n = ready!(Pin::new(&mut this.send).poll_write(cx, &buf[..room]))?;
        state.frame_left -= n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().send).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // FIN: RFC 9220 maps it to closing the TCP connection. Done once the peer has
        // acknowledged all of it, like a TCP close that lingers: closing the QUIC connection
        // right after (the last WebSocket of a client gone) would otherwise discard the
        // last bytes — typically the Close frame — still unsent.
        let this = self.get_mut();
        if this.writing.finished {
            return Poll::Ready(Ok(()));
        }
        if this.writing.finishing.is_none() {
            ready!(Pin::new(&mut this.send).poll_shutdown(cx))?;
            this.writing.finishing = Some(Acknowledged(Box::pin(this.send.stopped())));
        }
        if let Some(Acknowledged(acknowledged)) = this.writing.finishing.as_mut() {
            // Acknowledged, stopped by the peer, or the connection gone: nothing more to wait for.
            let _ = ready!(acknowledged.as_mut().poll(cx));
        }
        this.writing.finishing = None;
        this.writing.finished = true;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_read_no_further_than_it_goes() {
        assert_eq!(header_bytes_needed(&[]), 1);
        assert_eq!(header_bytes_needed(&[0x00]), 1);
        assert_eq!(header_bytes_needed(&[0x00, 0x05]), 0);
        assert_eq!(header_bytes_needed(&[0x40]), 2);
        assert_eq!(header_bytes_needed(&[0x40, 0x21]), 1);
        assert_eq!(header_bytes_needed(&[0x40, 0x21, 0x80]), 3);
        assert_eq!(header_bytes_needed(&[0x40, 0x21, 0x80, 0, 0, 1]), 0);
    }
}
