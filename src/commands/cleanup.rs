//! Taking a container apart, shared by `rm`, `prune` and the repair of stale records.
//!
//! Order, so that a SIGKILL at any point leaves something the next `rm` or `prune`
//! understands: first what the container holds while it runs (scope, cgroup, runtime
//! directory), while its record still names them; then its data directory is renamed to
//! `.removing-<id>` (one atomic step: the record is gone) and deleted. `prune` finishes
//! any `.removing-*` it finds.

use super::cleanup_scope;
use crate::cgroups;
use crate::error::{IoContext, Result};
use crate::launch::ExitStatus;
use crate::paths::Paths;
use crate::placement;
use crate::state::{self, Liveness, Record, Status, StoreLock};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The exit code recorded when mdrun never saw the container end (its supervisor was
/// killed, or the host rebooted): docker shows `Exited (255)` for such containers.
pub const UNKNOWN_EXIT: i32 = 255;

/// Prefix of a data directory being deleted.
pub const REMOVING_PREFIX: &str = ".removing-";

/// Free what the container holds while it runs: its scope, its cgroup (killing whatever is
/// still inside) and its runtime directory (unmounting anything left mounted there).
pub fn release(paths: &Paths, record: &Record) -> Result<()> {
    let name = placement::cgroup_name(&record.id);
    if let Some(scope) = &record.scope {
        // systemd kills what is left in the scope and removes its cgroups. Without a bus
        // (systemd gone since) the cgroup removal below still runs. Only a scope that holds
        // this container's own cgroup: see cleanup_scope::holds.
        if cleanup_scope::holds(scope, &name, &record.cgroup_paths) {
            if let Err(e) = crate::systemd::stop_unit(scope) {
                eprintln!("mdrun: stop {scope}: {e}");
            }
        }
    }
    let cgroup = cgroups::backend().load_with_parents(
        record.cgroup_parent.as_deref(),
        &name,
        &record.cgroup_created_parents,
    );
    cgroup.destroy()?;
    // The recorded directories, in case mdrun's own cgroup (the default parent) differs
    // from the one `run` had: only ever a directory named after this container.
    for dir in &record.cgroup_paths {
        if dir
            .file_name()
            .is_some_and(|n| n.to_str() == Some(name.as_str()))
        {
            match std::fs::remove_dir(dir) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e).ctx("rmdir", dir),
                _ => {}
            }
        }
    }
    // Directories mdrun made above them itself (a scope's, in the v1 hierarchies systemd
    // does not manage: freezer, cpuset, cpuacct here): load_with_parents above looked under
    // mdrun's own cgroup, not the scope. Ancestors of the recorded directories only, deepest
    // first; one still in use (not empty) stays.
    let mut parents: Vec<&PathBuf> = record
        .cgroup_created_parents
        .iter()
        .filter(|p| {
            record
                .cgroup_paths
                .iter()
                .any(|d| d.starts_with(p) && d != *p)
        })
        .collect();
    parents.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in parents {
        let _ = std::fs::remove_dir(p);
    }
    remove_tree(&paths.runtime(&record.id))
}

/// Remove the container entirely: `release`, then its data directory (write layer, record,
/// log file). Named volumes live elsewhere and are kept. Each step runs under the store
/// lock, after a look at the record as it is then: a `start` or `run` that claimed the
/// container since the caller looked makes this an error, and nothing is removed under it.
pub fn remove(paths: &Paths, record: &Record) -> Result<()> {
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        if !still_removable(paths, &record.id)? {
            return Ok(());
        }
        release(paths, record)?;
    }
    state::stop_point("rm:released");
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        if !still_removable(paths, &record.id)? {
            return Ok(());
        }
        rename_data_dir(paths, &record.id)?;
    }
    state::stop_point("rm:renamed");
    let trash = trash_dir(paths, &record.id);
    let had_layers = Record::load(&trash).is_ok_and(|r| !r.layers.is_empty());
    remove_tree(&trash)?;
    if had_layers {
        // Layers a commit moved out of its write layer, unless an image uses them.
        crate::image::Store::new(paths.clone()).sweep_unused_layers()?;
    }
    Ok(())
}

/// Under the store lock: false when the record is gone already (removed by someone else),
/// an error when it is being started or runs.
fn still_removable(paths: &Paths, id: &str) -> Result<bool> {
    let Ok(current) = Record::load(&paths.container(id)) else {
        return Ok(false);
    };
    if super::exit_wait::is_starting(&current) {
        return Err(state::StateError::Starting { name: current.name }.into());
    }
    if current.status == Status::Running && current.liveness() != Liveness::Stale {
        return Err(state::StateError::Running { name: current.name }.into());
    }
    Ok(true)
}

