//! Starting an exited container again, with its write layer, its limits and its command:
//! claimed under the store lock, then run attached or detached; given back as it was if
//! the start fails.

use super::commit_stopped::{finish_move, image_of};
use super::dirs::ContainerDirs;
use super::lookup::lookup;
use super::prepare::prepare;
use super::remove::release;
use super::run::{run_attached, run_detached};
use super::wait::is_starting;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{self, Record, StateError, Status, StoreLock};

/// How a start went.
pub enum Started {
    /// It was running already: as docker, not an error.
    WasRunning,
    /// Detached: its command runs, under a supervisor of its own.
    Detached,
    /// Attached: it ran and ended with this exit code.
    Ended(i32),
}

/// Start the container `query` names: detached, or attached (`interactive`: with our stdin).
pub fn start(
    paths: &Paths,
    global: &GlobalConfig,
    store: &Store,
    query: &str,
    attach: bool,
    interactive: bool,
) -> Result<Started> {
    // lookup repairs a stale record (its supervisor died) before we act on it.
    let (record, _) = lookup(paths, query)?;
    // Detached with a restart policy: under its systemd service again.
    if !attach && record.restart_policy.supervised() {
        return super::supervised::start_supervised(paths, query);
    }
    let Some((previous, record)) = claim(paths, store, record)? else {
        return Ok(Started::WasRunning);
    };
    crate::stop_point::reached("start:claimed");
    match launch(paths, global, store, record, attach, interactive) {
        Ok(started) => Ok(started),
        Err(e) => {
            give_back(paths, &previous);
            Err(e)
        }
    }
}

/// Under the store lock, look at the record again and claim it as being started by this
/// process (state "created", this pid as its supervisor, `started` the claim time), so
/// that a second `start`, an `rm` or a `prune` at the same moment sees it being started.
/// Returns the record as it was and as claimed; None when it runs already.
fn claim(paths: &Paths, store: &Store, record: Record) -> Result<Option<(Record, Record)>> {
    let dir = paths.container(&record.id);
    let _lock = StoreLock::acquire(&paths.containers())?;
    let no_such = || StateError::NoSuchContainer {
        query: record.name.clone(),
    };
    let mut current = Record::load(&dir).map_err(|_| no_such())?;
    match current.status {
        Status::Running if current.init_alive() => return Ok(None),
        // Its init is gone and the end is not on record yet: being stopped right now.
        Status::Running => return Err(StateError::Running { name: current.name }.into()),
        Status::Created if is_starting(&current) => {
            return Err(StateError::AlreadyStarting {
                name: current.name,
                pid: current.supervisor_pid.unwrap_or(0),
            }
            .into())
        }
        Status::Created | Status::Exited => {}
    }
    // A commit killed half-way through moving the write layer: finished first.
    finish_move(paths, store, &current)?;
    let previous = current.clone();
    current.status = Status::Created;
    current.supervisor_pid = Some(std::process::id() as i32);
    current.started = Some(state::now());
    current.pid = None;
    // Made again by this start; until it records them, a repair looks for them by name.
    current.cgroup_paths.clear();
    current.save(&dir)?;
    Ok(Some((previous, current)))
}

/// The start failed before the container ran (or its supervisor was killed while
/// starting it): free what it made (cgroup, runtime directory) and put the record back as
/// it was, unless it moved on meanwhile (it ran, or someone else claimed it).
fn give_back(paths: &Paths, previous: &Record) {
    let dir = paths.container(&previous.id);
    let Ok(_lock) = StoreLock::acquire(&paths.containers()) else {
        return;
    };
    let Ok(current) = Record::load(&dir) else {
        return;
    };
    let ours = current.supervisor_pid == Some(std::process::id() as i32);
    if current.status == Status::Created && (ours || !current.supervisor_alive()) {
        if let Err(e) = release(paths, &current) {
            eprintln!("mdrun: {e}");
        }
        let _ = previous.save(&dir);
    }
}

/// Run the claimed container: attached (until it ends) or detached.
fn launch(
    paths: &Paths,
    global: &GlobalConfig,
    store: &Store,
    mut record: Record,
    attach: bool,
    interactive: bool,
) -> Result<Started> {
    let mut spec = record.spec.clone().ok_or_else(|| {
        Error::Usage(format!(
            "container {} has no saved configuration; it cannot be started",
            record.name
        ))
    })?;
    spec.detach = !attach;
    spec.interactive = attach && interactive;
    let image = image_of(store, &record)?;
    let dirs = ContainerDirs::reopen(paths, &record.id)?;
    record.detached = spec.detach;
    let prepared = prepare(paths, global, store, &image, &spec, record, dirs)?;
    if attach {
        return run_attached(prepared).map(Started::Ended);
    }
    run_detached(prepared)?;
    Ok(Started::Detached)
}
