//! `ferrosocket`: a WebSocket command-line client and server.
//!
//! ```text
//! ferrosocket wss://example.com/feed [--ca FILE] [--proxy socks5h://127.0.0.1:1080] [-H 'Name: value']
//! ferrosocket serve 127.0.0.1:8080 [--broadcast] [--tls-cert CERT --tls-key KEY]
//! ```
//!
//! The client is driven like `wscat`: each line of standard input is sent as a text message,
//! each message received is printed on its own line, and the end of input closes with 1000
//! and exits 0. permessage-deflate is offered unless `--no-deflate`. Exit codes are in
//! [`Exit`].

mod client;
mod format;
mod serve;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// What the process exits with, for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The session ended normally: our close handshake, or the server's Close with 1000,
    /// 1001 or no code; `--one-message` got its message.
    Success = 0,
    /// No connection: the address, TCP, TLS, the proxy, or the upgrade was refused (its
    /// status and body are printed).
    ConnectFailed = 1,
    /// The command line was wrong (clap's code for usage errors too).
    Usage = 2,
    /// The connection failed once open: a protocol error (the close code sent is printed),
    /// I/O, a missed deadline, or the end of the transport without a Close.
    ConnectionFailed = 3,
    /// The server closed with an error code (printed with its reason).
    ClosedWithError = 4,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// A WebSocket client and server: wscat-compatible client with permessage-deflate,
/// HTTP/2, HTTP/3, proxies; echo and broadcast server.
#[derive(Debug, Parser)]
#[command(name = "ferrosocket", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    client: Option<ClientArgs>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a server that echoes each message to its sender, or broadcasts it to every client.
    Serve(ServeArgs),
}

/// How messages map to lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Lines are sent as text messages; text received is printed as is, binary as hex.
    Text,
    /// Lines are sent as binary messages; every message received is printed raw.
    Binary,
    /// Lines are base64, sent decoded as binary messages; every message received is
    /// printed base64-encoded.
    Base64,
}

/// The client: connect to URL, send standard input's lines, print what arrives.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The ws:// or wss:// URL to connect to.
    pub url: String,
    /// Adds a request header (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Offers a subprotocol (repeatable, most preferred first).
    #[arg(short = 's', long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,
    /// Sends an Origin header.
    #[arg(short, long)]
    pub origin: Option<String>,
    /// Does not offer permessage-deflate (offered by default).
    #[arg(long)]
    pub no_deflate: bool,
    /// Accepted for wscat compatibility: permessage-deflate is on by default.
    #[arg(long, hide = true)]
    pub deflate: bool,
    /// Trusts the PEM certificates in FILE besides Mozilla's roots (wss://).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Tunnels through a proxy: http://[USER:PASS@]HOST:PORT, socks5://… or socks5h://….
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Takes the proxy from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, as curl does.
    #[arg(long, conflicts_with = "proxy")]
    pub env_proxy: bool,
    /// Connects over HTTP/2 (RFC 8441): h2 by ALPN for wss://, prior knowledge for ws://.
    #[arg(long, conflicts_with = "http3")]
    pub http2: bool,
    /// Connects over HTTP/3 (RFC 9220): QUIC to the URL's port over UDP (wss:// only; no
    /// proxy: HTTP CONNECT and SOCKS5's TCP tunnels cannot carry it).
    #[arg(long, conflicts_with_all = ["proxy", "env_proxy"])]
    pub http3: bool,
    /// How lines and messages map to each other.
    #[arg(long, value_enum, default_value_t = Mode::Text)]
    pub mode: Mode,
    /// Short for --mode binary.
    #[arg(short, long, conflicts_with_all = ["mode", "base64"])]
    pub binary: bool,
    /// Short for --mode base64.
    #[arg(long, conflicts_with = "mode")]
    pub base64: bool,
    /// Sends at most one line, waits for one message, prints it, closes and exits.
    #[arg(short = '1', long)]
    pub one_message: bool,
    /// At the end of input, sends the Close and exits at once, without waiting for the
    /// server's reply or the messages still on their way.
    #[arg(short = 'E', long)]
    pub exit_on_eof: bool,
    /// Shows a progress line on standard error: messages and bytes each way, and the rate.
    #[arg(long)]
    pub progress: bool,
    /// Largest message accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_message_size: usize,
    /// Gives up connecting after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub connect_timeout: u64,
    /// Reports the connection (protocol, subprotocol, extensions) and closes on standard error.
    #[arg(short, long)]
    pub verbose: bool,
}

impl ClientArgs {
    /// The mode, from `--mode` or its shorthands.
    pub fn mode(&self) -> Mode {
        match (self.binary, self.base64) {
            (true, _) => Mode::Binary,
            (_, true) => Mode::Base64,
            _ => self.mode,
        }
    }
}

/// The server: echo or broadcast, ws or wss.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one; the `listening on` line names it).
    #[arg(default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Sends each message to every connected client instead of back to its sender.
    #[arg(long)]
    pub broadcast: bool,
    /// Serves wss:// with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Does not accept permessage-deflate (accepted by default).
    #[arg(long)]
    pub no_deflate: bool,
    /// Selects this subprotocol when a client offers it (repeatable, most preferred first).
    #[arg(short = 's', long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,
    /// Largest message accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_message_size: usize,
    /// Logs connections and closes on standard error.
    #[arg(short, long)]
    pub verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let exit = match (cli.command, cli.client) {
        (Some(Command::Serve(args)), _) => runtime.block_on(serve::run(args)),
        (None, Some(args)) => runtime.block_on(client::run(args)),
        (None, None) => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Exit::Usage
        }
    };
    // Standard input's reader may still be blocked in a read: do not wait for it.
    runtime.shutdown_background();
    exit.into()
}
