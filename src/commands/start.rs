//! `mdrun start CONTAINER...`: run an exited container again, with its write layer, its
//! limits and its command; detached unless `-a`.

use super::exit_wait;
use super::run_prepare::{notify_proxy, plan, volume_mounts, ContainerDirs};
use super::run_start::{self, Prepared};
use crate::cli::StartArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{self, Record, StateError, Status, StoreLock};

pub fn run(args: &StartArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    if args.attach && args.containers.len() > 1 {
        return Err(Error::Usage(
            "you cannot start and attach multiple containers at once".into(),
        ));
    }
    let store = Store::new(paths.clone());
    for query in &args.containers {
        // lookup repairs a stale record (its supervisor died) before we act on it.
        let (record, _) = super::cleanup::lookup(&paths, query)?;
        let Some((previous, record)) = claim(&paths, record)? else {
            // As docker: starting a running container is not an error.
            println!("{query}");
            continue;
        };
        crate::stop_point::reached("start:claimed");
        let started = launch(args, &global, &paths, &store, record);
        match started {
            Ok(code) if args.attach => return Ok(code),
            Ok(_) => println!("{query}"),
            Err(e) => {
                give_back(&paths, &previous);
                return Err(e);
            }
        }
    }
    Ok(0)
}

/// Under the store lock, look at the record again and claim it as being started by this
/// process (state "created", this pid as its supervisor, `started` the claim time), so
/// that a second `start`, an `rm` or a `prune` at the same moment sees it being started.
/// Returns the record as it was and as claimed; None when it runs already.
fn claim(paths: &Paths, record: Record) -> Result<Option<(Record, Record)>> {
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
        Status::Created if exit_wait::is_starting(&current) => {
            return Err(StateError::AlreadyStarting {
                name: current.name,
                pid: current.supervisor_pid.unwrap_or(0),
            }
            .into())
        }
        Status::Created | Status::Exited => {}
    }
    // A commit killed half-way through moving the write layer: finished first.
    super::commit_stopped::finish_move(paths, &Store::new(paths.clone()), &current)?;
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
        if let Err(e) = super::cleanup::release(paths, &current) {
            eprintln!("mdrun: {e}");
        }
        let _ = previous.save(&dir);
    }
}

/// Start the claimed container: attached (returns its exit code) or detached.
fn launch(
    args: &StartArgs,
    global: &GlobalConfig,
    paths: &Paths,
    store: &Store,
    mut record: Record,
) -> Result<i32> {
    let mut spec = record.spec.clone().ok_or_else(|| {
        Error::Usage(format!(
            "container {} has no saved configuration; it cannot be started",
            record.name
        ))
    })?;
    spec.detach = !args.attach;
    spec.interactive = args.attach && args.interactive;
    let image = super::commit_stopped::image_of(store, &record)?;
    let dirs = ContainerDirs::reopen(paths, &record.id)?;
    let mut volumes = volume_mounts(paths, &spec)?;
    let notify = notify_proxy(&spec, &dirs)?.map(|(proxy, mount)| {
        volumes.push(mount);
        proxy
    });
    let capture = record.log_driver != crate::state::LogDriver::None || spec.detach;
    let plan = plan(
        &record.id,
        &spec,
        store,
        &image,
        &dirs,
        volumes,
        record.hostname.clone(),
        capture,
    );
    record.detached = spec.detach;
    record.limits.restrict_devices = plan.process.security.device_filter;
    let manager = record.cgroup_manager;
    let prepared = Prepared {
        record,
        dirs,
        plan,
        manager,
        slice: global.slice.clone(),
        interactive: spec.interactive,
        sdnotify_container: spec.sdnotify_container,
        notify,
    };
    if args.attach {
        return run_start::attached(prepared);
    }
    run_start::detached(prepared)?;
    Ok(0)
}
