//! Kernel filesystems inside the container: /proc of its own PID namespace, a read-only /sys.

use super::{NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use std::path::Path;

/// `path` (/proc, /sys or /dev, after pivot_root) is a directory: made when the image has
/// none, refused when it is anything else. A symlink there would have the mount land where
/// it points (`/proc -> /etc` mounting proc over /etc), and mkdir fails on it with a bare
/// EEXIST.
pub(super) fn ensure_dir(path: &'static str) -> Result<(), RootfsError> {
    use nix::sys::stat::{lstat, SFlag};
    let kind = match lstat(path) {
        Ok(st) => SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()),
        Err(nix::Error::ENOENT) => {
            let mode = nix::sys::stat::Mode::from_bits_truncate(0o755);
            return nix::unistd::mkdir(path, mode).at("mkdir", path);
        }
        Err(e) => return Err(e).at("lstat", path),
    };
    let what = match kind {
        SFlag::S_IFDIR => return Ok(()),
        SFlag::S_IFLNK => "a symlink",
        SFlag::S_IFREG => "a file",
        _ => "a special file",
    };
    Err(RootfsError::NotADirectory { path, what })
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
