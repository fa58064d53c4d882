//! How much room a read asks for, the same on every adapter: little while the engine holds
//! nothing (a handshake fits, and an idle connection's read holds little), then doubling on
//! every read that fills its room, up to a cap — big messages arrive in few reads, small ones
//! never make the buffer grow.

/// The room the next read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadRoom(usize);

impl ReadRoom {
    /// The room of a read while the engine holds no buffer.
    pub(crate) const FIRST: usize = 1024;
    /// The most room one read asks for.
    pub(crate) const MAX: usize = 64 * 1024;

    /// The room for a read into a partial frame (the engine holds a buffer).
    pub(crate) fn get(self) -> usize {
        self.0
    }

    /// Records a read of `n` bytes into `room`: a read that filled it doubles the next.
    pub(crate) fn record(&mut self, n: usize, room: usize) {
        if n >= room {
            self.0 = (room.max(self.0) * 2).min(Self::MAX);
        }
    }
}

impl Default for ReadRoom {
    fn default() -> Self {
        ReadRoom(Self::FIRST)
    }
}

#[cfg(test)]
mod tests {
    use super::ReadRoom;

    #[test]
    fn full_reads_double_the_room_up_to_the_cap() {
        let mut room = ReadRoom::default();
        room.record(ReadRoom::FIRST - 1, ReadRoom::FIRST);
        assert_eq!(room.get(), ReadRoom::FIRST, "a short read changes nothing");
        let mut sizes = Vec::new();
        for _ in 0..10 {
            let r = room.get();
            room.record(r, r);
            sizes.push(room.get());
        }
        assert_eq!(&sizes[..6], [2048, 4096, 8192, 16384, 32768, 65536]);
        assert!(sizes[6..].iter().all(|&s| s == ReadRoom::MAX));
    }
}
