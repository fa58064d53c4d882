//! Proxies for the client tests: the real `danted` (Dante, SOCKS5) and `tinyproxy` (HTTP
//! `CONNECT`) from their Debian packages, a small SOCKS5 server of our own that checks
//! credentials and records what it was asked for, and ws/wss echo servers to reach through
//! them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use ferrosocket::client::Connector;
use ferrosocket::ClientRequest;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::pki::TestCa;
use super::process::{find_binary, free_port, Process};

/// A proxy process and its address (`127.0.0.1:port`).
pub struct RealProxy {
    pub address: String,
    _process: Process,
    _dir: TempDir,
}

/// Dante's `danted`, without authentication, allowing every destination; `None` (printed)
/// when it is neither installed nor installable.
pub fn dante() -> Option<RealProxy> {
    let binary = find_binary("danted", "dante-server")?;
    let port = free_port();
    let config = format!(
        "logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: lo\n\
         clientmethod: none\nsocksmethod: none\n\
         client pass {{ from: 0/0 to: 0/0 }}\nsocks pass {{ from: 0/0 to: 0/0 }}\n"
    );
    let dir = TempDir::new("danted");
    let path = dir.write("danted.conf", &config);
    let child = Command::new(binary)
        .args(["-N", "1", "-f", &path, "-p", &dir.path("danted.pid")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting danted");
    Some(RealProxy::listening(port, Process::new(child), dir))
}

/// `tinyproxy` asking for Basic authentication as `user` / `secret`; `None` (printed) when
/// it is neither installed nor installable.
pub fn tinyproxy() -> Option<RealProxy> {
    let binary = find_binary("tinyproxy", "tinyproxy")?;
    let port = free_port();
    let config = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nLogLevel Critical\nBasicAuth user secret\n"
    );
    let dir = TempDir::new("tinyproxy");
    let path = dir.write("tinyproxy.conf", &config);
    let child = Command::new(binary)
        .args(["-d", "-c", &path])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting tinyproxy");
    Some(RealProxy::listening(port, Process::new(child), dir))
}

impl RealProxy {
    fn listening(port: u16, process: Process, dir: TempDir) -> RealProxy {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the proxy did not listen on {port}");
            thread::sleep(Duration::from_millis(20));
        }
        RealProxy {
            address: format!("127.0.0.1:{port}"),
            _process: process,
            _dir: dir,
        }
    }
}

/// A directory of its own under the system's temporary directory, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ferrosocket-{name}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> String {
        self.0.join(file).to_string_lossy().into_owned()
    }

    pub fn write(&self, file: &str, contents: &str) -> String {
        let path = self.path(file);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Our own SOCKS5 server (any number of connections): it asks for `credentials` when given
/// (and refuses others), sends each destination it is asked for to `destinations`
/// (`name host:port` or `address ip:port`), and relays.
pub struct RecordingSocks {
    pub address: String,
    pub destinations: mpsc::Receiver<String>,
}

impl RecordingSocks {
    pub fn start(credentials: Option<(&'static str, &'static str)>) -> RecordingSocks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (sender, destinations) = mpsc::channel();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let sender = sender.clone();
                thread::spawn(move || {
                    let _ = socks_session(client, credentials, &sender);
                });
            }
        });
        RecordingSocks {
            address,
            destinations,
        }
    }
}

