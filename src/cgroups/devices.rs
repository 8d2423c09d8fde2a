//! Which device nodes the container may use.
//!
//! The container's /dev is a fresh tmpfs with the standard nodes only (rootfs::dev), so the
//! host's disks are not there. What remains is a node the container makes itself: mknod in
//! its write layer or its /dev, then open. The kernel's answer is the device controller:
//! - cgroup v1 (and hybrid hosts like this one): the `devices` hierarchy. The container's
//!   cgroup gets `devices.deny a`, then runc's default allow list (mknod of anything, but
//!   read/write only of the standard nodes and the pseudo-terminals). mdrun writes it from
//!   the host side, after the init is placed and before it may exec.
//! - cgroup v2 has no device files: like runc and crun, mdrun attaches a
//!   BPF_PROG_TYPE_CGROUP_DEVICE program made from the same allow list to the container's
//!   cgroup (`device_bpf`), also before anything can exec in it.
//!
//! Only where neither can be had (no devices hierarchy on a v1 host) does mdrun fall back to
//! dropping CAP_MKNOD (see `security::caps::resolve`): without it no new node can be made, and the
//! standard ones in its /dev are the only devices it can reach.

use super::{device_bpf, CgroupError, Version};
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

/// Can a device filter be attached to the container's cgroup: a pure cgroup v2 host (the BPF
/// program), or a v1 hierarchy with the devices controller mounted?
pub fn filter_available() -> bool {
    super::detect() == Version::V2 || super::v1_controller_mounted("devices")
}

/// Apply the allow list to the container's cgroup in the devices hierarchy: the one of
/// `cgroup_paths` that has a `devices.deny`. Fails when there is none: a container that was
/// planned with a device filter must not run without one.
pub fn restrict(cgroup_paths: &[PathBuf]) -> Result<(), CgroupError> {
    let dir = cgroup_paths
        .iter()
        .find(|p| p.join("devices.deny").exists())
        .ok_or_else(|| CgroupError::Devices {
            path: PathBuf::from("devices.deny"),
            reason: format!(
                "none of the container's cgroups {cgroup_paths:?} is in a devices hierarchy"
            ),
        })?;
    let ctl = DevicesController::new(dir.clone(), dir.clone());
    let fail = |rule: String| {
        move |e: cgroups_rs::fs::error::Error| CgroupError::Devices {
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

/// The allow list as rules for the v2 program.
pub fn rules() -> Vec<device_bpf::Rule> {
    ALLOWED
        .iter()
        .map(|(ty, major, minor, perms)| device_bpf::Rule {
            ty: match ty {
                DeviceType::Char => Some(device_bpf::DEV_CHAR),
                DeviceType::Block => Some(device_bpf::DEV_BLOCK),
                DeviceType::All => None,
            },
            major: u32::try_from(*major).ok(),
            minor: u32::try_from(*minor).ok(),
            access: perms
                .iter()
                .map(|p| match p {
                    P::Read => device_bpf::ACC_READ,
                    P::Write => device_bpf::ACC_WRITE,
                    P::MkNod => device_bpf::ACC_MKNOD,
                })
                .fold(0, |a, b| a | b),
        })
        .collect()
}

/// cgroup v2: attach the allow list as a BPF program to the container's cgroup `dir`.
pub fn restrict_v2(dir: &Path) -> Result<(), CgroupError> {
    device_bpf::attach(dir, &rules())
}
