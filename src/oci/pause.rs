//! `pause` / `resume`: the cgroup's freezer (`freezer.state` on v1, `cgroup.freeze` on v2).

use super::state::{Saved, Status};
use super::Result;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn knob(dirs: &[PathBuf]) -> Option<(PathBuf, bool)> {
    dirs.iter()
        .find(|d| d.join("freezer.state").exists())
        .map(|d| (d.join("freezer.state"), false))
        .or_else(|| {
            dirs.iter()
                .find(|d| d.join("cgroup.freeze").exists())
                .map(|d| (d.join("cgroup.freeze"), true))
        })
}

pub fn frozen(dirs: &[PathBuf]) -> bool {
    match knob(dirs) {
        Some((f, false)) => std::fs::read_to_string(f).is_ok_and(|s| s.trim() == "FROZEN"),
        Some((f, true)) => std::fs::read_to_string(f).is_ok_and(|s| s.trim() == "1"),
        None => false,
    }
}

pub fn set_frozen(dirs: &[PathBuf], on: bool) -> Result<()> {
    let (f, v2) = knob(dirs).ok_or("the container's cgroup has no freezer")?;
    let value = match (v2, on) {
        (false, true) => "FROZEN",
        (false, false) => "THAWED",
        (true, true) => "1",
        (true, false) => "0",
    };
    std::fs::write(&f, value).map_err(|e| format!("write {value} to {}: {e}", f.display()))?;
    if v2 || !on {
        return Ok(());
    }
    // v1: FREEZING until every task is frozen.
    let end = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&f).is_ok_and(|s| s.trim() != "FROZEN") {
        if Instant::now() > end {
            let _ = std::fs::write(&f, "THAWED");
            return Err(format!("{}: the freeze did not complete", f.display()));
        }
        std::thread::sleep(Duration::from_millis(1));
        let _ = std::fs::write(&f, "FROZEN");
    }
    Ok(())
}

pub fn pause(root: &Path, id: &str, on: bool) -> Result<()> {
    let saved = Saved::load(root, id)?;
    let status = saved.status(root);
    match (on, status) {
        (true, Status::Running) | (false, Status::Paused) => set_frozen(&saved.cgroup_dirs, on),
        (true, s) => Err(format!("cannot pause container {id}: it is {}", s.as_str())),
        (false, s) => Err(format!(
            "cannot resume container {id}: it is {}",
            s.as_str()
        )),
    }
}
