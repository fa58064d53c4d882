//! The engine's deadlines as values: the opening handshake's, the close deadline (how long to
//! wait for the peer's Close after ours, or after a failure), and the open connection's
//! watches — the heartbeat (ping interval, pong timeout), the idle timeout and the maximum
//! lifetime.
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
    /// Nothing arrived from the peer within
    /// [`Config::idle_timeout`](crate::Config::idle_timeout), not even the pong to the
    /// ping sent halfway.
    Idle,
}

impl core::fmt::Display for Timeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Timeout::Handshake => "the opening handshake did not finish in time",
            Timeout::Pong => "no pong within the heartbeat timeout",
            Timeout::Close => "the peer did not answer the Close in time",
            Timeout::Idle => "nothing arrived from the peer within the idle timeout",
        })
    }
}

/// One deadline: due at `at`, or, while `starting`, `at` from the next time the adapter
/// reports; what its passing means is `kind` (kept inside, where the struct has room; the
/// watches, whose outcome their own state decides, use `()`). Times are whole nanoseconds
/// in a `u64` (584 years), half a `Duration`: every connection carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timer<K = Timeout> {
    at: u64,
    starting: bool,
    kind: K,
}

/// Nanoseconds, saturating at `u64::MAX`.
fn nanos(time: Duration) -> u64 {
    u64::try_from(time.as_nanos()).unwrap_or(u64::MAX)
}

impl<K: Copy> Timer<K> {
    fn start(kind: K, length: Duration) -> Self {
        Timer {
            at: nanos(length),
            starting: true,
            kind,
        }
    }

    fn at(kind: K, at: Duration) -> Self {
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
    timer: Timer<()>,
    /// When the last ping went out, while its pong is awaited.
    awaiting_pong: Option<Duration>,
    /// When the ping the last pong answered went out, until the round trip is measured.
    answered: Option<Duration>,
}

/// Ends a connection the peer has gone quiet on (uWebSockets' `idleTimeout` with its
/// automatic pings). The engine does not know when bytes arrive, only that they did, so it
/// looks every half timeout: bytes since the last look reset it; the first silent look
/// sends a ping, which a live peer answers; the second ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Idle {
    half: Duration,
    /// The next look.
    timer: Timer<()>,
    /// Bytes arrived since the last look.
    heard: bool,
    /// The last look found silence and pinged.
    pinged: bool,
}

/// The open connection's watches, which most connections do not have: boxed together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Watch {
    heartbeat: Option<Heartbeat>,
    idle: Option<Idle>,
    /// When the connection closes with 1001 ([`Config::max_lifetime`](crate::Config::max_lifetime)).
    lifetime: Option<Timer<()>>,
    /// Set before the connection opened: the heartbeat starts when the handshake is done.
    waiting_for_open: bool,
    /// The last round trip measured from a pong (here, not on every connection: few time
    /// their pings).
    round_trip: Option<Duration>,
}

impl Watch {
    fn next_deadline(&self) -> Option<Duration> {
        if self.waiting_for_open {
            return None;
        }
        let beat = self.heartbeat.map(|beat| beat.timer.due());
        let idle = self.idle.map(|idle| idle.timer.due());
        let lifetime = self.lifetime.map(Timer::due);
        [beat, idle, lifetime].into_iter().flatten().min()
    }
}

/// What passed when the adapter reported the time ([`Timers::expire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// Nothing is due.
    Nothing,
    /// Send a ping (the heartbeat's, or the idle timeout's on a quiet connection).
    Ping,
    /// The connection reached its maximum lifetime: close it with 1001.
    Retire,
    /// A deadline passed: the connection ends with this timeout.
    End(Timeout),
}

/// The deadlines of one connection, kept small: every connection carries them. The
/// handshake's and the close deadline never run together (one is before the connection
/// opens, the other after), so they share a slot; the watches, which most connections do
/// not have, are boxed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    /// The deadline that ends the connection when it passes: the handshake's or the close.
    end: Option<Timer>,
    watch: Option<Box<Watch>>,
}

impl Timers {
    /// Starts the handshake deadline.
    pub(crate) fn start_handshake(&mut self, length: Duration) {
        self.end = Some(Timer::start(Timeout::Handshake, length));
    }

    /// The handshake finished: its deadline goes, a heartbeat set before starts, and so do
    /// the idle timeout and the maximum lifetime, if given.
    pub(crate) fn handshake_done(&mut self, idle: Option<Duration>, lifetime: Option<Duration>) {
        if self.end.is_some_and(|end| end.kind == Timeout::Handshake) {
            self.end = None;
        }
        if idle.is_some() || lifetime.is_some() {
            let watch = self.watch.get_or_insert_with(Box::default);
            watch.idle = idle.map(|length| Idle {
                half: length / 2,
                timer: Timer::start((), length / 2),
                heard: false,
                pinged: false,
            });
            watch.lifetime = lifetime.map(|length| Timer::start((), length));
        }
        if let Some(watch) = &mut self.watch {
            if watch.waiting_for_open {
                watch.waiting_for_open = false;
                if let Some(beat) = &mut watch.heartbeat {
                    beat.timer = Timer::start((), beat.interval);
                }
            }
        }
    }

    /// Starts the heartbeat: the first ping `interval` from now, or from the end of the
    /// handshake if the connection is not open yet.
    pub(crate) fn set_heartbeat(&mut self, interval: Duration, timeout: Duration, open: bool) {
        let watch = self.watch.get_or_insert_with(Box::default);
        watch.heartbeat = Some(Heartbeat {
            interval,
            timeout,
            timer: Timer::start((), interval),
            awaiting_pong: None,
            answered: None,
        });
        watch.waiting_for_open = !open;
    }

