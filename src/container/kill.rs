//! Sending a signal to a container's init. As under docker, the init is PID 1 of its
//! namespace and the kernel drops signals it has no handler for, SIGKILL excepted.
//!
//! A restart policy is held until the container is started again, as docker's daemon does
//! (moby `daemon/kill.go`, `killWithSignal`: `ExitOnNext` cancels the restart manager and
//! `HasBeenManuallyStopped` is set): for SIGKILL, for the container's stop signal, and for
//! any signal when it has no stop signal of its own (`--stop-signal`, the image's
//! STOPSIGNAL). Another signal leaves the policy in place. The record says so
//! (`stopped_by_user`) before the signal goes, so that the supervisor deciding on the end
//! sees it; a container waiting to be restarted is not restarted (its service is stopped).

use super::init_handle::InitHandle;
use super::lookup::lookup;
use super::supervised;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::{Liveness, Record, StateError, Status};

/// Send `signal` to the init of the container `query` names; an error unless it runs
/// (or waits to be restarted by its policy: then the restart is cancelled).
pub fn kill(paths: &Paths, query: &str, signal: i32) -> Result<()> {
    let (record, liveness) = lookup(paths, query)?;
    let not_running = || StateError::NotRunning {
        name: record.name.clone(),
    };
    let holds_policy = record.restart_policy.supervised() && ends_restarts(&record, signal);
    let emit = || {
        let name = ("signal", signal.to_string());
        super::events::emit(&paths.containers(), &record, "kill", &[name]);
    };
    if record.status != Status::Running || liveness != Liveness::AsRecorded {
        if holds_policy && supervised::is_restarting(&record) {
            supervised::end_supervision(paths, &record)?;
            emit();
            return Ok(());
        }
        return Err(not_running().into());
    }
    let init = InitHandle::open(&record).ok_or_else(not_running)?;
    if holds_policy {
        supervised::hold_restarts(paths, &record)?;
    }
    // The event goes first: the container may die of the signal, and its supervisor record
    // `die`, before this process would get to write `kill` (seen under load).
    emit();
    match init.signal(signal)? {
        true => Ok(()),
        false => Err(not_running().into()),
    }
}

/// Does `signal` end the restarts of `record`'s policy (docker's rule, see above)?
fn ends_restarts(record: &Record, signal: i32) -> bool {
    let own = record.spec.as_ref().and_then(|s| s.stop_signal.as_deref());
    signal == libc::SIGKILL || own.is_none() || super::stop::stop_signal(record) == signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_ends_restarts_as_docker_does() {
        let mut r = crate::state::sample_record(&"a1".repeat(32), "web");
        r.spec = Some(Default::default());
        assert!(ends_restarts(&r, libc::SIGKILL));
        assert!(ends_restarts(&r, libc::SIGUSR1));
        r.spec = Some(crate::spec::ContainerSpec {
            stop_signal: Some("SIGUSR1".into()),
            ..Default::default()
        });
        assert!(ends_restarts(&r, libc::SIGUSR1));
        assert!(ends_restarts(&r, libc::SIGKILL));
        assert!(!ends_restarts(&r, libc::SIGHUP));
    }
}
