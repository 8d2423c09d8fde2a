//! The container's own cgroup at /sys/fs/cgroup, read-only, as docker, podman, runc and crun
//! show it: programs size themselves from it (the JVM's heap, Go's and .NET's memory limits,
//! node, nginx's worker count). Mounted the way runc does with a cgroup namespace
//! (libcontainer/rootfs_linux.go, mountCgroupV1 and mountCgroupV2):
//!
//! - pure cgroup v2: one cgroup2 mount on /sys/fs/cgroup;
//! - v1 and hybrid: a tmpfs on /sys/fs/cgroup and, below it, one mount per hierarchy in which
//!   the container has a cgroup of its own (`memory`, `cpu,cpuacct` with the links `cpu`
//!   and `cpuacct`, `systemd` for name=systemd, `unified` for the cgroup2 one).
//!
//! The init does it after its go-ahead, in its new root, right after it has entered its own
//! cgroup namespace: a cgroup or cgroup2 mount made inside that namespace has the
//! namespace's root (the container's cgroup) as its root, so nothing above or beside it is
//! visible, and no path of the host is needed (no bind from before pivot_root). A hierarchy
//! in which the container is still in mdrun's cgroup (blkio or name=systemd with the
//! cgroupfs manager) is left out: its root there would be mdrun's cgroup, or the host's.
//!
//! Two traps, both about the host's superblock, which every one of these mounts shares:
//! - read-only is set per *mount*: a remount with MS_BIND|MS_REMOUNT|MS_RDONLY changes the
//!   mount's flags only; a remount without MS_BIND would make the host's hierarchy
//!   read-only for everybody (findings.md);
//! - a cgroup2 mount made in the host's cgroup namespace applies its (absent) options to
//!   the root (nsdelegate, memory_recursiveprot: kernel/cgroup/cgroup.c,
//!   apply_cgroup_root_flags): these mounts are only ever made after the unshare.

use super::{kernfs, NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;
use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";

/// runc's flags for the cgroup mounts (and docker's for /sys/fs/cgroup).
const FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// What the parent knows before the clone about the cgroups its container will have.
#[derive(Debug, Clone, Default)]
pub struct CgroupMountPlan {
    /// The host's /sys/fs/cgroup is one cgroup2 mount (pure v2): mount cgroup2 there, with
    /// no need to look at which hierarchies the init is in.
    pub unified: bool,
    /// The names the container's own cgroups end in: `mdrun-<id>` and `md-<short id>.scope`
    /// (placement::cgroup_name, systemd::scope_name). Empty: mount nothing.
    pub own_names: Vec<String>,
}

/// What to mount, decided before the unshare (after it, /proc/self/cgroup shows `/` for
/// every hierarchy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupView {
    /// No cgroup of its own anywhere (nothing planned): /sys/fs/cgroup stays empty.
    Nothing,
    /// Pure v2: cgroup2 on /sys/fs/cgroup.
    Unified,
    /// v1 or hybrid: a tmpfs, and these hierarchies below it.
    Hierarchies(Vec<Hierarchy>),
}

/// One hierarchy to mount below the tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Its controllers as /proc/self/cgroup lists them (`cpu,cpuacct`, `name=systemd`);
    /// empty for the cgroup2 hierarchy of a hybrid host.
    pub controllers: String,
}

