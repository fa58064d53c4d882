//! What every HTTP/3 connection runs beside its requests: our control stream with our
//! SETTINGS, and the peer's unidirectional streams — its control stream (its SETTINGS
//! first, then GOAWAY and frames we skip), its QPACK streams (drained: with no dynamic
//! table they carry nothing we use) — with the connection errors RFC 9114 §6.2 and §7
//! name for a peer that breaks the rules.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use quinn::{Connection, ReadExactError, RecvStream, VarInt};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::frame::{self, Settings};
use super::H3Error;

/// The largest SETTINGS or GOAWAY payload we read: a few identifiers, some grease.
const MAX_CONTROL_FRAME: u64 = 4096;

/// Opens our control stream with `ours`, then serves the peer's unidirectional streams
/// until the connection ends, publishing the peer's SETTINGS on `peer`. A peer that breaks
/// the rules gets the connection closed with the error's code.
pub(crate) async fn run(conn: Connection, ours: Settings, peer: watch::Sender<Option<Settings>>) {
    let Ok(mut control) = conn.open_uni().await else {
        return;
    };
    let mut opening = Vec::new();
    frame::put_varint(&mut opening, frame::CONTROL_STREAM);
    opening.extend_from_slice(&frame::frame(frame::SETTINGS, &ours.encode()));
    if control.write_all(&opening).await.is_err() {
        return;
    }
    let peer = Arc::new(peer);
    let seen_control = Arc::new(AtomicBool::new(false));
    let mut streams = JoinSet::new();
    loop {
        tokio::select! {
            accepted = conn.accept_uni() => match accepted {
                Ok(recv) => {
                    streams.spawn(peer_stream(recv, peer.clone(), seen_control.clone()));
                }
                Err(_) => break,
            },
            Some(Ok(Err(error))) = streams.join_next(), if !streams.is_empty() => {
                close(&conn, error);
                break;
            }
        }
    }
    // Our control stream stays open for the connection's life: closing it is an error.
    drop(control);
}

/// Closes the whole connection with `error`'s HTTP/3 code.
pub(crate) fn close(conn: &Connection, error: H3Error) {
    let code = VarInt::from_u64(error.code()).unwrap_or(VarInt::from_u32(0x102));
    conn.close(code, error.to_string().as_bytes());
}

async fn peer_stream(
    mut recv: RecvStream,
    peer: Arc<watch::Sender<Option<Settings>>>,
    seen_control: Arc<AtomicBool>,
) -> Result<(), H3Error> {
    let Some(stream_type) = read_varint(&mut recv).await? else {
        return Ok(());
    };
    match stream_type {
        frame::CONTROL_STREAM => {
            if seen_control.swap(true, Ordering::SeqCst) {
                return Err(H3Error::StreamCreation);
            }
            control_stream(recv, &peer).await
        }
        // We never send MAX_PUSH_ID, so no push may arrive; a server never receives one.
        frame::PUSH_STREAM => Err(H3Error::StreamCreation),
        frame::QPACK_ENCODER_STREAM | frame::QPACK_DECODER_STREAM => {
            // Without a dynamic table there is nothing here for us; read it to its end so
            // flow control never stalls the peer.
            let mut scratch = [0u8; 512];
            while let Ok(Some(_)) = recv.read(&mut scratch).await {}
            Ok(())
        }
        // Unknown and reserved types are ignored (RFC 9114 §6.2).
        _ => {
            let _ = recv.stop(VarInt::from_u32(H3Error::StreamCreation.code() as u32));
            Ok(())
        }
    }
}

async fn control_stream(mut recv: RecvStream, peer: &watch::Sender<Option<Settings>>) -> Result<(), H3Error> {
    let (frame_type, len) = read_frame_header(&mut recv)
        .await?
        .ok_or(H3Error::ClosedCriticalStream)?;
    if frame_type != frame::SETTINGS {
        return Err(H3Error::MissingSettings);
    }
    let settings = Settings::decode(&read_payload(&mut recv, len, MAX_CONTROL_FRAME).await?)?;
    peer.send_replace(Some(settings));
    loop {
        let (frame_type, len) = read_frame_header(&mut recv)
            .await?
            .ok_or(H3Error::ClosedCriticalStream)?;
        match frame_type {
            frame::SETTINGS | frame::DATA | frame::HEADERS => return Err(H3Error::FrameUnexpected),
            t if frame::is_http2_only(t) => return Err(H3Error::FrameUnexpected),
            frame::GOAWAY => {
                let payload = read_payload(&mut recv, len, MAX_CONTROL_FRAME).await?;
                frame::get_varint(&payload)
                    .filter(|&(_, n)| n == payload.len())
                    .ok_or(H3Error::Frame)?;
            }
            _ => skip(&mut recv, len).await?,
        }
    }
}

/// Reads a varint; `None` if the stream ended before it began.
pub(crate) async fn read_varint(recv: &mut RecvStream) -> Result<Option<u64>, H3Error> {
    let mut bytes = [0u8; 8];
    match recv.read_exact(&mut bytes[..1]).await {
        Ok(()) => {}
        Err(ReadExactError::FinishedEarly(_)) => return Ok(None),
        Err(ReadExactError::ReadError(error)) => return Err(read_failure(error)),
    }
    let len = frame::varint_len(bytes[0]);
    recv.read_exact(&mut bytes[1..len]).await.map_err(exact_failure)?;
    Ok(frame::get_varint(&bytes[..len]).map(|(value, _)| value))
}

/// Reads a frame header: type and payload length; `None` at the end of the stream.
pub(crate) async fn read_frame_header(recv: &mut RecvStream) -> Result<Option<(u64, u64)>, H3Error> {
    let Some(frame_type) = read_varint(recv).await? else {
        return Ok(None);
    };
    let len = read_varint(recv).await?.ok_or(H3Error::Frame)?;
    Ok(Some((frame_type, len)))
}

/// Reads a payload of `len` bytes, refusing one over `limit` before reading it.
pub(crate) async fn read_payload(recv: &mut RecvStream, len: u64, limit: u64) -> Result<Vec<u8>, H3Error> {
    if len > limit {
        return Err(H3Error::ExcessiveLoad);
    }
    let mut payload = vec![0; len as usize];
    recv.read_exact(&mut payload).await.map_err(exact_failure)?;
    Ok(payload)
}

/// Skips `len` bytes of payload without keeping them.
pub(crate) async fn skip(recv: &mut RecvStream, mut len: u64) -> Result<(), H3Error> {
    let mut scratch = [0u8; 512];
    while len > 0 {
        let room = scratch.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        recv.read_exact(&mut scratch[..room])
            .await
            .map_err(exact_failure)?;
        len -= room as u64;
    }
    Ok(())
}

fn exact_failure(error: ReadExactError) -> H3Error {
    match error {
        ReadExactError::FinishedEarly(_) => H3Error::Frame,
        ReadExactError::ReadError(error) => read_failure(error),
    }
}

fn read_failure(error: quinn::ReadError) -> H3Error {
    match error {
        quinn::ReadError::Reset(code) => H3Error::Reset(code.into_inner()),
        other => H3Error::Transport(io::Error::from(other).kind()),
    }
}