    /// Bytes arrived from the peer: the idle timeout starts over.
    pub(crate) fn heard(&mut self) {
        if let Some(idle) = self.watch.as_mut().and_then(|watch| watch.idle.as_mut()) {
            idle.heard = true;
        }
    }

    /// A pong arrived: the next ping is due an interval after the one it answers.
    pub(crate) fn pong_received(&mut self) {
        if let Some(beat) = self.watch.as_mut().and_then(|watch| watch.heartbeat.as_mut()) {
            if let Some(sent) = beat.awaiting_pong.take() {
                beat.timer = Timer::at((), sent.saturating_add(beat.interval));
                beat.answered = Some(sent);
            }
        }
    }

    /// Keeps the last round trip measured (while the connection is open: the watches go
    /// when it closes).
    pub(crate) fn set_round_trip(&mut self, round_trip: Duration) {
        if self.end.is_some_and(|end| end.kind == Timeout::Close) {
            return;
        }
        self.watch.get_or_insert_with(Box::default).round_trip = Some(round_trip);
    }

    /// The last round trip measured.
    pub(crate) fn round_trip(&self) -> Option<Duration> {
        self.watch.as_ref()?.round_trip
    }

    /// When the heartbeat ping the last pong answered went out (once), for its round trip.
    pub(crate) fn take_answered_ping(&mut self) -> Option<Duration> {
        let beat = self.watch.as_mut()?.heartbeat.as_mut()?;
        beat.answered.take()
    }

    /// The closing handshake began (our Close, or the one a failure sent): bound the wait
    /// for the peer's by `length`; no more watches. Started once.
    pub(crate) fn start_close(&mut self, length: Duration) {
        self.watch = None;
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
        let watch = self.watch.as_ref().and_then(|watch| watch.next_deadline());
        match (end, watch) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the time; what it makes due. Every timer learns the time, so several due at
    /// once are handled in one call; a deadline that ends the connection clears them all.
    pub(crate) fn expire(&mut self, now: Duration) -> Expired {
        if let Some(end) = &mut self.end {
            if end.expired(now) {
                let timeout = end.kind;
                self.clear();
                return Expired::End(timeout);
            }
        }
        let Some(watch) = self.watch.as_mut().filter(|watch| !watch.waiting_for_open) else {
            return Expired::Nothing;
        };
        let mut ping = false;
        if let Some(beat) = &mut watch.heartbeat {
            if beat.timer.expired(now) {
                if beat.awaiting_pong.is_some() {
                    self.clear();
                    return Expired::End(Timeout::Pong);
                }
                beat.awaiting_pong = Some(now);
                beat.timer = Timer::at((), now.saturating_add(beat.timeout));
                ping = true;
            }
        }
        if let Some(idle) = &mut watch.idle {
            if idle.timer.expired(now) {
                if idle.heard {
                    idle.pinged = false;
                } else if idle.pinged {
                    self.clear();
                    return Expired::End(Timeout::Idle);
                } else {
                    idle.pinged = true;
                    ping = true;
                }
                idle.heard = false;
                idle.timer = Timer::at((), now.saturating_add(idle.half));
            }
        }
        if watch
            .lifetime
            .as_mut()
            .is_some_and(|lifetime| lifetime.expired(now))
        {
            watch.lifetime = None;
            return Expired::Retire;
        }
        if ping {
            Expired::Ping
        } else {
            Expired::Nothing
        }
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
        timers.handshake_done(None, None);
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
        timers.handshake_done(None, None);
        timers.expire(ms(500));
        assert_eq!(timers.next_deadline(), Some(ms(510)));
        assert_eq!(timers.expire(ms(510)), Expired::Ping);
    }

    #[test]
    fn the_idle_timeout_looks_every_half_and_ends_after_two_silent_looks() {
        let mut timers = Timers::default();
        timers.handshake_done(Some(ms(100)), None);
        assert_eq!(timers.expire(ms(0)), Expired::Nothing);
        assert_eq!(timers.next_deadline(), Some(ms(50)));
        timers.heard();
        assert_eq!(timers.expire(ms(50)), Expired::Nothing, "bytes came");
        assert_eq!(timers.expire(ms(100)), Expired::Ping, "silence: ping");
        timers.heard(); // the pong
        assert_eq!(timers.expire(ms(150)), Expired::Nothing);
        assert_eq!(timers.expire(ms(200)), Expired::Ping);
        assert_eq!(timers.expire(ms(249)), Expired::Nothing);
        assert_eq!(timers.expire(ms(250)), Expired::End(Timeout::Idle));
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn the_lifetime_retires_once_and_closing_stops_every_watch() {
        let mut timers = Timers::default();
        timers.handshake_done(Some(ms(100)), Some(ms(120)));
        timers.set_heartbeat(ms(70), ms(10), true);
        timers.expire(ms(0));
        assert_eq!(timers.next_deadline(), Some(ms(50)));
        assert_eq!(timers.expire(ms(50)), Expired::Ping, "the idle look");
        timers.heard();
        assert_eq!(timers.expire(ms(70)), Expired::Ping, "the heartbeat");
        timers.pong_received();
        assert_eq!(timers.expire(ms(120)), Expired::Retire);
        timers.start_close(ms(30));
        assert_eq!(timers.expire(ms(121)), Expired::Nothing);
        assert_eq!(timers.next_deadline(), Some(ms(151)), "only the close deadline");
    }

    #[test]
    fn deadlines_due_together_are_all_handled_in_one_call() {
        let mut timers = Timers::default();
        timers.handshake_done(Some(ms(100)), None);
        timers.set_heartbeat(ms(50), ms(50), true);
        timers.expire(ms(0));
        assert_eq!(timers.expire(ms(50)), Expired::Ping, "both want a ping: one");
        assert_eq!(timers.next_deadline(), Some(ms(100)));
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
