//! The cgroup parent of one test scenario: made before it, searched for leftovers and
//! removed after it.
//!
//! Why `<deepest own cgroup>/mdrun-test-<rand>`: mdrun's `cgroup_parent` is one path used in
//! every v1 hierarchy, but our own cgroup differs between them (on the CI machine the memory
//! hierarchy puts us at /process_api/<hash>, every other at /). We must nest what we create
//! under our own cgroup in each hierarchy (an outer memory cgroup would escape our own memory
//! accounting), so we take the deepest of our own paths, check that it lies under our own path
//! in every other hierarchy, and add a random leaf. Where our own path is shallower, the
//! levels in between are created here too and removed again when empty. A unique leaf per
//! scenario lets a scenario's leftovers (cgroups, processes) be told apart from those of the
//! scenarios running beside it.
//!
//! We create the parent ourselves, in each hierarchy with a controller, before mdrun runs: in
//! a v1 cpuset hierarchy a new cgroup starts with empty cpuset.cpus/mems and nothing can run
//! under it until they are copied from the parent, and that copying is our set-up, not the
//! behaviour under test.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::fixture::FileLock;

/// One mounted cgroup hierarchy and the cgroup this test process sits in there.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// e.g. /sys/fs/cgroup/memory
    pub mount: PathBuf,
    /// Controllers (and `name=` tags); empty for cgroup2.
    pub controllers: Vec<String>,
    /// Our own cgroup in it, e.g. /process_api/cf2d...
    pub own: String,
    pub v2: bool,
}

impl Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// A v1 hierarchy with a real controller (not just `name=systemd`).
    fn managed(&self) -> bool {
        !self.v2 && self.controllers.iter().any(|c| !c.starts_with("name="))
    }

    pub fn dir(&self, cgroup: &str) -> PathBuf {
        self.mount.join(cgroup.trim_start_matches('/'))
    }
}

/// Every cgroup hierarchy this process is in, with its mount point.
pub fn hierarchies() -> Vec<Hierarchy> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo");
    let mounts: Vec<(PathBuf, String, Vec<String>)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut right = right.split(' ');
            let fstype = right.next()?.to_string();
            let _source = right.next()?;
            let opts: Vec<String> = right.next()?.split(',').map(str::to_string).collect();
            let mount = super::mounts::unescape(left.split(' ').nth(4)?);
            (fstype == "cgroup" || fstype == "cgroup2")
                .then(|| (PathBuf::from(mount), fstype, opts))
        })
        .collect();
    let own = fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    own.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_id, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
            let controllers: Vec<String> = ctrls
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            let v2 = controllers.is_empty();
            let (mount, _, _) = mounts.iter().find(|(_, fstype, opts)| {
                if v2 {
                    fstype == "cgroup2"
                } else {
                    fstype == "cgroup" && controllers.iter().all(|c| opts.contains(c))
                }
            })?;
            Some(Hierarchy {
                mount: mount.clone(),
                controllers,
                own: path.to_string(),
                v2,
            })
        })
        .collect()
}

/// The hierarchy holding `controller` (`memory`, `cpu`, `pids`...).
pub fn hierarchy(controller: &str) -> Hierarchy {
    hierarchies()
        .into_iter()
        .find(|h| h.has(controller))
        .unwrap_or_else(|| {
            panic!("no cgroup v1 hierarchy with the {controller} controller is mounted")
        })
}

