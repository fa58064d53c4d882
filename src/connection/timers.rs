//! The engine's deadlines as values: the opening handshake's, the heartbeat's (ping interval,
//! pong timeout) and the close deadline (how long to wait for the peer's Close after ours, or
//! after a failure).
//!
//! Time is a [`Duration`] since an origin the caller picks, so the engine reads no clock (and
//! `no_std` keeps working). The adapter asks [`Timers::next_deadline`] when to wake and
//! reports the time with [`Timers::expire`], as quinn-proto's `poll_timeout` and
//! `handle_timeout` do. A deadline is measured from the moment it is started, which the
//! engine learns at the next `expire`: until then it reports itself due at once, so the
//! adapter calls `expire` right away and the deadline is set from the time it passes.

use alloc::boxed::Box;
use core::time::Duration;

/// Which deadline passed; an [`Error::TimedOut`](crate::Error::TimedOut) carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// The opening handshake did not finish within
    /// [`Config::handshake_timeout`](crate::Config::handshake_timeout).
    Handshake,
    /// The peer did not answer a heartbeat ping within the pong timeout.
    Pong,
    /// The peer did not answer our Close (or the Close a failure sent) within
    /// [`Config::close_timeout`](crate::Config::close_timeout).
    Close,
}

impl core::fmt::Display for Timeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Timeout::Handshake => "the opening handshake did not finish in time",
            Timeout::Pong => "no pong within the heartbeat timeout",
            Timeout::Close => "the peer did not answer the Close in time",
        })
    }
}

/// One deadline: due at `at`, or, while `starting`, `at` from the next time the adapter
/// reports; what its passing means is `kind` (kept inside, where the struct has room).
/// Times are whole nanoseconds in a `u64` (584 years), half a `Duration`: every connection
/// carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timer {
    at: u64,
    starting: bool,
    kind: Timeout,
}

/// Nanoseconds, saturating at `u64::MAX`.
fn nanos(time: Duration) -> u64 {
    u64::try_from(time.as_nanos()).unwrap_or(u64::MAX)
}

impl Timer {
    fn start(kind: Timeout, length: Duration) -> Self {
        Timer {
            at: nanos(length),
            starting: true,
            kind,
        }
    }

    fn at(kind: Timeout, at: Duration) -> Self {
        Timer {
            at: nanos(at),
            starting: false,
            kind,
        }
    }

    /// When it is due; a starting timer is due at once (it needs the time).
    fn due(self) -> Duration {
        if self.starting {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.at)
        }
    }

    /// Sets the time of a starting timer; whether it is due by `now`.
    fn expired(&mut self, now: Duration) -> bool {
        let now = nanos(now);
        if self.starting {
            self.at = now.saturating_add(self.at);
            self.starting = false;
        }
        self.at <= now
    }
}

/// Pings every `interval`; a pong must follow each within `timeout` (Node `ws`'s heartbeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    /// The next ping, or the deadline of the pong awaited.
    timer: Timer,
    /// When the last ping went out, while its pong is awaited.
    awaiting_pong: Option<Duration>,
    /// Set before the connection opened: it starts when the handshake is done.
    waiting_for_open: bool,
}

/// What passed when the adapter reported the time ([`Timers::expire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// Nothing is due.
    Nothing,
    /// Send a heartbeat ping.
    Ping,
    /// A deadline passed: the connection ends with this timeout.
    End(Timeout),
}

/// The deadlines of one connection, kept small: every connection carries them. The
/// handshake's and the close deadline never run together (one is before the connection
/// opens, the other after), so they share a slot; the heartbeat, which most connections do
/// not have, is boxed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    /// The deadline that ends the connection when it passes: the handshake's or the close.
    end: Option<Timer>,
    heartbeat: Option<Box<Heartbeat>>,
}

impl Timers {
    /// Starts the handshake deadline.
    pub(crate) fn start_handshake(&mut self, length: Duration) {
        self.end = Some(Timer::start(Timeout::Handshake, length));
    }

    /// The handshake finished: its deadline goes, and a heartbeat set before starts.
    pub(crate) fn handshake_done(&mut self) {
        if self.end.is_some_and(|end| end.kind == Timeout::Handshake) {
            self.end = None;
        }
        if let Some(beat) = &mut self.heartbeat {
            if beat.waiting_for_open {
                beat.waiting_for_open = false;
                beat.timer = Timer::start(Timeout::Pong, beat.interval);
            }
        }
    }

    /// Starts the heartbeat: the first ping `interval` from now, or from the end of the
    /// handshake if the connection is not open yet.
    pub(crate) fn set_heartbeat(&mut self, interval: Duration, timeout: Duration, open: bool) {
        self.heartbeat = Some(Box::new(Heartbeat {
            interval,
            timeout,
            timer: Timer::start(Timeout::Pong, interval),
            awaiting_pong: None,
            waiting_for_open: !open,
        }));
    }

    /// A pong arrived: the next ping is due an interval after the one it answers.
    pub(crate) fn pong_received(&mut self) {
        if let Some(beat) = &mut self.heartbeat {
            if let Some(sent) = beat.awaiting_pong.take() {
                beat.timer = Timer::at(Timeout::Pong, sent.saturating_add(beat.interval));
            }
        }
    }

    /// The closing handshake began (our Close, or the one a failure sent): bound the wait
    /// for the peer's by `length`; no more heartbeat. Started once.
    pub(crate) fn start_close(&mut self, length: Duration) {
        self.heartbeat = None;
        if !self.end.is_some_and(|end| end.kind == Timeout::Close) {
            self.end = Some(Timer::start(Timeout::Close, length));
        }
    }

