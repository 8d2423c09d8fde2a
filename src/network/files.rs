//! A container's /etc/resolv.conf and /etc/hosts: files in its data directory, bind-mounted
//! over the image's. hosts is rewritten in place (the bind mount keeps the inode) whenever a
//! container joins or leaves its network, as nerdctl does: every container on a user network
//! finds every other one, and its aliases, by name. A container on several networks
//! (`network connect`) keeps each network's peers in `hosts.d/<network>`; its hosts file is
//! its own lines and all of those.

use super::ipam::Lease;
use crate::error::{IoContext, Result};
use std::net::Ipv4Addr;
use std::path::Path;

pub const HOSTS: &str = "hosts";
/// This container's own lines of its hosts file (its name and `--add-host`s).
const HOSTS_OWN: &str = "hosts.own";
/// One file a network the container is on: that network's peers.
const HOSTS_PEERS: &str = "hosts.d";
pub const RESOLV: &str = "resolv.conf";

const HEADER: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// Docker's fallback when the host has nothing but loopback resolvers (a systemd-resolved
/// stub, a local dnsmasq), which a container cannot reach.
const FALLBACK_DNS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// resolv.conf from the host's (its loopback name servers dropped) or `dns`, `search`.
pub fn resolv_conf(host: &str, dns: &[String], search: &[String]) -> String {
    let mut servers: Vec<String> = Vec::new();
    let mut searches: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(s) = words.next() {
                    let loopback = s
                        .parse::<std::net::IpAddr>()
                        .map(|ip| ip.is_loopback())
                        .unwrap_or(false);
                    if !loopback {
                        servers.push(s.to_string());
                    }
                }
            }
            Some("search") | Some("domain") => searches.extend(words.map(str::to_string)),
            Some("options") => options.extend(words.map(str::to_string)),
            _ => {}
        }
    }
    if !dns.is_empty() {
        servers = dns.to_vec();
    } else if servers.is_empty() {
        servers = FALLBACK_DNS.iter().map(|s| s.to_string()).collect();
    }
    if !search.is_empty() {
        searches = search.to_vec();
    }
    let mut out = String::new();
    if !searches.is_empty() {
        out.push_str(&format!("search {}\n", searches.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Write the container's network files into `data` before its init mounts them.
pub fn write(
    data: &Path,
    resolv: &str,
    own: Option<(Ipv4Addr, &str)>,
    add_hosts: &[(String, String)],
) -> Result<()> {
    let mut lines = String::new();
    if let Some((ip, hostname)) = own {
        lines.push_str(&format!("{ip}\t{hostname}\n"));
    }
    for (host, ip) in add_hosts {
        lines.push_str(&format!("{ip}\t{host}\n"));
    }
    let p = data.join(HOSTS_OWN);
    std::fs::write(&p, &lines).ctx("write", &p)?;
    // A new run starts on its own network only: peers of earlier runs' networks go. Best
    // effort, file by file: containers joining this run's network write its file here
    // meanwhile (and `ipam::refresh` writes it again after this).
    for e in std::fs::read_dir(data.join(HOSTS_PEERS))
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::remove_file(e.path());
    }
    let p = data.join(HOSTS);
    std::fs::write(&p, format!("{HEADER}{lines}")).ctx("write", &p)?;
    let p = data.join(RESOLV);
    std::fs::write(&p, resolv).ctx("write", &p)
}

/// The files of a container on `--network host`, as docker makes them: the host's
/// /etc/hosts and /etc/resolv.conf as they are (its resolvers are reachable from there,
/// loopback ones included), then `--add-host` lines. Copies in `data`: the container may
/// change its own, never the host's.
pub fn write_host(data: &Path, add_hosts: &[(String, String)]) -> Result<()> {
    let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_else(|_| HEADER.to_string());
    if !hosts.is_empty() && !hosts.ends_with('\n') {
        hosts.push('\n');
    }
    for (host, ip) in add_hosts {
        hosts.push_str(&format!("{ip}\t{host}\n"));
    }
    let p = data.join(HOSTS);
    std::fs::write(&p, hosts).ctx("write", &p)?;
    let resolv = std::fs::read("/etc/resolv.conf").unwrap_or_default();
    let p = data.join(RESOLV);
    std::fs::write(&p, resolv).ctx("write", &p)
}

/// Rewrite the hosts file of every container holding a lease on `network`: its own lines,
/// then every container of each of its networks by name and alias. Best effort: a
/// container being removed may lose its directory meanwhile.
pub fn refresh_hosts(containers: &Path, network: &str, leases: &[Lease]) {
    let mut peers = String::new();
    for l in leases {
        let mut names = vec![l.name.clone()];
        names.extend(l.aliases.iter().cloned());
        peers.push_str(&format!("{}\t{}\n", l.ip, names.join(" ")));
    }
    for l in leases {
        let dir = containers.join(&l.id);
        let d = dir.join(HOSTS_PEERS);
        if crate::private_dirs::create(&d).is_err()
            || std::fs::write(d.join(network), &peers).is_err()
        {
            continue;
        }
        compose_hosts(&dir);
    }
}

/// The container whose data directory is `dir` left `network`: its peers there go.
pub fn forget_network(dir: &Path, network: &str) {
    let _ = std::fs::remove_file(dir.join(HOSTS_PEERS).join(network));
    compose_hosts(dir);
}

/// hosts = the header, the container's own lines, the peers of each of its networks.
fn compose_hosts(dir: &Path) {
    let Ok(own) = std::fs::read_to_string(dir.join(HOSTS_OWN)) else {
        return;
    };
    let mut text = format!("{HEADER}{own}");
    if let Ok(rd) = std::fs::read_dir(dir.join(HOSTS_PEERS)) {
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            text.push_str(&std::fs::read_to_string(f).unwrap_or_default());
        }
    }
    // In place: the container sees its hosts file through a bind mount of this inode.
    let _ = std::fs::write(dir.join(HOSTS), text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_replaced() {
        let host = "nameserver 127.0.0.53\noptions edns0\nsearch lan\n";
        let r = resolv_conf(host, &[], &[]);
        assert_eq!(
            r,
            "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0\n"
        );
        let r = resolv_conf(
            "nameserver 192.0.2.53\n",
            &["198.51.100.1".into()],
            &["x".into()],
        );
        assert_eq!(r, "search x\nnameserver 198.51.100.1\n");
        assert_eq!(
            resolv_conf("nameserver 192.0.2.53\n", &[], &[]),
            "nameserver 192.0.2.53\n"
        );
    }
}
