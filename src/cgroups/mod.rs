//! Cgroups: a trait in front of a v1 and a v2 backend, both built on cgroups-rs.
//! (STUB: to be filled in; signatures are the contract.)

use crate::spec::Limits;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{0}")]
    Todo(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Version { V1, V2 }

/// Chooses where a container's cgroup goes and makes it.
pub trait Backend {
    fn version(&self) -> Version;
    /// Create `<parent>/<name>` (parent None = the cgroup mdrun itself runs in, per hierarchy)
    /// and apply `limits`. Nothing is left behind on error.
    fn create(&self, parent: Option<&str>, name: &str, limits: &Limits) -> Result<Box<dyn ContainerCgroup>, CgroupError>;
    /// A handle on an existing container cgroup (for cleanup by later commands).
    fn load(&self, parent: Option<&str>, name: &str) -> Box<dyn ContainerCgroup>;
}

/// One container's cgroup.
pub trait ContainerCgroup {
    /// Move a process (all its threads) in: cgroup.procs.
    fn add_process(&self, pid: i32) -> Result<(), CgroupError>;
    fn procs(&self) -> Vec<i32>;
    /// Was anything in it killed by the OOM killer?
    fn oom_killed(&self) -> bool;
    /// CPU time used so far, microseconds.
    fn cpu_usage_usec(&self) -> Result<u64, CgroupError>;
    /// Directories it consists of (one per v1 hierarchy, one on v2).
    fn paths(&self) -> Vec<PathBuf>;
    /// Kill what is left, wait for it to go, remove every directory. Idempotent.
    fn destroy(&self) -> Result<(), CgroupError>;
}

pub fn detect() -> Version { todo!() }
pub fn backend() -> Box<dyn Backend> { todo!() }
