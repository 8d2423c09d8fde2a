//! `delete [--force]`: a stopped container's cgroup, scope and state directory go, and the
//! poststop hooks run (a failure is a warning). A created or running one is refused unless
//! --force, which kills it first. `delete --force` of a container that does not exist
//! succeeds, as runc's does: containerd's shim runs it again after its own `delete`, and
//! warns when it fails.

use super::state::{Saved, Status};
use super::{hooks, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// Wait until `saved`'s init is gone (or a zombie), up to `limit`.
fn wait_gone(saved: &Saved, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while saved.alive() {
        // Our own child (`run`): reap it.
        let _ = nix::sys::wait::waitpid(
            Pid::from_raw(saved.pid),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        );
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    super::state::check_id(id)?;
    if force && !super::state::exists(root, id) {
        // An aborted create may have left the directory without a state file.
        let dir = super::state::dir(root, id);
        return match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("remove {}: {e}", dir.display()))
            }
            _ => Ok(()),
        };
    }
    let saved = Saved::load(root, id)?;
    let status = saved.status(root);
    if status != Status::Stopped {
        if !force {
            return Err(format!(
                "cannot delete container {id} that is not stopped: {}",
                status.as_str()
            ));
        }
        if status == Status::Paused {
            let _ = super::pause::set_frozen(&saved.cgroup_dirs, false);
        }
        let _ = kill(Pid::from_raw(saved.pid), Signal::SIGKILL);
        for p in super::cgroup::procs(&saved.cgroup_dirs) {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        if !wait_gone(&saved, Duration::from_secs(10)) {
            return Err(format!(
                "container {id}: its process {} did not die",
                saved.pid
            ));
        }
    }
    if let Some(unit) = &saved.scope {
        let _ = crate::systemd::stop_unit(unit);
    }
    // With a scope: the v1 directories made for it that systemd does not manage.
    let parents = saved.cgroup_parents.clone();
    let dirs = if saved.scope.is_some() {
        Vec::new()
    } else {
        saved.cgroup_dirs.clone()
    };
    super::cgroup::destroy(&dirs, &parents)?;
    if let Some(h) = &saved.hooks {
        let doc = saved.document(Status::Stopped);
        hooks::run_all_warn("poststop", h.poststop().as_ref(), &doc);
    }
    let dir = super::state::dir(root, id);
    std::fs::remove_dir_all(&dir).map_err(|e| format!("remove {}: {e}", dir.display()))
}
