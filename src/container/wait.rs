//! Waiting for a container to end and for its end to be on record: `stop`, `rm -f` and
//! `wait` share this. The init is watched through a pidfd (no polling while it runs); the
//! record is then polled until its supervisor has written the exit, or repaired here if
//! the supervisor died too. And waiting for a `run` that is starting the container.

use super::init_handle::InitHandle;
use super::lookup::{lookup, reconcile, Repair, UNKNOWN_EXIT};
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, Record, StateError, Status};
use std::time::{Duration, Instant};

/// How long a live supervisor may take to record an exit it has seen.
const RECORD_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);
/// How long `stop` and `rm -f` wait for a `run` that is starting the container.
pub const START_WAIT: Duration = Duration::from_secs(10);

/// `mdrun wait`: the exit code of the container `query` names, once it has exited (255
/// when mdrun never saw the exit, see [`UNKNOWN_EXIT`]).
pub fn wait(paths: &Paths, query: &str) -> Result<i32> {
    let (record, _) = lookup(paths, query)?;
    match until_exited(paths, &record.id, None, Repair::Record)? {
        Waited::Exited(r) => Ok(r.exit.map_or(UNKNOWN_EXIT, |e| e.code())),
        // Removed by its own `--rm` before we could read how it ended.
        Waited::Removed | Waited::TimedOut(_) => Err(StateError::NoSuchContainer {
            query: query.to_string(),
        }
        .into()),
    }
}

pub enum Waited {
    /// The record says exited.
    Exited(Record),
    /// The record is gone: a `--rm` container, removed by its supervisor.
    Removed,
    /// `timeout` passed first; the record as last seen.
    TimedOut(Record),
}

/// Until the container `id` has exited and that is on record; `timeout` None waits forever.
/// A stale record is repaired for `repair` (with [`Repair::Remove`], the end is in the
/// returned record only).
pub fn until_exited(
    paths: &Paths,
    id: &str,
    timeout: Option<Duration>,
    repair: Repair,
) -> Result<Waited> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut init: Option<InitHandle> = None;
    let mut ending_since: Option<Instant> = None;
    loop {
        let Ok(record) = Record::load(&paths.container(id)) else {
            return Ok(Waited::Removed);
        };
        if record.status == Status::Exited {
            return Ok(Waited::Exited(record));
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            return Ok(Waited::TimedOut(record));
        }
        let nap = left.map_or(POLL, |l| l.min(POLL));
        match record.liveness() {
            Liveness::Stale => match reconcile(paths, &record, repair)? {
                None => return Ok(Waited::Removed),
                Some(r) if r.status == Status::Exited => return Ok(Waited::Exited(r)),
                // A container that never started: it only ends once something starts it.
                Some(_) => std::thread::sleep(nap.max(Duration::from_millis(100))),
            },
            Liveness::Ending => {
                let since = *ending_since.get_or_insert_with(Instant::now);
                if since.elapsed() > RECORD_TIMEOUT {
                    return Err(StateError::NotRecorded {
                        name: record.name.clone(),
                        pid: record.supervisor_pid.unwrap_or(0),
                        secs: RECORD_TIMEOUT.as_secs(),
                    }
                    .into());
                }
                std::thread::sleep(nap);
            }
            Liveness::AsRecorded if record.status == Status::Running => {
                if init.as_ref().map(|i| i.pid) != record.pid {
                    init = InitHandle::open(&record);
                }
                match &init {
                    // Wake at least once a second to look at the record again.
                    Some(i) => {
                        i.wait(Some(
                            left.unwrap_or(Duration::from_secs(1))
                                .min(Duration::from_secs(1)),
                        ));
                    }
                    None => std::thread::sleep(nap),
                }
            }
            // Being created by a live `run`, or created and never started.
            Liveness::AsRecorded => std::thread::sleep(nap.max(Duration::from_millis(20))),
        }
    }
}

/// A live `run` that has not started the container yet: wait (at most `timeout`) until it
/// has, or has given up. Returns the record as it then is; None once it is gone.
pub fn until_started(paths: &Paths, record: Record, timeout: Duration) -> Option<Record> {
    let deadline = Instant::now() + timeout;
    let mut record = record;
    while is_starting(&record) && Instant::now() < deadline {
        std::thread::sleep(POLL);
        match Record::load(&paths.container(&record.id)) {
            Ok(r) => record = r,
            Err(_) => return None,
        }
    }
    Some(record)
}

/// Created, with the `run` creating it still alive.
pub fn is_starting(record: &Record) -> bool {
    record.status == Status::Created && record.supervisor_pid.is_some() && record.supervisor_alive()
}
