//! The cgroups of a systemd-managed container whose `run` was killed between creating its
//! scope and recording it. systemd removes the scope's cgroups in the hierarchies it
//! manages once the scope is empty, but not the `<slice>/md-<id>.scope/mdrun-<id>`
//! directories mdrun made in the v1 hierarchies systemd leaves alone (freezer, cpuset,
//! cpuacct), and the record has no path of them: so they are looked for, a few levels
//! down each hierarchy, by their names (both name this container alone).

use crate::error::{IoContext, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How deep under a hierarchy's root a slice's scopes may sit (`a.slice/a-b.slice/x.scope`).
const MAX_DEPTH: usize = 4;

/// rmdir every `<scope>/<child>` and `<scope>` directory found, after killing what is still
/// in them (nothing, normally: the init died with its `run`).
pub fn remove_leftovers(scope: &str, child: &str) -> Result<()> {
    for dir in find(&crate::cgroups::mount_points(), scope, child) {
        kill_procs(&dir);
        match std::fs::remove_dir(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e).ctx("rmdir", &dir),
            _ => {}
        }
    }
    Ok(())
}

/// `<scope>/<child>` then `<scope>` for each directory named `scope` within MAX_DEPTH of
/// each root: children before their parents, so that they can be removed in this order.
fn find(roots: &[PathBuf], scope: &str, child: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut level: Vec<PathBuf> = roots.to_vec();
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for dir in &level {
            for sub in subdirs(dir) {
                if sub.file_name().and_then(|n| n.to_str()) == Some(scope) {
                    found.push(sub.join(child));
                    found.push(sub);
                } else if sub.extension().and_then(|e| e.to_str()) == Some("slice") {
                    next.push(sub);
                }
            }
        }
        level = next;
    }
    found.retain(|d| d.is_dir());
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

fn kill_procs(dir: &Path) {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        if pid > 0 {
            // SAFETY: kill(2) takes two integers; the process sits in this container's cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_found_under_slices_children_first() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let scope = "md-abc.scope";
        for d in [
            format!("machine.slice/{scope}/mdrun-abc"),
            format!("a.slice/a-b.slice/{scope}"),
            format!("other.scope/{scope}"),
            "machine.slice/md-other.scope/mdrun-abc".to_string(),
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let found = find(&[r.to_path_buf()], scope, "mdrun-abc");
        assert_eq!(
            found,
            vec![
                r.join(format!("machine.slice/{scope}/mdrun-abc")),
                r.join(format!("machine.slice/{scope}")),
                r.join(format!("a.slice/a-b.slice/{scope}")),
            ]
        );
    }
}
