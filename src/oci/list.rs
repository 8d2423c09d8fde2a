//! `ps` (the container's processes) and `list` (the containers under --root).

use super::state::Saved;
use super::Result;
use crate::cli::oci_args::{ListArgs, PsArgs};
use std::path::Path;

pub fn ps(root: &Path, a: &PsArgs) -> Result<()> {
    let saved = Saved::load(root, &a.id)?;
    let pids = super::cgroup::procs(&saved.cgroup_dirs);
    if a.format == "json" {
        super::out!(
            "{}",
            serde_json::to_string(&pids).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    super::out!("PID CMD");
    for p in pids {
        let cmd = std::fs::read_to_string(format!("/proc/{p}/cmdline"))
            .unwrap_or_default()
            .replace('\0', " ");
        super::out!("{p} {}", cmd.trim_end());
    }
    Ok(())
}

pub fn list(root: &Path, a: &ListArgs) -> Result<()> {
    let mut all = Vec::new();
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let id = e.file_name().to_string_lossy().into_owned();
            if let Ok(s) = Saved::load(root, &id) {
                all.push(s);
            }
        }
    }
    all.sort_by(|x, y| x.id.cmp(&y.id));
    if a.quiet {
        for s in &all {
            super::out!("{}", s.id);
        }
    } else if a.format == "json" {
        let docs: Vec<_> = all.iter().map(|s| s.document(s.status(root))).collect();
        super::out!(
            "{}",
            serde_json::to_string(&docs).map_err(|e| e.to_string())?
        );
    } else {
        super::out!("ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER");
        for s in &all {
            let st = s.status(root);
            let pid = if st == super::state::Status::Stopped {
                0
            } else {
                s.pid
            };
            super::out!(
                "{}\t{pid}\t{}\t{}\t{}\troot",
                s.id,
                st.as_str(),
                s.bundle.display(),
                s.created
            );
        }
    }
    Ok(())
}
