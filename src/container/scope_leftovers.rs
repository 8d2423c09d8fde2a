//! The scope of a systemd-managed container and the cgroups mdrun made in it, when the
//! record does not say where they are: its `run` (or `start`) was killed between creating
//! the scope and recording it. systemd removes the scope's cgroups in the hierarchies it
//! manages once the scope is empty, but not the `<slice>/md-<id>.scope/mdrun-<id>`
//! directories mdrun made in the v1 hierarchies systemd leaves alone (freezer, cpuset,
//! cpuacct): so they are looked for, a few levels down each hierarchy, by their names.
//!
//! A scope's name holds only 12 digits of the container's id, and the record names it
//! before it exists: a unit of that name may be another container's, of another store.
//! The container's own cgroup inside it, `<scope>/mdrun-<id>`, is named after its full id,
//! whose last digits are its store's (state::StoreId): that child is the proof that the
//! scope is this container's. A scope without it is never stopped, and no process outside
//! that child is killed.

use crate::error::{IoContext, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How deep under a hierarchy's root a slice's scopes may sit (`a.slice/a-b.slice/x.scope`).
const MAX_DEPTH: usize = 4;

/// Does a unit named `scope` hold this container's cgroup `child` (`mdrun-<id>`) now: one
/// of the `recorded` directories, or, when none is recorded, one found by name?
pub fn holds(scope: &str, child: &str, recorded: &[PathBuf]) -> bool {
    if recorded.is_empty() {
        return !find(&crate::cgroups::mount_points(), scope, child).is_empty();
    }
    recorded
        .iter()
        .any(|dir| named(Some(dir), child) && named(dir.parent(), scope) && dir.is_dir())
}

fn named(path: Option<&Path>, name: &str) -> bool {
    path.and_then(|p| p.file_name()).and_then(|n| n.to_str()) == Some(name)
}

/// rmdir every `<scope>/<child>` found, after killing what is still in it (nothing,
/// normally: the init died with its `run`), then the `<scope>` directory around it when
/// that is empty now. A `<scope>` directory without this child is not touched.
pub fn remove_leftovers(scope: &str, child: &str) -> Result<()> {
    for dir in find(&crate::cgroups::mount_points(), scope, child) {
        kill_procs(&dir);
        match std::fs::remove_dir(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e).ctx("rmdir", &dir),
            _ => {}
        }
        let Some(scope_dir) = dir.parent() else {
            continue;
        };
        match std::fs::remove_dir(scope_dir) {
            Err(e)
                if ![libc::ENOENT, libc::ENOTEMPTY, libc::EBUSY]
                    .contains(&e.raw_os_error().unwrap_or(0)) =>
            {
                return Err(e).ctx("rmdir", scope_dir)
            }
            // Gone (systemd removed it), or still in use: not only ours then.
            _ => {}
        }
    }
    Ok(())
}

/// `<scope>/<child>` for each directory named `scope` within MAX_DEPTH of each root, where
/// that child exists.
fn find(roots: &[PathBuf], scope: &str, child: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut level: Vec<PathBuf> = roots.to_vec();
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for dir in &level {
            for sub in subdirs(dir) {
                if sub.file_name().and_then(|n| n.to_str()) == Some(scope) {
                    found.push(sub.join(child));
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
    fn only_scopes_holding_the_child_are_found_under_slices() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let scope = "md-abc.scope";
        for d in [
            format!("machine.slice/{scope}/mdrun-abc"),
            format!("a.slice/a-b.slice/{scope}/mdrun-abc"),
            // Another container's scope of the same name (another store's): no such child.
            format!("b.slice/{scope}/mdrun-abd"),
            format!("other.scope/{scope}/mdrun-abc"),
            "machine.slice/md-other.scope/mdrun-abc".to_string(),
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let mut found = find(&[r.to_path_buf()], scope, "mdrun-abc");
        found.sort();
        assert_eq!(
            found,
            vec![
                r.join(format!("a.slice/a-b.slice/{scope}/mdrun-abc")),
                r.join(format!("machine.slice/{scope}/mdrun-abc")),
            ]
        );
    }

    #[test]
    fn a_scope_is_held_only_through_an_existing_child_named_after_the_full_id() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let scope = "md-abc.scope";
        let mine = vec![r.join(format!("machine.slice/{scope}/mdrun-abc"))];
        let theirs = vec![r.join(format!("machine.slice/{scope}/mdrun-abd"))];
        std::fs::create_dir_all(&theirs[0]).unwrap();
        assert!(!holds(scope, "mdrun-abc", &mine), "not there");
        assert!(!holds(scope, "mdrun-abc", &theirs), "another child");
        std::fs::create_dir_all(&mine[0]).unwrap();
        assert!(holds(scope, "mdrun-abc", &mine));
        assert!(!holds("md-abd.scope", "mdrun-abc", &mine), "another scope");
    }
}
