//! Which device nodes the container may use.
//!
//! The container's /dev is a fresh tmpfs with the standard nodes only (rootfs::dev), so the
//! host's disks are not there. What remains is a node the container makes itself: mknod in
//! its write layer or its /dev, then open. The kernel's answer is the device controller:
//! - cgroup v1 (and hybrid hosts like this one): the `devices` hierarchy. The container's
//!   cgroup gets `devices.deny a`, then runc's default allow list (mknod of anything, but
//!   read/write only of the standard nodes and the pseudo-terminals). mdrun writes it from
//!   the host side, after the init is placed and before it may exec.
//! - cgroup v2 has no device files: runc and crun attach a BPF_PROG_TYPE_CGROUP_DEVICE
//!   program. mdrun does not (yet); its equivalent is to drop CAP_MKNOD from the container
//!   (see `caps::resolve`): without it no new node can be made, and the standard ones in
//!   its /dev are the only devices it can reach. `--cap-add MKNOD` on such a host therefore
//!   gives up the device isolation, as it would on docker with `--device-cgroup-rule 'b *:* rwm'`.

use super::SecurityError;
use cgroups_rs::fs::devices::{DevicePermissions as P, DeviceType, DevicesController};
use std::path::{Path, PathBuf};

/// (type, major, minor, permissions); -1 is `*`.
const ALLOWED: &[(DeviceType, i64, i64, &[P])] = &[
    (DeviceType::Char, -1, -1, &[P::MkNod]),
    (DeviceType::Block, -1, -1, &[P::MkNod]),
    (DeviceType::Char, 1, 3, &[P::Read, P::Write, P::MkNod]), // null
    (DeviceType::Char, 1, 5, &[P::Read, P::Write, P::MkNod]), // zero
    (DeviceType::Char, 1, 7, &[P::Read, P::Write, P::MkNod]), // full
    (DeviceType::Char, 1, 8, &[P::Read, P::Write, P::MkNod]), // random
    (DeviceType::Char, 1, 9, &[P::Read, P::Write, P::MkNod]), // urandom
    (DeviceType::Char, 5, 0, &[P::Read, P::Write, P::MkNod]), // tty
    (DeviceType::Char, 5, 1, &[P::Read, P::Write, P::MkNod]), // console
    (DeviceType::Char, 5, 2, &[P::Read, P::Write, P::MkNod]), // ptmx
    (DeviceType::Char, 136, -1, &[P::Read, P::Write, P::MkNod]), // /dev/pts/*
];

/// Is a cgroup v1 hierarchy with the devices controller mounted on this host?
pub fn filter_available() -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|line| {
        let Some((_, after)) = line.split_once(" - ") else {
            return false;
        };
        let mut f = after.split_whitespace();
        f.next() == Some("cgroup")
            && f.nth(1)
                .is_some_and(|opts| opts.split(',').any(|o| o == "devices"))
    })
}

/// Apply the allow list to the container's cgroup in the devices hierarchy: the one of
/// `cgroup_paths` that has a `devices.deny`. Fails when there is none: a container that was
/// planned with a device filter must not run without one.
pub fn restrict(cgroup_paths: &[PathBuf]) -> Result<(), SecurityError> {
    let dir = cgroup_paths
        .iter()
        .find(|p| p.join("devices.deny").exists())
        .ok_or_else(|| SecurityError::Devices {
            path: PathBuf::from("devices.deny"),
            reason: format!(
                "none of the container's cgroups {cgroup_paths:?} is in a devices hierarchy"
            ),
        })?;
    let ctl = DevicesController::new(dir.clone(), dir.clone());
    let fail = |rule: String| {
        move |e: cgroups_rs::fs::error::Error| SecurityError::Devices {
            path: dir.clone(),
            reason: format!("{rule}: {e}"),
        }
    };
    ctl.deny_device(DeviceType::All, -1, -1, &P::all())
        .map_err(fail("deny a".into()))?;
    for (ty, major, minor, perms) in ALLOWED {
        ctl.allow_device(*ty, *major, *minor, perms)
            .map_err(fail(format!("allow {ty:?} {major}:{minor}")))?;
    }
    Ok(())
}

/// The container's device list as the kernel has it (for tests).
pub fn list(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("devices.list")).unwrap_or_default()
}
