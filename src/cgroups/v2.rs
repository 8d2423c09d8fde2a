//! The cgroup v2 backend: one directory in the unified hierarchy, with the controllers it
//! needs enabled in every ancestor's cgroup.subtree_control.

use super::dirs::{self, write_err};
use super::limits;
use super::own;
use super::{Backend, CgroupError, ContainerCgroup, Version};
use crate::spec::Limits;
use cgroups_rs::fs::freezer::FreezerController;
use cgroups_rs::fs::hierarchies::UNIFIED_MOUNTPOINT;
use cgroups_rs::fs::Controller;
use cgroups_rs::CgroupPid;
use std::path::{Path, PathBuf};

/// Enabled when the parents allow it even if no limit asks: memory for memory.events (OOM
/// kills), pids for pids.current. Failing to enable them is not an error.
const OPTIONAL: [&str; 2] = ["memory", "pids"];

#[derive(Debug, Clone)]
pub struct V2Backend {
    root: PathBuf,
    own: Option<String>,
}

impl Default for V2Backend {
    fn default() -> Self {
        Self::new()
    }
}

impl V2Backend {
    /// The unified hierarchy at /sys/fs/cgroup, our place from /proc/self/cgroup. The mount
    /// is taken to show the whole hierarchy of our cgroup namespace, as it does on a host
    /// and in a container with its own cgroup namespace.
    pub fn new() -> Self {
        let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let entries = own::parse_proc_cgroup(&text);
        Self::with_root(
            UNIFIED_MOUNTPOINT.into(),
            own::own_v2(&entries).map(str::to_string),
        )
    }

    /// A unified hierarchy mounted at `root` (tests use a plain directory) and our own
    /// cgroup in it (`/user.slice/...`), if known.
    pub fn with_root(root: PathBuf, own: Option<String>) -> Self {
        V2Backend { root, own }
    }

    fn place(&self, parent: Option<&str>, name: &str) -> Result<PathBuf, CgroupError> {
        let path = own::container_path(self.own.as_deref(), parent, name, "unified")?;
        own::dir_under_mount(&self.root, Path::new("/"), &path)
    }
}

impl Backend for V2Backend {
    fn version(&self) -> Version {
        Version::V2
    }

