//! The cgroup v1 backend: one directory per mounted hierarchy of the controllers a
//! container needs. Also used on hybrid hosts, whose v1 hierarchies hold the controllers.

use super::dirs::{self, write_err};
use super::limits::{self, V1Dirs};
use super::own::{self, OwnEntry};
use super::{Backend, CgroupError, ContainerCgroup, Version};
use crate::spec::Limits;
use cgroups_rs::fs::cpuset::CpuSetController;
use cgroups_rs::fs::freezer::FreezerController;
use cgroups_rs::fs::hierarchies::{mountinfo_self, Mountinfo};
use cgroups_rs::fs::pid::PidController;
use cgroups_rs::fs::Controller;
use cgroups_rs::CgroupPid;
use std::path::{Path, PathBuf};

/// The v1 controllers a container gets a directory for. blkio, net_cls, perf_event and
/// name=systemd are left alone: mdrun sets nothing there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctl {
    Memory,
    Cpu,
    CpuAcct,
    CpuSet,
    Pids,
    Devices,
    Freezer,
}

impl Ctl {
    const ALL: [Ctl; 7] = [
        Ctl::Memory,
        Ctl::Cpu,
        Ctl::CpuAcct,
        Ctl::CpuSet,
        Ctl::Pids,
        Ctl::Devices,
        Ctl::Freezer,
    ];

    fn name(self) -> &'static str {
        match self {
            Ctl::Memory => "memory",
            Ctl::Cpu => "cpu",
            Ctl::CpuAcct => "cpuacct",
            Ctl::CpuSet => "cpuset",
            Ctl::Pids => "pids",
            Ctl::Devices => "devices",
            Ctl::Freezer => "freezer",
        }
    }
}

/// One mounted hierarchy: usually one controller, sometimes several (`cpu,cpuacct`).
#[derive(Debug, Clone)]
struct Hierarchy {
    controllers: Vec<Ctl>,
    mount_point: PathBuf,
    mount_root: PathBuf,
    /// Our own cgroup in it, from /proc/self/cgroup.
    own: Option<String>,
}

/// The container's directory in one hierarchy.
#[derive(Debug, Clone)]
struct HierDir {
    controllers: Vec<Ctl>,
    path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct V1Backend {
    hierarchies: Vec<Hierarchy>,
}

impl Default for V1Backend {
    fn default() -> Self {
        Self::new()
    }
}

impl V1Backend {
    /// The hierarchies mounted here and our place in them: reads /proc/self/mountinfo and
    /// /proc/self/cgroup once, so that `create` does not.
    pub fn new() -> Self {
        // Unreadable: every own path is unknown, and only an explicit parent works.
        let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        Self::from_parts(&mountinfo_self(), &text)
    }

    /// Build from mountinfo entries (cgroup v1 ones are used) and the text of a
    /// /proc/<pid>/cgroup file.
    pub fn from_parts(mounts: &[Mountinfo], proc_self_cgroup: &str) -> Self {
        let entries: Vec<OwnEntry> = own::parse_proc_cgroup(proc_self_cgroup);
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for m in mounts.iter().filter(|m| m.fs_type.0 == "cgroup") {
            let controllers: Vec<Ctl> = Ctl::ALL
                .into_iter()
                .filter(|c| m.super_opts.iter().any(|o| o == c.name()))
                .collect();
            // The same hierarchy may be mounted twice (a bind mount): the first one wins.
            let Some(&first) = controllers.first() else {
                continue;
            };
            if hierarchies.iter().any(|h| h.controllers.contains(&first)) {
                continue;
            }
            hierarchies.push(Hierarchy {
                own: own::own_v1(&entries, first.name()).map(str::to_string),
                controllers,
                mount_point: m.mount_point.clone(),
                mount_root: m.mount_root.clone(),
            });
        }
        V1Backend { hierarchies }
    }

