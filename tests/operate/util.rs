//! Helpers of the `operate` tests: detached containers, their records and write layers.

use crate::common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The record of the container named `name`, as JSON.
pub fn record(env: &TestEnv, name: &str) -> Option<Value> {
    env.containers()
        .iter()
        .filter_map(|id| {
            std::fs::read(env.root.join("containers").join(id).join("container.json")).ok()
        })
        .filter_map(|data| serde_json::from_slice::<Value>(&data).ok())
        .find(|r| r["name"] == name)
}

/// `mdrun run -d --name NAME EXTRA... busybox ARGS...`; returns once its record says
/// running, with the container's full id.
pub fn detached(env: &TestEnv, name: &str, extra: &[&str], args: &[&str]) -> String {
    let mut all = vec!["run", "-d", "--name", name];
    all.extend_from_slice(extra);
    all.push("busybox");
    all.extend_from_slice(args);
    let out = env.mdrun(&all);
    out.assert_ok();
    let id = out.out().to_string();
    until(&format!("{name} running"), || {
        record(env, name).is_some_and(|r| r["status"] == "running")
    });
    id
}

/// A file of the container's write layer, as the host sees it.
pub fn upper_file(env: &TestEnv, id: &str, rel: &str) -> PathBuf {
    env.root.join("containers").join(id).join("upper").join(rel)
}

/// Poll `ok` every 20 ms until it holds; panics naming `what` after 20 s.
pub fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `ps -a --format json` entry of `name`.
pub fn ps_entry(env: &TestEnv, name: &str) -> Value {
    let out = env.mdrun(&["ps", "-a", "--format", "json"]);
    out.assert_ok();
    let all: Vec<Value> = serde_json::from_str(&out.stdout).expect("ps --format json");
    all.into_iter()
        .find(|e| e["Name"] == name)
        .unwrap_or_else(|| panic!("{name} not in ps:\n{out}"))
}
