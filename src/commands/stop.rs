//! `mdrun stop [-t SECONDS] CONTAINER...`: SIGTERM to the init, SIGKILL once the timeout
//! has passed, then wait until the exit is on record. Like docker: prints each container as
//! it was named; stopping one that is not running is fine (a note on stderr, exit 0).
//!
//! The init is PID 1 of its namespace: the kernel delivers it SIGTERM from the host only if
//! it handles that signal, so a command that does not (`sleep`) is killed at the timeout,
//! as under docker, and ends `Exited (137)`; one that traps SIGTERM and exits with the
//! shell's convention ends `Exited (143)`.

use super::cleanup::{self, Repair};
use super::exit_wait;
use super::report;
use super::signal::Init;
use crate::cli::StopArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, StateError, Status};
use std::time::Duration;

/// How long the init may take to die after SIGKILL (a process in uninterruptible sleep
/// finishes its system call first).
pub const KILL_WAIT: Duration = Duration::from_secs(10);
/// How long to wait for a `run` that is starting the container.
pub const START_WAIT: Duration = Duration::from_secs(10);

pub fn run(args: &StopArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let timeout = u64::try_from(args.time).ok().map(Duration::from_secs);
    Ok(report::each(&args.containers, |query| {
        match stop(&paths, query, timeout)? {
            Stopped::Now => Ok(()),
            Stopped::Already(name) => {
                eprintln!("mdrun: container {name:?} is not running");
                Ok(())
            }
        }
    }))
}

pub enum Stopped {
    /// It was running and has now exited.
    Now,
    /// It was not running (its name).
    Already(String),
}

/// Stop the container `query` names; `timeout` None waits for it forever after SIGTERM.
pub fn stop(paths: &Paths, query: &str, timeout: Option<Duration>) -> Result<Stopped> {
    let (record, liveness) = cleanup::lookup(paths, query)?;
    let record = match exit_wait::is_starting(&record) {
        true => match exit_wait::until_started(paths, record, START_WAIT) {
            Some(r) if exit_wait::is_starting(&r) => {
                return Err(StateError::Starting { name: r.name }.into())
            }
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
    if record.status != Status::Running {
        return Ok(Stopped::Already(record.name));
    }
    if liveness == Liveness::AsRecorded {
        if let Some(init) = Init::open(&record) {
            terminate(&init, &record.name, timeout, stop_signal(&record))?;
        }
    }
    // With no timeout it returns only once the exit is on record (or the record is gone).
    exit_wait::until_exited(paths, &record.id, None, Repair::Record)?;
    Ok(Stopped::Now)
}

/// The container's stop signal (`--stop-signal`, the image's STOPSIGNAL), else SIGTERM.
pub fn stop_signal(record: &crate::state::Record) -> i32 {
    record
        .spec
        .as_ref()
        .and_then(|s| s.stop_signal.as_deref())
        .and_then(|s| super::signal::parse_signal(s).ok())
        .unwrap_or(libc::SIGTERM)
}

/// `signal` (SIGTERM unless the image says otherwise), then SIGKILL after `timeout`;
/// returns once the init has ended.
pub fn terminate(init: &Init, name: &str, timeout: Option<Duration>, signal: i32) -> Result<()> {
    if init.signal(signal)? && !init.wait(timeout) {
        kill(init, name)?;
    }
    Ok(())
}

/// SIGKILL, and wait for the init to end.
pub fn kill(init: &Init, name: &str) -> Result<()> {
    if init.signal(libc::SIGKILL)? && !init.wait(Some(KILL_WAIT)) {
        return Err(StateError::StillRunning {
            name: name.to_string(),
            pid: init.pid,
            secs: KILL_WAIT.as_secs(),
        }
        .into());
    }
    Ok(())
}
