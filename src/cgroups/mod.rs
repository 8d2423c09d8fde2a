//! Cgroups: where a container's processes go and what limits them.
//!
//! One trait, [`Backend`], in front of two implementations chosen at run time by [`detect`]:
//! [`v2::V2Backend`] on a pure cgroup2 host, [`v1::V1Backend`] otherwise, hybrid hosts
//! included (their cgroup2 mount usually carries no controller that matters).
//!
//! Both write the limits through cgroups-rs's controllers but do the directory work
//! themselves: cgroups-rs's `create` is a `create_dir_all` that cannot say which parents it
//! made, its `delete` leaves processes running, and on v2 it enables controllers and
//! ignores the errors. Here, `create` remembers the parents it made, `destroy` kills what is
//! left and removes them again, and `create` undoes itself on any error.
//!
//! Callers keep the cgroup in a [`CgroupGuard`] until the container runs, so that every early
//! return removes it.
//!
//! What else the container's cgroup does: the device filter ([`devices`]: the v1 devices
//! controller's allow list, or on v2 a BPF program, [`device_bpf`]), written with the
//! limits; the freezer ([`freezer`]) that `commit` and `pause` freeze a running container
//! with; and [`update`], new limits on a running container's cgroup.

use crate::spec::Limits;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub mod bpf_prog;
pub mod device_bpf;
pub mod devices;
mod dirs;
pub mod freezer;
mod guard;
mod limits;
mod own;
pub(crate) use own::parse_proc_cgroup;
mod update;
pub mod usage;
pub use limits::validate as validate_limits;
pub(crate) use own::{cgroup_mounts, dir_under_mount, CgroupMount};
pub use update::update;
pub mod v1;
#[cfg(test)]
mod v1_tests;
pub mod v2;

pub use guard::CgroupGuard;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// The device filter could not be put on the container's cgroup: the v1 devices
    /// controller's allow list, or the v2 BPF program (see [`devices`]).
    #[error("device filter {path}: {reason}")]
    Devices { path: PathBuf, reason: String },
    /// A file-system step on a cgroup path failed:
    /// "rmdir /sys/fs/cgroup/memory/x: Device or resource busy (os error 16)".
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The kernel refused a value in a control file (an invalid limit gives EINVAL).
    #[error("write {} to {path}: {source}", crate::quote::quoted(.value))]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("cgroup {path} already exists")]
    AlreadyExists { path: PathBuf },
    #[error("invalid cgroup {what} {}: {reason}", crate::quote::quoted(.value))]
    InvalidPath {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("invalid limits: {reason}")]
    InvalidLimits { reason: &'static str },
    #[error(
        "mdrun's own cgroup in the {controller} hierarchy is unknown \
         (no usable line in /proc/self/cgroup); set cgroup_parent"
    )]
    OwnCgroupUnknown { controller: String },
    #[error("cgroup {path} is outside {mount}, which shows only {root} of its hierarchy")]
    OutsideMount {
        path: String,
        mount: PathBuf,
        root: PathBuf,
    },
    #[error("no cgroup v1 hierarchy for the {controller} controller is mounted")]
    NoHierarchy { controller: &'static str },
    #[error("the {controller} controller is not available in {path} (see its cgroup.controllers)")]
    ControllerUnavailable {
        controller: &'static str,
        path: PathBuf,
    },
    #[error(
        "cannot enable the {controller} controller in {path}/cgroup.subtree_control: that \
         cgroup has processes in it, and cgroup v2 puts no controller on a cgroup whose parent \
         has processes (the no-internal-process rule); set cgroup_parent to a cgroup without \
         processes, for example a slice"
    )]
    InternalProcess {
        controller: &'static str,
        path: PathBuf,
    },
    #[error(
        "cgroup v2 will not take a process into {path}: its parent cgroup holds processes of \
         its own (the no-internal-process rule; mdrun's own cgroup, when no cgroup_parent is \
         set, is one); set cgroup_parent to a cgroup without processes, for example a slice, \
         or use the systemd cgroup manager"
    )]
    ParentHasProcesses { path: PathBuf },
    #[error("kill -9 {pid}: {source}")]
    Kill { pid: i32, source: nix::Error },
    #[error("processes {pids:?} are still in {path} {secs} s after SIGKILL")]
    KillTimeout {
        path: PathBuf,
        pids: Vec<i32>,
        secs: u64,
    },
    #[error("parse {path}: {reason}")]
    Parse { path: PathBuf, reason: &'static str },
    #[error("the cgroup of {name:?} has no valid path ({reason})")]
    Unplaced { name: String, reason: String },
    /// `commit` could not pause the container (a task stuck in the kernel, say).
    #[error("container {name:?} did not freeze within {secs} s ({path}): try again, or commit with --pause=false")]
    FreezeTimeout {
        name: String,
        path: PathBuf,
        secs: u64,
    },
}

