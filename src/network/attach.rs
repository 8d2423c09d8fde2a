//! Linking a cloned container into its network: the bridge (made once per network, with
//! its NAT elements), a veth whose peer is born in the container's namespace as `eth0`, the
//! container's address and default route, its published ports.

use super::rtnl::Rtnl;
use super::{def, nat, Assignment, Planned};
use crate::error::{Error, Result};

use std::io;
use std::path::Path;

pub(super) fn net_err(step: &'static str, what: &str) -> impl FnOnce(io::Error) -> Error {
    let what = what.to_string();
    move |e| Error::Usage(format!("network: {step} {what}: {e}"))
}

/// The container's link and ports. Dropped before `detach` (an error on the way to the
/// exec), it removes the veth and the ports; the lease is the `Planned`'s.
pub struct Attached {
    assignment: super::Assignment,
    published: bool,
    /// The nfnetlink socket the ports went through, kept open until they are removed
    /// (closing it right away would cost a grace period on the start path: `nfset::open`).
    nfnl: Option<netlink_sys::Socket>,
    veth_made: bool,
}

/// After the clone of the init `pid`, while it builds its root: link it in.
pub fn attach(planned: &Planned, pid: i32) -> Result<Attached> {
    let a = &planned.assignment;
    let mut rt = Rtnl::open().map_err(net_err("open", "rtnetlink"))?;
    let master = ensure_bridge(&mut rt, &planned.root, a)?;
    let mut attached = Attached {
        assignment: a.clone(),
        published: false,
        nfnl: None,
        veth_made: false,
    };
    rt.add_veth(&a.veth, master, "eth0", pid, a.mac)
        .map_err(net_err("create veth", &a.veth))?;
    attached.veth_made = true;
    crate::stop_point::reached("run:veth");
    let inner = Rtnl::in_netns(pid, |rt| {
        let idx = rt
            .index("eth0")
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        rt.add_address(idx, a.ip, a.prefix)?;
        rt.set_up(idx)?;
        if !a.internal {
            rt.add_default_route(a.gateway)?;
        }
        Ok(())
    });
    inner.map_err(net_err("configure eth0 of", &a.veth))?;
    attached.nfnl = nat::publish(&a.ports, a.ip)
        .map_err(|e| Error::Usage(format!("network: publish ports: {e}")))?;
    attached.published = true;
    crate::stop_point::reached("run:ports");
    Ok(attached)
}

/// The network's bridge, made with its gateway address, forwarding and NAT the first time.
/// It is brought up last: a bridge that is up is ready, one that is down was left half-made
/// (a killed mdrun) and is finished here. Under the networks' lock, so that a container
/// never starts on a bridge another mdrun is still setting up.
pub(super) fn ensure_bridge(rt: &mut Rtnl, root: &Path, a: &Assignment) -> Result<u32> {
    if let Some(idx) = rt.index(&a.bridge).filter(|_| rt.is_up(&a.bridge)) {
        return Ok(idx);
    }
    let _lock = def::lock_defs(root)?;
    if let Some(idx) = rt.index(&a.bridge).filter(|_| rt.is_up(&a.bridge)) {
        return Ok(idx);
    }
    match rt.add_bridge(&a.bridge) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(net_err("create bridge", &a.bridge)(e)),
    }
    crate::stop_point::reached("run:bridge");
    let idx = rt
        .index(&a.bridge)
        .ok_or_else(|| Error::Usage(format!("network: bridge {} vanished", a.bridge)))?;
    match rt.add_address(idx, a.gateway, a.prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(net_err("address bridge", &a.bridge)(e)),
    }
    // Forwarding for this network namespace; 127.0.0.1 may be sent to the bridge after a
    // DNAT of a published port (route_localnet), as -p from the host's loopback needs.
    for (path, what) in [
        ("/proc/sys/net/ipv4/ip_forward".to_string(), "ip_forward"),
        (
            format!("/proc/sys/net/ipv4/conf/{}/route_localnet", a.bridge),
            "route_localnet",
        ),
    ] {
        std::fs::write(&path, "1").map_err(net_err("set", what))?;
    }
    let net = def::load(root, &a.network)?;
    nat::add_network(&net).map_err(|e| Error::Usage(format!("network: nftables: {e}")))?;
    rt.set_up(idx)
        .map_err(net_err("bring up bridge", &a.bridge))?;
    Ok(idx)
}

impl Attached {
    /// The container ended: its ports go, and its veth (the kernel removes it with the
    /// namespace, but later, from a work queue: deleted here, it is gone when mdrun returns);
    /// its lease goes with the `Planned`.
    pub fn detach(self) {
        // Drop does both.
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        let a = &self.assignment;
        if self.published {
            nat::unpublish(&a.ports, self.nfnl.take());
        }
        if self.veth_made {
            delete_veth(&a.veth);
        }
    }
}

/// Delete the host end of a container's veth (and so the pair), if it is still there: the
/// kernel deletes it with the container's namespace, but later, from a work queue.
pub fn delete_veth(name: &str) {
    if let Ok(mut rt) = Rtnl::open() {
        if let Some(idx) = rt.index(name) {
            let _ = rt.del_link(idx);
        }
    }
}
