//! The proxy from the environment, read the way curl reads it: `https_proxy` for `wss://`,
//! `http_proxy` for `ws://`, `all_proxy` for both, each lowercase first and then uppercase
//! (`HTTP_PROXY` is skipped inside a CGI request, where a client's `Proxy:` header would set
//! it: "httpoxy"), and `no_proxy` to go direct.

use std::net::IpAddr;

use super::Proxy;
use crate::handshake::split_host_port;
use crate::{ClientRequest, ProxyError};

/// The proxy for `request` from the variables `var` reads (`std::env::var` in use, a map in
/// tests): `None` to connect directly.
pub(crate) fn proxy_from_env(
    request: &ClientRequest,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| var(name).filter(|value| !value.trim().is_empty()))
    };
    if let Some(list) = first(&["no_proxy", "NO_PROXY"]) {
        if bypasses(&list, request.host(), request.port()) {
            return Ok(None);
        }
    }
    let own: &[&str] = match (request.is_secure(), var("REQUEST_METHOD").is_some()) {
        (true, _) => &["https_proxy", "HTTPS_PROXY"],
        (false, true) => &["http_proxy"],
        (false, false) => &["http_proxy", "HTTP_PROXY"],
    };
    first(own)
        .or_else(|| first(&["all_proxy", "ALL_PROXY"]))
        .map(|url| Proxy::from_url(&url))
        .transpose()
}

/// Whether `no_proxy`'s `list` (entries split by commas or spaces) names `host`: `*` names
/// every host; a domain names itself and its subdomains (a leading `.` or `*.` changes
/// nothing); an address or a CIDR block names the addresses in it; `entry:port` only that port.
fn bypasses(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let address = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((network, bits)) = entry.split_once('/') {
                return match (address, network.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Some(address), Ok(network), Ok(bits)) => in_block(address, network, bits),
                    _ => false,
                };
            }
            let (pattern, wanted_port) = match entry.parse::<IpAddr>() {
                Ok(_) => (entry, None),
                Err(_) => split_host_port(entry).unwrap_or((entry, None)),
            };
            if wanted_port.is_some_and(|wanted| wanted != port) {
                return false;
            }
            if let Ok(pattern) = pattern.parse::<IpAddr>() {
                return address == Some(pattern);
            }
            let domain = pattern
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.');
            let domain = domain.to_ascii_lowercase();
            !domain.is_empty()
                && (host == domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.')))
        })
}

/// Whether `address` lies in `network/bits` (both of one family).
fn in_block(address: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (address, network, width) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = u32::from(width - bits);
    shift >= 128 || (address >> shift) == (network >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(url: &str, vars: &[(&str, &str)]) -> Result<Option<Proxy>, ProxyError> {
        let request = ClientRequest::new(url).unwrap();
        proxy_from_env(&request, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_scheme_picks_the_variable_and_all_proxy_is_the_fallback() {
        let vars = [
            ("https_proxy", "socks5h://s:1080"),
            ("HTTP_PROXY", "http://h:3128"),
            ("ALL_PROXY", "socks5://a:9"),
        ];
        assert_eq!(proxy("wss://x/", &vars).unwrap(), Some(Proxy::socks5h("s:1080")));
        assert_eq!(proxy("ws://x/", &vars).unwrap(), Some(Proxy::http("h:3128")));
        assert_eq!(proxy("ws://x/", &vars[2..]).unwrap(), Some(Proxy::socks5("a:9")));
        assert_eq!(proxy("ws://x/", &[]).unwrap(), None);
        let lower_first = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
        ];
        assert_eq!(
            proxy("wss://x/", &lower_first).unwrap(),
            Some(Proxy::http("lower:1"))
        );
        let empty = [("https_proxy", " "), ("all_proxy", "http://all:1")];
        assert_eq!(proxy("wss://x/", &empty).unwrap(), Some(Proxy::http("all:1")));
    }

    #[test]
    fn http_proxy_in_upper_case_is_ignored_inside_a_cgi_request() {
        let vars = [("HTTP_PROXY", "http://attacker:1"), ("REQUEST_METHOD", "GET")];
        assert_eq!(proxy("ws://x/", &vars).unwrap(), None);
    }

    #[test]
    fn a_bad_proxy_url_is_an_error_not_a_direct_connection() {
        assert_eq!(
            proxy("ws://x/", &[("http_proxy", "socks4://p:1")]),
            Err(ProxyError::UnsupportedScheme("socks4".into()))
        );
    }

    #[test]
    fn no_proxy_matches_as_curl_does() {
        let via = [("all_proxy", "http://p:1")];
        let bypassed = |url: &str, list: &str| {
            let vars = [via[0], ("NO_PROXY", list)];
            proxy(url, &vars).unwrap().is_none()
        };
        assert!(bypassed("ws://example.com/", "example.com"));
        assert!(bypassed("ws://api.Example.com/", ".example.com"));
        assert!(bypassed("ws://api.example.com/", "other.org, example.com"));
        assert!(bypassed("ws://api.example.com/", "*.example.com"));
        assert!(
            !bypassed("ws://badexample.com/", "example.com"),
            "a suffix is not a subdomain"
        );
        assert!(bypassed("ws://anything/", "*"));
        assert!(bypassed("ws://10.1.2.3/", "10.0.0.0/8"));
        assert!(!bypassed("ws://11.1.2.3/", "10.0.0.0/8"));
        assert!(bypassed("ws://[::1]/", "::1"));
        assert!(bypassed("ws://[fd00::5]/", "fd00::/8"));
        assert!(!bypassed("ws://[::1]/", "127.0.0.1"));
        assert!(bypassed("ws://localhost:8080/", "localhost:8080"));
        assert!(!bypassed("ws://localhost:9090/", "localhost:8080"));
        assert!(!bypassed("ws://example.com/", ""));
        assert!(bypassed("ws://0.0.0.0/", "0.0.0.0/0"));
    }
}
