//! pivot_root as the seeds do it: a private `/`, the new root bound onto itself, the old root
//! put at `.pivot_root`, then detached and removed.

use super::{NixContext, RootfsError};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use std::path::Path;

const OLD_ROOT: &str = ".pivot_root";

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
/// root: binding it onto itself guarantees both, whatever it is.
pub fn enter(root: &Path) -> Result<(), RootfsError> {
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .at("bind new root onto itself", root)?;
    nix::unistd::chdir(root).at("chdir", root)?;
    match nix::unistd::mkdir(OLD_ROOT, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(nix::Error::EEXIST) => {}
        Err(e) => return Err(e).at("mkdir", root.join(OLD_ROOT)),
    }
    nix::unistd::pivot_root(".", OLD_ROOT).at("pivot_root", root)?;
    nix::unistd::chdir("/").at("chdir", "/")
}

/// Detach the host's root (lazily: something may still hold it open) and remove the
/// directory, so the container's write layer keeps no trace of it.
pub fn drop_old_root() -> Result<(), RootfsError> {
    let old = Path::new("/").join(OLD_ROOT);
    // The old root's mounts are still "private" to us, so detaching them affects nothing else.
    umount2(&old, MntFlags::MNT_DETACH).at("umount", &old)?;
    std::fs::remove_dir(&old)
        .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
        .at("rmdir", &old)
}
