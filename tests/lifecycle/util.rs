//! Helpers shared by the lifecycle tests (tests/lifecycle/): containers started and
//! looked at through their records, before `run -d` exists.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::time::{Duration, Instant};

/// Every record under the scenario's root, as JSON.
pub fn records(env: &TestEnv) -> Vec<Value> {
    env.containers()
        .iter()
        .filter_map(|id| fs::read(env.root.join("containers").join(id).join("container.json")).ok())
        .filter_map(|data| serde_json::from_slice(&data).ok())
        .collect()
}

/// The record of the container named `name`, if there is one.
pub fn record(env: &TestEnv, name: &str) -> Option<Value> {
    records(env).into_iter().find(|r| r["name"] == name)
}

/// `mdrun run --name NAME busybox ARGS...` (no `--rm`), attached in the background; returns
/// once its record says running, with that record.
pub fn start(env: &TestEnv, name: &str, args: &[&str]) -> (Running, Value) {
    let mut all = vec!["run", "--name", name, "busybox"];
    all.extend_from_slice(args);
    let mut running = env.cmd(&all).spawn();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(r) = record(env, name).filter(|r| r["status"] == "running") {
            return (running, r);
        }
        assert!(
            !running.exited(),
            "mdrun run --name {name} ended before its container ran:\n{}",
            running.wait()
        );
        assert!(
            Instant::now() < deadline,
            "container {name} not running within 15 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `mdrun ps -a --format json`, parsed.
pub fn ps_all(env: &TestEnv) -> Vec<Value> {
    let out = env.mdrun(&["ps", "-a", "--format", "json"]);
    out.assert_ok();
    match serde_json::from_str(&out.stdout) {
        Ok(Value::Array(items)) => items,
        _ => panic!("ps --format json did not print an array:\n{out}"),
    }
}

/// The `ps -a --format json` entry of `name`.
pub fn ps_entry(env: &TestEnv, name: &str) -> Value {
    ps_all(env)
        .into_iter()
        .find(|e| e["Name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in ps -a"))
}

/// Is a process with this pid alive (not a zombie)?
pub fn alive(pid: i64) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The cgroup directories a record names that still exist.
pub fn existing_cgroups(record: &Value) -> Vec<String> {
    record["cgroup_paths"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .filter(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
        .collect()
}

/// Wait until the container's record says `status`.
pub fn wait_status(env: &TestEnv, name: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = record(env, name).filter(|r| r["status"] == status) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became {status}: {:?}",
            record(env, name)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
