//! A container's healthcheck, run once (`mdrun healthcheck run`, which its systemd timer
//! `md-<id>-health.timer` runs every interval): the check's command runs in the container
//! as `exec` runs one, its output captured and cut at the timeout; the result goes into
//! the record under the store lock (docker's State.Health), and a change of status is
//! logged as a `health_status` event. Also: starting and stopping the timer with the
//! container (`run.rs`).

use super::exec::{join_plan, ExecRequest};
use crate::error::{Error, Result};
use crate::launch::{self, join, signals, Attach};
use crate::logs::{Sink, Stream};
use crate::paths::Paths;
use crate::state::{self, Health, HealthResult, Record, Status, StoreLock};
use std::time::Duration;

/// Run the healthcheck of the container `query` names; true when it passed.
pub fn run_healthcheck(paths: &Paths, query: &str) -> Result<bool> {
    let record = state::resolve(paths, query)?;
    let config = record
        .spec
        .as_ref()
        .and_then(|s| s.healthcheck.clone())
        .ok_or_else(|| Error::Usage(format!("container {} has no healthcheck", record.name)))?;
    let begun = state::now();
    let argv = config.argv();
    let req = ExecRequest {
        command: &argv,
        env: &[],
        workdir: None,
        user: None,
        tty: false,
        interactive: false,
    };
    let plan = join_plan(paths, &record, &req, true)?;
    let (exit_code, output) = match run_captured(&plan, config.timeout()) {
        Ok(Some((code, out))) => (code, out),
        // As docker: a check that outlived its timeout is a failure, code -1.
        Ok(None) => (
            -1,
            format!("Health check exceeded timeout ({:?})", config.timeout()),
        ),
        Err(e) => (-1, e.to_string()),
    };
    let ended = state::now();
    let result = HealthResult {
        start: crate::time::rfc3339(begun),
        end: crate::time::rfc3339(ended),
        exit_code,
        output,
    };
    let started = record.started.unwrap_or(record.created);
    let in_start_period = begun - started < config.start_period().as_secs_f64();
    let changed = {
        let _lock = StoreLock::acquire(&paths.containers())?;
        let dir = paths.container(&record.id);
        let mut current = Record::load(&dir)?;
        // It ended (or was started again) meanwhile: the result is of no run of today's.
        if current.status != Status::Running || current.pid != record.pid {
            return Ok(exit_code == 0);
        }
        let health = current.health.get_or_insert_with(Health::default);
        let changed = health.record(result, config.retries, in_start_period);
        current.save(&dir)?;
        changed.map(|status| (current, status))
    };
    if let Some((current, status)) = changed {
        super::events::emit(
            &paths.containers(),
            &current,
            "health_status",
            &[("health", status.as_str().to_string())],
        );
    }
    Ok(exit_code == 0)
}

/// The check's output, both streams, at most [`state::HEALTH_OUTPUT_MAX`] bytes.
struct Captured(Vec<u8>);

impl Sink for Captured {
    fn write(&mut self, _stream: Stream, data: &[u8]) {
        let room = state::HEALTH_OUTPUT_MAX.saturating_sub(self.0.len());
        self.0.extend_from_slice(&data[..data.len().min(room)]);
    }
}

/// Run the plan; None when it was killed at `timeout`.
///
/// No thread can time it: after joining the container's PID namespace, clone(2) refuses
/// CLONE_THREAD (EINVAL). So a POSIX timer sends us SIGTERM at the deadline, which the
/// supervision loop handles as a stop: forwarded, then SIGKILL at once.
fn run_captured(plan: &join::JoinPlan, timeout: Duration) -> Result<Option<(i32, String)>> {
    signals::block().map_err(launch::sys("block signals"))?;
    let running = join::spawn(plan)?;
    let deadline = Deadline::arm(timeout).map_err(launch::sys("timer_create"))?;
    let mut sink = Captured(Vec::new());
    let status = launch::supervise(
        running,
        Attach {
            stdin: false,
            stop_timeout: Some(Duration::ZERO),
            notify: None,
            echo: false,
            sink: &mut sink,
        },
    )
    .map_err(launch::sys("wait for the healthcheck"));
    drop(deadline);
    signals::unblock();
    let status = status?;
    if launch::stop_requested() {
        return Ok(None);
    }
    Ok(Some((
        status.code(),
        String::from_utf8_lossy(&sink.0).into_owned(),
    )))
}

/// A one-shot timer that sends this process SIGTERM; deleted when dropped.
struct Deadline(libc::timer_t);

impl Deadline {
    fn arm(after: Duration) -> nix::Result<Deadline> {
        // SAFETY: a zeroed sigevent is valid; the fields set below are the ones read.
        let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
        event.sigev_notify = libc::SIGEV_SIGNAL;
        event.sigev_signo = libc::SIGTERM;
        let mut id: libc::timer_t = std::ptr::null_mut();
        // SAFETY: timer_create(2) with valid pointers to an event and to the id it fills.
        if unsafe { libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut id) } != 0 {
            return Err(nix::Error::last());
        }
        let deadline = Deadline(id);
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos().max(1) as libc::c_long,
            },
        };
        // SAFETY: timer_settime(2) on the timer just made, with a valid itimerspec.
        if unsafe { libc::timer_settime(id, 0, &spec, std::ptr::null_mut()) } != 0 {
            return Err(nix::Error::last());
        }
        Ok(deadline)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // SAFETY: timer_delete(2) of the timer this value owns, once.
        unsafe { libc::timer_delete(self.0) };
    }
}

/// The container runs: its health starts "starting", and (with systemd) its timer runs
/// the check every interval. A timer that cannot be made is reported, not fatal.
pub(super) fn start_checks(record: &Record) {
    let Some(config) = record.spec.as_ref().and_then(|s| s.healthcheck.as_ref()) else {
        return;
    };
    if record.cgroup_manager != state::CgroupManager::Systemd {
        return;
    }
    if let Err(e) = crate::systemd::service::start_health_timer(&record.id, config.interval()) {
        eprintln!("mdrun: healthcheck timer of {}: {e}", record.name);
    }
}

/// The container ended (or is removed): its timer goes.
pub(super) fn stop_checks(record: &Record) {
    let has_check = record
        .spec
        .as_ref()
        .is_some_and(|s| s.healthcheck.is_some());
    if has_check && record.cgroup_manager == state::CgroupManager::Systemd {
        if let Err(e) = crate::systemd::service::stop_health_timer(&record.id) {
            eprintln!("mdrun: stop the healthcheck timer of {}: {e}", record.name);
        }
    }
}
