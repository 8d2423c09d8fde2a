//! Creating a container's transient scope and waiting until systemd says it runs (the
//! start and the wait: [`super::job`]).

use super::bus::{self, call_err, unit_path, unit_property, SystemdManagerProxy, SCOPE_INTERFACE};
use super::properties::{self, ScopeSpec};
use super::SystemdError;
use std::time::{Duration, Instant};
use zbus::blocking::Connection;

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

/// Start `spec` as a transient scope and wait for its start job to end in "done".
pub fn start(conn: &Connection, spec: &ScopeSpec) -> Result<Scope, SystemdError> {
    start_in(conn, spec, true)
}

/// `start` without the check that the slice exists: systemd then makes a missing slice and
/// its parents itself (active, empty, and left so after the scope stops, as with runc's
/// systemd driver). For mdrun-oci, whose callers (runc's command line) expect that.
pub fn start_unchecked(conn: &Connection, spec: &ScopeSpec) -> Result<Scope, SystemdError> {
    start_in(conn, spec, false)
}

fn start_in(
    conn: &Connection,
    spec: &ScopeSpec,
    slice_must_exist: bool,
) -> Result<Scope, SystemdError> {
    let began = Instant::now();
    let manager = bus::manager(conn)?;
    if slice_must_exist {
        check_slice(conn, &manager, &spec.slice)?;
    }
    let control_group = start_listening(conn, &manager, spec)?;
    Ok(Scope {
        unit: spec.unit.clone(),
        control_group,
        start_latency: began.elapsed(),
        conn: conn.clone(),
    })
}

fn start_listening(
    conn: &Connection,
    manager: &SystemdManagerProxy<'_>,
    spec: &ScopeSpec,
) -> Result<String, SystemdError> {
    super::job::start_and_wait(conn, manager, &spec.unit, &properties::build(spec))?;
    // Its processes are in it now: where the kernel shows them is its cgroup, without asking.
    if let Some(cg) = spec
        .pids
        .first()
        .and_then(|&pid| cgroup_of(pid, &spec.unit))
    {
        return Ok(cg);
    }
    // The unit is loaded now: its object path is its escaped name (no GetUnit round trip).
    let path = unit_path(&spec.unit);
    match unit_property(conn, &path, SCOPE_INTERFACE, "ControlGroup") {
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

/// The cgroup of `pid` in the hierarchy systemd tracks units in (`0::` on v2 and hybrid
/// hosts, `name=systemd` on v1 ones), from `/proc/PID/cgroup`, when it is the unit's own
/// (its last component is the unit's name); else None, and the caller asks systemd.
fn cgroup_of(pid: u32, unit: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    cgroup_in(&text, unit)
}

fn cgroup_in(proc_cgroup: &str, unit: &str) -> Option<String> {
    let ours = |hierarchy: &str| {
        proc_cgroup.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            let leaf = path.rsplit('/').next()?;
            (controllers == hierarchy && leaf == unit && path.starts_with('/'))
                .then(|| path.to_string())
        })
    };
    ours("").or_else(|| ours("name=systemd"))
}

/// The slices systemd itself ships a unit for (systemd.special(7)): no need to ask.
const SYSTEMD_SLICES: &[&str] = &["-.slice", "machine.slice", "system.slice", "user.slice"];

/// A slice named in the config must exist: systemd would quietly make any slice it is
/// asked for, and a typo would put containers where nobody looks for them. Three round
/// trips, so not for systemd's own slices (the default, machine.slice, among them): one of
/// those that is masked still fails the start, with systemd's own message.
fn check_slice(
    conn: &Connection,
    manager: &SystemdManagerProxy<'_>,
    slice: &str,
) -> Result<(), SystemdError> {
    if SYSTEMD_SLICES.contains(&slice) {
        return Ok(());
    }
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

impl Scope {
    /// The container failed to start: stop the scope (killing what is in it) and clear a
    /// failed state, so that nothing of it is left.
    pub fn abandon(&self) {
        if let Ok(m) = SystemdManagerProxy::new(&self.conn) {
            let _ = m.stop_unit(&self.unit, "replace");
            let _ = m.reset_failed_unit(&self.unit);
        }
    }
}

/// Stop a container's scope (`rm -f`, `prune`): systemd kills what is left in it and removes
/// its cgroups. A unit that is already gone is not an error.
pub fn stop_unit(name: &str) -> Result<(), SystemdError> {
    let conn = bus::connect()?;
    let manager = bus::manager(&conn)?;
    match manager.stop_unit(name, "replace") {
        Ok(_) => Ok(()),
        Err(zbus::Error::MethodError(err, _, _)) if err.as_str().ends_with("NoSuchUnit") => Ok(()),
        Err(e) => Err(call_err("StopUnit", name)(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_scope_cgroup_is_read_from_the_systemd_hierarchy() {
        use super::cgroup_in;
        let unit = "md-0123abcd4567.scope";
        let hybrid = "4:memory:/machine.slice/md-0123abcd4567.scope\n\
                      1:name=systemd:/machine.slice/md-0123abcd4567.scope\n\
                      0::/machine.slice/md-0123abcd4567.scope\n";
        assert_eq!(
            cgroup_in(hybrid, unit).as_deref(),
            Some("/machine.slice/md-0123abcd4567.scope")
        );
        let v1 = "2:cpu:/\n1:name=systemd:/a.slice/a-b.slice/md-0123abcd4567.scope\n";
        assert_eq!(
            cgroup_in(v1, unit).as_deref(),
            Some("/a.slice/a-b.slice/md-0123abcd4567.scope")
        );
        // Not (or no longer) in the unit's cgroup: ask systemd.
        assert_eq!(cgroup_in("0::/mdrun.slice/other.scope\n", unit), None);
        assert_eq!(
            cgroup_in("0::/machine.slice/md-0123abcd4567.scope/child\n", unit),
            None
        );
        assert_eq!(cgroup_in("", unit), None);
    }
}
