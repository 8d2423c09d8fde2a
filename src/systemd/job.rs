//! Starting a transient unit and waiting until systemd says it runs.
//!
//! The order is the one runc and crun learnt the hard way: listen for `JobRemoved` *before*
//! `StartTransientUnit`, because the job can end before the call returns (runc issue 1780,
//! PR 2614); then match the job path the call returned. No `Subscribe()`: systemd sends a
//! job's JobRemoved to the client that asked for the job whether or not it subscribed (the
//! job tracks its requester: src/core/dbus-job.c, bus_foreach_bus with j->bus_track), as
//! go-systemd, and so runc, rely on. Subscribing would make systemd also send every unit's
//! PropertiesChanged, UnitNew and JobNew for as long as we wait, and cost two calls. A failed
//! unit of the same name, left over from an earlier run, makes the start fail:
//! `ResetFailedUnit` first (crun issue 1138).

use super::bus::ManagerProxy;
use super::SystemdError;
use futures_lite::StreamExt;
use std::time::Duration;
use zbus::zvariant::{OwnedObjectPath, Value};

/// How long systemd gets to start a unit. Starting one takes milliseconds; this only
/// bounds a hung or overloaded systemd.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Start `unit` with `props` and wait for its start job to end in "done".
pub fn start_and_wait(
    manager: &ManagerProxy<'_>,
    unit: &str,
    props: &[(&str, Value<'_>)],
) -> Result<(), SystemdError> {
    // The match rule must be in place before the job can end.
    let mut removed = zbus::block_on(manager.inner().inner().receive_signal("JobRemoved"))
        .map_err(super::scope::call_err("listen for JobRemoved", unit))?;
    crate::state::stop_point("systemd:subscribed");
    let start = || manager.start_transient_unit(unit, "fail", props, &[]);
    let job = match start() {
        // A failed (or inactive) leftover of the same name: reset it and try once more (an
        // active unit keeps running, and the second try says it exists). Asked only then:
        // one round trip less on every start.
        Err(e) if unit_exists(&e) => {
            let _ = manager.reset_failed_unit(unit);
            start()
        }
        other => other,
    };
    let job = job.map_err(|source| match &source {
        _ if unit_exists(&source) => SystemdError::UnitExists { unit: unit.into() },
        // The bus went away under us: not systemd's answer.
        zbus::Error::InputOutput(_) => SystemdError::Disconnected { unit: unit.into() },
        _ => SystemdError::Rejected {
            unit: unit.into(),
            source: Box::new(source),
        },
    })?;
    let deadline = async_io::Timer::after(START_TIMEOUT);
    let wait = async {
        while let Some(msg) = removed.next().await {
            let Ok((_id, path, _unit, result)) = msg
                .body()
                .deserialize::<(u32, OwnedObjectPath, String, String)>()
            else {
                continue;
            };
            if path == job {
                return Ok(result);
            }
        }
        Err(SystemdError::Disconnected { unit: unit.into() })
    };
    let timeout = async {
        deadline.await;
        Err(SystemdError::JobTimeout {
            unit: unit.into(),
            secs: START_TIMEOUT.as_secs(),
        })
    };
    let result = zbus::block_on(futures_lite::future::or(wait, timeout))?;
    if result != "done" {
        // A failed start can leave the unit loaded as "failed"; clear it for the next run.
        let _ = manager.reset_failed_unit(unit);
        return Err(SystemdError::JobFailed {
            unit: unit.into(),
            result,
        });
    }
    Ok(())
}

fn unit_exists(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::MethodError(name, _, _) if name.as_str() == "org.freedesktop.systemd1.UnitExists")
}
