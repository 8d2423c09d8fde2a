//! Volumes: bind mounts of host directories into the container, done before pivot_root
//! while the host's paths are still reachable. The mount point is created in the
//! container's write layer (through the overlay), never in the image.

use super::inroot::{fd_path, mkdir_all};
use super::{kernfs, Mount, NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use std::path::Path;

pub fn mount_all(root: &Path, volumes: &[Mount]) -> Result<(), RootfsError> {
    for vol in volumes {
        if !vol.source.is_dir() {
            mount_file(root, vol)?;
            continue;
        }
        if vol.copy_up {
            super::copy_up::copy_up(root, vol)?;
        }
        let target = mkdir_all(root, &vol.target)?;
        let shown = root.join(vol.target.strip_prefix("/").unwrap_or(&vol.target));
        mount(
            Some(&vol.source),
            &fd_path(&target),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
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

/// A single file (a network's /etc/hosts and /etc/resolv.conf, the sd_notify socket of
/// `--sdnotify container`): its mount point is the regular file there (the container's init
/// layer's), or an empty file made in the write layer, in a directory resolved inside the root.
fn mount_file(root: &Path, vol: &Mount) -> Result<(), RootfsError> {
    use nix::fcntl::OFlag;
    use nix::sys::stat::Mode;
    let shown = root.join(vol.target.strip_prefix("/").unwrap_or(&vol.target));
    let (Some(parent), Some(name)) = (vol.target.parent(), vol.target.file_name()) else {
        return Err(nix::Error::EINVAL).at("bind mount file on", &shown);
    };
    let dir = mkdir_all(root, parent)?;
    // A regular file there already (the container's init layer has one) is the mount point
    // as it is: opened with O_PATH, it is not copied up into the write layer.
    let existing = nix::fcntl::openat(
        &dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()
    .filter(|fd| {
        nix::sys::stat::fstat(fd).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
    });
    let file = match existing {
        Some(fd) => fd,
        None => {
            // O_PATH parent descriptors cannot create files: reopen it as a directory.
            let dir = nix::fcntl::openat(
                &dir,
                ".",
                OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .at("open", &shown)?;
            nix::fcntl::openat(
                &dir,
                name,
                OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )
            .at("create mount point", &shown)?
        }
    };
    mount(
        Some(&vol.source),
        &fd_path(&file),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .at("bind mount file on", &shown)
}
