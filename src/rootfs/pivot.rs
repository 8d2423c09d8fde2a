//! pivot_root as the seeds do it: a private `/`, the new root bound onto itself, the old root
//! detached, so that nothing of the host's tree is left in the container's.

use super::{NixContext, RootfsError};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use std::path::Path;

/// Stop mount events from propagating back to the host (systemd makes `/` shared; without
/// this our overlay and binds would appear in the host's mount table).
pub fn make_private() -> Result<(), RootfsError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .at("make / rprivate", "/")
}

/// pivot_root(2) needs new_root to be a mount point, and not on the same mount as the old
/// root: binding it onto itself guarantees both, whatever it is. Then the old root is
/// detached at once, the way runc does it (libcontainer/rootfs_linux.go, pivotRoot):
/// `pivot_root(".", ".")` stacks the old root on top of the new one at `/`, and a lazy
/// unmount of `.` from the old root takes it off. No put_old directory is made in the
/// container's write layer and removed again (two metadata writes to the upper file system
/// on every start).
pub fn enter(root: &Path) -> Result<(), RootfsError> {
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .at("bind new root onto itself", root)?;
    pivot_into(root, false)
}

/// `enter` for a root that is a mount point of its own already, with mounts made inside it
/// (mdrun-oci binds the bundle's root first): a second recursive bind would leave out the
/// unbindable ones among them.
pub fn enter_mount_point(root: &Path) -> Result<(), RootfsError> {
    pivot_into(root, false)
}

/// `enter_mount_point` for a namespace whose `/` is still shared with the host (OCI
/// rootfsPropagation shared/rshared): the old root is made rslave before it is detached,
/// as runc's pivotRoot does, so that detaching it unmounts nothing on the host.
pub fn enter_mount_point_from_shared(root: &Path) -> Result<(), RootfsError> {
    pivot_into(root, true)
}

fn pivot_into(root: &Path, slave_old_root: bool) -> Result<(), RootfsError> {
    let old_root = nix::fcntl::open(
        "/",
        nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .at("open", "/")?;
    nix::unistd::chdir(root).at("chdir", root)?;
    nix::unistd::pivot_root(".", ".").at("pivot_root", root)?;
    // The old root is on top at `/` now, and our directory is its root: from there, detach
    // it (lazily: something may still hold it open). Its mounts are private to us (see
    // make_private), so this affects nothing else.
    nix::unistd::fchdir(&old_root).at("fchdir", "the old root")?;
    if slave_old_root {
        mount(
            None::<&str>,
            ".",
            None::<&str>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&str>,
        )
        .at("make the old root rslave", "/")?;
    }
    umount2(".", MntFlags::MNT_DETACH).at("umount", "the old root")?;
    nix::unistd::chdir("/").at("chdir", "/")
}
