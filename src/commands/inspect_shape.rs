//! A container as `docker inspect` shows it: `Id`, `Name`, `State`, `Config`,
//! `HostConfig`, `Mounts`, `NetworkSettings`, `RestartCount`; and what is mdrun's own (the
//! record: scope, cgroup paths, log driver, supervisor ...) under `Mdrun`.
//!
//! `NetworkSettings` is the container's network while it runs (its address is leased
//! for the run only): empty for a stopped one, and with `--network none` or `host`.

use super::ps_format::state;
use crate::image::Store;
use crate::network::Assignment;
use crate::spec::{ContainerSpec, VolumeSource};
use crate::state::Record;
use crate::time::rfc3339;
use serde_json::{json, Value};

/// Go's zero time, which docker shows for a time that has not happened.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `net`: its first network; `extra_nets`: those it was connected to (`network connect`).
pub fn container(
    record: &Record,
    store: &Store,
    net: Option<Assignment>,
    extra_nets: Vec<Assignment>,
) -> Value {
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
            "Restarting": record.restart_pending,
            "OOMKilled": record.oom_killed,
            "Dead": false,
            "Pid": record.pid.filter(|_| running).unwrap_or(0),
            "ExitCode": record.exit.map_or(0, |e| e.code()),
            "Error": "",
            "StartedAt": time(record.started),
            "FinishedAt": time(record.finished),
            "Health": record.health,
        },
        "Image": format!("sha256:{}", record.image_id.trim_start_matches("sha256:")),
        "Name": format!("/{}", record.name),
        "RestartCount": record.restart_count,
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
            "RestartPolicy": record.restart_policy,
            "AutoRemove": record.auto_remove,
            "Privileged": spec.security.privileged,
            "ReadonlyRootfs": spec.security.read_only,
            "CapAdd": spec.security.cap_add,
            "CapDrop": spec.security.cap_drop,
            "CgroupParent": record.cgroup_parent.clone().unwrap_or_default(),
        },
        "Mounts": mounts(record),
        "NetworkSettings": network_settings(net.as_ref(), &extra_nets),
        "Mdrun": record,
    })
}

/// docker's `NetworkSettings`: the address, gateway and MAC (at the top and under
/// `Networks.<name>`), and `Ports` as `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`;
/// the networks it was connected to later (`extra`) under `Networks` too.
fn network_settings(net: Option<&Assignment>, extra: &[Assignment]) -> Value {
    let Some(a) = net else {
        return json!({"IPAddress": "", "Gateway": "", "MacAddress": "", "Ports": {}, "Networks": {}});
    };
    let mac = mac_text(a);
    let mut ports = serde_json::Map::new();
    for p in &a.ports {
        let key = format!("{}/{}", p.container_port, p.proto.name());
        let binding = json!({
            "HostIp": p.host_ip.map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string()),
            "HostPort": p.host_port.to_string(),
        });
        match ports.get_mut(&key) {
            Some(Value::Array(list)) => list.push(binding),
            _ => {
                ports.insert(key, json!([binding]));
            }
        }
    }
    let mut networks = serde_json::Map::new();
    for n in std::iter::once(a).chain(extra) {
        networks.insert(n.network.clone(), endpoint(n));
    }
    json!({
        "IPAddress": a.ip.to_string(),
        "IPPrefixLen": a.prefix,
        "Gateway": a.gateway.to_string(),
        "MacAddress": mac,
        "Ports": ports,
        "Networks": networks,
    })
}

fn mac_text(a: &Assignment) -> String {
    a.mac.map_or_else(String::new, |m| {
        m.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    })
}

fn endpoint(a: &Assignment) -> Value {
    json!({
        "IPAddress": a.ip.to_string(),
        "IPPrefixLen": a.prefix,
        "Gateway": a.gateway.to_string(),
        "MacAddress": mac_text(a),
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
