//! A container as `docker inspect` shows it: `Id`, `Name`, `State`, `Config`,
//! `HostConfig`, `Mounts`, `NetworkSettings`, `RestartCount`; and what is mdrun's own (the
//! record: scope, cgroup paths, log driver, supervisor ...) under `Mdrun`.
//!
//! Restart policies and healthchecks (`HostConfig.RestartPolicy`, `State.Health`,
//! `RestartCount`) come from the record fields their feature adds; until then they say
//! "no", null and 0. Networks are to come too: `NetworkSettings` is empty.

use super::ps_format::state;
use crate::image::Store;
use crate::spec::{ContainerSpec, VolumeSource};
use crate::state::Record;
use crate::time::rfc3339;
use serde_json::{json, Value};

/// Go's zero time, which docker shows for a time that has not happened.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub fn container(record: &Record, store: &Store) -> Value {
    let spec = record.spec.clone().unwrap_or_default();
    let image = store.resolve(&record.image_id).ok();
    let config = image.as_ref().map(|i| i.config.clone()).unwrap_or_default();
    let running = record.status == crate::state::Status::Running;
    let paused = crate::container::is_paused(record);
    let time = |t: Option<f64>| t.map_or_else(|| ZERO_TIME.to_string(), rfc3339);
    let entrypoint: Vec<String> = match &spec.entrypoint {
        Some(e) if e.is_empty() => Vec::new(),
        Some(e) => vec![e.clone()],
        None => config.entrypoint.clone(),
    };
    let cmd = match spec.command.is_empty() {
        true => config.cmd.clone(),
        false => spec.command.clone(),
    };
    let mut env = config.env.clone();
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    let l = &record.limits;
    let nano_cpus = match (l.cpu_quota, l.cpu_period) {
        (Some(q), p) if q > 0 => q as u64 * 1_000_000_000 / p.unwrap_or(100_000).max(1),
        _ => 0,
    };
    json!({
        "Id": record.id,
        "Created": rfc3339(record.created),
        "Path": record.command.first(),
        "Args": record.command.iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "Status": state(record),
            "Running": running,
            "Paused": paused,
            "Restarting": false,
            "OOMKilled": record.oom_killed,
            "Dead": false,
            "Pid": record.pid.filter(|_| running).unwrap_or(0),
            "ExitCode": record.exit.map_or(0, |e| e.code()),
            "Error": "",
            "StartedAt": time(record.started),
            "FinishedAt": time(record.finished),
            "Health": Value::Null,
        },
        "Image": format!("sha256:{}", record.image_id.trim_start_matches("sha256:")),
        "Name": format!("/{}", record.name),
        "RestartCount": 0,
        "Config": {
            "Hostname": record.hostname,
            "User": spec.security.user.clone().or(config.user.clone()).unwrap_or_default(),
            "Tty": record.tty,
            "OpenStdin": spec.interactive,
            "Env": env,
            "Cmd": cmd,
            "Image": record.image,
            "WorkingDir": spec.workdir.as_ref().map(|w| w.display().to_string())
                .or(config.workdir.clone()).unwrap_or_default(),
            "Entrypoint": entrypoint,
            "Labels": config.labels,
            "StopSignal": spec.stop_signal.clone().or(config.stop_signal.clone()),
        },
        "HostConfig": {
            "Binds": binds(&spec),
            "Memory": l.memory.unwrap_or(0),
            "MemorySwap": l.memory_swap.unwrap_or(0),
            "NanoCpus": nano_cpus,
            "CpuShares": l.cpu_shares.unwrap_or(0),
            "CpusetCpus": l.cpuset_cpus.clone().unwrap_or_default(),
            "PidsLimit": l.pids_limit,
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": record.auto_remove,
            "Privileged": spec.security.privileged,
            "ReadonlyRootfs": spec.security.read_only,
            "CapAdd": spec.security.cap_add,
            "CapDrop": spec.security.cap_drop,
            "CgroupParent": record.cgroup_parent.clone().unwrap_or_default(),
        },
        "Mounts": mounts(record),
        "NetworkSettings": {},
        "Mdrun": record,
    })
}

/// docker's `Binds`: `/host:/path[:ro]`, `name:/path[:ro]`.
fn binds(spec: &ContainerSpec) -> Vec<String> {
    spec.volumes
        .iter()
        .map(|v| {
            let source = match &v.source {
                VolumeSource::Host(p) => p.display().to_string(),
                VolumeSource::Named(n) => n.clone(),
            };
            let ro = if v.read_only { ":ro" } else { "" };
            format!("{source}:{}{ro}", v.target.display())
        })
        .collect()
}

fn mounts(record: &Record) -> Vec<Value> {
    record
        .volumes
        .iter()
        .map(|v| {
            let (kind, source, name) = match &v.source {
                VolumeSource::Host(p) => ("bind", p.display().to_string(), None),
                VolumeSource::Named(n) => ("volume", n.clone(), Some(n.clone())),
            };
            json!({
                "Type": kind,
                "Name": name,
                "Source": source,
                "Destination": v.target.display().to_string(),
                "Mode": if v.read_only { "ro" } else { "" },
                "RW": !v.read_only,
            })
        })
        .collect()
}
