//! New limits for a container (`mdrun update`): written live into a running container's
//! cgroup (the files `run` wrote) and, for a container in a systemd scope, set on the scope
//! too (SetUnitProperties, as `systemctl set-property --runtime`), so that `systemctl
//! status` and `show` report them; then kept in its record, so that `start` applies them
//! again. A stopped container's record alone changes.

use super::lookup::lookup;
use crate::cgroups;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::policy::RestartPolicy;
use crate::spec::Limits;
use crate::state::{CgroupManager, Liveness, Record, Status, StoreLock};
use crate::systemd::{control, properties};
use zbus::zvariant::Value;

/// Apply the limits set in `changed` to the container `query` names; returns its name.
pub fn update(paths: &Paths, query: &str, changed: &Limits) -> Result<String> {
    if changed.is_empty() {
        return Err(Error::Usage(
            "update needs at least one limit to change (--memory, --cpus ...)".into(),
        ));
    }
    let (record, liveness) = lookup(paths, query)?;
    let mut all = record.limits.clone();
    all.overlay(changed);
    cgroups::validate_limits(&all)?;
    if record.status == Status::Running && liveness == Liveness::AsRecorded {
        let version = cgroups::detect();
        // The scope first: systemd then hands the controllers a new limit needs down to it
        // (v2), and the container's cgroup below can take them.
        if let Some(scope) = record.scope.as_deref() {
            if crate::systemd::available() {
                control::set_properties(scope, &scope_properties(changed, &all, version))?;
            }
        }
        cgroups::update(&record.cgroup_paths, version, changed, &all)?;
    }
    save(paths, &record.id, &all)?;
    super::events::emit(&paths.containers(), &record, "update", &[]);
    Ok(record.name)
}

/// The scope's properties for the limits in `changed` (memory and swap go together, as
/// in the cgroup); "no limit" is infinity, which `run` never needs to send.
fn scope_properties(
    changed: &Limits,
    all: &Limits,
    version: cgroups::Version,
) -> Vec<(&'static str, Value<'static>)> {
    let mut sent = changed.clone();
    if changed.memory.is_some() || changed.memory_swap.is_some() {
        sent.memory = all.memory;
        sent.memory_swap = all.memory_swap;
    }
    if changed.cpu_quota.is_some() {
        sent.cpu_period = all.cpu_period;
    }
    let mut p = properties::limits(&sent, version);
    if changed.pids_limit.is_some_and(|n| n <= 0) {
        p.push(("TasksMax", Value::from(u64::MAX)));
    }
    if changed.cpu_quota.is_some_and(|q| q <= 0) {
        p.push(("CPUQuotaPerSecUSec", Value::from(u64::MAX)));
    }
    p
}

/// `update --restart`: the container's restart policy. Its supervisor reads the policy from
/// the record when the container ends, so a container under its service (or a stopped one,
/// which `start` puts under one) takes the new policy as it is; a running container that
/// has no service cannot be given one (its processes are not the service's).
pub fn update_restart(paths: &Paths, query: &str, policy: RestartPolicy) -> Result<String> {
    let (record, liveness) = lookup(paths, query)?;
    let running = record.status == Status::Running && liveness == Liveness::AsRecorded;
    if policy.supervised() {
        if record.cgroup_manager != CgroupManager::Systemd {
            return Err(Error::Usage(format!(
                "container {}: restart policies need systemd, and it runs with the cgroupfs manager",
                record.name
            )));
        }
        if record.auto_remove {
            return Err(Error::Usage(format!(
                "container {}: the restart policy {} and --rm conflict",
                record.name,
                policy.display()
            )));
        }
        if running && !record.restart_policy.supervised() {
            return Err(Error::Usage(format!(
                "container {} runs without a restart policy, outside a systemd service: stop it, update it, then start it",
                record.name
            )));
        }
    }
    let _lock = StoreLock::acquire(&paths.containers())?;
    let dir = paths.container(&record.id);
    let mut current = Record::load(&dir)?;
    current.restart_policy = policy;
    if let Some(spec) = current.spec.as_mut() {
        spec.restart = policy;
    }
    current.save(&dir)?;
    Ok(record.name)
}

/// The new limits in the record (and in the request `start` runs again), under the lock.
fn save(paths: &Paths, id: &str, all: &Limits) -> Result<()> {
    let _lock = StoreLock::acquire(&paths.containers())?;
    let dir = paths.container(id);
    let mut record = Record::load(&dir)?;
    record.limits = all.clone();
    if let Some(spec) = record.spec.as_mut() {
        spec.limits = all.clone();
    }
    Ok(record.save(&dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(p: &[(&'static str, Value<'static>)], key: &str) -> Option<Value<'static>> {
        p.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn only_the_changed_limits_are_sent_and_unlimited_is_infinity() {
        let all = Limits {
            memory: Some(50 << 20),
            pids_limit: Some(-1),
            cpu_shares: Some(512),
            ..Limits::default()
        };
        let changed = Limits {
            pids_limit: Some(-1),
            ..Limits::default()
        };
        let p = scope_properties(&changed, &all, cgroups::Version::V2);
        assert_eq!(get(&p, "TasksMax"), Some(Value::from(u64::MAX)));
        assert_eq!(get(&p, "MemoryMax"), None);
        assert_eq!(get(&p, "CPUWeight"), None);
        let changed = Limits {
            memory: Some(50 << 20),
            ..Limits::default()
        };
        let p = scope_properties(&changed, &all, cgroups::Version::V2);
        assert_eq!(get(&p, "MemoryMax"), Some(Value::from(50u64 << 20)));
    }
}
