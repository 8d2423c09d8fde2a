//! Creating a container's transient scope and waiting until systemd says it runs.
//!
//! The order is the one runc and crun learnt the hard way: `Subscribe()` and listen for
//! `JobRemoved` *before* `StartTransientUnit`, because the job can end before the call
//! returns (runc issue 1780, PR 2614); then match the job path the call returned. A failed
//! unit of the same name, left over from an earlier run, makes the start fail:
//! `ResetFailedUnit` first (crun issue 1138).

use super::bus::{ManagerProxy, DESTINATION, SCOPE_INTERFACE};
use super::properties::{self, ScopeSpec};
use super::SystemdError;
use futures_lite::StreamExt;
use std::time::{Duration, Instant};
use zbus::blocking::Connection;
use zbus::zvariant::OwnedObjectPath;

/// How long systemd gets to start a scope. Starting one takes milliseconds; this only
/// bounds a hung or overloaded systemd.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A started scope. Dropping it does nothing: the scope ends by itself when its last
/// process leaves (see [`Scope::abandon`] for the error path).
pub struct Scope {
    pub unit: String,
    /// Its cgroup, relative to the hierarchy root (`/machine.slice/md-<id>.scope`).
    pub control_group: String,
    /// How long StartTransientUnit took, job included.
    pub start_latency: Duration,
    conn: Connection,
}

/// Connect to the system bus. Starts zbus's threads: never call this before the
/// container's init has been cloned.
pub fn connect() -> Result<Connection, SystemdError> {
    zbus::blocking::connection::Builder::system()
        .and_then(|b| b.method_timeout(START_TIMEOUT).build())
        .map_err(|source| SystemdError::Connect {
            source: Box::new(source),
        })
}

/// Start `spec` as a transient scope and wait for its start job to end in "done".
pub fn start(conn: &Connection, spec: &ScopeSpec) -> Result<Scope, SystemdError> {
    let began = Instant::now();
    let manager =
        ManagerProxy::new(conn).map_err(call_err("connect to", "org.freedesktop.systemd1"))?;
    check_slice(conn, &manager, &spec.slice)?;
    manager.subscribe().map_err(call_err("Subscribe", ""))?;
    let result = start_subscribed(conn, &manager, spec);
    // Signals are costly for systemd to send; keep them only as long as we wait.
    let _ = manager.unsubscribe();
    let control_group = result?;
    Ok(Scope {
        unit: spec.unit.clone(),
        control_group,
        start_latency: began.elapsed(),
        conn: conn.clone(),
    })
}

