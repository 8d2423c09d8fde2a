//! `mdrun kill [-s SIGNAL] CONTAINER...`: send a signal (default KILL) to each container's
//! init. As under docker, the init is PID 1 of its namespace and the kernel drops signals
//! it has no handler for, SIGKILL excepted.

use super::signal::{parse_signal, Init};
use super::{cleanup, report};
use crate::cli::KillArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, StateError, Status};

pub fn run(args: &KillArgs) -> Result<i32> {
    let signal = parse_signal(&args.signal)?;
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        kill(&paths, query, signal)
    }))
}

/// Send `signal` to the init of the container `query` names; an error unless it runs.
pub fn kill(paths: &Paths, query: &str, signal: i32) -> Result<()> {
    let (record, liveness) = cleanup::lookup(paths, query)?;
    let not_running = || StateError::NotRunning {
        name: record.name.clone(),
    };
    if record.status != Status::Running || liveness != Liveness::AsRecorded {
        return Err(not_running().into());
    }
    let init = Init::open(&record).ok_or_else(not_running)?;
    match init.signal(signal)? {
        true => Ok(()),
        false => Err(not_running().into()),
    }
}
