//! A tokio client that reconnects with backoff whenever its connection ends.

use std::time::Duration;

use super::tokio::TokioClient;
use super::Connector;
use crate::{CloseCode, CloseFrame, Message, Response, Result};

/// How long a [`Reconnecting`] client waits between attempts: `initial`, multiplied by
/// `factor` after every failure, capped at `max`; `max_attempts` failures in a row give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth per failed attempt.
    pub factor: u32,
    /// Consecutive failures before giving up (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            factor: 2,
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before attempt number `attempt` (1 = the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let growth = self.factor.max(1).saturating_pow(attempt.saturating_sub(1));
        self.initial.saturating_mul(growth).min(self.max)
    }
}

/// What a [`Reconnecting`] client reports.
#[derive(Debug)]
pub enum Reconnect {
    /// A connection was (re-)established.
    Connected(Box<Response>),
    /// A message arrived.
    Message(Message),
    /// The connection ended (the peer's Close, or `None` when it broke); a new attempt
    /// follows after the backoff delay.
    Disconnected(Option<CloseFrame>),
}

/// A client that reconnects with [`Backoff`] whenever the connection ends, until
/// [`close`](Self::close) is called or `max_attempts` is reached.
///
/// ```no_run
/// use ferrosocket::tokio::{Backoff, Connector, Reconnect, Reconnecting};
/// use ferrosocket::{ClientRequest, Message};
/// # async fn run() -> ferrosocket::Result<()> {
/// let connector = Connector::new(ClientRequest::new("ws://127.0.0.1:9001/feed")?);
/// let mut client = Reconnecting::new(connector, Backoff::default());
/// while let Some(event) = client.next().await {
///     match event {
///         Ok(Reconnect::Connected(_)) => client.send(Message::text("subscribe")).await?,
///         Ok(Reconnect::Message(message)) => println!("{message:?}"),
///         Ok(Reconnect::Disconnected(_)) | Err(_) => {} // retried automatically
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Reconnecting {
    connector: Connector,
    backoff: Backoff,
    ws: Option<TokioClient>,
    /// Consecutive failed or ended connections since the last success.
    attempt: u32,
    stopped: bool,
}

impl Reconnecting {
    /// A client that connects on the first [`next`](Self::next).
    pub fn new(connector: Connector, backoff: Backoff) -> Self {
        Reconnecting {
            connector,
            backoff,
            ws: None,
            attempt: 0,
            stopped: false,
        }
    }

    /// Whether a connection is open now.
    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// The next event: connects (after the backoff delay) when disconnected. A failed attempt
    /// is returned as an error and retried on the next call; `None` once closed or given up.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe while connected (it reads with the stream's cancel-safe `next`).
    /// Cancelled during the backoff delay or a connection attempt, that attempt is dropped
    /// and the next call starts a new one.
    pub async fn next(&mut self) -> Option<Result<Reconnect>> {
        if self.stopped {
            return None;
        }
        let Some(ws) = self.ws.as_mut() else {
            if self.attempt > 0 {
                tokio::time::sleep(self.backoff.delay(self.attempt)).await;
            }
            return Some(match self.connector.clone().connect().await {
                Ok((ws, response)) => {
                    self.ws = Some(ws);
                    self.attempt = 0;
                    Ok(Reconnect::Connected(Box::new(response)))
                }
                Err(e) => {
                    self.attempt += 1;
                    if self.backoff.max_attempts.is_some_and(|max| self.attempt >= max) {
                        self.stopped = true;
                    }
                    Err(e)
                }
            });
        };
        let ended = match ws.next().await {
            Some(Ok(Message::Close(frame))) => frame,
            Some(Ok(message)) => return Some(Ok(Reconnect::Message(message))),
            Some(Err(_)) | None => None,
        };
        self.ws = None;
        self.attempt = 1;
        Some(Ok(Reconnect::Disconnected(ended)))
    }

    /// Sends on the current connection; [`Error::NotOpen`](crate::Error::NotOpen) while
    /// disconnected.
    ///
    /// # Cancel safety
    ///
    /// As [`WebSocketStream::send`](crate::stream::WebSocketStream::send).
    pub async fn send(&mut self, message: Message) -> Result<()> {
        match self.ws.as_mut() {
            Some(ws) => ws.send(message).await,
            None => Err(crate::Error::NotOpen),
        }
    }

    /// Pings on the current connection and waits for the pong: the round-trip time (see
    /// [`WebSocketStream::ping`](crate::stream::WebSocketStream::ping): messages arriving
    /// meanwhile are kept for [`next`](Self::next)); [`Error::NotOpen`](crate::Error::NotOpen)
    /// while disconnected.
    pub async fn ping(&mut self) -> Result<Duration> {
        match self.ws.as_mut() {
            Some(ws) => ws.ping().await,
            None => Err(crate::Error::NotOpen),
        }
    }

    /// The current connection's last round trip: a [`ping`](Self::ping)'s or its
    /// heartbeat's; `None` while disconnected or before the first.
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.ws.as_ref()?.round_trip_time()
    }

    /// Stops reconnecting and closes the current connection (waiting up to 5 s for the
    /// close handshake).
    ///
    /// # Cancel safety
    ///
    /// Reconnecting stops at the first poll; cancelled later, the connection is dropped
    /// (its Close may not have gone out).
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.stopped = true;
        if let Some(mut ws) = self.ws.take() {
            ws.close_within(code, reason, tokio::time::sleep(Duration::from_secs(5)))
                .await?;
        }
        Ok(())
    }
}
