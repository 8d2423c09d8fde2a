//! Pruning a store: remove every stopped container (exited, or created and never started),
//! stale records first repaired, and what killed commands left behind:
//! - `<containers>/.removing-<id>`: an `rm` killed while deleting;
//! - `<containers>/<id>` without a readable record, older than a minute: a `run` killed
//!   between making the directory and writing its claim (a younger one may be a `run`
//!   starting right now); a `run` killed after its claim left a record in state "created"
//!   whose supervisor is gone, which is stale and removed as a stopped container;
//! - `<run_root>/<id>` whose data directory is gone;
//! - layers no image and no container uses (a commit moved them out of a container's write
//!   layer; the container's `rm` was killed before it deleted them);
//! - scratch directories in `<root>/tmp` that no live command holds (a killed `commit`,
//!   `import`, `load`, `save` or `export`);
//! - cgroups `mdrun-<id>` under the configured cgroup parent whose container has no
//!   directory, when the id is one this store made (it ends in the store's id, see
//!   [`StoreId`]). Other stores may share the parent (the default one, mdrun's own cgroup,
//!   is shared by every store): their cgroups, and the processes in them, are left alone,
//!   as are record-less cgroups of containers made before stores had ids, which cannot be
//!   told apart from them.
//!
//! Cgroups are listed before the containers' directories and runtime directories before
//! data directories, and `run` makes a container's data directory before its runtime
//! directory and cgroup: so whatever a `run` in progress has made is seen with its data
//! directory and left alone.

use super::lookup::{refresh, Repair};
use super::remove::{remove_data_dir, remove_stopped, REMOVING_PREFIX};
use super::remove_tree::remove_tree;
use super::wait::is_starting;
use crate::cgroups;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::placement;
use crate::state::{is_full_id, Record, Status, StoreId};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A container directory without a record is left alone this long: its `run` may still be
/// starting it.
const UNRECORDED_GRACE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Pruned {
    /// Ids of the removed containers.
    pub containers: Vec<String>,
    /// What else was removed, one description each.
    pub leftovers: Vec<String>,
    pub errors: Vec<Error>,
}

pub fn prune(paths: &Paths, cgroup_parent: Option<&str>) -> Pruned {
    let mut pruned = Pruned::default();
    // Listed first: see the module's comment.
    let cgroup_dirs = match StoreId::read(&paths.root) {
        Some(store) => container_cgroups(cgroup_parent, &store),
        None => BTreeMap::new(),
    };
    let runtime_dirs = full_id_entries(&paths.run_root);

    for record in Record::list(&paths.containers()) {
        let id = record.id.clone();
        match remove_if_stopped(paths, record) {
            Ok(true) => pruned.containers.push(id),
            Ok(false) => {}
            Err(e) => pruned.errors.push(e),
        }
    }

    let mut known = BTreeSet::new();
    for name in entry_names(&paths.containers()) {
        let dir = paths.containers().join(&name);
        if name.starts_with(REMOVING_PREFIX) {
            pruned.note(
                remove_tree(&dir),
                format!("half-removed container {}", dir.display()),
            );
        } else if is_full_id(&name) {
            if Record::load(&dir).is_ok() || younger_than(&dir, UNRECORDED_GRACE) {
                known.insert(name);
            } else {
                let removed = remove_unrecorded(paths, cgroup_parent, &name);
                pruned.note(
                    removed,
                    format!("container {name} without a record (a killed run)"),
                );
            }
        }
    }

    for id in runtime_dirs {
        let dir = paths.runtime(&id);
        if !paths.container(&id).exists() && dir.exists() {
            pruned.note(
                remove_tree(&dir),
                format!("runtime directory {}", dir.display()),
            );
        }
    }

    for (id, dir) in cgroup_dirs {
        if !known.contains(&id) && !paths.container(&id).exists() && dir.exists() {
            let name = placement::cgroup_name(&id);
            let destroyed = cgroups::backend()
                .load(cgroup_parent, &name)
                .destroy()
                .map_err(Error::from);
            pruned.note(destroyed, format!("cgroup {}", dir.display()));
        }
    }
    let store = crate::image::Store::new(paths.clone());
    // Layers a commit moved out of a container that is gone now (its `rm` was killed).
    match store.sweep_unused_layers() {
        Ok(layers) => pruned
            .leftovers
            .extend(layers.iter().map(|l| format!("unused layer {l}"))),
        Err(e) => pruned.errors.push(e.into()),
    }
    // Scratch directories of killed imports, commits, loads, saves and exports.
    for dir in store.sweep_scratch() {
        pruned
            .leftovers
            .push(format!("scratch directory {}", dir.display()));
    }
    pruned.leftovers.dedup();
    pruned
}