    fn create(
        &self,
        parent: Option<&str>,
        name: &str,
        limits: &Limits,
    ) -> Result<Box<dyn ContainerCgroup>, CgroupError> {
        limits::validate(limits)?;
        let dir = self.place(parent, name)?;
        let mut made = dirs::make_path(&self.root, &dir, &mut |_| Ok(()))?;
        made.pop(); // the leaf itself
        let cg = V2Cgroup {
            dir,
            created_parents: made,
        };
        let required = limits::v2_required(limits);
        let applied = enable_controllers(&self.root, &cg.dir, &required)
            .and_then(|()| limits::apply_v2(&cg.dir, limits))
            .and_then(|()| restrict_devices(&cg.dir, limits));
        if let Err(e) = applied {
            // Best effort: the error that made us stop is the one to report.
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(Box::new(cg))
    }

    fn load(&self, parent: Option<&str>, name: &str) -> Box<dyn ContainerCgroup> {
        self.load_with_parents(parent, name, &[])
    }

    fn create_around(
        &self,
        parent: &str,
        name: &str,
        pid: i32,
        limits: &Limits,
    ) -> Result<Box<dyn ContainerCgroup>, CgroupError> {
        limits::validate(limits)?;
        let dir = self.place(Some(parent), name)?;
        let mut made = dirs::make_path(&self.root, &dir, &mut |_| Ok(()))?;
        made.pop(); // the leaf itself
        let cg = V2Cgroup {
            dir,
            created_parents: made,
        };
        // First empty the parent of `pid`, then hand the controllers down to the leaf.
        let required = limits::v2_required(limits);
        let applied = cg
            .add_process(pid)
            .and_then(|()| enable_controllers(&self.root, &cg.dir, &required))
            .and_then(|()| limits::apply_v2(&cg.dir, limits))
            .and_then(|()| restrict_devices(&cg.dir, limits));
        if let Err(e) = applied {
            // Best effort: the error that made us stop is the one to report.
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(Box::new(cg))
    }

    fn load_with_parents(
        &self,
        parent: Option<&str>,
        name: &str,
        created_parents: &[PathBuf],
    ) -> Box<dyn ContainerCgroup> {
        match self.place(parent, name) {
            Ok(dir) => {
                // Only ancestors of the container's directory: a corrupt state file must
                // not make us rmdir anything else.
                let created_parents = created_parents
                    .iter()
                    .filter(|p| dir.starts_with(p) && dir != **p && p.starts_with(&self.root))
                    .cloned()
                    .collect();
                Box::new(V2Cgroup {
                    dir,
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

/// The device filter goes on with the limits, before any process of the container can run
/// in the cgroup (see [`super::devices`]).
fn restrict_devices(dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
    if !limits.restrict_devices {
        return Ok(());
    }
    super::devices::restrict_v2(dir)
}

/// What to write into a cgroup.subtree_control, given its cgroup.controllers (`available`)
/// and its current content (`enabled`). Err names a required controller that is missing.
pub(crate) fn to_enable<'a>(
    available: &[String],
    enabled: &[String],
    required: &[&'a str],
) -> Result<Vec<&'a str>, &'a str> {
    let mut out = Vec::new();
    for &c in required
        .iter()
        .chain(OPTIONAL.iter().filter(|o| !required.contains(o)))
    {
        if enabled.iter().any(|e| e == c) {
            continue;
        }
        if available.iter().any(|a| a == c) {
            out.push(c);
        } else if required.contains(&c) {
            return Err(c);
        }
    }
    Ok(out)
}

/// Make the controllers `required` by the limits (and the optional ones, where allowed)
/// reach `leaf`: each must be in the subtree_control of every ancestor from the root down.
/// cgroups-rs's `create_v2_cgroup` does the same walk but drops every write error.
pub(crate) fn enable_controllers(
    root: &Path,
    leaf: &Path,
    required: &[&'static str],
) -> Result<(), CgroupError> {
    let parent = leaf.parent().unwrap_or(root);
    // The common case, one read: the parent already hands everything down.
    let enabled = dirs::read_words(&parent.join("cgroup.subtree_control"))?;
    if OPTIONAL
        .iter()
        .chain(required)
        .all(|c| enabled.iter().any(|e| e == c))
    {
        return Ok(());
    }
    let rel = parent.strip_prefix(root).unwrap_or(Path::new(""));
    let mut dir = root.to_path_buf();
    let mut levels = vec![dir.clone()];
    for comp in rel.components() {
        dir.push(comp);
        levels.push(dir.clone());
    }
    for dir in levels {
        let available = dirs::read_words(&dir.join("cgroup.controllers"))?;
        let file = dir.join("cgroup.subtree_control");
        let enabled = dirs::read_words(&file)?;
        let wanted = to_enable(&available, &enabled, required).map_err(|controller| {
            CgroupError::ControllerUnavailable {
                controller,
                path: dir.clone(),
            }
        })?;
        // A cgroup below the root that holds processes can hand no controller down: a domain
        // one is refused (EBUSY), and a threaded one (pids, cpu, cpuset) is taken, but makes
        // it a thread root, under which no new domain cgroup takes a process (EOPNOTSUPP);
        // the failed run would leave a service's or session's cgroup changed that way. So
        // nothing is written there: the error says to set cgroup_parent.
        if dir != root && !wanted.is_empty() && dirs::has_processes(&dir) {
            let controller = wanted
                .iter()
                .find(|c| required.contains(c))
                .unwrap_or(&wanted[0]);
            return Err(CgroupError::InternalProcess {
                controller,
                path: dir,
            });
        }
        for c in wanted {
            // One controller per write: a refused one must not take the others with it.
            let Err(source) = std::fs::write(&file, format!("+{c}")) else {
                continue;
            };
            match required.iter().find(|r| **r == c) {
                None => {}
                // EBUSY, or EOPNOTSUPP in a service's cgroup (a domain that holds processes).
                Some(&controller)
                    if matches!(source.raw_os_error(), Some(libc::EBUSY | libc::EOPNOTSUPP)) =>
                {
                    return Err(CgroupError::InternalProcess {
                        controller,
                        path: dir,
                    });
                }
                Some(_) => {
                    return Err(CgroupError::Write {
                        path: file,
                        value: format!("+{c}"),
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}

/// One container's cgroup on v2.
#[derive(Debug)]
pub struct V2Cgroup {
    dir: PathBuf,
    created_parents: Vec<PathBuf>,
}

impl ContainerCgroup for V2Cgroup {
    fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        // The freezer is core on v2 (cgroup.freeze), so its controller is always there.
        let ctl = FreezerController::new(self.dir.clone(), self.dir.clone(), true);
        let tgid = CgroupPid::from(pid as u64);
        ctl.add_task_by_tgid(&tgid)
            .map_err(write_err(&self.dir, "cgroup.procs", pid))
            .map_err(|e| match e {
                // What the kernel says for a child of a cgroup that holds processes itself (a
                // service's or a session's own cgroup: mdrun's, without cgroup_parent).
                CgroupError::Write { ref source, .. }
                    if source.raw_os_error() == Some(libc::EOPNOTSUPP) =>
                {
                    CgroupError::ParentHasProcesses {
                        path: self.dir.clone(),
                    }
                }
                e => e,
            })
    }

    fn entry(&self) -> Result<Option<super::Entry>, CgroupError> {
        use nix::fcntl::OFlag;
        let (path, fd) = super::open_entry(self.dir.clone(), OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
        Ok(Some(super::Entry::Dir(path, fd)))
    }

    fn procs(&self) -> Vec<i32> {
        dirs::procs_of(&self.paths())
    }

    fn oom_killed(&self) -> bool {
        // memory.events counts this cgroup and those below it; absent when the memory
        // controller could not be enabled.
        let text = dirs::read(&self.dir.join("memory.events")).unwrap_or_default();
        dirs::keyed_value(&text, "oom_kill").is_some_and(|n| n > 0)
    }

    fn cpu_usage_usec(&self) -> Result<u64, CgroupError> {
        // cpu.stat's usage_usec is core: there even without the cpu controller.
        let path = self.dir.join("cpu.stat");
        let text = dirs::read(&path)?;
        dirs::keyed_value(&text, "usage_usec").ok_or(CgroupError::Parse {
            path,
            reason: "no usage_usec line",
        })
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }

    fn destroy(&self) -> Result<(), CgroupError> {
        if dirs::rmdir_all_if_empty(&self.paths()) {
            return dirs::remove_parents(&self.created_parents);
        }
        // cgroup.kill (Linux 5.14) kills the whole subtree at once, with no pid-reuse race;
        // the loop below then only waits, or does the killing on older kernels.
        let kill = self.dir.join("cgroup.kill");
        if kill.exists() {
            if let Err(source) = std::fs::write(&kill, "1") {
                if source.raw_os_error() != Some(libc::ENOENT) {
                    return Err(CgroupError::Write {
                        path: kill,
                        value: "1".into(),
                        source,
                    });
                }
            }
        }
        dirs::kill_all(&self.paths(), &mut || {})?;
        let removed = dirs::remove_tree(&self.dir);
        let parents = dirs::remove_parents(&self.created_parents);
        removed.and(parents)
    }

    fn created_parents(&self) -> Vec<PathBuf> {
        self.created_parents.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn only_missing_available_controllers_are_enabled() {
        let avail = words("cpuset cpu io memory hugetlb pids");
        let got = to_enable(&avail, &words("memory"), &["cpu", "memory"]).unwrap();
        assert_eq!(got, ["cpu", "pids"]);
        assert_eq!(
            to_enable(&avail, &avail, &["cpu"]).unwrap(),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_required_controller_missing_upstream_is_an_error_optional_ones_are_not() {
        let avail = words("cpu io");
        assert_eq!(to_enable(&avail, &[], &["cpu"]).unwrap(), ["cpu"]);
        assert_eq!(to_enable(&avail, &[], &["cpu", "cpuset"]), Err("cpuset"));
    }

    #[test]
    fn the_busy_error_explains_the_no_internal_process_rule() {
        let e = CgroupError::InternalProcess {
            controller: "memory",
            path: "/sys/fs/cgroup/user.slice/session-1.scope".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("has processes in it"), "{msg}");
        assert!(msg.contains("cgroup_parent"), "{msg}");
    }

    /// The whole create/destroy path on a plain directory standing in for /sys/fs/cgroup:
    /// with no limits nothing but mkdir and rmdir happens, so it runs anywhere.
    #[test]
    fn create_makes_missing_parents_and_destroy_removes_only_those() {
        let root = std::env::temp_dir().join(format!("mdrun-v2-fake-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("existing")).unwrap();
        let b = V2Backend::with_root(root.clone(), Some("/".into()));
        let none = Limits::default();
        let cg = b.create(Some("/existing/a/b"), "mdrun-x", &none).unwrap();
        assert_eq!(cg.paths(), [root.join("existing/a/b/mdrun-x")]);
        assert_eq!(
            cg.created_parents(),
            [root.join("existing/a"), root.join("existing/a/b")]
        );
        assert!(root.join("existing/a/b/mdrun-x").is_dir());
        let twice = b.create(Some("/existing/a/b"), "mdrun-x", &none);
        assert!(matches!(twice, Err(CgroupError::AlreadyExists { .. })));
        cg.destroy().unwrap();
        cg.destroy().unwrap();
        assert!(!root.join("existing/a").exists());
        assert!(
            root.join("existing").is_dir(),
            "a parent that was there stays"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    /// A cgroup that holds processes (a session's scope, mdrun's own cgroup by default) is
    /// handed no controller, not even an optional one (pids would make it a thread root): an
    /// error naming the required one (else the first), before anything is written.
    #[test]
    fn a_cgroup_with_processes_is_handed_no_controller() {
        let root = std::env::temp_dir().join(format!("mdrun-v2-busy-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let busy = root.join("user.slice/s.scope");
        fs::create_dir_all(&busy).unwrap();
        for d in [&root, &root.join("user.slice"), &busy] {
            fs::write(d.join("cgroup.controllers"), "memory pids\n").unwrap();
        }
        fs::write(root.join("cgroup.subtree_control"), "memory pids\n").unwrap();
        fs::write(
            root.join("user.slice/cgroup.subtree_control"),
            "memory pids\n",
        )
        .unwrap();
        fs::write(busy.join("cgroup.subtree_control"), "").unwrap();
        fs::write(busy.join("cgroup.procs"), "4242\n").unwrap();
        let optional = enable_controllers(&root, &busy.join("c"), &[]);
        assert!(
            matches!(
                optional,
                Err(CgroupError::InternalProcess {
                    controller: "memory",
                    ..
                })
            ),
            "{optional:?}"
        );
        assert_eq!(
            fs::read_to_string(busy.join("cgroup.subtree_control")).unwrap(),
            ""
        );
        match enable_controllers(&root, &busy.join("c"), &["pids"]) {
            Err(CgroupError::InternalProcess { controller, path }) => {
                assert_eq!(controller, "pids");
                assert_eq!(path, busy);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            fs::read_to_string(busy.join("cgroup.subtree_control")).unwrap(),
            ""
        );
        // Empty, it is handed them.
        fs::write(busy.join("cgroup.procs"), "").unwrap();
        enable_controllers(&root, &busy.join("c"), &["pids"]).unwrap();
        assert_ne!(
            fs::read_to_string(busy.join("cgroup.subtree_control")).unwrap(),
            ""
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_required_controller_leaves_nothing_behind() {
        let root = std::env::temp_dir().join(format!("mdrun-v2-nocpu-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("cgroup.controllers"), "memory pids\n").unwrap();
        fs::write(root.join("cgroup.subtree_control"), "memory pids\n").unwrap();
        let b = V2Backend::with_root(root.clone(), Some("/".into()));
        let l = Limits {
            cpu_quota: Some(50_000),
            ..Limits::default()
        };
        let r = b.create(Some("/p"), "mdrun-y", &l);
        match r {
            Err(CgroupError::ControllerUnavailable { controller, path }) => {
                assert_eq!(controller, "cpu");
                assert_eq!(path, root);
            }
            other => panic!("{:?}", other.map(|c| c.paths())),
        }
        assert!(!root.join("p").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn own_cgroup_is_the_default_parent_and_load_filters_recorded_parents() {
        let b = V2Backend::with_root("/sys/fs/cgroup".into(), Some("/user.slice/s.scope".into()));
        let cg = b.load_with_parents(
            None,
            "c",
            &["/sys/fs/cgroup/user.slice".into(), "/etc".into()],
        );
        assert_eq!(
            cg.paths(),
            [PathBuf::from("/sys/fs/cgroup/user.slice/s.scope/c")]
        );
        assert_eq!(
            cg.created_parents(),
            [PathBuf::from("/sys/fs/cgroup/user.slice")]
        );
        let bad = b.load(None, "../x");
        assert!(bad.paths().is_empty());
        assert!(bad.destroy().is_ok());
    }
}
