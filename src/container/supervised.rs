//! A container with a restart policy, supervised by systemd: its supervisor is the main
//! process of a transient service `md-<id>.service` (`systemd::service`), which runs
//! `mdrun supervise <id>`: [`supervise`] starts the container attached (in its own scope,
//! as any other), waits for its end and exits as the policy says; systemd's
//! Restart=on-failure starts it again. `mdrun stop` and `rm -f` stop the service, which
//! ends the restarts ([`end_supervision`]).

use super::lookup::lookup;
use super::run::Prepared;
use super::start::{start, Started};
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{Record, Status, StoreLock};
use crate::systemd::service::{self, NO_RESTART};
use std::time::Duration;

/// What `mdrun supervise` exits with when the policy wants the container started again.
const RESTART: i32 = 1;

/// `run -d --restart ...`: the container is created; systemd's service starts it. Waits
/// until it runs; if its first start fails, the container is removed again.
pub fn start_supervised_new(paths: &Paths, prepared: Prepared) -> Result<()> {
    let mut p = prepared;
    // The service's supervisor claims it; until then nobody is starting it.
    p.record.supervisor_pid = None;
    p.record.save_locked(p.dirs.containers(), &p.dirs.data)?;
    p.dirs.keep();
    let record = p.record.clone();
    drop(p);
    if let Err(e) = start_service(&record) {
        let _ = super::remove::remove_stopped(paths, &record);
        let _ = super::anon_volumes::remove_anonymous(paths, &record.id, &record.volumes);
        return Err(e);
    }
    Ok(())
}

/// `mdrun start` of a stopped container with a policy: under its service again.
pub fn start_supervised(paths: &Paths, query: &str) -> Result<Started> {
    let (record, _) = lookup(paths, query)?;
    if record.status == Status::Running {
        return Ok(Started::WasRunning);
    }
    if is_restarting(&record) {
        if !record.stopped_by_user {
            return Ok(Started::WasRunning);
        }
        // Stopped or killed by a user (`mdrun restart` is a stop, then this): its service
        // is on its way out, its supervisor still writing the end. Starting now would find
        // it there and start nothing (seen under load); its end is waited for.
        wait_service_gone(&record);
    }
    update(paths, &record.id, |r| r.stopped_by_user = false)?;
    start_service(&record)?;
    Ok(Started::Detached)
}

