//! Moving bytes between a transport and the engine: one read into the engine's buffer, and
//! everything queued written out. Both work on a whole [`Connection`] or on its halves.

use std::io::{self, IoSlice};
use std::task::{ready, Context, Poll};

use bytes::BytesMut;

use super::transport::AsyncTransport;
use crate::adapters::read_room::ReadRoom;
use crate::outgoing::MAX_IO_SLICES;
use crate::{Connection, ReceivingHalf, Result, SendingHalf};

/// The engine's receiving side as an adapter reads into it: a whole [`Connection`] or its
/// [`ReceivingHalf`].
pub(crate) trait Inbox {
    fn receive_capacity(&self) -> usize;
    fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R;
    fn receive_eof(&mut self);
}

/// The engine's sending side as an adapter writes from it: a whole [`Connection`] or its
/// [`SendingHalf`].
pub(crate) trait Outbox {
    fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize;
    fn advance_outgoing(&mut self, n: usize);
}

macro_rules! engine_io {
    (inbox: $($inbox:ty),*; outbox: $($outbox:ty),*) => {
        $(impl Inbox for $inbox {
            fn receive_capacity(&self) -> usize {
                <$inbox>::receive_capacity(self)
            }
            fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R {
                <$inbox>::receive_with(self, room, fill)
            }
            fn receive_eof(&mut self) {
                <$inbox>::receive_eof(self)
            }
        })*
        $(impl Outbox for $outbox {
            fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
                <$outbox>::outgoing_vectored(self, slices)
            }
            fn advance_outgoing(&mut self, n: usize) {
                <$outbox>::advance_outgoing(self, n)
            }
        })*
    };
}
engine_io!(inbox: Connection, ReceivingHalf; outbox: Connection, SendingHalf);

/// Reads once from the transport, straight into the engine's buffer, as much as `read_room`
/// says.
pub(crate) fn poll_fill<T: AsyncTransport>(
    io: &mut T,
    engine: &mut impl Inbox,
    read_room: &mut ReadRoom,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    let read = if engine.receive_capacity() == 0 {
        // The engine holds no buffer (an idle connection): wait with a buffer on the
        // stack, and give the engine one only once data arrives.
        let mut probe = [0u8; ReadRoom::FIRST];
        ready!(io.poll_read_some(cx, &mut probe)).map(|n| {
            engine.receive_with(read_room.get(), |buf| buf.extend_from_slice(&probe[..n]));
            (n, ReadRoom::FIRST)
        })
    } else {
        ready!(engine.receive_with(read_room.get(), |buf| {
            let room = buf.capacity();
            io.poll_read_buf(cx, buf).map_ok(|n| (n, room))
        }))
    };
    match read {
        Ok((0, _)) => engine.receive_eof(),
        Ok((n, room)) => read_room.record(n, room),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => engine.receive_eof(),
        Err(e) => return Poll::Ready(Err(e.into())),
    }
    Poll::Ready(Ok(()))
}

/// Writes everything the engine has queued and flushes the transport.
pub(crate) fn poll_write_all<T: AsyncTransport>(
    io: &mut T,
    engine: &mut impl Outbox,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    loop {
        let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
        let filled = engine.outgoing_vectored(&mut slices);
        if filled == 0 {
            break;
        }
        match ready!(io.poll_write_vectored_some(cx, &slices[..filled])) {
            Ok(0) => return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into())),
            Ok(n) => engine.advance_outgoing(n),
            Err(e) => return Poll::Ready(Err(e.into())),
        }
    }
    Poll::Ready(ready!(io.poll_flush_transport(cx)).map_err(crate::Error::from))
}