/// Rename `<containers>/<id>` out of the way (the container disappears from every listing
/// at once), then delete it.
pub fn remove_data_dir(paths: &Paths, id: &str) -> Result<()> {
    rename_data_dir(paths, id)?;
    remove_tree(&trash_dir(paths, id))
}

fn trash_dir(paths: &Paths, id: &str) -> PathBuf {
    paths.containers().join(format!("{REMOVING_PREFIX}{id}"))
}

fn rename_data_dir(paths: &Paths, id: &str) -> Result<()> {
    let dir = paths.container(id);
    match std::fs::rename(&dir, trash_dir(paths, id)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).ctx("rename", &dir),
    }
}

/// What the repair of a stale record is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Record the end (`ps`, `stop`, `wait` ...).
    Record,
    /// The container is removed next (`rm`, `prune`): the end is noted in memory only.
    /// Nothing is written, so that a full disk cannot keep a container from being removed.
    Remove,
}

/// A record whose init and supervisor are both gone: finish what the supervisor would have
/// done (free the cgroup and runtime directory, record the end, or remove the container if
/// it was started with `--rm`). Returns the record as now stored (as repaired, with
/// [`Repair::Remove`]); None once removed. A record that turns out not to be stale (someone
/// else repaired or restarted it) is returned as it is.
pub fn reconcile(paths: &Paths, record: &Record, repair: Repair) -> Result<Option<Record>> {
    let _lock = StoreLock::acquire(&paths.containers())?;
    let dir = paths.container(&record.id);
    let Ok(mut r) = Record::load(&dir) else {
        return Ok(None);
    };
    if r.liveness() != Liveness::Stale {
        return Ok(Some(r));
    }
    let name = placement::cgroup_name(&r.id);
    r.oom_killed |= cgroups::backend()
        .load(r.cgroup_parent.as_deref(), &name)
        .oom_killed();
    release(paths, &r)?;
    // Killed between making its scope and recording it: its v1 cgroups are not on record.
    if let (Some(scope), true) = (&r.scope, r.cgroup_paths.is_empty()) {
        cleanup_scope::remove_leftovers(scope, &name)?;
    }
    if r.auto_remove {
        remove_data_dir(paths, &r.id)?;
        super::anon_volumes::remove_anonymous(paths, &r.id, &r.volumes)?;
        return Ok(None);
    }
    if r.status == Status::Running {
        r.status = Status::Exited;
        r.exit = Some(ExitStatus::Exited(UNKNOWN_EXIT));
        r.finished = Some(state::now());
    }
    r.pid = None;
    r.supervisor_pid = None;
    if repair == Repair::Record {
        r.save(&dir)?;
    }
    Ok(Some(r))
}

/// The record as it really is: repaired first when stale. None when the repair removed it
/// (a `--rm` container).
pub fn refresh(
    paths: &Paths,
    record: Record,
    repair: Repair,
) -> Result<Option<(Record, Liveness)>> {
    match record.liveness() {
        Liveness::Stale => Ok(reconcile(paths, &record, repair)?.map(|r| {
            let l = r.liveness();
            (r, l)
        })),
        l => Ok(Some((record, l))),
    }
}

/// The container `query` names, as it really is (see `refresh`).
pub fn lookup(paths: &Paths, query: &str) -> Result<(Record, Liveness)> {
    lookup_for(paths, query, Repair::Record)
}

/// `lookup`, repairing for `repair`.
pub fn lookup_for(paths: &Paths, query: &str, repair: Repair) -> Result<(Record, Liveness)> {
    let record = state::resolve(paths, query)?;
    refresh(paths, record, repair)?.ok_or_else(|| {
        state::StateError::NoSuchContainer {
            query: query.to_string(),
        }
        .into()
    })
}

/// Delete a directory tree that is ours, without ever following a mount point into another
/// filesystem: whatever is mounted below it (an overlay left by a killed command) is
/// detached first.
pub fn remove_tree(dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    for mount in mounts_under(dir) {
        nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH)
            .map_err(std::io::Error::from)
            .ctx("umount", &mount)?;
    }
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e).ctx("remove", dir),
        _ => Ok(()),
    }
}

/// Mount points at or below `dir` in our mount namespace, deepest first.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|f| PathBuf::from(unescape(f)))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|o| std::str::from_utf8(o).ok())
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_paths_are_unescaped() {
        assert_eq!(unescape(r"/var/lib/a\040b"), "/var/lib/a b");
        assert_eq!(unescape(r"/x\134y"), r"/x\y");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/end\04"), r"/end\04");
    }

    #[test]
    fn remove_tree_deletes_and_tolerates_absence() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("t");
        std::fs::create_dir_all(top.join("a/b")).unwrap();
        std::fs::write(top.join("a/b/f"), "x").unwrap();
        remove_tree(&top).unwrap();
        assert!(!top.exists());
        remove_tree(&top).unwrap();
    }
}
