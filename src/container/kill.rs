//! Sending a signal to a container's init. As under docker, the init is PID 1 of its
//! namespace and the kernel drops signals it has no handler for, SIGKILL excepted.

use super::init_handle::InitHandle;
use super::lookup::lookup;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, StateError, Status};

/// Send `signal` to the init of the container `query` names; an error unless it runs.
pub fn kill(paths: &Paths, query: &str, signal: i32) -> Result<()> {
    let (record, liveness) = lookup(paths, query)?;
    let not_running = || StateError::NotRunning {
        name: record.name.clone(),
    };
    if record.status != Status::Running || liveness != Liveness::AsRecorded {
        return Err(not_running().into());
    }
    let init = InitHandle::open(&record).ok_or_else(not_running)?;
    match init.signal(signal)? {
        true => {
            let name = ("signal", signal.to_string());
            super::events::emit(&paths.containers(), &record, "kill", &[name]);
            Ok(())
        }
        false => Err(not_running().into()),
    }
}
