//! Kernel filesystems inside the container: /proc of its own PID namespace, a read-only /sys.

use super::{NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use std::path::Path;

fn ensure_dir(path: &str) -> Result<(), RootfsError> {
    match std::fs::create_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) => {
            Err(nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO))).at("mkdir", path)
        }
    }
}

pub fn mount_proc() -> Result<(), RootfsError> {
    ensure_dir("/proc")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>).at("mount proc on", "/proc")
}

/// A fresh sysfs (the container has its own network namespace, so this is a superblock of
/// its own), made read-only by a bind remount: MS_RDONLY on a remount of a *bind* changes
/// only this mount, never a superblock the host might share.
pub fn mount_sys() -> Result<(), RootfsError> {
    ensure_dir("/sys")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount(Some("sysfs"), "/sys", Some("sysfs"), flags, None::<&str>)
        .at("mount sysfs on", "/sys")?;
    remount_read_only(Path::new("/sys"), flags)
}

pub fn remount_read_only(path: &Path, flags: MsFlags) -> Result<(), RootfsError> {
    let flags = flags | MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    mount(None::<&str>, path, None::<&str>, flags, None::<&str>).at("remount read-only", path)
}
