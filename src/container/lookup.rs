//! Looking a container up as it really is: the lookup of every verb that acts on one.
//!
//! A record says `running` until its supervisor writes how the container ended; when
//! mdrun was killed or the host rebooted, nobody does (see `state::liveness`). A record
//! whose init and supervisor are both gone is repaired here before anyone acts on it:
//! what the supervisor would have done is finished (its cgroup and runtime directory
//! freed, the end recorded, or a `--rm` container removed).

use super::remove::{release, remove_data_dir};
use super::scope_leftovers;
use crate::cgroups;
use crate::error::Result;
use crate::paths::Paths;
use crate::placement;
use crate::state::{self, ExitStatus, Liveness, Record, Status, StoreLock};

/// The exit code recorded when mdrun never saw the container end (its supervisor was
/// killed, or the host rebooted): docker shows `Exited (255)` for such containers.
pub const UNKNOWN_EXIT: i32 = 255;

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
        scope_leftovers::remove_leftovers(scope, &name)?;
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
