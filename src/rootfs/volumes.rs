//! Volumes: bind mounts of host directories into the container, done before pivot_root
//! while the host's paths are still reachable. The mount point is created in the
//! container's write layer (through the overlay), never in the image.

use super::inroot::{fd_path, mkdir_all};
use super::{kernfs, Mount, NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use std::path::Path;

pub fn mount_all(root: &Path, volumes: &[Mount]) -> Result<(), RootfsError> {
    for vol in volumes {
        let target = mkdir_all(root, &vol.target)?;
        let shown = root.join(vol.target.strip_prefix("/").unwrap_or(&vol.target));
        mount(Some(&vol.source), &fd_path(&target), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .at("bind mount volume on", &shown)?;
        drop(target);
        if vol.read_only {
            // Resolve again: the descriptor above is the directory *under* the new mount.
            let mounted = mkdir_all(root, &vol.target)?;
            kernfs::remount_read_only(&fd_path(&mounted), MsFlags::empty())?;
        }
    }
    Ok(())
}
