//! Published ports: `-p [hostIP:][hostPort:]containerPort[/tcp|udp]`, with ranges
//! (`8080-8081:80-81`), `-p 80` (a free host port), as docker reads them.

use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortMap {
    /// None: every address of the host.
    pub host_ip: Option<Ipv4Addr>,
    /// 0: a free port is chosen when the container starts.
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

fn range(s: &str, what: &str, spec: &str) -> Result<(u16, u16), String> {
    let bad = || format!("invalid -p {spec:?}: bad {what} {s:?}");
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// One `-p` value, as one mapping a port.
pub fn parse(spec: &str) -> Result<Vec<PortMap>, String> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, "tcp")) => (r, Proto::Tcp),
        Some((r, "udp")) => (r, Proto::Udp),
        Some((_, p)) => return Err(format!("invalid -p {spec:?}: unknown protocol {p:?}")),
        None => (spec, Proto::Tcp),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, cont) = match parts[..] {
        [c] => (None, None, c),
        [h, c] => (None, Some(h), c),
        [i, h, c] => (Some(i), Some(h), c),
        _ => {
            return Err(format!(
                "invalid -p {spec:?}: expected [hostIP:][hostPort:]containerPort[/tcp|udp]"
            ))
        }
    };
    let host_ip = match ip {
        None | Some("") | Some("0.0.0.0") => None,
        Some(i) => Some(
            i.parse::<Ipv4Addr>()
                .map_err(|_| format!("invalid -p {spec:?}: bad host address {i:?}"))?,
        ),
    };
    let (c0, c1) = range(cont, "container port", spec)?;
    let hosts = match host {
        None | Some("") => None,
        Some(h) => Some(range(h, "host port", spec)?),
    };
    if let Some((h0, h1)) = hosts {
        if h1 - h0 != c1 - c0 {
            return Err(format!(
                "invalid -p {spec:?}: the host and container ranges differ in size"
            ));
        }
    }
    Ok((c0..=c1)
        .enumerate()
        .map(|(i, c)| PortMap {
            host_ip,
            host_port: hosts.map(|(h0, _)| h0 + i as u16).unwrap_or(0),
            container_port: c,
            proto,
        })
        .collect())
}

/// `-P`: the image's ExposedPorts (`80/tcp`), each on a free host port.
pub fn exposed(keys: &[String]) -> Vec<PortMap> {
    keys.iter()
        .filter_map(|k| parse(k).ok())
        .flatten()
        .map(|mut p| {
            p.host_port = 0;
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_forms() {
        let p = parse("8080:80").unwrap();
        assert_eq!(p[0].host_port, 8080);
        assert_eq!(p[0].container_port, 80);
        assert_eq!(p[0].proto, Proto::Tcp);
        let p = parse("127.0.0.1:5353:53/udp").unwrap();
        assert_eq!(p[0].host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p[0].proto, Proto::Udp);
        assert_eq!(parse("80").unwrap()[0].host_port, 0);
        let p = parse("9000-9002:80-82").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!((p[2].host_port, p[2].container_port), (9002, 82));
        for bad in [
            "",
            "x",
            "0:80",
            "80:0",
            "1-2:80",
            "8080:80/sctp",
            "a:1:2",
            "1.2.3:80:80",
            "70000:80",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
