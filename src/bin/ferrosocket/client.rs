//! The client: connect (TCP with an optional proxy, HTTP/2 or HTTP/3), then send standard
//! input's lines and print what arrives until one side ends the session.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use ferrosocket::client::{Connector, Proxy};
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::stream::{AsyncTransport, WebSocketReceiver, WebSocketStream};
use ferrosocket::tls::rustls::pki_types::ServerName;
use ferrosocket::tls::ClientTls;
use ferrosocket::{ClientRequest, CloseCode, CloseFrame, Config, Error, HandshakeError, Message, Response};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};

use crate::format::{line_from_message, message_from_line, Progress, Stats};
use crate::{tls, ClientArgs, Exit};

/// How long the close handshake may take once we sent our Close.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

pub async fn run(args: ClientArgs) -> Exit {
    let (request, config) = match request_and_config(&args) {
        Ok(setup) => setup,
        Err(why) => {
            eprintln!("error: {why}");
            return Exit::Usage;
        }
    };
    let timeout = Duration::from_secs(args.connect_timeout);
    let connected = if args.http3 {
        over_http3(&args, request, config, timeout).await
    } else if args.http2 {
        over_http2(&args, request, config, timeout).await
    } else {
        over_tcp(&args, request, config, timeout).await
    };
    match connected {
        Ok(exit) => exit,
        Err(Failure::Usage(why)) => {
            eprintln!("error: {why}");
            Exit::Usage
        }
        Err(Failure::Connect(error)) => {
            report_connect_error(&error);
            Exit::ConnectFailed
        }
    }
}

/// Why no session started.
enum Failure {
    Usage(String),
    Connect(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Connect(error)
    }
}

impl From<tls::CertificateError> for Failure {
    fn from(error: tls::CertificateError) -> Failure {
        Failure::Usage(error.0)
    }
}

fn request_and_config(args: &ClientArgs) -> Result<(ClientRequest, Config), String> {
    let mut request = ClientRequest::new(&args.url).map_err(|e| e.to_string())?;
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("header {header:?} is not 'Name: value'"))?;
        request = request.header(name.trim(), value.trim());
    }
    for protocol in &args.subprotocols {
        request = request.protocol(protocol.clone());
    }
    if let Some(origin) = &args.origin {
        request = request.origin(origin.clone());
    }
    let mut config = Config::default().max_message_size(args.max_message_size);
    if !args.no_deflate {
        config = config.permessage_deflate(DeflateConfig::default());
    }
    Ok((request, config))
}

async fn over_tcp(
    args: &ClientArgs,
    request: ClientRequest,
    config: Config,
    timeout: Duration,
) -> Result<Exit, Failure> {
    let connector = Connector::new(request)
        .config(config)
        .timeout(Some(timeout))
        .tls(tls::client_config(args.ca.as_deref(), &[])?);
    let (ws, response) = with_proxy(connector, args)?.connect().await?;
    Ok(session(ws, &response, "HTTP/1.1", args).await)
}

/// `connector` through `--proxy`, or the environment's proxy with `--env-proxy`.
fn with_proxy(connector: Connector, args: &ClientArgs) -> Result<Connector, Failure> {
    Ok(if let Some(url) = &args.proxy {
        let proxy = Proxy::from_url(url).map_err(|e| Failure::Usage(format!("--proxy {url}: {e}")))?;
        connector.via(proxy)
    } else if args.env_proxy {
        connector.proxy_from_env()
    } else {
        connector
    })
}

async fn over_http2(
    args: &ClientArgs,
    request: ClientRequest,
    config: Config,
    timeout: Duration,
) -> Result<Exit, Failure> {
    let tls = tls::client_config(args.ca.as_deref(), &[b"h2"])?;
    // The TCP connection, through the proxy if one is set; the connector does the rest for
    // HTTP/1.1 only.
    let dialer = with_proxy(Connector::new(request.clone()), args)?;
    let connecting = async {
        let tcp = dialer.dial().await?;
        if !request.is_secure() {
            return http2_handshake(tcp, &request, config).await; // h2c, prior knowledge
        }
        let name = ServerName::try_from(request.host().to_owned())
            .map_err(|_| ferrosocket::TlsError::InvalidServerName(request.host().to_owned()))?;
        let tls = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            let refused = std::io::Error::other("the server did not agree to HTTP/2 (ALPN h2)");
            return Err(refused.into());
        }
        http2_handshake(tls, &request, config).await
    };
    let (ws, response) = tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| timed_out())??;
    Ok(session(ws, &response, "HTTP/2", args).await)
}

/// HTTP/2 over `io`, then the extended CONNECT (RFC 8441).
async fn http2_handshake<S>(
    io: S,
    request: &ClientRequest,
    config: Config,
) -> ferrosocket::Result<(ferrosocket::hyper::WebSocket, Response)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake::<_, String>(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    ferrosocket::hyper::connect_http2(&mut sender, request, config).await
}

async fn over_http3(
    args: &ClientArgs,
    request: ClientRequest,
    config: Config,
    timeout: Duration,
) -> Result<Exit, Failure> {
    if !request.is_secure() {
        return Err(Failure::Usage(
            "--http3 needs a wss:// URL (QUIC is always encrypted)".into(),
        ));
    }
    let tls = ClientTls::Rustls(tls::client_config(args.ca.as_deref(), &[])?);
    let config = config.handshake_timeout(timeout);
    let (ws, response) = ferrosocket::http3::connect_with(request, config, Some(tls)).await?;
    Ok(session(ws, &response, "HTTP/3", args).await)
}

