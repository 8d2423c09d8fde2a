//! `--systemd-cgroup` on v1 (hybrid or legacy): systemd puts a scope's process in the
//! scope's cgroup only in the hierarchies it manages (name=systemd, memory, cpu, pids...),
//! and in the devices one only when the unit has device rules; freezer, cpuset, blkio and
//! the rest keep the creator's cgroup (podman's conmon's), so `pause` would freeze nothing
//! of the container's own. As runc's legacy systemd manager does (joinCgroups), the process
//! joins the scope's cgroup (`scope`, as systemd names it) in every v1 hierarchy; the
//! directories made for it go to `made` (outermost first), for the caller to remove on failure and `delete` after.

use super::Result;
use crate::cgroups::{cgroup_mounts, dir_under_mount, parse_proc_cgroup};
use std::path::PathBuf;

pub fn join_all_v1(pid: i32, scope: &str, made: &mut Vec<PathBuf>) -> Result<()> {
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("read {p}: {e}"));
    let theirs = parse_proc_cgroup(&read(&format!("/proc/{pid}/cgroup"))?);
    let mounts = cgroup_mounts(&read("/proc/self/mountinfo")?);
    theirs
        .iter()
        .filter(|e| !e.controllers.is_empty() && e.path != scope)
        .filter(|e| !e.controllers.iter().any(|c| c.starts_with("name=")))
        .try_for_each(|e| {
            let Some(m) = mounts.iter().find(|m| {
                m.fs_type == "cgroup"
                    && e.controllers
                        .iter()
                        .all(|c| m.super_opts.iter().any(|o| o == c))
            }) else {
                return Ok(());
            };
            let dir = dir_under_mount(&m.mount_point, &m.mount_root, scope).map_err(|err| {
                format!(
                    "the scope's cgroup {scope} under {}: {err}",
                    m.mount_point.display()
                )
            })?;
            super::cgroup::make_missing(&dir, made)?;
            let f = dir.join("cgroup.procs");
            std::fs::write(&f, pid.to_string())
                .map_err(|err| format!("write {pid} to {}: {err}", f.display()))
        })
}
