//! The processes of a running container (`mdrun top`): every pid in its cgroup (and the
//! cgroups below it), then the host's `ps` with the caller's options, keeping the lines
//! of those pids, as docker does.

use super::lookup::lookup;
use crate::cgroups;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::placement;
use crate::state::{Liveness, StateError, Status};
use std::process::Command;

/// `ps ps_args` (docker's default `-ef`) limited to the processes of the container
/// `query` names: the header, then one line a process.
pub fn top(paths: &Paths, query: &str, ps_args: &[String]) -> Result<String> {
    let (record, liveness) = lookup(paths, query)?;
    if record.status != Status::Running || liveness != Liveness::AsRecorded {
        return Err(StateError::NotRunning { name: record.name }.into());
    }
    let pids = procs(&record);
    let args: Vec<String> = match ps_args.is_empty() {
        true => vec!["-ef".into()],
        false => ps_args.to_vec(),
    };
    let out = Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| Error::Usage(format!("run ps {}: {e}", args.join(" "))))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "ps {} failed: {}",
            args.join(" "),
            err.lines().next().unwrap_or("")
        )));
    }
    filter(&String::from_utf8_lossy(&out.stdout), &pids)
        .ok_or_else(|| Error::Usage(format!("ps {} printed no PID column", args.join(" "))))
}

/// The pids of every process in the container's cgroup (recursively), sorted.
fn procs(record: &crate::state::Record) -> Vec<i32> {
    let mut pids = Vec::new();
    for dir in &record.cgroup_paths {
        collect(dir, &mut pids);
    }
    if pids.is_empty() {
        // A cgroup not on record (an older record): the backend's view.
        let name = placement::cgroup_name(&record.id);
        pids = cgroups::backend()
            .load(record.cgroup_parent.as_deref(), &name)
            .procs();
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn collect(dir: &std::path::Path, pids: &mut Vec<i32>) {
    if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                collect(&e.path(), pids);
            }
        }
    }
}

/// The header and the lines whose PID column is one of `pids`; None without a PID column.
fn filter(ps_output: &str, pids: &[i32]) -> Option<String> {
    let mut lines = ps_output.lines();
    let header = lines.next()?;
    let column = header.split_whitespace().position(|h| h == "PID")?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.binary_search(&p).is_ok()) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_kept_by_their_pid_column() {
        let ps = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep 1000\nroot 43 1 other\n";
        assert_eq!(
            super::filter(ps, &[42]).unwrap(),
            "UID PID PPID CMD\nroot 42 1 sleep 1000\n"
        );
        assert_eq!(super::filter("USER COMMAND\nx y\n", &[1]), None);
    }
}