impl CgroupError {
    /// A step on a cgroup's own files failed because the cgroup was removed under us (ENOENT
    /// from a file in it, ENODEV from a `tasks` file of a removed cgroup): on a host where
    /// systemd trims empty cgroups outside what it delegates, a new cgroup can go before
    /// anything entered it.
    pub fn vanished(&self) -> bool {
        let source = match self {
            CgroupError::Io { source, .. } | CgroupError::Write { source, .. } => source,
            _ => return false,
        };
        matches!(
            source.raw_os_error(),
            Some(libc::ENOENT) | Some(libc::ENODEV)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Version {
    V1,
    V2,
}

/// Chooses where a container's cgroup goes and makes it.
pub trait Backend {
    fn version(&self) -> Version;
    /// Create `<parent>/<name>` (parent None = the cgroup mdrun itself runs in, per hierarchy)
    /// and apply `limits`. Nothing is left behind on error.
    fn create(
        &self,
        parent: Option<&str>,
        name: &str,
        limits: &Limits,
    ) -> Result<Box<dyn ContainerCgroup>, CgroupError>;
    /// A handle on an existing container cgroup (for cleanup by later commands).
    fn load(&self, parent: Option<&str>, name: &str) -> Box<dyn ContainerCgroup>;
    /// Like `load`, plus the parent directories `create` made for it (as returned by
    /// [`ContainerCgroup::created_parents`] and kept in the container's state), so that
    /// `destroy` removes them too when they are empty.
    fn load_with_parents(
        &self,
        parent: Option<&str>,
        name: &str,
        created_parents: &[PathBuf],
    ) -> Box<dyn ContainerCgroup> {
        let _ = created_parents;
        self.load(parent, name)
    }
    /// Create `<parent>/<name>`, move `pid` into it, and apply `limits`, for a parent that
    /// holds `pid` itself: a systemd scope, which starts with the container's init in it.
    /// On v2 a parent with processes cannot hand controllers down (the no-internal-process
    /// rule), so the process must leave it before the limits go on; v1 has no such rule.
    fn create_around(
        &self,
        parent: &str,
        name: &str,
        pid: i32,
        limits: &Limits,
    ) -> Result<Box<dyn ContainerCgroup>, CgroupError> {
        let cg = self.create(Some(parent), name, limits)?;
        if let Err(e) = cg.add_process(pid) {
            // Best effort: the error that made us stop is the one to report.
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(cg)
    }
}

/// How an init that is about to be cloned gets into its cgroup without anybody migrating
/// it from outside. Writing a pid to `cgroup.procs` takes the kernel's global threadgroup
/// rwsem for writing, and that waits for an RCU grace period: 4 to 19 ms per migration on
/// our 2-CPU hosts, most of a container's start-up (BENCHMARKS.md). Two ways around it:
pub enum Entry {
    /// v1: each hierarchy's `tasks` file, opened for writing. The init, still one thread,
    /// writes "0" (itself) to each as its first act: moving only the calling thread skips
    /// the global lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start), 0.1 ms each.
    Tasks(Vec<(PathBuf, OwnedFd)>),
    /// v2: the cgroup's directory, for clone3(CLONE_INTO_CGROUP): the init is born inside
    /// (a read lock only).
    Dir(PathBuf, OwnedFd),
}

fn open_entry(path: PathBuf, flags: nix::fcntl::OFlag) -> Result<(PathBuf, OwnedFd), CgroupError> {
    use nix::fcntl::{open, OFlag};
    match open(
        &path,
        flags | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) {
        Ok(fd) => Ok((path, fd)),
        Err(e) => Err(CgroupError::Io {
            step: "open",
            path,
            source: io::Error::from(e),
        }),
    }
}

/// One container's cgroup.
pub trait ContainerCgroup {
    /// Move a process (all its threads) in: cgroup.procs.
    fn add_process(&self, pid: i32) -> Result<(), CgroupError>;
    /// The way in for an init not cloned yet (see [`Entry`]); None: clone it, then
    /// `add_process` it.
    fn entry(&self) -> Result<Option<Entry>, CgroupError> {
        Ok(None)
    }
    /// Every process in the cgroup or in a cgroup below it, sorted.
    fn procs(&self) -> Vec<i32>;
    /// Was anything in it killed by the OOM killer?
    fn oom_killed(&self) -> bool;
    /// CPU time used so far, microseconds.
    fn cpu_usage_usec(&self) -> Result<u64, CgroupError>;
    /// Directories it consists of (one per v1 hierarchy, one on v2).
    fn paths(&self) -> Vec<PathBuf>;
    /// Kill what is left, wait for it to go, remove every directory. Idempotent.
    fn destroy(&self) -> Result<(), CgroupError>;
    /// Parent directories that `create` made and `destroy` removes when they are empty.
    fn created_parents(&self) -> Vec<PathBuf> {
        Vec::new()
    }
}

/// The directories of the cgroups process `pid` is in, in every mounted hierarchy (v1
/// controllers, named ones such as name=systemd, and cgroup2), except those it shares with
/// us: what `exec` joins so that its process is where the container's are, scope included
/// (systemd tracks a scope through name=systemd on hybrid hosts). Empty when `pid` is gone.
pub fn dirs_of_process(pid: i32) -> Vec<PathBuf> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let theirs = own::parse_proc_cgroup(&read(&format!("/proc/{pid}/cgroup")));
    let ours = own::parse_proc_cgroup(&read("/proc/self/cgroup"));
    // cgroups-rs's mountinfo_self() lists v1 mounts only: the cgroup2 one is needed too.
    let mounts = own::cgroup_mounts(&read("/proc/self/mountinfo"));
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in theirs.iter().filter(|e| !ours.contains(e)) {
        let mount = mounts.iter().find(|m| match m.fs_type.as_str() {
            "cgroup2" => entry.controllers.is_empty(),
            "cgroup" => {
                !entry.controllers.is_empty()
                    && entry
                        .controllers
                        .iter()
                        .all(|c| m.super_opts.iter().any(|o| o == c))
            }
            _ => false,
        });
        if let Some(m) = mount {
            if let Ok(dir) = own::dir_under_mount(&m.mount_point, &m.mount_root, &entry.path) {
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
    }
    dirs
}

/// Where cgroup (v1) and cgroup2 file systems are mounted, from /proc/self/mountinfo.
pub fn mount_points() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    own::cgroup_mounts(&text)
        .into_iter()
        .map(|m| m.mount_point)
        .collect()
}

/// Is a cgroup v1 hierarchy with `controller` (`devices`, `name=systemd`) mounted?
pub fn v1_controller_mounted(controller: &str) -> bool {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    own::cgroup_mounts(&text)
        .iter()
        .any(|m| m.fs_type == "cgroup" && m.super_opts.iter().any(|o| o == controller))
}

/// Which cgroup version to drive: v2 only when /sys/fs/cgroup itself is a cgroup2 mount.
pub fn detect() -> Version {
    if cgroups_rs::fs::hierarchies::is_cgroup2_unified_mode() {
        Version::V2
    } else {
        Version::V1
    }
}

/// The backend for this host. Reads /proc/self/cgroup (and on v1 /proc/self/mountinfo) once.
pub fn backend() -> Box<dyn Backend> {
    match detect() {
        Version::V2 => Box::new(v2::V2Backend::new()),
        Version::V1 => Box::new(v1::V1Backend::new()),
    }
}

/// The handle `load` gives for a name or parent that cannot be a cgroup path: nothing can
/// exist there (`create` refuses the same input), so there is nothing to clean up either.
#[derive(Debug)]
pub(crate) struct Unplaced {
    pub name: String,
    pub reason: String,
}

impl Unplaced {
    fn error(&self) -> CgroupError {
        CgroupError::Unplaced {
            name: self.name.clone(),
            reason: self.reason.clone(),
        }
    }
}

impl ContainerCgroup for Unplaced {
    fn add_process(&self, _pid: i32) -> Result<(), CgroupError> {
        Err(self.error())
    }
    fn procs(&self) -> Vec<i32> {
        Vec::new()
    }
    fn oom_killed(&self) -> bool {
        false
    }
    fn cpu_usage_usec(&self) -> Result<u64, CgroupError> {
        Err(self.error())
    }
    fn paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    fn destroy(&self) -> Result<(), CgroupError> {
        Ok(())
    }
}