fn is_under(path: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

// Parallel scenarios share the intermediate levels: one must not remove a level another is
// about to create its leaf in. Threads of this binary take the mutex, other binaries the flock.
// The set holds the levels this process made: only those are removed again.
static LEVELS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A scenario's cgroup parent: exists in every v1 hierarchy from `create` until `remove`.
#[derive(Debug)]
pub struct CgroupParent {
    /// The value given to mdrun as `cgroup_parent`.
    pub path: String,
    hierarchies: Vec<Hierarchy>,
    /// False for a [`CgroupParent::share`]: the scenario that made the parent checks it for
    /// leftovers and removes it.
    owner: bool,
}

impl CgroupParent {
    pub fn create(leaf: &str) -> CgroupParent {
        let hierarchies = hierarchies();
        let managed: Vec<&Hierarchy> = hierarchies.iter().filter(|h| h.managed()).collect();
        assert!(
            !managed.is_empty(),
            "no cgroup v1 hierarchy is mounted: mdrun's tests need them"
        );
        let deepest = managed
            .iter()
            .map(|h| h.own.as_str())
            .max_by_key(|p| p.len())
            .unwrap();
        for h in &managed {
            assert!(
                is_under(deepest, &h.own),
                "cannot choose one cgroup_parent under our own cgroup in every hierarchy: \
                 {deepest} is not under {} in {}",
                h.own,
                h.mount.display()
            );
        }
        let path = format!("{}/{leaf}", deepest.trim_end_matches('/'));
        let mut made = LEVELS.lock().unwrap_or_else(|e| e.into_inner());
        let _flock = FileLock::exclusive("cgroup-levels");
        for h in &managed {
            let mut dir = h.dir(&h.own);
            let leaf_dir = h.dir(&path);
            let rest = path
                .strip_prefix(h.own.trim_end_matches('/'))
                .unwrap_or(&path);
            for part in rest.split('/').filter(|p| !p.is_empty()) {
                let parent = dir.clone();
                dir.push(part);
                match fs::create_dir(&dir) {
                    Ok(()) if dir != leaf_dir => {
                        made.insert(dir.clone());
                    }
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists && dir != leaf_dir => continue,
                    Err(e) => panic!("mkdir {}: {e}", dir.display()),
                }
                if h.has("cpuset") {
                    for file in ["cpuset.cpus", "cpuset.mems"] {
                        let value = fs::read_to_string(parent.join(file))
                            .unwrap_or_else(|e| panic!("read {}/{file}: {e}", parent.display()));
                        fs::write(dir.join(file), value.trim())
                            .unwrap_or_else(|e| panic!("write {}/{file}: {e}", dir.display()));
                    }
                }
            }
        }
        CgroupParent {
            path,
            hierarchies,
            owner: true,
        }
    }

    /// The same parent for a second store of the same scenario (two mdrun roots sharing one
    /// cgroup parent): it reports no leftovers and removes nothing, the owner does both.
    pub fn share(&self) -> CgroupParent {
        CgroupParent {
            path: self.path.clone(),
            hierarchies: self.hierarchies.clone(),
            owner: false,
        }
    }

    /// `<mount>/<parent>` in the hierarchy holding `controller`.
    pub fn dir(&self, controller: &str) -> PathBuf {
        let h = self
            .hierarchies
            .iter()
            .find(|h| h.has(controller))
            .unwrap_or_else(|| panic!("no hierarchy with controller {controller}"));
        h.dir(&self.path)
    }

    /// Cgroups below the parent (in any hierarchy, cgroup2 included) and processes in them.
    pub fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        if !self.owner {
            return found;
        }
        for h in &self.hierarchies {
            for dir in descendants(&h.dir(&self.path)) {
                found.push(format!("cgroup {}", dir.display()));
            }
        }
        for (pid, line) in self.processes() {
            found.push(format!("process {pid} ({}) in cgroup {line}", comm(pid)));
        }
        found
    }

    /// Processes whose cgroup, in any hierarchy, is the parent or under it.
    pub fn processes(&self) -> Vec<(i32, String)> {
        let mut found = Vec::new();
        let Ok(entries) = fs::read_dir("/proc") else {
            return found;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(cgroups) = fs::read_to_string(entry.path().join("cgroup")) else {
                continue;
            };
            if let Some(line) = cgroups.lines().find(|l| {
                l.splitn(3, ':')
                    .nth(2)
                    .is_some_and(|p| is_under(p, &self.path))
            }) {
                found.push((pid, line.to_string()));
            }
        }
        found
    }

    /// Kill what is left in it (everything in there was started by this scenario), remove
    /// every cgroup below it, then the parent and the levels above it we made.
    pub fn remove(&self) -> Result<(), String> {
        if !self.owner {
            return Ok(());
        }
        for h in self.hierarchies.iter().filter(|h| h.has("freezer")) {
            for dir in descendants(&h.dir(&self.path)) {
                let _ = fs::write(dir.join("freezer.state"), "THAWED");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let procs = self.processes();
            if procs.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("processes would not die: {procs:?}"));
            }
            for (pid, _) in procs {
                // SAFETY: kill(2) has no memory effects; the pid is in this scenario's cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut errors = Vec::new();
        let mut made = LEVELS.lock().unwrap_or_else(|e| e.into_inner());
        let _flock = FileLock::exclusive("cgroup-levels");
        for h in &self.hierarchies {
            let top = h.dir(&self.path);
            let mut dirs = descendants(&top);
            dirs.push(top);
            for dir in dirs {
                if let Err(e) = rmdir_retry(&dir) {
                    errors.push(format!("rmdir {}: {e}", dir.display()));
                }
            }
            // The levels between our own cgroup and the parent that we made, once unused.
            let mut level = self.path.as_str();
            while let Some((up, _)) = level.rsplit_once('/') {
                let dir = h.dir(up);
                if up.is_empty() || !made.contains(&dir) {
                    break;
                }
                if fs::remove_dir(&dir).is_err() {
                    break; // another scenario's parent is still in it
                }
                made.remove(&dir);
                level = up;
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Every directory below `top`, deepest first.
fn descendants(top: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(top) else {
        return out;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(descendants(&entry.path()));
            out.push(entry.path());
        }
    }
    out
}

/// rmdir of a cgroup fails with EBUSY for a moment after its last process died.
fn rmdir_retry(dir: &Path) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

pub fn comm(pid: i32) -> String {
    fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.replace('\0', " ").trim().to_string())
        .unwrap_or_else(|_| "?".into())
}
