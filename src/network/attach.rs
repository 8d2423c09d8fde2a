//! Linking a cloned container into its network: the bridge (made once per network, with
//! its NAT elements), a veth whose peer is born in the container's namespace as `eth0`, the
//! container's address and default route, its published ports.

use super::rtnl::Rtnl;
use super::{def, handoff, nat, nfset, Assignment, Planned};
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
    /// The container's data directory: its network.json tells whether the ports are still
    /// its own at the end (`network disconnect` may have taken them).
    data: std::path::PathBuf,
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
        data: planned.containers.join(&planned.id),
        published: false,
        nfnl: None,
        veth_made: false,
    };
    add_veth(&mut rt, a, master, pid)?;
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

/// The container's veth, its peer `a.iface` born in the namespace of `pid`. The veth of an
/// earlier run of this container may still be there: the kernel removes it with that run's
/// namespace, from a work queue (see `Attached::detach`); it is deleted here then, and made
/// again.
pub(super) fn add_veth(rt: &mut Rtnl, a: &Assignment, master: u32, pid: i32) -> Result<()> {
    match rt.add_veth(&a.veth, master, &a.iface, pid, a.mac) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            delete_veth(&a.veth);
            rt.add_veth(&a.veth, master, &a.iface, pid, a.mac)
        }
        r => r,
    }
    .map_err(net_err("create veth", &a.veth))
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
    /// The container ended: its ports go now (its lease goes with the `Planned`). The
    /// nfnetlink socket they went through is closed by a short-lived child: closing it
    /// makes the kernel wait for the RCU grace period after that removal (nf_tables'
    /// transaction clean-up, see `handoff`), and mdrun does not wait for that.
    ///
    /// Its veth is left to the kernel, which deletes the pair with the container's network
    /// namespace, from a work queue: deleting it here cost every bridged `run` 16-26 ms at
    /// its end (unregistering a device waits for RCU grace periods; BENCHMARKS.md).
    pub fn detach(mut self) {
        self.veth_made = false;
        // Disconnected from its first network meanwhile: the ports went then, and their
        // host ports may be another container's by now.
        let still_ours = Assignment::load(&self.data)
            .is_some_and(|a| a.network == self.assignment.network && a.ip == self.assignment.ip);
        if !still_ours {
            self.published = false;
        }
        if !self.published {
            if let Some(sock) = self.nfnl.take() {
                handoff::close_elsewhere(sock);
            }
        }
        if self.published && !self.assignment.ports.is_empty() {
            self.published = false;
            let sock = self.nfnl.take().or_else(|| nfset::open().ok());
            nat::unpublish(&self.assignment.ports, sock.as_ref());
            if let Some(sock) = sock {
                handoff::close_elsewhere(sock);
            }
        }
    }
}

impl Drop for Attached {
    /// An error on the way to the exec: the ports and the veth, so that a failed start
    /// leaves neither.
    fn drop(&mut self) {
        let a = &self.assignment;
        if self.published && !a.ports.is_empty() {
            let sock = self.nfnl.take().or_else(|| nfset::open().ok());
            nat::unpublish(&a.ports, sock.as_ref());
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