fn timed_out() -> Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting timed out").into()
}

fn report_connect_error(error: &Error) {
    match error {
        Error::Handshake(HandshakeError::Rejected(response)) => {
            eprintln!(
                "error: the upgrade was refused: {} {}",
                response.status, response.reason
            );
            if !response.body.is_empty() {
                eprintln!("{}", String::from_utf8_lossy(&response.body));
            }
        }
        error => {
            // The causes too: "http2 error" alone says little.
            let mut line = format!("error: {error}");
            let mut cause = std::error::Error::source(error);
            while let Some(inner) = cause {
                line.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            eprintln!("{line}");
        }
    }
}

/// How the reading side ended.
enum Ended<T> {
    /// The peer's Close (1006 when the transport ended without one).
    Closed(CloseFrame),
    /// The connection failed.
    Failed(Error),
    /// `--one-message` got its message; the receiver, to finish the close handshake.
    GotOne(Box<WebSocketReceiver<T>>),
}

/// Sends standard input's lines and prints what arrives, over any transport.
async fn session<T>(ws: WebSocketStream<T>, response: &Response, over: &str, args: &ClientArgs) -> Exit
where
    T: AsyncTransport + Send + 'static,
{
    if args.verbose {
        let extensions = response.headers.get("sec-websocket-extensions").unwrap_or("none");
        let protocol = response.protocol().unwrap_or("none");
        eprintln!("connected over {over}: subprotocol {protocol}, extensions {extensions}");
    }
    let mode = args.mode();
    let stats = Arc::new(Stats::default());
    let progress = args.progress.then(|| Progress::start(stats.clone()));
    let (mut sender, mut receiver) = ws.into_split();
    let received = stats.clone();
    let one_message = args.one_message;
    let mut printer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        while let Some(message) = receiver.next().await {
            let message = match message {
                Ok(Message::Close(frame)) => {
                    return Ended::Closed(frame.unwrap_or_else(|| CloseFrame::new(CloseCode::NO_STATUS, "")))
                }
                Ok(message) => message,
                Err(error) => return Ended::Failed(error),
            };
            let Some(line) = line_from_message(mode, &message) else {
                continue;
            };
            received.received(&message);
            let printed = out
                .write_all(&line)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            if let Err(error) = printed {
                return Ended::Failed(error.into()); // stdout closed: nobody is listening
            }
            if one_message {
                return Ended::GotOne(Box::new(receiver));
            }
        }
        Ended::Closed(CloseFrame::new(CloseCode::ABNORMAL, ""))
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut reading = true;
    let ended = loop {
        tokio::select! {
            ended = &mut printer => break ended.expect("the printer does not panic"),
            line = lines.next_line(), if reading => match line {
                Ok(Some(line)) => {
                    let message = match message_from_line(mode, line) {
                        Ok(message) => message,
                        Err(bad) => {
                            eprintln!("error: a line is not base64 ({}); skipped", bad.0);
                            continue;
                        }
                    };
                    stats.sent(&message);
                    // A send fails once the connection ended: the printer reports why.
                    let sent = sender.send(message).await.is_ok();
                    reading = sent && !one_message;
                }
                Ok(None) | Err(_) if one_message => reading = false,
                Ok(None) | Err(_) => {
                    let _ = sender.close(CloseCode::NORMAL, "").await;
                    if args.exit_on_eof {
                        drop(progress);
                        return Exit::Success;
                    }
                    match tokio::time::timeout(CLOSE_WAIT, &mut printer).await {
                        Ok(ended) => break ended.expect("the printer does not panic"),
                        Err(_) => {
                            eprintln!("error: the server did not answer our Close within {CLOSE_WAIT:?}");
                            return Exit::ConnectionFailed;
                        }
                    }
                }
            },
        }
    };
    drop(progress);
    match ended {
        Ended::GotOne(mut receiver) => {
            let deadline = tokio::time::sleep(CLOSE_WAIT);
            let _ = receiver.close_within(CloseCode::NORMAL, "", deadline).await;
            Exit::Success
        }
        Ended::Closed(frame) => closed(&frame, args.verbose),
        Ended::Failed(error) => {
            match error.close_code() {
                Some(code) if !matches!(error, Error::Failed(_)) => {
                    eprintln!("error: {error} (closed the connection with {})", code.0)
                }
                _ => eprintln!("error: {error}"),
            }
            Exit::ConnectionFailed
        }
    }
}

/// The exit for the Close that ended the session.
fn closed(frame: &CloseFrame, verbose: bool) -> Exit {
    match frame.code {
        CloseCode::NORMAL | CloseCode::GOING_AWAY | CloseCode::NO_STATUS => {
            if verbose {
                eprintln!("closed: {} {}", frame.code.0, frame.reason);
            }
            Exit::Success
        }
        CloseCode::ABNORMAL => {
            eprintln!("error: the connection ended without a close handshake (1006)");
            Exit::ConnectionFailed
        }
        code => {
            eprintln!("closed by the server: {} {}", code.0, frame.reason);
            Exit::ClosedWithError
        }
    }
}
