//! Outbound NAT, published ports and internal networks in nftables: a table of mdrun's own,
//! `inet mdrun`, made once, whose rules never change; networks and ports are elements of
//! its sets and maps. A network adds its subnet (masquerade) and bridge; a container adds
//! its ports (`create element`: a port another container holds is refused atomically) and
//! removes exactly them. Each change is one `nft -f -` batch (see BENCHMARKS.md for its cost).

use super::def::Network;
use super::ports::{PortMap, Proto};
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

const TABLE: &str = "\
create table inet mdrun
add set inet mdrun nat_nets { type ipv4_addr; flags interval; }
add set inet mdrun bridges { type ifname; }
add set inet mdrun internal { type ifname; }
add map inet mdrun tcp_ports { type inet_service : ipv4_addr . inet_service; }
add map inet mdrun udp_ports { type inet_service : ipv4_addr . inet_service; }
add map inet mdrun tcp_addr_ports { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
add map inet mdrun udp_addr_ports { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
add chain inet mdrun ports
add rule inet mdrun ports dnat ip to ip daddr . tcp dport map @tcp_addr_ports
add rule inet mdrun ports dnat ip to tcp dport map @tcp_ports
add rule inet mdrun ports dnat ip to ip daddr . udp dport map @udp_addr_ports
add rule inet mdrun ports dnat ip to udp dport map @udp_ports
add chain inet mdrun prerouting { type nat hook prerouting priority dstnat; policy accept; }
add rule inet mdrun prerouting fib daddr type local jump ports
add chain inet mdrun output { type nat hook output priority -100; policy accept; }
add rule inet mdrun output fib daddr type local jump ports
add chain inet mdrun postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule inet mdrun postrouting ip saddr @nat_nets oifname != @bridges masquerade
add rule inet mdrun postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade
add chain inet mdrun forward { type filter hook forward priority filter; policy accept; }
add rule inet mdrun forward iifname @internal drop
add rule inet mdrun forward oifname @internal drop
";

/// Run one nft batch; its first error line on failure.
pub fn nft(script: &str) -> Result<(), String> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run nft: {e}"))?;
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|e| format!("wait for nft: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("Error"))
        .or(err.lines().next())
        .unwrap_or("failed");
    Err(line.trim().to_string())
}

fn network_elements(net: &Network, verb: &str) -> String {
    let mut s = format!(
        "{verb} element inet mdrun bridges {{ \"{}\" }}\n",
        net.bridge
    );
    if net.internal {
        s.push_str(&format!(
            "{verb} element inet mdrun internal {{ \"{}\" }}\n",
            net.bridge
        ));
    } else {
        s.push_str(&format!(
            "{verb} element inet mdrun nat_nets {{ {} }}\n",
            net.subnet
        ));
    }
    s
}

/// Once per network, when its bridge is made: the table (when this namespace has none yet)
/// and the network's elements.
pub fn add_network(net: &Network) -> Result<(), String> {
    let elements = network_elements(net, "add");
    match nft(&format!("{TABLE}{elements}")) {
        Ok(()) => Ok(()),
        Err(e) if e.contains("File exists") => nft(&elements),
        Err(e) => Err(e),
    }
}

/// When a network is removed: its elements (best effort: they may be gone already).
pub fn remove_network(net: &Network) {
    let _ = nft(&network_elements(net, "delete"));
}

/// The map a published port goes in, and its element (`key : address . port`).
fn port_element(p: &PortMap, ip: Ipv4Addr) -> (String, String) {
    let proto = p.proto.name();
    let (map, key) = match p.host_ip {
        Some(h) => (
            format!("{proto}_addr_ports"),
            format!("{h} . {}", p.host_port),
        ),
        None => (format!("{proto}_ports"), p.host_port.to_string()),
    };
    (map, format!("{key} : {ip} . {}", p.container_port))
}

/// Publish `ports` (host ports already chosen) to container address `ip`, all or none.
pub fn publish(ports: &[PortMap], ip: Ipv4Addr) -> Result<(), String> {
    if ports.is_empty() {
        return Ok(());
    }
    let mut script = String::new();
    for p in ports {
        let (map, elem) = port_element(p, ip);
        script.push_str(&format!("create element inet mdrun {map} {{ {elem} }}\n"));
    }
    nft(&script).map_err(|e| {
        if e.contains("File exists") {
            "a host port is already published by another container".to_string()
        } else {
            e
        }
    })
}

/// Remove exactly the elements `publish` added (best effort: each on its own).
pub fn unpublish(ports: &[PortMap]) {
    for p in ports {
        let (map, elem) = port_element(p, Ipv4Addr::UNSPECIFIED);
        let key = elem.split(" : ").next().unwrap_or("");
        let _ = nft(&format!("delete element inet mdrun {map} {{ {key} }}\n"));
    }
}

/// Is this protocol's `port` on `host_ip` free on the host (nothing bound to it)?
pub fn host_port_free(p: &PortMap) -> bool {
    let addr =
        std::net::SocketAddr::from((p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), p.host_port));
    match p.proto {
        Proto::Tcp => std::net::TcpListener::bind(addr).is_ok(),
        Proto::Udp => std::net::UdpSocket::bind(addr).is_ok(),
    }
}

/// A free host port for `p` (`-p 80`, `-P`), as the kernel picks an ephemeral one.
pub fn pick_host_port(p: &PortMap) -> Option<u16> {
    let addr = std::net::SocketAddr::from((p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), 0));
    match p.proto {
        Proto::Tcp => std::net::TcpListener::bind(addr)
            .ok()?
            .local_addr()
            .ok()
            .map(|a| a.port()),
        Proto::Udp => std::net::UdpSocket::bind(addr)
            .ok()?
            .local_addr()
            .ok()
            .map(|a| a.port()),
    }
}
