//! Changing the limits of a running container's cgroup (`mdrun update`): the same control
//! files `create` wrote (`limits.rs`), found among the container's recorded directories.

use super::limits::{self, V1Dirs};
use super::{CgroupError, Version};
use crate::spec::Limits;
use std::path::{Path, PathBuf};

/// Write `changed` (only the limits set in it; `all` is the container's limits after the
/// change, for the checks and for v1's memory+swap) into the container's cgroup
/// directories `cgroup_paths`.
pub fn update(
    cgroup_paths: &[PathBuf],
    version: Version,
    changed: &Limits,
    all: &Limits,
) -> Result<(), CgroupError> {
    limits::validate(all)?;
    // memory+swap follows memory (docker's default doubles it), so both go together.
    let mut changed = changed.clone();
    if changed.memory.is_some() || changed.memory_swap.is_some() {
        changed.memory = all.memory;
        changed.memory_swap = all.memory_swap;
    }
    match version {
        Version::V2 => {
            let dir = with_file(cgroup_paths, "cgroup.controllers").ok_or_else(|| {
                CgroupError::InvalidPath {
                    what: "directories",
                    value: format!("{cgroup_paths:?}"),
                    reason: "none of them is a cgroup v2 directory",
                }
            })?;
            // A controller no limit needed at `run` (cpu for a new --cpus) is handed down to
            // the container's cgroup first.
            let root = Path::new(cgroups_rs::fs::hierarchies::UNIFIED_MOUNTPOINT);
            super::v2::enable_controllers(root, dir, &limits::v2_required(&changed))?;
            limits::apply_v2(dir, &changed)
        }
        Version::V1 => {
            let dirs = V1Dirs {
                memory: with_file(cgroup_paths, "memory.limit_in_bytes"),
                cpu: with_file(cgroup_paths, "cpu.shares"),
                cpuset: with_file(cgroup_paths, "cpuset.cpus"),
                pids: with_file(cgroup_paths, "pids.max"),
            };
            limits::v1_check(&dirs, &changed)?;
            if let Some(dir) = dirs.memory.filter(|_| changed.memory.is_some()) {
                raise_memsw_first(dir, &changed)?;
            }
            limits::apply_v1(&dirs, &changed)
        }
    }
}

/// v1 refuses a memory limit above memory+swap: when both go up, memory+swap first.
fn raise_memsw_first(dir: &Path, l: &Limits) -> Result<(), CgroupError> {
    let file = dir.join("memory.memsw.limit_in_bytes");
    let (Some(new), Ok(current)) = (limits::v1_memsw(l), std::fs::read_to_string(&file)) else {
        return Ok(());
    };
    let current: i64 = current.trim().parse().unwrap_or(i64::MAX);
    if new == -1 || new > current {
        std::fs::write(&file, new.to_string()).map_err(|source| CgroupError::Write {
            path: file,
            value: new.to_string(),
            source,
        })?;
    }
    Ok(())
}

fn with_file<'a>(dirs: &'a [PathBuf], file: &str) -> Option<&'a Path> {
    dirs.iter()
        .find(|d| d.join(file).exists())
        .map(PathBuf::as_path)
}
