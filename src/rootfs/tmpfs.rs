//! `--tmpfs` mounts and the `--read-only` root, done inside the new root after pivot_root
//! (so every path resolves in the container, symlinks included).

use super::{NixContext, RootfsError};
use crate::security::TmpfsSpec;
use nix::mount::{mount, MsFlags};
use std::path::{Path, PathBuf};

/// What `--read-only` adds unless the user mounted something there already: a container
/// needs somewhere to write its pid files and temporary files (podman's --read-only-tmpfs).
pub fn read_only_defaults(user: &[TmpfsSpec]) -> Vec<TmpfsSpec> {
    ["/tmp", "/run"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| !user.iter().any(|t| &t.target == p))
        .map(|target| TmpfsSpec {
            data: "mode=1777".into(),
            noexec: false,
            ..TmpfsSpec::new(target)
        })
        .collect()
}

pub fn mount_all(list: &[TmpfsSpec]) -> Result<(), RootfsError> {
    for t in list {
        mount_one(t)?;
    }
    Ok(())
}

fn mount_one(t: &TmpfsSpec) -> Result<(), RootfsError> {
    if let Err(e) = std::fs::create_dir_all(&t.target) {
        return Err(nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
            .at("mkdir", &t.target);
    }
    let mut flags = MsFlags::empty();
    for (on, flag) in [
        (t.read_only, MsFlags::MS_RDONLY),
        (t.noexec, MsFlags::MS_NOEXEC),
        (t.nosuid, MsFlags::MS_NOSUID),
        (t.nodev, MsFlags::MS_NODEV),
    ] {
        if on {
            flags |= flag;
        }
    }
    let data = (!t.data.is_empty()).then_some(t.data.as_str());
    mount(Some("tmpfs"), &t.target, Some("tmpfs"), flags, data).at("mount tmpfs on", &t.target)
}

/// Make the container's root mount read-only. It is the bind of the overlay that
/// pivot::enter made, so the remount changes that mount only: /proc, /dev, /sys, the
/// volumes and the tmpfs mounts under it keep their own modes.
pub fn make_root_read_only() -> Result<(), RootfsError> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(
        None::<&str>,
        Path::new("/"),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .at("remount read-only", "/")
}
