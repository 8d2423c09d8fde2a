//! Pausing a running container (`mdrun pause` / `unpause`): every process in it is frozen
//! by the kernel (the cgroup freezer) and keeps its memory; nothing is signalled.
//!
//! A container in a systemd scope is frozen by systemd (FreezeUnit, as `systemctl freeze`
//! does), so that `systemctl status` says "frozen" too; where systemd cannot (cgroup v1,
//! or a systemd before 246) and with the cgroupfs manager, mdrun writes the freezer of the
//! container's own cgroup (`cgroup.freeze` on v2, `freezer.state` on v1). Whether it is
//! paused is read back from the kernel each time (`ps`, `inspect`), never recorded: a
//! record cannot then disagree with what the processes are doing.
//!
//! A paused container can be stopped, killed and removed: the signal is sent first and the
//! container thawed right after ([`thaw_after_signal`]), as docker does, since a frozen
//! process acts on no signal (on v1 not even SIGKILL) until it is thawed.

use super::lookup::lookup;
use crate::cgroups::freezer;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, Record, StateError, Status};
use crate::systemd::control::{self, Freezer};

/// Is the container paused? Reads its freezer (one small file); false unless it runs.
pub fn is_paused(record: &Record) -> bool {
    record.status == Status::Running && freezer::is_frozen(&record.cgroup_paths)
}

/// Freeze the container `query` names; returns its name. An error unless it runs and is
/// not paused already.
pub fn pause(paths: &Paths, query: &str) -> Result<String> {
    let record = running(paths, query)?;
    if is_paused(&record) {
        return Err(StateError::AlreadyPaused { name: record.name }.into());
    }
    let frozen = systemd_scope(&record).is_some_and(|unit| via_systemd(unit, true))
        || freezer::pause(&record.cgroup_paths, &record.name)?;
    if !frozen {
        return Err(StateError::NoFreezer { name: record.name }.into());
    }
    super::events::emit(&paths.containers(), &record, "pause", &[]);
    Ok(record.name)
}

/// Thaw the container `query` names; returns its name. An error unless it is paused.
pub fn unpause(paths: &Paths, query: &str) -> Result<String> {
    let record = running(paths, query)?;
    if !is_paused(&record) {
        return Err(StateError::NotPaused { name: record.name }.into());
    }
    thaw(&record)?;
    super::events::emit(&paths.containers(), &record, "unpause", &[]);
    Ok(record.name)
}

/// Thaw a paused container that was just signalled (`stop`, `kill`, `rm -f`), so that
/// the signal takes effect. Best effort: a failure is reported, and the wait that follows
/// says what happened.
pub fn thaw_after_signal(record: &Record) {
    if is_paused(record) {
        if let Err(e) = thaw(record) {
            eprintln!("mdrun: thaw the paused container {}: {e}", record.name);
        }
    }
}

fn thaw(record: &Record) -> Result<()> {
    if let Some(unit) = systemd_scope(record) {
        via_systemd(unit, false);
    }
    // Also when systemd thawed the scope: a freeze mdrun wrote itself (an earlier systemd,
    // or the scope's systemd unreachable then) sits on the container's own cgroup.
    if is_paused(record) {
        freezer::thaw(&record.cgroup_paths)?;
    }
    Ok(())
}

/// The container's scope, when systemd is there to act on it.
fn systemd_scope(record: &Record) -> Option<&str> {
    record
        .scope
        .as_deref()
        .filter(|_| crate::systemd::available())
}

/// FreezeUnit or ThawUnit; false when systemd cannot do it (the cgroup freezer then). An
/// error from systemd is reported and the cgroup freezer used too.
fn via_systemd(unit: &str, freeze: bool) -> bool {
    match control::freeze(unit, freeze) {
        Ok(Freezer::Done) => true,
        Ok(Freezer::Unsupported) => false,
        Err(e) => {
            eprintln!("mdrun: {e}; using the cgroup freezer");
            false
        }
    }
}

/// The record of a container that runs, or "not running".
fn running(paths: &Paths, query: &str) -> Result<Record> {
    let (record, liveness) = lookup(paths, query)?;
    if record.status != Status::Running || liveness != Liveness::AsRecorded {
        return Err(StateError::NotRunning { name: record.name }.into());
    }
    Ok(record)
}
