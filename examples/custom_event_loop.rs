//! Driving the sans-IO engine from your own event loop: a single-threaded echo server over
//! `std::net` non-blocking sockets, no adapter, no runtime.
//!
//! ```text
//! cargo run --example custom_event_loop -- 127.0.0.1:9002
//! ```
//! Every connection is a `TcpStream` plus a `Connection`. Each turn of the loop accepts new
//! sockets, and for every connection reads what is available into the engine, handles the
//! events, and writes what the engine queued — exactly the three steps an epoll/mio/io_uring
//! loop would do on readiness events. A real loop would wait for readiness instead of
//! sleeping when idle.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use ferrosocket::{Accept, Config, Connection, Event, State};

struct Client {
    socket: TcpStream,
    conn: Connection,
}

impl Client {
    /// Reads what the socket has; returns false once the peer is gone for good.
    fn read(&mut self, buf: &mut [u8]) -> bool {
        loop {
            match self.socket.read(buf) {
                Ok(0) => {
                    self.conn.receive_eof();
                    return true;
                }
                Ok(n) => self.conn.receive(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }

    /// Handles every event the engine has ready.
    fn handle_events(&mut self) {
        loop {
            match self.conn.next_event() {
                Ok(Some(Event::Request(_))) => {
                    let _ = self.conn.accept(Accept::new());
                }
                Ok(Some(Event::Text(text))) => {
                    let _ = self.conn.send_text(text.as_str());
                }
                Ok(Some(Event::Binary(data))) => {
                    let _ = self.conn.send_binary(&data);
                }
                Ok(Some(_)) => {} // pings are answered, closes replied to, by the engine
                Ok(None) => return,
                Err(e) => {
                    eprintln!("connection failed: {e}");
                    return;
                }
            }
        }
    }

    /// Writes what the engine queued; returns false if the socket failed.
    fn write(&mut self) -> bool {
        while !self.conn.outgoing().is_empty() {
            match self.socket.write(self.conn.outgoing()) {
                Ok(n) => self.conn.advance_outgoing(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// The server closes the TCP connection once the WebSocket is closed and flushed.
    fn finished(&self) -> bool {
        self.conn.state() == State::Closed && !self.conn.wants_write()
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;
    println!("custom_event_loop listening on ws://{}", listener.local_addr()?);
    let mut clients: Vec<Client> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut busy = false;
        while let Ok((socket, _)) = listener.accept() {
            socket.set_nonblocking(true)?;
            socket.set_nodelay(true)?;
            clients.push(Client {
                socket,
                conn: Connection::server(Config::default()),
            });
            busy = true;
        }
        clients.retain_mut(|client| {
            let before = client.conn.buffered_amount();
            let alive = client.read(&mut buf);
            client.handle_events();
            busy |= client.conn.buffered_amount() != before;
            alive && client.write() && !client.finished()
        });
        if !busy {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
