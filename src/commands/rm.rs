//! `mdrun rm [-f] [-v] CONTAINER...`: remove containers: their write layer, record, log
//! file, runtime directory, cgroup and scope. A running container is refused unless `-f`,
//! which kills it first (SIGKILL, as docker does) and waits until its supervisor has
//! recorded the end. A stale record (mdrun killed, host rebooted) is repaired and removed
//! like an exited one.
//!
//! `-v` removes the container's anonymous volumes (those `run` made for its image's
//! VOLUME paths); host directories and named volumes are always kept.

use super::cleanup::{self, Repair};
use super::exit_wait::{self, Waited};
use super::signal::Init;
use super::{report, stop};
use crate::cli::RmArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{StateError, Status};

pub fn run(args: &RmArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        remove(&paths, query, args.force, args.volumes)
    }))
}

/// Remove the container `query` names; `force` kills it first if it runs; `volumes`:
/// its anonymous volumes too.
pub fn remove(paths: &Paths, query: &str, force: bool, volumes: bool) -> Result<()> {
    let (mut record, _) = cleanup::lookup_for(paths, query, Repair::Remove)?;
    if exit_wait::is_starting(&record) {
        if !force {
            return Err(StateError::Starting { name: record.name }.into());
        }
        match exit_wait::until_started(paths, record, stop::START_WAIT) {
            Some(r) if exit_wait::is_starting(&r) => {
                return Err(StateError::Starting { name: r.name }.into())
            }
            Some(r) => record = r,
            None => return Ok(()),
        }
    }
    if record.status == Status::Running {
        if !force {
            return Err(StateError::Running { name: record.name }.into());
        }
        if let Some(init) = Init::open(&record) {
            stop::kill(&init, &record.name)?;
        }
        // Its supervisor records the end (and removes a `--rm` container itself): removing
        // the directory under it before that would make it fail half-way.
        match exit_wait::until_exited(paths, &record.id, None, Repair::Remove)? {
            Waited::Exited(r) | Waited::TimedOut(r) => record = r,
            Waited::Removed => return Ok(()),
        }
    }
    cleanup::remove(paths, &record)?;
    if volumes {
        super::anon_volumes::remove_anonymous(paths, &record.id, &record.volumes)?;
    }
    Ok(())
}