    /// Nothing more to wait for: every deadline goes.
    pub(crate) fn clear(&mut self) {
        *self = Timers::default();
    }

    /// The earliest deadline, if any; [`Duration::ZERO`] (due at once) for one that just
    /// started and needs the time.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        let end = self.end.map(Timer::due);
        let beat = self
            .heartbeat
            .as_ref()
            .filter(|beat| !beat.waiting_for_open)
            .map(|beat| beat.timer.due());
        match (end, beat) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the time; what it makes due. A deadline that ends the connection clears them
    /// all.
    pub(crate) fn expire(&mut self, now: Duration) -> Expired {
        if let Some(end) = &mut self.end {
            if end.expired(now) {
                let timeout = end.kind;
                self.clear();
                return Expired::End(timeout);
            }
        }
        let Some(beat) = self.heartbeat.as_mut().filter(|beat| !beat.waiting_for_open) else {
            return Expired::Nothing;
        };
        if !beat.timer.expired(now) {
            return Expired::Nothing;
        }
        if beat.awaiting_pong.is_some() {
            self.clear();
            return Expired::End(Timeout::Pong);
        }
        beat.awaiting_pong = Some(now);
        beat.timer = Timer::at(Timeout::Pong, now.saturating_add(beat.timeout));
        Expired::Ping
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn no_deadline_until_one_starts() {
        let mut timers = Timers::default();
        assert_eq!(timers.next_deadline(), None);
        assert_eq!(timers.expire(ms(1_000_000)), Expired::Nothing);
    }

    #[test]
    fn a_started_deadline_is_due_until_it_learns_the_time() {
        let mut timers = Timers::default();
        timers.expire(ms(100));
        timers.start_close(ms(50));
        assert_eq!(
            timers.next_deadline(),
            Some(ms(0)),
            "due at once: it needs the time"
        );
        assert_eq!(timers.expire(ms(120)), Expired::Nothing);
        assert_eq!(
            timers.next_deadline(),
            Some(ms(170)),
            "measured from when it learned it"
        );
        assert_eq!(timers.expire(ms(169)), Expired::Nothing);
        assert_eq!(timers.expire(ms(170)), Expired::End(Timeout::Close));
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn the_close_deadline_starts_once() {
        let mut timers = Timers::default();
        timers.start_close(ms(50));
        timers.expire(ms(0));
        timers.start_close(ms(50));
        assert_eq!(timers.next_deadline(), Some(ms(50)));
    }

    #[test]
    fn heartbeat_pings_then_ends_without_a_pong() {
        let mut timers = Timers::default();
        timers.set_heartbeat(ms(100), ms(30), true);
        assert_eq!(timers.expire(ms(0)), Expired::Nothing);
        assert_eq!(timers.next_deadline(), Some(ms(100)));
        assert_eq!(timers.expire(ms(100)), Expired::Ping);
        assert_eq!(timers.next_deadline(), Some(ms(130)));
        assert_eq!(timers.expire(ms(129)), Expired::Nothing);
        assert_eq!(timers.expire(ms(130)), Expired::End(Timeout::Pong));
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn a_pong_schedules_the_next_ping_an_interval_after_the_last() {
        let mut timers = Timers::default();
        timers.set_heartbeat(ms(100), ms(30), true);
        timers.expire(ms(0));
        assert_eq!(timers.expire(ms(100)), Expired::Ping);
        timers.pong_received();
        assert_eq!(timers.next_deadline(), Some(ms(200)));
        assert_eq!(
            timers.expire(ms(150)),
            Expired::Nothing,
            "the pong deadline is gone"
        );
        assert_eq!(timers.expire(ms(200)), Expired::Ping);
        // An unsolicited pong changes nothing.
        timers.pong_received();
        timers.pong_received();
        assert_eq!(timers.next_deadline(), Some(ms(300)));
    }

    #[test]
    fn closing_stops_the_heartbeat() {
        let mut timers = Timers::default();
        timers.set_heartbeat(ms(10), ms(10), true);
        timers.expire(ms(0));
        timers.start_close(ms(1000));
        timers.expire(ms(5));
        assert_eq!(timers.next_deadline(), Some(ms(1005)));
        assert_eq!(timers.expire(ms(500)), Expired::Nothing);
    }

    #[test]
    fn the_handshake_deadline_ends_unless_done() {
        let mut timers = Timers::default();
        timers.start_handshake(ms(40));
        timers.expire(ms(10));
        assert_eq!(timers.next_deadline(), Some(ms(50)));
        assert_eq!(timers.expire(ms(50)), Expired::End(Timeout::Handshake));

        let mut timers = Timers::default();
        timers.start_handshake(ms(40));
        timers.expire(ms(10));
        timers.handshake_done();
        assert_eq!(timers.next_deadline(), None);
        assert_eq!(timers.expire(ms(60)), Expired::Nothing);
    }

    #[test]
    fn a_heartbeat_set_while_connecting_starts_when_the_connection_opens() {
        let mut timers = Timers::default();
        timers.start_handshake(ms(1000));
        timers.set_heartbeat(ms(10), ms(10), false);
        timers.expire(ms(0));
        assert_eq!(timers.next_deadline(), Some(ms(1000)), "only the handshake's");
        assert_eq!(timers.expire(ms(500)), Expired::Nothing, "no ping before the 101");
        timers.handshake_done();
        timers.expire(ms(500));
        assert_eq!(timers.next_deadline(), Some(ms(510)));
        assert_eq!(timers.expire(ms(510)), Expired::Ping);
    }

    #[test]
    fn they_stay_small() {
        // Every connection carries them: three words.
        assert!(
            core::mem::size_of::<Timers>() <= 24,
            "{}",
            core::mem::size_of::<Timers>()
        );
    }
}
