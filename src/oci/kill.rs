//! `kill ID [SIGNAL] [--all]`: the signal by number or name (`TERM`, `SIGTERM`, `15`).
//! Without --all, a stopped container is an error; with it, whatever is left in the
//! container's cgroup gets the signal.

use super::state::{Saved, Status};
use super::Result;
use crate::cli::oci_args::KillArgs;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::path::Path;
use std::str::FromStr;

pub fn parse_signal(s: &str) -> Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("invalid signal {s:?}"));
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    Signal::from_str(&name).map_err(|_| format!("invalid signal {s:?}"))
}

pub fn kill(root: &Path, a: &KillArgs) -> Result<()> {
    let saved = Saved::load(root, &a.id)?;
    let sig = parse_signal(&a.signal)?;
    if a.all {
        // Every process in the cgroup, even once the init has gone (runc's --all): a
        // container sharing its pod's pid namespace leaves its children behind, and
        // containerd's shim kills them with `kill --all ID KILL` after the init's exit.
        for p in super::cgroup::procs(&saved.cgroup_dirs) {
            let _ = nix::sys::signal::kill(Pid::from_raw(p), sig);
        }
        return Ok(());
    }
    if saved.status(root) == Status::Stopped {
        return Err(format!("container {} is not running", a.id));
    }
    nix::sys::signal::kill(Pid::from_raw(saved.pid), sig)
        .map_err(|e| format!("kill {} ({}) with {sig}: {e}", a.id, saved.pid))
}
