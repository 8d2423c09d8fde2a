//! What mdrun's init does to build the container's filesystem, inside the container's new
//! mount namespace (so nothing here is ever visible on the host, and a dying container takes
//! every mount with it): overlay of the image layers and the write layer, volumes, the
//! seeds' pivot_root, then /proc, /dev and a read-only /sys; after the go-ahead, the
//! container's own cgroup at /sys/fs/cgroup (`cgroup_mount`).

mod cgroup_mount;
mod copy_up;
mod dev;
mod inroot;
mod kernfs;
mod masked;
mod overlay;
pub(crate) mod pivot;
mod tmpfs;
mod volumes;

pub use inroot::{fd_path, open_or_make_dir, through_magic_link};

use std::path::PathBuf;

pub use cgroup_mount::{mount_view as mount_cgroups, select as select_cgroups};
pub use cgroup_mount::{CgroupMountPlan, CgroupView};

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{step} {path}: {source}")]
    Sys {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    /// Something other than a directory where the container's kernel file systems go
    /// (/proc, /sys, /dev): refused rather than mounted wherever it leads.
    #[error("the image's {path} is {what}: it must be a directory, or absent")]
    NotADirectory {
        path: &'static str,
        what: &'static str,
    },
}

pub(crate) trait NixContext<T> {
    fn at(self, step: &'static str, path: impl Into<PathBuf>) -> Result<T, RootfsError>;
}

impl<T> NixContext<T> for nix::Result<T> {
    fn at(self, step: &'static str, path: impl Into<PathBuf>) -> Result<T, RootfsError> {
        self.map_err(|source| RootfsError::Sys {
            step,
            path: path.into(),
            source,
        })
    }
}

/// A volume as the init mounts it: a host directory (already created and canonical).
#[derive(Debug, Clone)]
pub struct Mount {
    pub source: PathBuf,
    pub target: PathBuf,
    pub read_only: bool,
    /// A volume made for this run: it takes what the image has at `target` first
    /// (see `copy_up`).
    pub copy_up: bool,
}

/// Everything the init needs to build the root filesystem.
#[derive(Debug, Clone)]
pub struct RootfsPlan {
    /// Image layers, topmost first.
    pub lower_dirs: Vec<PathBuf>,
    pub upper_dir: PathBuf,
    pub work_dir: PathBuf,
    /// Where the overlay is mounted (in the container's mount namespace only).
    pub mountpoint: PathBuf,
    pub volumes: Vec<Mount>,
    /// Mask and protect /proc and /sys paths as docker does (all but `--privileged`).
    pub mask_paths: bool,
    /// `--read-only`: the root is remounted read-only at the end, with /tmp and /run on tmpfs.
    pub read_only: bool,
    /// `--tmpfs` mounts.
    pub tmpfs: Vec<crate::security::TmpfsSpec>,
    /// Mount the overlay `volatile` (no syncs, none at unmount either): for containers whose
    /// write layer is thrown away when they end (`--rm`). The sync of the upper filesystem at
    /// unmount was most of the time between a short command's exit and mdrun's (measured in
    /// BENCHMARKS.md).
    pub volatile: bool,
    /// The container's own cgroup at /sys/fs/cgroup: mounted by the init once it is in its
    /// cgroup namespace, after the go-ahead (see `cgroup_mount`), not by `setup`.
    pub cgroup: CgroupMountPlan,
}

/// Build the container's root and enter it. Runs in the init, as root, in a fresh mount
/// namespace; on return the process's `/` is the container's root.
pub fn setup(plan: &RootfsPlan) -> Result<(), RootfsError> {
    pivot::make_private()?;
    overlay::mount(plan)?;
    volumes::mount_all(&plan.mountpoint, &plan.volumes)?;
    pivot::enter(&plan.mountpoint)?;
    kernfs::mount_proc()?;
    dev::populate()?;
    kernfs::mount_sys()?;
    if plan.mask_paths {
        masked::apply()?;
    }
    let mut tmpfs = plan.tmpfs.clone();
    if plan.read_only {
        tmpfs.extend(tmpfs::read_only_defaults(&plan.tmpfs));
    }
    tmpfs::mount_all(&tmpfs)?;
    if plan.read_only {
        tmpfs::make_root_read_only()?;
    }
    Ok(())
}
