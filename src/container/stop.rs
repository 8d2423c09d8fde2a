//! Stopping a container: SIGTERM to the init, SIGKILL once the timeout has passed, then
//! wait until the exit is on record.
//!
//! The init is PID 1 of its namespace: the kernel delivers it SIGTERM from the host only if
//! it handles that signal, so a command that does not (`sleep`) is killed at the timeout,
//! as under docker, and ends `Exited (137)`; one that traps SIGTERM and exits with the
//! shell's convention ends `Exited (143)`.

use super::init_handle::InitHandle;
use super::lookup::{lookup, Repair};
use super::wait::{is_starting, until_exited, until_started, START_WAIT};
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, Record, StateError, Status};
use std::time::Duration;

pub enum Stopped {
    /// It was running and has now exited.
    Now,
    /// It was not running (its name).
    Already(String),
}

/// The container's stop signal (`--stop-signal`, the image's STOPSIGNAL), else SIGTERM.
pub fn stop_signal(record: &Record) -> i32 {
    record
        .spec
        .as_ref()
        .and_then(|s| s.stop_signal.as_deref())
        .and_then(|s| crate::parse::signal(s).ok())
        .unwrap_or(libc::SIGTERM)
}

/// Stop the container `query` names; `timeout` None waits for it forever after SIGTERM.
pub fn stop(paths: &Paths, query: &str, timeout: Option<Duration>) -> Result<Stopped> {
    let (record, liveness) = lookup(paths, query)?;
    let record = match is_starting(&record) {
        true => match until_started(paths, record, START_WAIT) {
            Some(r) if is_starting(&r) => return Err(StateError::Starting { name: r.name }.into()),
            Some(r) => r,
            None => {
                return Err(StateError::NoSuchContainer {
                    query: query.to_string(),
                }
                .into())
            }
        },
        false => record,
    };
    // A restart policy's service: no more restarts (a pending one cancelled).
    super::supervised::end_supervision(paths, &record)?;
    if record.status != Status::Running {
        super::supervised::settle_stopped(paths, &record)?;
        return Ok(Stopped::Already(record.name));
    }
    if liveness == Liveness::AsRecorded {
        if let Some(init) = InitHandle::open(&record) {
            init.terminate(timeout, stop_signal(&record))?;
        }
    }
    // With no timeout it returns only once the exit is on record (or the record is gone).
    until_exited(paths, &record.id, None, Repair::Record)?;
    super::supervised::settle_stopped(paths, &record)?;
    super::events::emit(&paths.containers(), &record, "stop", &[]);
    Ok(Stopped::Now)
}