/// Until `record`'s service is gone, for its stop timeout and 10 s more at most (after
/// that, starting it says that it still runs).
fn wait_service_gone(record: &Record) {
    let end = std::time::Instant::now() + stop_timeout(record) + Duration::from_secs(10);
    while is_restarting(record) && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The container's `--stop-timeout`, else the default.
fn stop_timeout(record: &Record) -> Duration {
    let secs = record
        .spec
        .as_ref()
        .and_then(|s| s.stop_timeout)
        .unwrap_or(super::run::DEFAULT_STOP_TIMEOUT);
    Duration::from_secs(secs)
}

fn start_service(record: &Record) -> Result<()> {
    service::start_supervisor(&record.id, &record.name, stop_timeout(record)).map_err(|e| {
        Error::Usage(format!(
            "container {} did not start under systemd ({e}); see journalctl -u {}",
            record.name,
            service::service_name(&record.id)
        ))
    })
}

/// At boot (units/mdrun-restart.service): start again, under their services, the
/// containers whose policy says so (`always`; `unless-stopped` unless a user stopped it).
/// Each stale record is repaired first (the host went down under it). Others lose a
/// "Restarting" that no service will carry out any more.
pub fn start_at_boot(paths: &Paths) -> Vec<(String, Result<()>)> {
    let mut started = Vec::new();
    for record in crate::state::scan(&paths.containers()) {
        let policy = record.restart_policy;
        if !policy.supervised() {
            continue;
        }
        if !policy.starts_at_boot(record.stopped_by_user) {
            if record.restart_pending && !is_restarting(&record) {
                let _ = update(paths, &record.id, |r| r.restart_pending = false);
            }
            continue;
        }
        let result = start_supervised(paths, &record.id).map(|_| ());
        started.push((record.name, result));
    }
    started
}

/// Does the policy's service still run or wait to restart the container?
pub fn is_restarting(record: &Record) -> bool {
    record.restart_policy.supervised()
        && service::unit_running(&service::service_name(&record.id)).unwrap_or(false)
}

/// `mdrun stop`, `rm -f`: no more restarts. Marks the record stopped by the user first (so
/// that a supervisor deciding right now does not ask for a restart), then stops the
/// service: systemd cancels a pending restart, or SIGTERMs the supervisor, which stops the
/// container.
pub fn end_supervision(paths: &Paths, record: &Record) -> Result<()> {
    if !record.restart_policy.supervised() {
        return Ok(());
    }
    update(paths, &record.id, |r| {
        r.stopped_by_user = true;
        r.restart_pending = false;
    })?;
    crate::systemd::stop_unit(&service::service_name(&record.id))?;
    Ok(())
}

/// `mdrun kill`: no restart after this run (docker's rule, `kill.rs`), until the next
/// `start`. The service stays: its supervisor sees the mark when the container ends.
pub fn hold_restarts(paths: &Paths, record: &Record) -> Result<()> {
    update(paths, &record.id, |r| {
        r.stopped_by_user = true;
        r.restart_pending = false;
    })?;
    Ok(())
}

/// Once stopped: not "Restarting" any more, whatever a supervisor wrote meanwhile.
pub fn settle_stopped(paths: &Paths, record: &Record) -> Result<()> {
    if record.restart_policy.supervised() {
        update(paths, &record.id, |r| r.restart_pending = false)?;
    }
    Ok(())
}

/// `mdrun supervise ID`, the main process of `md-<id>.service`: start the container
/// attached, wait for its end, and return the exit status the policy decides on
/// (0 no restart, 1 restart, [`NO_RESTART`] when its first start failed).
pub fn supervise(paths: &Paths, global: &GlobalConfig, store: &Store, id: &str) -> Result<i32> {
    let mut restarted = false;
    let mut stopped = false;
    let Some(before) = update(paths, id, |r| {
        // `mdrun stop` came between the end and this restart: its StopUnit follows.
        stopped = r.stopped_by_user;
        if r.restart_pending && !stopped {
            r.restart_count += 1;
            restarted = true;
        }
        r.restart_pending = false;
    })?
    else {
        return Ok(NO_RESTART);
    };
    if stopped {
        return Ok(NO_RESTART);
    }
    if restarted {
        super::events::emit(
            &paths.containers(),
            &before,
            "restart",
            &[("restartCount", before.restart_count.to_string())],
        );
    }
    match start(paths, global, store, id, true, false) {
        Ok(Started::Ended(_)) => decide(paths, id),
        Ok(Started::WasRunning | Started::Detached) => Ok(NO_RESTART),
        Err(e) if restarted => {
            eprintln!("mdrun: {e}");
            decide(paths, id)
        }
        // Its first start: no loop of failing starts; `run -d` reports it.
        Err(e) => {
            eprintln!("mdrun: {e}");
            Ok(NO_RESTART)
        }
    }
}

/// After the container ended: start it again? Recorded in the record as "Restarting".
fn decide(paths: &Paths, id: &str) -> Result<i32> {
    let stop_requested = crate::launch::stop_requested();
    let mut again = false;
    update(paths, id, |r| {
        let code = r.exit.map(|e| e.code()).unwrap_or(super::UNKNOWN_EXIT);
        again = r.restart_policy.restarts_after(
            code,
            r.restart_count,
            stop_requested || r.stopped_by_user,
        );
        r.restart_pending = again;
    })?;
    Ok(if again { RESTART } else { 0 })
}

/// Change the record of `id` under the store lock; returns it as saved (None: it is gone).
fn update(paths: &Paths, id: &str, change: impl FnOnce(&mut Record)) -> Result<Option<Record>> {
    let _lock = StoreLock::acquire(&paths.containers())?;
    let dir = paths.container(id);
    let Ok(mut record) = Record::load(&dir) else {
        return Ok(None);
    };
    change(&mut record);
    record.save(&dir)?;
    Ok(Some(record))
}
