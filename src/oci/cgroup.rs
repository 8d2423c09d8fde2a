//! The container's cgroup from `linux.cgroupsPath`: with cgroupfs, a path from each
//! hierarchy's root (absolute) or from our own cgroup (relative, or `<id>` when unset);
//! with `--systemd-cgroup`, `slice:prefix:name` is the transient scope `prefix-name.scope`
//! in `slice`, made over D-Bus by `crate::systemd` as mdrun's own scopes are.
//! `linux.resources` is written into the directories by `resources`.

use super::Result;
use crate::cgroups::{cgroup_mounts, dir_under_mount, parse_proc_cgroup};
use std::path::{Path, PathBuf};

pub enum Placement {
    Cgroupfs(String),
    Systemd { slice: String, unit: String },
}

pub fn placement(cgroups_path: Option<&str>, id: &str, systemd: bool) -> Result<Placement> {
    let path = cgroups_path.filter(|p| !p.is_empty());
    if systemd {
        let (slice, prefix, name) = match path {
            Some(p) => {
                let parts: Vec<&str> = p.split(':').collect();
                if parts.len() != 3 {
                    return Err(format!(
                        "cgroupsPath {p:?}: with --systemd-cgroup it must be slice:prefix:name"
                    ));
                }
                (parts[0].to_string(), parts[1], parts[2])
            }
            None => (String::new(), "mdrun-oci", id),
        };
        let slice = if slice.is_empty() {
            "system.slice".to_string()
        } else {
            slice
        };
        for part in [slice.as_str(), prefix, name] {
            if part.contains('/') || part.contains("..") {
                return Err(format!("cgroupsPath: {part:?} is not a unit name part"));
            }
        }
        let unit = if name.ends_with(".slice") {
            return Err("cgroupsPath: a slice as the container's unit is not supported".into());
        } else if prefix.is_empty() {
            format!("{name}.scope")
        } else {
            format!("{prefix}-{name}.scope")
        };
        return Ok(Placement::Systemd { slice, unit });
    }
    let p = path.map(str::to_string).unwrap_or_else(|| id.to_string());
    if p.split('/').any(|c| c == "..") {
        return Err(format!("cgroupsPath {p:?}: no .. components"));
    }
    Ok(Placement::Cgroupfs(p))
}

/// Is a cgroup file system what `dir` shows? Not when another mount hides it (a tmpfs over
/// /sys/fs/cgroup/unified, as bench/run makes): files written there would be plain files.
fn is_cgroup_fs(dir: &Path) -> bool {
    nix::sys::statfs::statfs(dir).is_ok_and(|s| {
        let t = s.filesystem_type();
        t == nix::sys::statfs::CGROUP_SUPER_MAGIC || t == nix::sys::statfs::CGROUP2_SUPER_MAGIC
    })
}

/// The directory of `path` in every mounted hierarchy.
fn dirs_for(path: &str) -> Result<Vec<PathBuf>> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
    let own = parse_proc_cgroup(&std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default());
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut seen: Vec<Vec<String>> = Vec::new();
    for m in cgroup_mounts(&mountinfo) {
        let controllers: Vec<String> = if m.fs_type == "cgroup2" {
            Vec::new()
        } else {
            m.super_opts
                .iter()
                .filter(|o| {
                    !matches!(
                        o.as_str(),
                        "rw" | "ro"
                            | "noprefix"
                            | "xattr"
                            | "nsdelegate"
                            | "memory_recursiveprot"
                            | "memory_localevents"
                    ) && !o.starts_with("release_agent")
                        && !o.starts_with("clone_children")
                })
                .cloned()
                .collect()
        };
        if seen.contains(&controllers) || !is_cgroup_fs(&m.mount_point) {
            continue;
        }
        seen.push(controllers.clone());
        let full = if path.starts_with('/') {
            path.to_string()
        } else {
            let base = own
                .iter()
                .find(|e| {
                    if m.fs_type == "cgroup2" {
                        e.controllers.is_empty()
                    } else {
                        !e.controllers.is_empty()
                            && e.controllers.iter().all(|c| controllers.contains(c))
                    }
                })
                .map(|e| e.path.clone())
                .unwrap_or_else(|| "/".into());
            format!("{}/{}", base.trim_end_matches('/'), path)
        };
        let dir = dir_under_mount(&m.mount_point, &m.mount_root, &full)
            .map_err(|e| format!("cgroupsPath {path}: {e}"))?;
        dirs.push(dir);
    }
    if dirs.is_empty() {
        return Err("no cgroup hierarchy is mounted".into());
    }
    Ok(dirs)
}

