//! `create --no-pivot`: the root without pivot_root(2), which fails when the current root
//! is the initramfs (ramfs) a diskless host runs from. As runc's msMoveRoot
//! (libcontainer/rootfs_linux.go): the host's full proc and sysfs mounts outside the root
//! are detached first (left reachable, they would let the container's own proc and sysfs
//! mounts pass the kernel's "fully visible" check for nested containers), then the root is
//! moved onto `/` (MS_MOVE) and entered with chroot.

use super::Result;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::Path;

pub fn enter(rootfs: &Path) -> Result<()> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
    let mut hidden: Vec<&str> = info
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let fstype = right.split(' ').next()?;
            let (root, point) = (*f.get(3)?, *f.get(4)?);
            let full = root == "/" && (fstype == "proc" || fstype == "sysfs");
            (full && !Path::new(point).starts_with(rootfs)).then_some(point)
        })
        .collect();
    // Deepest first (/proc/sys/fs/binfmt_misc's proc before /proc's).
    hidden.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in hidden {
        // Our `/` is rslave already (rootfs::setup): the unmounts do not reach the host.
        if let Err(e) = umount2(p, MntFlags::MNT_DETACH) {
            if e != nix::Error::EINVAL && e != nix::Error::EPERM {
                return Err(format!("--no-pivot: detach {p}: {e}"));
            }
            // Not ours to unmount (a user namespace): cover it.
            mount(
                Some("tmpfs"),
                p,
                Some("tmpfs"),
                MsFlags::empty(),
                None::<&str>,
            )
            .map_err(|e| format!("--no-pivot: cover {p}: {e}"))?;
        }
    }
    nix::unistd::chdir(rootfs).map_err(|e| format!("chdir {}: {e}", rootfs.display()))?;
    mount(
        Some(rootfs),
        "/",
        None::<&str>,
        MsFlags::MS_MOVE,
        None::<&str>,
    )
    .map_err(|e| format!("--no-pivot: move {} onto /: {e}", rootfs.display()))?;
    nix::unistd::chroot(".").map_err(|e| format!("chroot {}: {e}", rootfs.display()))?;
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))
}
