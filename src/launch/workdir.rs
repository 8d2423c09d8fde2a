//! The command's working directory (`-w`, or the image's WorkingDir): resolved inside the
//! container's root, made when missing (as docker does), entered by descriptor. A /proc
//! magic link on the way (`/proc/self/fd/N`, `/proc/1/cwd`) is refused: it leads to whatever
//! that process has open, which need not be inside the container (runc's CVE-2024-21626 was
//! `-w /proc/self/fd/7` reaching a host directory).

use crate::quote::short;
use crate::rootfs::{self, RootfsError};
use std::path::Path;

/// Runs in the init (or `exec`'s child) after pivot_root or chroot: `/` is the container's.
pub fn enter(cwd: &Path) -> Result<(), String> {
    let root = Path::new("/");
    let dir = rootfs::open_or_make_dir(root, cwd).map_err(|e| match e {
        RootfsError::Sys {
            source: nix::Error::ELOOP,
            ..
        } if rootfs::through_magic_link(root, cwd) => format!(
            "working directory {} leaves the container (through a /proc magic link)",
            short(cwd)
        ),
        e => format!("working directory {}: {e}", short(cwd)),
    })?;
    nix::unistd::fchdir(&dir).map_err(|e| format!("working directory {}: chdir: {e}", short(cwd)))
}
