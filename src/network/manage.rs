//! `network rm` and `network prune`: a user network no container holds a lease on goes,
//! with its bridge and its NAT elements.

use super::def::{self, Network};
use super::{ipam, nat, rtnl::Rtnl};
use crate::error::{Error, Result};
use std::path::Path;

/// Remove user network `name`; refused while a container has an address on it.
pub fn remove(root: &Path, containers: &Path, name: &str) -> Result<()> {
    if name == def::DEFAULT_NAME || name == "bridge" {
        return Err(Error::Usage(format!(
            "the default network {} cannot be removed",
            def::DEFAULT_NAME
        )));
    }
    let net = def::load(root, name)?;
    let _lock = def::lock_defs(root)?;
    let users = ipam::current(root, containers, name)?;
    if let Some(l) = users.first() {
        return Err(Error::Usage(format!(
            "network {name} is in use by container {} ({} in all)",
            l.name,
            users.len()
        )));
    }
    teardown(&net);
    let _ = std::fs::remove_file(ipam::leases_path(root, name));
    def::remove_file(root, name)
}

/// Its bridge and elements, where this network namespace has them.
pub fn teardown(net: &Network) {
    if let Ok(mut rt) = Rtnl::open() {
        if let Some(idx) = rt.index(&net.bridge) {
            let _ = rt.del_link(idx);
            nat::remove_network(net);
        }
    }
}

/// Remove every user network without containers; their names.
pub fn prune(root: &Path, containers: &Path) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for net in def::list(root)? {
        if net.name == def::DEFAULT_NAME {
            continue;
        }
        if ipam::current(root, containers, &net.name)?.is_empty() {
            remove(root, containers, &net.name)?;
            removed.push(net.name);
        }
    }
    Ok(removed)
}
