//! Outbound NAT, published ports and internal networks in nftables: a table of mdrun's own,
//! `inet mdrun`, made once, whose rules never change; networks and ports are elements of
//! its sets and maps. A network adds its subnet (masquerade) and bridge; a container adds
//! its ports (`create element`: a port another container holds is refused atomically) and
//! removes exactly them: a container's elements go over nfnetlink (`nfset`), the table is
//! made once with one `nft -f -` batch.

use super::def::Network;
use super::nfset::{self, Element, MapChange};
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
        .map_err(|e| format!("run nft (bridged networks need nftables installed): {e}"))?;
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

/// `address . port` as nftables keeps a concatenation: each field padded to 4 bytes.
fn addr_port(ip: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut v = ip.octets().to_vec();
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v
}

/// The map changes for `ports` to container address `ip` (None: keys only, to delete).
fn changes(ports: &[PortMap], ip: Option<Ipv4Addr>) -> Vec<MapChange<'static>> {
    let mut out: Vec<MapChange<'static>> =
        ["tcp_ports", "udp_ports", "tcp_addr_ports", "udp_addr_ports"]
            .into_iter()
            .map(|map| MapChange {
                table: "mdrun",
                map,
                elements: Vec::new(),
            })
            .collect();
    for p in ports {
        let (slot, key) = match (p.proto, p.host_ip) {
            (Proto::Tcp, None) => (0, p.host_port.to_be_bytes().to_vec()),
            (Proto::Udp, None) => (1, p.host_port.to_be_bytes().to_vec()),
            (Proto::Tcp, Some(h)) => (2, addr_port(h, p.host_port)),
            (Proto::Udp, Some(h)) => (3, addr_port(h, p.host_port)),
        };
        out[slot].elements.push(Element {
            key,
            data: ip.map(|ip| addr_port(ip, p.container_port)),
        });
    }
    out
}

/// Publish `ports` (host ports already chosen) to container address `ip`, all or none: one
/// nfnetlink batch of `create` elements, so a port another container holds fails it whole.
/// The socket is returned for `unpublish` (see `nfset::open`).
pub fn publish(ports: &[PortMap], ip: Ipv4Addr) -> Result<Option<netlink_sys::Socket>, String> {
    if ports.is_empty() {
        return Ok(None);
    }
    let sock = nfset::open().map_err(|e| format!("open nfnetlink: {e}"))?;
    nfset::apply(&sock, &changes(ports, Some(ip)), true)
        .map(|()| Some(sock))
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                "a host port is already published by another container".to_string()
            } else {
                format!("add the published ports to table inet mdrun: {e}")
            }
        })
}

/// Remove exactly the elements `publish` added (best effort: one whose key is gone already
/// fails its own batch only, so each map goes on its own), through `sock` (see
/// `nfset::open` on when to close it).
pub fn unpublish(ports: &[PortMap], sock: Option<&netlink_sys::Socket>) {
    let Some(sock) = sock else {
        return;
    };
    for change in changes(ports, None) {
        let _ = nfset::apply(sock, std::slice::from_ref(&change), false);
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
