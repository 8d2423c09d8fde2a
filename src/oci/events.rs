//! `events [--stats] [--interval N]`: the container's resource usage from its cgroup, in
//! runc's stats event shape (`{"type":"stats","id":...,"data":{cpu,memory,pids}}`): once
//! with --stats, else every N seconds until the container stops.

use super::state::{Saved, Status};
use super::Result;
use crate::cli::oci_args::EventsArgs;
use serde_json::json;
use std::path::{Path, PathBuf};

fn read(dirs: &[PathBuf], file: &str) -> Option<String> {
    dirs.iter()
        .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
        .map(|s| s.trim().to_string())
}

fn number(v: Option<String>) -> u64 {
    v.and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn stats(saved: &Saved) -> serde_json::Value {
    let d = &saved.cgroup_dirs;
    let cpu_ns = read(d, "cpuacct.usage")
        .and_then(|s| s.parse::<u64>().ok())
        .or_else(|| {
            read(d, "cpu.stat")?
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.parse::<u64>().ok())
                .map(|us| us * 1000)
        })
        .unwrap_or(0);
    let mem = read(d, "memory.usage_in_bytes").or_else(|| read(d, "memory.current"));
    let limit = read(d, "memory.limit_in_bytes").or_else(|| read(d, "memory.max"));
    json!({
        "type": "stats",
        "id": saved.id,
        "data": {
            "cpu": {"usage": {"total": cpu_ns}},
            "memory": {"usage": {"usage": number(mem), "limit": number(limit)}},
            "pids": {"current": number(read(d, "pids.current")), "limit": number(read(d, "pids.max"))},
        }
    })
}

pub fn events(root: &Path, a: &EventsArgs) -> Result<()> {
    let saved = Saved::load(root, &a.id)?;
    loop {
        if saved.status(root) == Status::Stopped {
            return Err(format!("container {} is not running", a.id));
        }
        super::out!("{}", stats(&saved));
        if a.stats {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(a.interval.max(1)));
    }
}