    /// The container's directory in every hierarchy; nothing is touched.
    fn place(&self, parent: Option<&str>, name: &str) -> Result<Vec<HierDir>, CgroupError> {
        self.hierarchies
            .iter()
            .map(|h| {
                let ctl = h.controllers[0].name();
                let path = own::container_path(h.own.as_deref(), parent, name, ctl)?;
                let dir = own::dir_under_mount(&h.mount_point, &h.mount_root, &path)?;
                Ok(HierDir {
                    controllers: h.controllers.clone(),
                    path: dir,
                })
            })
            .collect()
    }
}

impl Backend for V1Backend {
    fn version(&self) -> Version {
        Version::V1
    }

    fn create(
        &self,
        parent: Option<&str>,
        name: &str,
        limits: &Limits,
    ) -> Result<Box<dyn ContainerCgroup>, CgroupError> {
        limits::validate(limits)?;
        if self.hierarchies.is_empty() {
            return Err(CgroupError::NoHierarchy {
                controller: "memory",
            });
        }
        let placed = self.place(parent, name)?;
        limits::v1_check(&v1_dirs(&placed), limits)?;
        let mut cg = V1Cgroup {
            dirs: Vec::new(),
            created_parents: Vec::new(),
        };
        let made = self
            .hierarchies
            .iter()
            .zip(placed)
            .try_for_each(|(h, dir)| {
                let is_cpuset = dir.controllers.contains(&Ctl::CpuSet);
                let top = &h.mount_point;
                let mut hook = |d: &Path| {
                    if is_cpuset {
                        fill_cpuset(top, d)
                    } else {
                        Ok(())
                    }
                };
                let mut new = dirs::make_path(top, &dir.path, &mut hook)?;
                new.pop(); // the leaf itself
                cg.created_parents.extend(new);
                cg.dirs.push(dir);
                Ok(())
            });
        // The device allow list goes in with the limits, before any process can be moved in:
        // written later, there is a moment after `deny a` when even /dev/null is refused.
        let devices = |()| -> Result<(), CgroupError> {
            if !limits.restrict_devices {
                return Ok(());
            }
            let paths: Vec<_> = cg.dirs.iter().map(|d| d.path.clone()).collect();
            super::devices::restrict(&paths)
        };
        if let Err(e) = made
            .and_then(|()| limits::apply_v1(&v1_dirs(&cg.dirs), limits))
            .and_then(devices)
        {
            // Best effort: the error that made us stop is the one to report.
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(Box::new(cg))
    }

    fn load(&self, parent: Option<&str>, name: &str) -> Box<dyn ContainerCgroup> {
        self.load_with_parents(parent, name, &[])
    }

    fn load_with_parents(
        &self,
        parent: Option<&str>,
        name: &str,
        created_parents: &[PathBuf],
    ) -> Box<dyn ContainerCgroup> {
        match self.place(parent, name) {
            Ok(dirs) => {
                // Only ancestors of the container's own directories: a corrupt state file
                // must not make us rmdir anything else.
                let created_parents = created_parents
                    .iter()
                    .filter(|p| dirs.iter().any(|d| d.path.starts_with(p) && d.path != **p))
                    .cloned()
                    .collect();
                Box::new(V1Cgroup {
                    dirs,
                    created_parents,
                })
            }
            Err(e) => Box::new(super::Unplaced {
                name: name.to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

fn v1_dirs(dirs: &[HierDir]) -> V1Dirs<'_> {
    let find = |c: Ctl| {
        dirs.iter()
            .find(|d| d.controllers.contains(&c))
            .map(|d| d.path.as_path())
    };
    V1Dirs {
        memory: find(Ctl::Memory),
        cpu: find(Ctl::Cpu),
        cpuset: find(Ctl::CpuSet),
        pids: find(Ctl::Pids),
    }
}

/// A new v1 cpuset starts with empty cpuset.cpus and cpuset.mems, and attaching a task to it
/// fails with ENOSPC. Copy the nearest non-empty ancestor's values into `dir` and into any
/// empty directory between (one another container is making at this moment, say), top-down
/// because a child's set must lie inside its parent's.
fn fill_cpuset(top: &Path, dir: &Path) -> Result<(), CgroupError> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let mut empty = vec![dir.to_path_buf()];
        let mut value = String::new();
        let mut cur = dir.parent();
        while let Some(p) = cur.filter(|p| p.starts_with(top)) {
            value = dirs::read(&p.join(file))?.trim().to_string();
            if !value.is_empty() {
                break;
            }
            empty.push(p.to_path_buf());
            cur = p.parent();
        }
        for d in empty.iter().rev() {
            let ctl = CpuSetController::new(d.clone(), top.to_path_buf(), false);
            let set = if file == "cpuset.cpus" {
                ctl.set_cpus(&value)
            } else {
                ctl.set_mems(&value)
            };
            set.map_err(write_err(d, file, &value))?;
        }
    }
    Ok(())
}

/// One container's cgroup on v1.
#[derive(Debug)]
pub struct V1Cgroup {
    dirs: Vec<HierDir>,
    created_parents: Vec<PathBuf>,
}

impl V1Cgroup {
    fn dir_of(&self, c: Ctl) -> Result<&Path, CgroupError> {
        self.dirs
            .iter()
            .find(|d| d.controllers.contains(&c))
            .map(|d| d.path.as_path())
            .ok_or(CgroupError::NoHierarchy {
                controller: c.name(),
            })
    }
}

impl ContainerCgroup for V1Cgroup {
    fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        for d in &self.dirs {
            // Any controller writes cgroup.procs the same way; pids is just one of them.
            let ctl = PidController::new(d.path.clone(), d.path.clone(), false);
            let tgid = CgroupPid::from(pid as u64);
            ctl.add_task_by_tgid(&tgid)
                .map_err(write_err(&d.path, "cgroup.procs", pid))?;
        }
        Ok(())
    }

    fn entry(&self) -> Result<Option<super::Entry>, CgroupError> {
        let tasks = self
            .dirs
            .iter()
            .map(|d| super::open_entry(d.path.join("tasks"), nix::fcntl::OFlag::O_WRONLY))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(super::Entry::Tasks(tasks)))
    }

    fn procs(&self) -> Vec<i32> {
        dirs::procs_of(&self.paths())
    }

    fn oom_killed(&self) -> bool {
        let Ok(dir) = self.dir_of(Ctl::Memory) else {
            return false;
        };
        // `oom_kill N` is there since Linux 4.13; older kernels say nothing, hence false.
        let text = dirs::read(&dir.join("memory.oom_control")).unwrap_or_default();
        dirs::keyed_value(&text, "oom_kill").is_some_and(|n| n > 0)
    }

    fn cpu_usage_usec(&self) -> Result<u64, CgroupError> {
        let path = self.dir_of(Ctl::CpuAcct)?.join("cpuacct.usage");
        let text = dirs::read(&path)?;
        let ns: u64 = text.trim().parse().map_err(|_| CgroupError::Parse {
            path,
            reason: "not a number of nanoseconds",
        })?;
        Ok(ns / 1000)
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.path.clone()).collect()
    }

    fn destroy(&self) -> Result<(), CgroupError> {
        let paths = self.paths();
        if dirs::rmdir_all_if_empty(&paths) {
            return dirs::remove_parents(&self.created_parents);
        }
        let freezer = self.dir_of(Ctl::Freezer).ok().map(Path::to_path_buf);
        dirs::kill_all(&paths, &mut || {
            // A frozen task dies only once thawed; a thawed cgroup ignores this.
            if let Some(f) = &freezer {
                if f.exists() {
                    let _ = FreezerController::new(f.clone(), f.clone(), false).thaw();
                }
            }
        })?;
        let mut first_err = None;
        for p in &paths {
            if let Err(e) = dirs::remove_tree(p) {
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = dirs::remove_parents(&self.created_parents) {
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), Err)
    }

    fn created_parents(&self) -> Vec<PathBuf> {
        self.created_parents.clone()
    }
}