impl Pruned {
    fn note(&mut self, result: Result<()>, what: String) {
        match result {
            Ok(()) => self.leftovers.push(what),
            Err(e) => self.errors.push(e),
        }
    }
}

/// Remove the container if it is stopped (a stale record is repaired first). True if it
/// was removed, here or by the repair (a `--rm` container).
fn remove_if_stopped(paths: &Paths, record: Record) -> Result<bool> {
    let record = match record.status {
        Status::Exited => record,
        _ => match refresh(paths, record, Repair::Remove)? {
            None => return Ok(true),
            Some((r, _)) => r,
        },
    };
    let stopped = match record.status {
        // Ended, but its restart policy starts it again: not stopped.
        Status::Exited => !super::supervised::is_restarting(&record),
        Status::Created => !is_starting(&record),
        Status::Running => false,
    };
    if stopped {
        remove_stopped(paths, &record)?;
    }
    Ok(stopped)
}

/// A container directory with no readable record: its cgroup (it may have got that far),
/// runtime directory and data directory. The directory is this store's, and so is the id
/// it is named after.
fn remove_unrecorded(paths: &Paths, cgroup_parent: Option<&str>, id: &str) -> Result<()> {
    cgroups::backend()
        .load(cgroup_parent, &placement::cgroup_name(id))
        .destroy()?;
    crate::network::release_container(&paths.root, &paths.containers(), id)?;
    remove_tree(&paths.runtime(id))?;
    remove_data_dir(paths, id)
}

/// `mdrun-<id>` directories under the cgroup parent, in every hierarchy, of ids `store`
/// made: id -> directory. One directory per id is enough: `destroy` finds the others.
fn container_cgroups(cgroup_parent: Option<&str>, store: &StoreId) -> BTreeMap<String, PathBuf> {
    // Where a container's cgroup would go, for a made-up id: its parent directories.
    let probe = placement::cgroup_name(&"0".repeat(64));
    let parents: BTreeSet<PathBuf> = cgroups::backend()
        .load(cgroup_parent, &probe)
        .paths()
        .iter()
        .filter_map(|p| p.parent().map(PathBuf::from))
        .collect();
    let mut found = BTreeMap::new();
    for parent in parents {
        for name in entry_names(&parent) {
            let id = name.strip_prefix("mdrun-").filter(|id| store.made(id));
            if let Some(id) = id {
                found
                    .entry(id.to_string())
                    .or_insert_with(|| parent.join(&name));
            }
        }
    }
    found
}

fn full_id_entries(dir: &std::path::Path) -> Vec<String> {
    entry_names(dir)
        .into_iter()
        .filter(|n| is_full_id(n))
        .collect()
}

fn entry_names(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Modified less than `age` ago (or its age is unknown: then it is kept).
fn younger_than(path: &std::path::Path, age: Duration) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified());
    match modified.map(|m| SystemTime::now().duration_since(m)) {
        Ok(Ok(elapsed)) => elapsed < age,
        Ok(Err(_)) => true, // modified in the future
        Err(_) => true,
    }
}
