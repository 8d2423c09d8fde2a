//! Which proxy a request to a registry goes through, picked from the environment as Go's
//! net/http picks it for docker and podman (golang.org/x/net/http/httpproxy):
//! `HTTPS_PROXY` for https, `HTTP_PROXY` for plain http (either spelled in lower case),
//! none for `localhost` and loopback addresses, and none for a host `NO_PROXY` names:
//! `*`, a name (itself and its subdomains), `.name` or `*.name` (subdomains only), an IP
//! address or a CIDR block, each with an optional `:port`. (ureq's own
//! `try_proxy_from_env` takes the first of ALL_PROXY, HTTPS_PROXY and HTTP_PROXY for
//! every request and knows no NO_PROXY.)

use std::net::IpAddr;

/// The proxy URL for `scheme://host[:port]`, if any.
pub(crate) fn from_env(scheme: &str, host: &str) -> Option<String> {
    pick(scheme, host, |k| {
        std::env::var(k).ok().filter(|v| !v.is_empty())
    })
}

fn pick(scheme: &str, host: &str, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let proxy = match scheme {
        "https" => var("HTTPS_PROXY").or_else(|| var("https_proxy")),
        _ => var("HTTP_PROXY").or_else(|| var("http_proxy")),
    }?;
    let (name, port) = split_host(host);
    let name = name.to_ascii_lowercase();
    let ip = name.parse::<IpAddr>().ok();
    if name == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return None;
    }
    let no_proxy = var("NO_PROXY")
        .or_else(|| var("no_proxy"))
        .unwrap_or_default();
    let bypassed = no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| matches(entry, &name, ip, port));
    (!bypassed).then_some(proxy)
}

fn matches(entry: &str, name: &str, ip: Option<IpAddr>, port: Option<&str>) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        let (Ok(net), Ok(bits), Some(ip)) = (net.parse::<IpAddr>(), bits.parse::<u32>(), ip) else {
            return false;
        };
        return in_block(ip, net, bits);
    }
    let (e_name, e_port) = split_host(entry);
    if e_port.is_some_and(|p| Some(p) != port) {
        return false;
    }
    let e_name = e_name.to_ascii_lowercase();
    if let Ok(e_ip) = e_name.parse::<IpAddr>() {
        return ip == Some(e_ip);
    }
    match e_name
        .strip_prefix("*.")
        .or_else(|| e_name.strip_prefix('.'))
    {
        Some(domain) => name.ends_with(&format!(".{domain}")),
        None => name == e_name || name.ends_with(&format!(".{e_name}")),
    }
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// `name:port`, `[v6]:port`, `name` -> (name, port).
fn split_host(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, tail)) => (name, tail.strip_prefix(':')),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_scheme_picks_the_variable_and_loopback_is_never_proxied() {
        let env = [("HTTPS_PROXY", "http://p:1"), ("http_proxy", "http://q:2")];
        assert_eq!(
            pick("https", "reg.example:5000", with(&env)).as_deref(),
            Some("http://p:1")
        );
        assert_eq!(
            pick("http", "reg.example", with(&env)).as_deref(),
            Some("http://q:2")
        );
        for host in [
            "127.0.0.1:5000",
            "localhost",
            "LOCALHOST:1",
            "[::1]:5000",
            "127.3.4.5",
        ] {
            assert_eq!(pick("https", host, with(&env)), None, "{host}");
        }
        assert_eq!(pick("https", "reg.example", with(&[])), None);
    }

    #[test]
    fn no_proxy_names_hosts_domains_addresses_blocks_and_ports() {
        let env = |no: &'static str| [("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)];
        let bypassed = |no: &'static str, host: &str| pick("https", host, with(&env(no))).is_none();
        assert!(bypassed("*", "anything.example"));
        assert!(bypassed("example.com", "example.com:443"));
        assert!(bypassed("example.com", "reg.example.com"));
        assert!(!bypassed("example.com", "notexample.com"));
        assert!(bypassed(".example.com", "reg.example.com"));
        assert!(!bypassed(".example.com", "example.com"));
        assert!(bypassed("*.example.com", "a.b.example.com"));
        assert!(bypassed("other, 10.0.0.0/8", "10.1.2.3:5000"));
        assert!(!bypassed("10.0.0.0/8", "11.1.2.3"));
        assert!(bypassed("192.0.2.7", "192.0.2.7:5000"));
        assert!(bypassed("reg.example:5000", "reg.example:5000"));
        assert!(!bypassed("reg.example:5000", "reg.example:6000"));
        assert!(bypassed("fd00::/8", "[fd00::1]:5000"));
        assert!(!bypassed("", "reg.example"));
    }
}