impl Hierarchy {
    /// Its directory under /sys/fs/cgroup, named as systemd and docker name them.
    fn dir_name(&self) -> String {
        if self.controllers.is_empty() {
            return "unified".into();
        }
        self.controllers
            .split(',')
            .map(|c| c.strip_prefix("name=").unwrap_or(c))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `cpu` and `cpuacct` for `cpu,cpuacct`: links to a hierarchy of several controllers.
    fn links(&self) -> Vec<String> {
        let parts: Vec<&str> = self
            .controllers
            .split(',')
            .filter(|c| !c.is_empty() && !c.starts_with("name="))
            .collect();
        if parts.len() < 2 {
            return Vec::new();
        }
        parts.into_iter().map(str::to_string).collect()
    }
}

/// The hierarchies of /proc/self/cgroup `text` in which the init is in a cgroup of the
/// container's own: its path there ends in one of `own_names`.
pub fn own_hierarchies(text: &str, own_names: &[String]) -> Vec<Hierarchy> {
    crate::cgroups::parse_proc_cgroup(text)
        .into_iter()
        .filter(|e| {
            let last = e.path.rsplit('/').next().unwrap_or("");
            own_names.iter().any(|n| n == last)
        })
        .map(|e| Hierarchy {
            controllers: e.controllers.join(","),
        })
        .collect()
}

/// Before the unshare: what to mount afterwards. Reads /proc/self/cgroup on v1 and hybrid
/// hosts only.
pub fn select(plan: &CgroupMountPlan) -> Result<CgroupView, RootfsError> {
    if plan.own_names.is_empty() {
        return Ok(CgroupView::Nothing);
    }
    if plan.unified {
        return Ok(CgroupView::Unified);
    }
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(io_err)
        .at("read", "/proc/self/cgroup")?;
    let own = own_hierarchies(&text, &plan.own_names);
    Ok(if own.is_empty() {
        CgroupView::Nothing
    } else {
        CgroupView::Hierarchies(own)
    })
}

/// After the unshare, in the container's root: mount what `select` chose, read-only.
pub fn mount_view(view: &CgroupView) -> Result<(), RootfsError> {
    match view {
        CgroupView::Nothing => Ok(()),
        CgroupView::Unified => mount_cgroup2(Path::new(ROOT)),
        CgroupView::Hierarchies(list) => mount_hierarchies(list),
    }
}

fn mount_hierarchies(list: &[Hierarchy]) -> Result<(), RootfsError> {
    mount(Some("tmpfs"), ROOT, Some("tmpfs"), FLAGS, Some("mode=755"))
        .at("mount tmpfs on", ROOT)?;
    for h in list {
        let dir = Path::new(ROOT).join(h.dir_name());
        mkdir(&dir)?;
        if h.controllers.is_empty() {
            mount_cgroup2(&dir)?;
            continue;
        }
        mount(
            Some("cgroup"),
            &dir,
            Some("cgroup"),
            FLAGS,
            Some(h.controllers.as_str()),
        )
        .at("mount cgroup hierarchy on", &dir)?;
        kernfs::remount_read_only(&dir, FLAGS)?;
        for link in h.links() {
            let path = Path::new(ROOT).join(&link);
            std::os::unix::fs::symlink(h.dir_name(), &path)
                .map_err(io_err)
                .at("symlink", path)?;
        }
    }
    kernfs::remount_read_only(Path::new(ROOT), FLAGS)
}

fn mount_cgroup2(dir: &Path) -> Result<(), RootfsError> {
    mount(Some("cgroup2"), dir, Some("cgroup2"), FLAGS, None::<&str>)
        .at("mount cgroup2 on", dir)?;
    kernfs::remount_read_only(dir, FLAGS)
}

fn mkdir(path: &Path) -> Result<(), RootfsError> {
    nix::unistd::mkdir(path, Mode::from_bits_truncate(0o755)).at("mkdir", PathBuf::from(path))
}

fn io_err(e: std::io::Error) -> nix::Error {
    nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["mdrun-abc".into(), "md-abc.scope".into()]
    }

    #[test]
    fn only_the_hierarchies_with_a_cgroup_of_the_containers_own() {
        // The systemd manager on a hybrid host: the scope in name=systemd and the cgroup2
        // hierarchy, mdrun's cgroup below it in the controllers, blkio left where it was.
        let text = "12:pids:/machine.slice/md-abc.scope/mdrun-abc\n\
                    11:blkio:/\n\
                    10:cpu,cpuacct:/machine.slice/md-abc.scope/mdrun-abc\n\
                    9:memory:/x/mdrun-abc\n\
                    1:name=systemd:/machine.slice/md-abc.scope\n\
                    0::/machine.slice/md-abc.scope\n";
        let got: Vec<String> = own_hierarchies(text, &names())
            .iter()
            .map(|h| h.controllers.clone())
            .collect();
        assert_eq!(got, ["pids", "cpu,cpuacct", "memory", "name=systemd", ""]);
    }

    #[test]
    fn mdruns_own_cgroup_is_not_the_containers() {
        // mdrun in a cgroup whose name merely contains the id, or the container's parent.
        let text = "4:memory:/mdrun-abcd\n3:pids:/mdrun-abc/x\n0::/\n";
        assert!(own_hierarchies(text, &names()).is_empty());
        assert!(own_hierarchies("4:memory:/mdrun-abc\n", &[]).is_empty());
    }

    #[test]
    fn directories_and_links_are_named_as_systemd_names_them() {
        let h = |c: &str| Hierarchy {
            controllers: c.into(),
        };
        assert_eq!(h("memory").dir_name(), "memory");
        assert!(h("memory").links().is_empty());
        assert_eq!(h("cpu,cpuacct").dir_name(), "cpu,cpuacct");
        assert_eq!(h("cpu,cpuacct").links(), ["cpu", "cpuacct"]);
        assert_eq!(h("name=systemd").dir_name(), "systemd");
        assert!(h("name=systemd").links().is_empty());
        assert_eq!(h("").dir_name(), "unified");
    }
}
