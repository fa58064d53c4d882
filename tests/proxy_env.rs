//! `Connector::proxy_from_env` with the process's real environment, on every connector. A
//! test binary of its own with one test: it sets environment variables, which no other
//! thread may read meanwhile.

mod util;

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use ferrosocket::{Error, ProxyError};
use util::proxies::{connector, echo_servers, Pki, RecordingSocks};

#[test]
fn the_environment_picks_the_proxy_and_no_proxy_goes_direct() {
    let pki = Pki::new();
    let (ws, wss) = echo_servers(&pki);
    let for_ws = RecordingSocks::start(None);
    let for_wss = RecordingSocks::start(None);
    for name in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("ALL_PROXY", format!("socks5h://{}", for_ws.address));
    std::env::set_var("HTTPS_PROXY", format!("socks5h://{}", for_wss.address));

    let through = |url: &str, socks: &RecordingSocks| {
        let connected = connect_everywhere(url, &pki);
        assert!(connected.iter().all(Result::is_ok), "{url}: {connected:?}");
        for _ in &connected {
            let sent = socks.destinations.recv_timeout(Duration::from_secs(5)).unwrap();
            assert!(url.contains(sent.trim_start_matches("name ")), "{sent} for {url}");
        }
    };
    through(&format!("ws://localhost:{ws}/"), &for_ws);
    through(&format!("wss://localhost:{wss}/"), &for_wss);

    // NO_PROXY by domain: straight to the server, the proxies see nothing.
    std::env::set_var("NO_PROXY", "example.org, .localhost");
    let direct = connect_everywhere(&format!("wss://localhost:{wss}/"), &pki);
    assert!(direct.iter().all(Result::is_ok), "{direct:?}");
    // By address block.
    std::env::set_var("NO_PROXY", "127.0.0.0/8");
    let direct = connect_everywhere(&format!("ws://127.0.0.1:{ws}/"), &pki);
    assert!(direct.iter().all(Result::is_ok), "{direct:?}");
    for socks in [&for_ws, &for_wss] {
        let unused = socks.destinations.recv_timeout(Duration::from_millis(200));
        assert_eq!(unused, Err(RecvTimeoutError::Timeout));
    }

    // A proxy URL that cannot be used fails the connection; it does not go direct.
    std::env::remove_var("NO_PROXY");
    std::env::set_var("HTTPS_PROXY", "socks4://127.0.0.1:1");
    for result in connect_everywhere(&format!("wss://localhost:{wss}/"), &pki) {
        assert!(
            matches!(&result, Err(Error::Proxy(ProxyError::UnsupportedScheme(s))) if s == "socks4"),
            "{result:?}"
        );
    }
}

/// Connects to `url` with `proxy_from_env` on every runtime, and closes.
fn connect_everywhere(url: &str, pki: &Pki) -> Vec<Result<(), Error>> {
    let with_env = || connector(url, pki).proxy_from_env();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut results = vec![
        tokio.block_on(async { with_env().connect().await.map(drop) }),
        smol::block_on(async { with_env().connect_smol().await.map(drop) }),
        async_std::task::block_on(async { with_env().connect_async_std().await.map(drop) }),
        with_env().connect_blocking().map(drop),
    ];
    #[cfg(feature = "compio")]
    results.push(
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { with_env().connect_compio().await.map(drop) }),
    );
    results
}