fn socks_session(
    mut client: TcpStream,
    credentials: Option<(&str, &str)>,
    destinations: &mpsc::Sender<String>,
) -> std::io::Result<()> {
    let read = |client: &mut TcpStream, n: usize| -> std::io::Result<Vec<u8>> {
        let mut bytes = vec![0; n];
        client.read_exact(&mut bytes)?;
        Ok(bytes)
    };
    let head = read(&mut client, 2)?;
    let methods = read(&mut client, head[1].into())?;
    let wanted_method = if credentials.is_some() { 2 } else { 0 };
    if head[0] != 5 || !methods.contains(&wanted_method) {
        return client.write_all(&[5, 0xff]);
    }
    client.write_all(&[5, wanted_method])?;
    if let Some((username, password)) = credentials {
        let version_and_length = read(&mut client, 2)?;
        let given_username = read(&mut client, version_and_length[1].into())?;
        let length = read(&mut client, 1)?;
        let given_password = read(&mut client, length[0].into())?;
        if given_username != username.as_bytes() || given_password != password.as_bytes() {
            return client.write_all(&[1, 1]);
        }
        client.write_all(&[1, 0])?;
    }
    let request = read(&mut client, 4)?;
    let destination = match request[3] {
        1 => {
            let ip: [u8; 4] = read(&mut client, 4)?.try_into().unwrap();
            format!("address {}", std::net::Ipv4Addr::from(ip))
        }
        4 => {
            let ip: [u8; 16] = read(&mut client, 16)?.try_into().unwrap();
            format!("address [{}]", std::net::Ipv6Addr::from(ip))
        }
        _ => {
            let length = read(&mut client, 1)?;
            format!(
                "name {}",
                String::from_utf8(read(&mut client, length[0].into())?).unwrap()
            )
        }
    };
    let port = u16::from_be_bytes(read(&mut client, 2)?.try_into().unwrap());
    let target = format!("{}:{port}", destination.split_once(' ').unwrap().1);
    let _ = destinations.send(format!("{destination}:{port}"));
    let upstream = match target.to_socket_addrs()?.find_map(|a| TcpStream::connect(a).ok()) {
        Some(upstream) => upstream,
        None => return client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    // The bound address as a name, so that clients read a variable-length reply too.
    client.write_all(&[&[5, 0, 0, 3, 5][..], b"socks", &port.to_be_bytes()].concat())?;
    let (mut up_read, mut up_write) = (upstream.try_clone()?, upstream);
    let (mut down_read, mut down_write) = (client.try_clone()?, client);
    thread::spawn(move || std::io::copy(&mut down_read, &mut up_write));
    std::io::copy(&mut up_read, &mut down_write).map(drop)
}

/// A test CA and the client TLS that trusts only it.
pub struct Pki {
    pub ca: TestCa,
    pub client: Arc<ClientConfig>,
}

impl Pki {
    pub fn new() -> Pki {
        let ca = TestCa::new();
        let mut roots = RootCertStore::empty();
        roots.add(ca.ca.clone()).unwrap();
        let client = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Pki {
            ca,
            client: Arc::new(client),
        }
    }
}

/// Echo servers on one port each, listening on 127.0.0.1 and (where the machine has it)
/// ::1, so that `localhost` reaches them whichever address it resolves to: plain ws and,
/// with `pki`, wss. Their ports.
pub fn echo_servers(pki: &Pki) -> (u16, u16) {
    let server_tls = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(pki.ca.chain.clone(), pki.ca.key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_tls));
    let (ws, wss) = (listeners(), listeners());
    let ports = (
        ws[0].local_addr().unwrap().port(),
        wss[0].local_addr().unwrap().port(),
    );
    thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            for listener in ws {
                tokio::spawn(serve(listener, None));
            }
            for listener in wss {
                tokio::spawn(serve(listener, Some(acceptor.clone())));
            }
            std::future::pending::<()>().await
        });
    });
    ports
}

/// A listener on 127.0.0.1 and, on the same port when it can, one on ::1.
fn listeners() -> Vec<TcpListener> {
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    std::iter::once(v4)
        .chain(TcpListener::bind(("::1", port)).ok())
        .inspect(|listener| listener.set_nonblocking(true).unwrap())
        .collect()
}

async fn serve(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(tls) => {
                    if let Ok(stream) = tls.accept(tcp).await {
                        echo(stream).await;
                    }
                }
                None => echo(tcp).await,
            }
        });
    }
}

async fn echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: S) {
    let Ok(mut ws) = ferrosocket::tokio::accept(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// A connector for `url` that trusts `pki` and gives up after 10 s.
pub fn connector(url: &str, pki: &Pki) -> Connector {
    Connector::new(ClientRequest::new(url).unwrap())
        .tls(pki.client.clone())
        .timeout(Some(Duration::from_secs(10)))
}
