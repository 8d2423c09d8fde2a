//! Where a container's processes go, and who enforces its limits: a cgroup mdrun makes
//! itself (`cgroupfs`), or a transient systemd scope `md-<id>.scope` created over D-Bus
//! (`systemd`), inside which cgroups-rs still applies the limits.

use crate::cgroups::{self, CgroupGuard};
use crate::error::Result;
use crate::spec::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Cgroupfs,
    Systemd,
}

/// What `place` needs to know about the container.
pub struct Request<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub command: &'a [String],
    pub limits: &'a Limits,
    pub cgroup_parent: Option<&'a str>,
    /// The init, already cloned and waiting for its go-ahead.
    pub pid: i32,
}

/// A placed container: its cgroup (removed on drop unless the caller disarms it) and, with
/// the systemd manager, the scope's unit name.
pub struct Placed {
    pub cgroup: CgroupGuard,
    pub scope: Option<String>,
}

/// The cgroup's directory name in cgroupfs mode.
pub fn cgroup_name(id: &str) -> String {
    format!("mdrun-{id}")
}

pub fn place(manager: Manager, req: &Request) -> Result<Placed> {
    match manager {
        Manager::Cgroupfs => {
            let backend = cgroups::backend();
            let cgroup = CgroupGuard::new(backend.create(req.cgroup_parent, &cgroup_name(req.id), req.limits)?);
            cgroup.add_process(req.pid)?;
            Ok(Placed { cgroup, scope: None })
        }
        Manager::Systemd => Err(crate::error::Error::Usage("the systemd cgroup manager is not available yet".into())),
    }
}
