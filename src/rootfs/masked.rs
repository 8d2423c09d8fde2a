//! Hide and protect the kernel's files that docker hides (security::paths has the lists).
//! Runs after /proc, /dev and /sys are mounted in the new root: /dev/null must exist to be
//! bound over files.

use super::{NixContext, RootfsError};
use crate::security::paths::{MASKED, READ_ONLY};
use nix::mount::{mount, MsFlags};

pub fn apply() -> Result<(), RootfsError> {
    for path in MASKED {
        mask(path)?;
    }
    for path in READ_ONLY {
        read_only(path)?;
    }
    Ok(())
}

fn mask(path: &str) -> Result<(), RootfsError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(()); // Not on this kernel: nothing to hide.
    };
    if meta.is_dir() {
        let flags =
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            flags,
            Some("size=0,mode=0555"),
        )
        .at("mask with an empty tmpfs", path)
    } else {
        mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .at("mask with /dev/null", path)
    }
}

fn read_only(path: &str) -> Result<(), RootfsError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .at("bind onto itself", path)?;
    // A remount of the *bind* changes this mount only, never the procfs superblock.
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(None::<&str>, path, None::<&str>, flags, None::<&str>).at("remount read-only", path)
}
