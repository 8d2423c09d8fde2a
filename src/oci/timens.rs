//! The time namespace (runtime-spec 1.2: namespace type `time`, `linux.timeOffsets`).
//! A new time namespace only applies to the children of whoever made it, and its offsets
//! can be set only until a process is in it. So the init, as runc's nsexec does it in
//! order: unshare(CLONE_NEWTIME) (its *children's* namespace is new), writes the offsets to
//! /proc/self/timens_offsets (which are those of that namespace), then enters it itself
//! with setns on /proc/self/ns/time_for_children, which freezes them. The process it execs
//! is then in it, and so is every process of the container.

use super::Result;
use nix::sched::CloneFlags;
use oci_spec::runtime::{Linux, LinuxNamespaceType, LinuxTimeOffset};
use std::collections::HashMap;

pub const CLONE_NEWTIME: CloneFlags = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);

/// Does config.json ask for a new time namespace?
pub fn wants_new(linux: &Linux) -> bool {
    linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::Time && n.path().is_none())
}

/// config.json's checks: offsets only for a new time namespace, and only the two clocks a
/// time namespace has.
pub fn check(linux: &Linux) -> Result<()> {
    let Some(offsets) = linux.time_offsets() else {
        return Ok(());
    };
    if !offsets.is_empty() && !wants_new(linux) {
        return Err("config.json: linux.timeOffsets needs a new time namespace".into());
    }
    for (clock, o) in offsets {
        if clock != "monotonic" && clock != "boottime" {
            return Err(format!(
                "config.json: linux.timeOffsets: unknown clock {clock:?} (monotonic or boottime)"
            ));
        }
        if o.nanosecs().unwrap_or(0) >= 1_000_000_000 {
            return Err(format!(
                "config.json: linux.timeOffsets.{clock}.nanosecs must be below 1000000000"
            ));
        }
    }
    Ok(())
}

/// In the init: a new time namespace with `offsets`, entered.
pub fn enter_new(offsets: Option<&HashMap<String, LinuxTimeOffset>>) -> Result<()> {
    nix::sched::unshare(CLONE_NEWTIME).map_err(|e| {
        format!("unshare time namespace: {e} (does this kernel have CONFIG_TIME_NS?)")
    })?;
    let text: String = offsets
        .into_iter()
        .flatten()
        .map(|(clock, o)| {
            format!(
                "{clock} {} {}\n",
                o.secs().unwrap_or(0),
                o.nanosecs().unwrap_or(0)
            )
        })
        .collect();
    if !text.is_empty() {
        std::fs::write("/proc/self/timens_offsets", &text).map_err(|e| {
            format!(
                "write {:?} to /proc/self/timens_offsets: {e}",
                text.trim_end()
            )
        })?;
    }
    let p = "/proc/self/ns/time_for_children";
    let fd = nix::fcntl::open(
        p,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open {p}: {e}"))?;
    nix::sched::setns(&fd, CLONE_NEWTIME).map_err(|e| format!("setns {p}: {e}"))
}
