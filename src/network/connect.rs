//! `network connect` and `network disconnect`: a running container's further networks.
//! Each is a veth `ethN` (N from 1) into that network's bridge, an address leased there
//! (no default route: the container's first network keeps it), the network's peers in its
//! hosts file, and a record `<data>/networks.d/<NAME>.json`. They last for the run: the
//! container's end, `rm` and `prune` give them up (`release_extras`).

use super::attach::{add_veth, delete_veth, ensure_bridge, net_err};
use super::rtnl::Rtnl;
use super::{def, files, ipam, Assignment};
use crate::error::{Error, IoContext, Result};
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

const EXTRA_DIR: &str = "networks.d";
/// eth1 .. eth9.
const MAX_EXTRA: u8 = 9;

/// The container `network connect` and `disconnect` act on.
pub struct Target<'a> {
    pub root: &'a Path,
    pub containers: &'a Path,
    pub id: &'a str,
    pub name: &'a str,
    /// Its data directory.
    pub data: &'a Path,
}

fn extra_path(data: &Path, network: &str) -> PathBuf {
    data.join(EXTRA_DIR).join(format!("{network}.json"))
}

/// The networks container `data` joined with `network connect`, by interface.
pub fn extras(data: &Path) -> Vec<Assignment> {
    let mut list: Vec<Assignment> = std::fs::read_dir(data.join(EXTRA_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .collect();
    list.sort_by(|a, b| a.iface.cmp(&b.iface));
    list
}

/// Connect running container `t` (its init `pid`) to `network`.
pub fn connect(
    t: &Target<'_>,
    pid: i32,
    network: &str,
    ip: Option<Ipv4Addr>,
    aliases: &[String],
) -> Result<Assignment> {
    let Some(first) = Assignment::load(t.data) else {
        return Err(Error::Usage(format!(
            "network connect: container {} has no bridge network of its own \
             (--network none, host or container: cannot be connected)",
            t.name
        )));
    };
    let net = def::load(t.root, network)?;
    let extras = extras(t.data);
    if first.network == net.name || extras.iter().any(|a| a.network == net.name) {
        return Err(Error::Usage(format!(
            "container {} is already connected to network {}",
            t.name, net.name
        )));
    }
    let n = (1..=MAX_EXTRA)
        .find(|n| !extras.iter().any(|a| a.iface == format!("eth{n}")))
        .ok_or_else(|| {
            Error::Usage(format!(
                "container {} is on {} networks already, the most mdrun connects",
                t.name,
                MAX_EXTRA + 1
            ))
        })?;
    for a in aliases {
        crate::parse::hostname(a)?;
    }
    let ip = ipam::allocate(
        t.root,
        t.containers,
        &net,
        &ipam::Want {
            id: t.id,
            name: t.name,
            aliases,
            ip,
        },
    )?;
    let o = ip.octets();
    let a = Assignment {
        network: net.name.clone(),
        bridge: net.bridge.clone(),
        ip,
        prefix: net.subnet().prefix,
        gateway: net.gateway,
        internal: net.internal,
        mac: Some([0x02, 0x42, o[0], o[1], o[2], o[3]]),
        // vmd + 11 hex digits of the id + a letter past hex: never the first network's
        // vmd + 12 hex digits, and within IFNAMSIZ.
        veth: format!("vmd{}{}", &t.id[..11], (b'f' + n) as char),
        ports: Vec::new(),
        iface: format!("eth{n}"),
        netns: super::netns::NetNsId::current(),
    };
    // Recorded before the link is made: after a killed mdrun, rm and prune find it.
    let saved = save(t.data, &a);
    let linked = saved.and_then(|()| link(t.root, &a, pid));
    if let Err(e) = linked {
        give_up(t, &a, true);
        return Err(e);
    }
    Ok(a)
}

fn save(data: &Path, a: &Assignment) -> Result<()> {
    let d = data.join(EXTRA_DIR);
    crate::private_dirs::create(&d).ctx("mkdir", &d)?;
    let p = extra_path(data, &a.network);
    std::fs::write(&p, serde_json::to_vec(a).expect("serialize")).ctx("write", &p)
}

/// The veth into `a`'s bridge, its peer `a.iface` in the namespace of `pid`, addressed, up.
fn link(root: &Path, a: &Assignment, pid: i32) -> Result<()> {
    let mut rt = Rtnl::open().map_err(net_err("open", "rtnetlink"))?;
    let master = ensure_bridge(&mut rt, root, a)?;
    add_veth(&mut rt, a, master, pid)?;
    Rtnl::in_netns(pid, |rt| {
        let idx = rt
            .index(&a.iface)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        rt.add_address(idx, a.ip, a.prefix)?;
        rt.set_up(idx)
    })
    .map_err(|e| Error::Usage(format!("network: configure {} of {}: {e}", a.iface, a.veth)))
}

/// Everything of `a`: its veth (unless `links` is false: its namespace is gone, and the
/// veth with it), its lease, its peers in the hosts file, its record.
fn give_up(t: &Target<'_>, a: &Assignment, links: bool) {
    if links {
        delete_veth(&a.veth);
    }
    let _ = ipam::release(t.root, t.containers, &a.network, t.id);
    files::forget_network(t.data, &a.network);
    let _ = std::fs::remove_file(extra_path(t.data, &a.network));
}

/// Disconnect container `t` from `network`: one it joined with `network connect`, or the one
/// it started on, whose published ports go with it (as docker: `super::leave_first`).
pub fn disconnect(t: &Target<'_>, network: &str) -> Result<()> {
    if Assignment::load(t.data).is_some_and(|a| a.network == network) {
        return super::leave_first(t.root, t.containers, t.id);
    }
    let Some(a) = extras(t.data).into_iter().find(|a| a.network == network) else {
        return Err(Error::Usage(format!(
            "container {} is not connected to network {network}",
            t.name
        )));
    };
    give_up(t, &a, true);
    Ok(())
}

/// The container ended (or is removed): every network it joined is given up (`links`: as
/// `give_up`).
pub fn release_extras(t: &Target<'_>, links: bool) {
    for a in extras(t.data) {
        give_up(t, &a, links);
    }
    let _ = std::fs::remove_dir(t.data.join(EXTRA_DIR));
}
