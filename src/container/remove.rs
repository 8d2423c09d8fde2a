//! Removing a container: its write layer, record, log file, runtime directory, cgroup and
//! scope. Shared by `rm`, `prune` and the repair of stale records.
//!
//! Order, so that a SIGKILL at any point leaves something the next `rm` or `prune`
//! understands: first what the container holds while it runs (scope, cgroup, runtime
//! directory), while its record still names them; then its data directory is renamed to
//! `.removing-<id>` (one atomic step: the record is gone) and deleted. `prune` finishes
//! any `.removing-*` it finds.

use super::init_handle::InitHandle;
use super::lookup::{lookup_for, Repair};
use super::remove_tree::remove_tree;
use super::scope_leftovers;
use super::wait::{is_starting, until_exited, until_started, Waited, START_WAIT};
use crate::cgroups;
use crate::error::{IoContext, Result};
use crate::paths::Paths;
use crate::placement;
use crate::state::{Liveness, Record, StateError, Status, StoreLock};
use std::io::ErrorKind;
use std::path::PathBuf;

/// Remove the container `query` names. A running one is refused unless `force`, which
/// kills it first (SIGKILL, as docker does) and waits until its supervisor has recorded
/// the end. A stale record (mdrun killed, host rebooted) is repaired and removed like an
/// exited one. `volumes`: its anonymous volumes too (host directories and named volumes
/// are always kept).
pub fn remove(paths: &Paths, query: &str, force: bool, volumes: bool) -> Result<()> {
    let (mut record, _) = lookup_for(paths, query, Repair::Remove)?;
    if record.restart_policy.supervised() {
        if !force && super::supervised::is_restarting(&record) {
            return Err(StateError::Running { name: record.name }.into());
        }
        // No restart under our feet: its service goes first.
        super::supervised::end_supervision(paths, &record)?;
    }
    if is_starting(&record) {
        if !force {
            return Err(StateError::Starting { name: record.name }.into());
        }
        match until_started(paths, record, START_WAIT) {
            Some(r) if is_starting(&r) => return Err(StateError::Starting { name: r.name }.into()),
            Some(r) => record = r,
            None => return Ok(()),
        }
    }
    if record.status == Status::Running {
        if !force {
            return Err(StateError::Running { name: record.name }.into());
        }
        if let Some(init) = InitHandle::open(&record) {
            init.kill()?;
        }
        // Its supervisor records the end (and removes a `--rm` container itself): removing
        // the directory under it before that would make it fail half-way.
        match until_exited(paths, &record.id, None, Repair::Remove)? {
            Waited::Exited(r) | Waited::TimedOut(r) => record = r,
            Waited::Removed => return Ok(()),
        }
    }
    remove_stopped(paths, &record)?;
    super::events::emit(&paths.containers(), &record, "destroy", &[]);
    if volumes {
        super::anon_volumes::remove_anonymous(paths, &record.id, &record.volumes)?;
    }
    Ok(())
}

/// Prefix of a data directory being deleted.
pub const REMOVING_PREFIX: &str = ".removing-";

/// Free what the container holds while it runs: its scope, its cgroup (killing whatever is
/// still inside) and its runtime directory (unmounting anything left mounted there).
pub fn release(paths: &Paths, record: &Record) -> Result<()> {
    let name = placement::cgroup_name(&record.id);
    // Its supervisor may have died before stopping the healthcheck's timer.
    super::health::stop_checks(record);
    if let Some(scope) = &record.scope {
        // systemd kills what is left in the scope and removes its cgroups. Without a bus
        // (systemd gone since) the cgroup removal below still runs. Only a scope that holds
        // this container's own cgroup: see scope_leftovers::holds.
        if scope_leftovers::holds(scope, &name, &record.cgroup_paths) {
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
    // What a killed mdrun left on the container's network: its ports, its lease (its veth
    // went with its network namespace).
    crate::network::release_container(&paths.root, &paths.containers(), &record.id)?;
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

/// Remove a container that does not run, entirely: `release`, then its data directory
/// (write layer, record, log file). Named volumes live elsewhere and are kept. Each step
/// runs under the store lock, after a look at the record as it is then: a `start` or `run`
/// that claimed the container since the caller looked makes this an error, and nothing is
/// removed under it.
pub fn remove_stopped(paths: &Paths, record: &Record) -> Result<()> {
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        if !still_removable(paths, &record.id)? {
            return Ok(());
        }
        release(paths, record)?;
    }
    crate::stop_point::reached("rm:released");
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        if !still_removable(paths, &record.id)? {
            return Ok(());
        }
        rename_data_dir(paths, &record.id)?;
    }
    crate::stop_point::reached("rm:renamed");
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
    if is_starting(&current) {
        return Err(StateError::Starting { name: current.name }.into());
    }
    if current.status == Status::Running && current.liveness() != Liveness::Stale {
        return Err(StateError::Running { name: current.name }.into());
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