/// Make `path`'s directories; returns them and the parents made for them (deepest first).
pub fn make(path: &str) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let dirs = dirs_for(path)?;
    let mut made = Vec::new();
    let result = dirs.iter().try_for_each(|dir| make_missing(dir, &mut made));
    if let Err(e) = result {
        for m in made.iter().rev() {
            let _ = std::fs::remove_dir(m);
        }
        return Err(e);
    }
    let mut made_parents: Vec<PathBuf> = made.into_iter().filter(|m| !dirs.contains(m)).collect();
    made_parents.reverse();
    Ok((dirs, made_parents))
}

/// Make `dir` and whichever of its parents are missing, outermost first, each set up by
/// `init_dir`; each one made goes on `made` (those made before a failure too).
pub(super) fn make_missing(dir: &Path, made: &mut Vec<PathBuf>) -> Result<()> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_path_buf());
        d = d.parent().ok_or("no parent")?;
    }
    for m in missing.iter().rev() {
        std::fs::create_dir(m).map_err(|e| format!("mkdir cgroup {}: {e}", m.display()))?;
        made.push(m.clone());
        init_dir(m)?;
    }
    Ok(())
}

/// A new cpuset cgroup starts with no cpus and no mems (v1): copy its parent's.
/// A new v2 cgroup gets its parent's controllers enabled.
fn init_dir(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(dir);
    for f in ["cpuset.cpus", "cpuset.mems"] {
        if dir.join(f).exists() && !dir.join("cgroup.controllers").exists() {
            let cur = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            if cur.trim().is_empty() {
                let v = std::fs::read_to_string(parent.join(f)).unwrap_or_default();
                std::fs::write(dir.join(f), v.trim())
                    .map_err(|e| format!("write {}: {e}", dir.join(f).display()))?;
            }
        }
    }
    // Not in a parent with processes of its own (mdrun-oci's own cgroup, for a relative
    // cgroupsPath): it cannot hand the domain controllers down (no internal processes), and
    // the threaded ones (cpu, cpuset, pids) it can would make it a thread root, under which
    // a new cgroup is "domain invalid" and takes no process (EOPNOTSUPP).
    let parent_busy =
        std::fs::read_to_string(parent.join("cgroup.procs")).map_or(true, |t| !t.trim().is_empty());
    if dir.join("cgroup.controllers").exists() && !parent_busy {
        let avail = std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
        for c in avail.split_whitespace() {
            // Best effort: what the parent's own parent has not handed down is not there.
            let _ = std::fs::write(parent.join("cgroup.subtree_control"), format!("+{c}"));
        }
    }
    Ok(())
}

pub fn procs(dirs: &[PathBuf]) -> Vec<i32> {
    let mut out: Vec<i32> = Vec::new();
    for d in dirs {
        for f in walk(d) {
            let text = std::fs::read_to_string(f.join("cgroup.procs")).unwrap_or_default();
            out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![d.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&e.path()));
            }
        }
    }
    out
}

/// Kill what is left and remove the directories (children first), then the parents made
/// for them when empty.
pub fn destroy(dirs: &[PathBuf], parents: &[PathBuf]) -> Result<()> {
    for _ in 0..500 {
        let left = procs(dirs);
        if left.is_empty() {
            break;
        }
        for p in left {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut err = None;
    for d in dirs {
        let mut all = walk(d);
        all.reverse();
        for sub in all {
            let mut tries = 0;
            loop {
                match std::fs::remove_dir(&sub) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 200 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(e) => {
                        err.get_or_insert(format!("remove cgroup {}: {e}", sub.display()));
                        break;
                    }
                }
            }
        }
    }
    for p in parents {
        let _ = std::fs::remove_dir(p);
    }
    err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systemd_form_is_a_scope_in_the_slice() {
        let p = placement(
            Some("kubepods-besteffort-pod12.slice:cri-containerd:abc"),
            "x",
            true,
        )
        .unwrap();
        assert!(matches!(p, Placement::Systemd { slice, unit }
            if slice == "kubepods-besteffort-pod12.slice" && unit == "cri-containerd-abc.scope"));
        assert!(matches!(placement(None, "x", true).unwrap(),
            Placement::Systemd { slice, unit } if slice == "system.slice" && unit == "mdrun-oci-x.scope"));
        assert!(placement(Some("a/b"), "x", true).is_err());
        assert!(placement(Some("s.slice:p:../n"), "x", true).is_err());
    }

    #[test]
    fn cgroupfs_paths_refuse_dot_dot_and_default_to_the_id() {
        assert!(matches!(placement(None, "x", false).unwrap(), Placement::Cgroupfs(p) if p == "x"));
        assert!(
            matches!(placement(Some("/a/b"), "x", false).unwrap(), Placement::Cgroupfs(p) if p == "/a/b")
        );
        assert!(placement(Some("/a/../b"), "x", false).is_err());
    }
}