fn start_subscribed(
    conn: &Connection,
    manager: &ManagerProxy<'_>,
    spec: &ScopeSpec,
) -> Result<String, SystemdError> {
    // The match rule must be in place before the job can end.
    let mut removed = zbus::block_on(manager.inner().inner().receive_signal("JobRemoved"))
        .map_err(call_err("listen for JobRemoved", ""))?;
    // Only a failed (or inactive) leftover can be reset; an active unit keeps running and
    // StartTransientUnit below says it exists. NoSuchUnit is the normal case.
    let _ = manager.reset_failed_unit(&spec.unit);
    let props = properties::build(spec);
    let job = manager
        .start_transient_unit(&spec.unit, "fail", &props, &[])
        .map_err(|source| match unit_exists(&source) {
            true => SystemdError::UnitExists {
                unit: spec.unit.clone(),
            },
            false => SystemdError::Rejected {
                unit: spec.unit.clone(),
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
        Err(SystemdError::Disconnected {
            unit: spec.unit.clone(),
        })
    };
    let timeout = async {
        deadline.await;
        Err(SystemdError::JobTimeout {
            unit: spec.unit.clone(),
            secs: START_TIMEOUT.as_secs(),
        })
    };
    let result = zbus::block_on(futures_lite::future::or(wait, timeout))?;
    if result != "done" {
        // A failed start can leave the unit loaded as "failed"; clear it for the next run.
        let _ = manager.reset_failed_unit(&spec.unit);
        return Err(SystemdError::JobFailed {
            unit: spec.unit.clone(),
            result,
        });
    }
    match scope_property(conn, manager, &spec.unit, "ControlGroup") {
        Ok(cg) if !cg.is_empty() => Ok(cg),
        Ok(_) => Err(SystemdError::NoCgroup {
            unit: spec.unit.clone(),
        }),
        Err(e) => {
            let _ = manager.stop_unit(&spec.unit, "replace");
            Err(e)
        }
    }
}

/// A slice named in the config must exist: systemd would quietly make any slice it is
/// asked for, and a typo would put containers where nobody looks for them.
fn check_slice(
    conn: &Connection,
    manager: &ManagerProxy<'_>,
    slice: &str,
) -> Result<(), SystemdError> {
    let path = manager
        .load_unit(slice)
        .map_err(|source| SystemdError::Rejected {
            unit: slice.to_string(),
            source: Box::new(source),
        })?;
    let get = |prop: &str| unit_property(conn, &path, "org.freedesktop.systemd1.Unit", prop);
    let fragment = get("FragmentPath")?;
    let active = get("ActiveState")?;
    // -.slice has no file and is always active; so is any slice in use.
    if fragment.is_empty() && active != "active" {
        return Err(SystemdError::NoSuchSlice {
            slice: slice.to_string(),
        });
    }
    Ok(())
}

fn scope_property(
    conn: &Connection,
    manager: &ManagerProxy<'_>,
    unit: &str,
    prop: &str,
) -> Result<String, SystemdError> {
    let path = manager.get_unit(unit).map_err(call_err("GetUnit", unit))?;
    unit_property(conn, &path, SCOPE_INTERFACE, prop)
}

fn unit_property(
    conn: &Connection,
    path: &OwnedObjectPath,
    interface: &'static str,
    prop: &str,
) -> Result<String, SystemdError> {
    let props = zbus::blocking::fdo::PropertiesProxy::builder(conn)
        .destination(DESTINATION)
        .and_then(|b| b.path(path.clone()))
        .and_then(|b| b.cache_properties(zbus::proxy::CacheProperties::No).build())
        .map_err(call_err("Properties of", path.as_str()))?;
    let iface = zbus::names::InterfaceName::from_static_str_unchecked(interface);
    let value = props.get(iface, prop).map_err(|e| SystemdError::Call {
        step: "Get",
        what: format!("{prop} of {}", path.as_str()),
        source: Box::new(e.into()),
    })?;
    String::try_from(value).map_err(|e| SystemdError::Call {
        step: "Get",
        what: format!("{prop} of {}", path.as_str()),
        source: Box::new(e.into()),
    })
}

fn unit_exists(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::MethodError(name, _, _) if name.as_str() == "org.freedesktop.systemd1.UnitExists")
}

fn call_err(step: &'static str, what: &str) -> impl FnOnce(zbus::Error) -> SystemdError {
    let what = what.to_string();
    move |source| SystemdError::Call {
        step,
        what,
        source: Box::new(source),
    }
}

impl Scope {
    /// The container failed to start: stop the scope (killing what is in it) and clear a
    /// failed state, so that nothing of it is left.
    pub fn abandon(&self) {
        if let Ok(m) = ManagerProxy::new(&self.conn) {
            let _ = m.stop_unit(&self.unit, "replace");
            let _ = m.reset_failed_unit(&self.unit);
        }
    }
}

/// Stop a container's scope (`rm -f`, `prune`): systemd kills what is left in it and removes
/// its cgroups. A unit that is already gone is not an error.
pub fn stop_unit(name: &str) -> Result<(), SystemdError> {
    let conn = connect()?;
    let manager =
        ManagerProxy::new(&conn).map_err(call_err("connect to", "org.freedesktop.systemd1"))?;
    match manager.stop_unit(name, "replace") {
        Ok(_) => Ok(()),
        Err(zbus::Error::MethodError(err, _, _)) if err.as_str().ends_with("NoSuchUnit") => Ok(()),
        Err(e) => Err(call_err("StopUnit", name)(e)),
    }
}
