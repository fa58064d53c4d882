//! Lines to messages and messages to lines, per [`Mode`], and the progress line.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use ferrosocket::Message;

use crate::Mode;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A line that could not be made into a message.
#[derive(Debug)]
pub struct BadLine(pub base64::DecodeError);

/// The message a line of input (without its newline) becomes.
pub fn message_from_line(mode: Mode, line: String) -> Result<Message, BadLine> {
    Ok(match mode {
        Mode::Text => Message::text(line),
        Mode::Binary => Message::binary(line.into_bytes()),
        Mode::Base64 => Message::binary(BASE64.decode(line.trim()).map_err(BadLine)?),
    })
}

/// The bytes printed for a data message (its line, without the newline); `None` for
/// control messages.
pub fn line_from_message(mode: Mode, message: &Message) -> Option<Bytes> {
    let payload = match message {
        Message::Text(text) => text.as_bytes(),
        Message::Binary(data) => data,
        _ => return None,
    };
    Some(match (mode, message) {
        (Mode::Text, Message::Text(_)) | (Mode::Binary, _) => Bytes::copy_from_slice(payload),
        (Mode::Text, _) => payload
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into(),
        (Mode::Base64, _) => BASE64.encode(payload).into(),
    })
}

/// Messages and bytes each way, shared by the tasks that move them and the progress line.
#[derive(Debug, Default)]
pub struct Stats {
    sent: AtomicU64,
    sent_bytes: AtomicU64,
    received: AtomicU64,
    received_bytes: AtomicU64,
}

impl Stats {
    pub fn sent(&self, message: &Message) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.sent_bytes.fetch_add(message.len() as u64, Ordering::Relaxed);
    }

    pub fn received(&self, message: &Message) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.received_bytes
            .fetch_add(message.len() as u64, Ordering::Relaxed);
    }

    /// The progress line: messages and bytes each way, and the rate both ways together
    /// since `start`.
    fn line(&self, start: Instant) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let bytes = get(&self.sent_bytes) + get(&self.received_bytes);
        let rate = bytes as f64 / start.elapsed().as_secs_f64().max(1e-3);
        format!(
            "sent {} msgs {}, received {} msgs {}, {}/s",
            get(&self.sent),
            size(get(&self.sent_bytes) as f64),
            get(&self.received),
            size(get(&self.received_bytes) as f64),
            size(rate)
        )
    }
}

/// `bytes` in B, KiB, MiB or GiB.
fn size(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{value:.0} {}", units[unit]),
        _ => format!("{value:.1} {}", units[unit]),
    }
}

/// Rewrites the progress line on standard error five times a second until dropped, then
/// writes it a last time and ends it.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    stats: Arc<Stats>,
    start: Instant,
}

impl Progress {
    pub fn start(stats: Arc<Stats>) -> Progress {
        let start = Instant::now();
        let ticking = stats.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let _ = write!(std::io::stderr(), "\r{}\x1b[K", ticking.line(start));
            }
        });
        Progress { task, stats, start }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        let _ = writeln!(std::io::stderr(), "\r{}\x1b[K", self.stats.line(self.start));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_messages_map_per_mode() {
        let text = message_from_line(Mode::Text, "héllo".into()).unwrap();
        assert_eq!(text, Message::text("héllo"));
        assert_eq!(line_from_message(Mode::Text, &text).unwrap(), "héllo");
        let binary = Message::binary(vec![0, 255]);
        assert_eq!(line_from_message(Mode::Text, &binary).unwrap(), "00ff");
        assert_eq!(line_from_message(Mode::Binary, &binary).unwrap(), &[0, 255][..]);
        assert_eq!(line_from_message(Mode::Base64, &binary).unwrap(), "AP8=");
        assert_eq!(message_from_line(Mode::Base64, " AP8= ".into()).unwrap(), binary);
        assert!(message_from_line(Mode::Base64, "not base64!".into()).is_err());
        assert_eq!(line_from_message(Mode::Text, &Message::Ping(Bytes::new())), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(512.0), "512 B");
        assert_eq!(size(1536.0), "1.5 KiB");
        assert_eq!(size(3.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0), "3072.0 GiB");
    }
}
