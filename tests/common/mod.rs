//! The harness of mdrun's integration tests: one [`TestEnv`] per scenario.
//!
//! A `TestEnv` is a private mdrun installation: a fresh directory on a real filesystem with
//! its own `root` and `run_root`, its own `MDRUN_CONFIG` file and its own cgroup parent, and
//! the busybox image imported. When the scenario ends (even by panic) it checks that mdrun
//! left nothing behind (mounts, cgroups, processes, container records, runtime state,
//! half-finished imports), cleans up whatever it finds, and fails the test naming each leak.
//!
//! These tests need root and the real kernel; run them with `bash tests/run`.
#![allow(dead_code, unused_imports)] // each test binary uses its own part of the harness

pub mod cgroup;
pub mod files;
pub mod fixture;
pub mod forward_proxy;
pub mod mounts;
pub mod oci_layout;
pub mod process;
pub mod registry;
pub mod stop_point;
pub mod tarball;

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use cgroup::CgroupParent;
pub use fixture::{busybox_tarball, heavy_lock};
pub use process::{Cmd, Out, Running};

pub const MDRUN: &str = env!("CARGO_BIN_EXE_mdrun");

/// Panics unless we are root: these tests make namespaces, mounts and cgroups, and a test
/// suite that quietly skips them proves nothing.
pub fn require_root() {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "mdrun's integration tests must run as root (try: sudo bash tests/run)"
    );
}

fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

/// Where scenarios make their directories: overlayfs cannot have its upperdir on another
/// overlay, so pick the first of these that is not one.
fn scratch_base() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("MDRUN_TEST_DIR") {
        candidates.push(dir.into());
    }
    candidates.extend([PathBuf::from("/var/tmp"), PathBuf::from("/tmp")]);
    candidates
        .into_iter()
        .find(|dir| dir.is_dir() && !mounts::is_overlayfs(dir))
        .expect("no scratch directory outside overlayfs (tried $MDRUN_TEST_DIR, /var/tmp, /tmp)")
}

pub struct TestEnv {
    /// Everything of this scenario lives under here (and is removed afterwards).
    pub dir: PathBuf,
    pub root: PathBuf,
    pub run_root: PathBuf,
    /// The MDRUN_CONFIG file.
    pub config: PathBuf,
    pub cgroup: CgroupParent,
    keep_containers: Cell<bool>,
    /// Run mdrun in the network namespace of this process (tests/network: a throwaway
    /// namespace playing the host), never in the machine's own.
    netns: Cell<Option<i32>>,
}

impl TestEnv {
    /// A scenario with the busybox image imported as `busybox`.
    pub fn new() -> TestEnv {
        let env = TestEnv::bare();
        env.import_busybox();
        env
    }

    /// A second store (its own root, run_root and config, busybox imported) that shares
    /// `other`'s cgroup parent, as two mdrun installations on one host share the default
    /// parent. `other` checks the parent for leftovers; declare this one after it (it is
    /// dropped first).
    pub fn sharing_cgroup_parent(other: &TestEnv) -> TestEnv {
        let env = TestEnv::bare_in(|| other.cgroup.share());
        env.import_busybox();
        env
    }

    fn import_busybox(&self) {
        let tarball = busybox_tarball();
        let out = self.mdrun(&["import", tarball.to_str().unwrap(), "busybox"]);
        assert_eq!(out.code, 0, "importing the busybox fixture failed:\n{out}");
    }

    /// A scenario with no image.
    pub fn bare() -> TestEnv {
        TestEnv::bare_in(|| CgroupParent::create(&format!("mdrun-test-{}", random_hex(10))))
    }

    /// The scenario's directory, then its cgroup parent from `cgroup`.
    fn bare_in(cgroup: impl FnOnce() -> CgroupParent) -> TestEnv {
        require_root();
        let dir = scratch_base().join(format!("mdrun-it-{}", random_hex(10)));
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let root = dir.join("root");
        let run_root = dir.join("run");
        let config = dir.join("mdrun.toml");
        let cgroup = cgroup();
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let text = format!(
            "root = {}\nrun_root = {}\ncgroup_parent = {}\n",
            quote(root.to_str().unwrap()),
            quote(run_root.to_str().unwrap()),
            quote(&cgroup.path),
        );
        fs::write(&config, text).unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
        TestEnv {
            dir,
            root,
            run_root,
            config,
            cgroup,
            keep_containers: Cell::new(false),
            netns: Cell::new(None),
        }
    }

    /// `mdrun ARGS` with this scenario's config, run from `self.dir`, stdin /dev/null.
    pub fn cmd<S: AsRef<str>>(&self, args: &[S]) -> Cmd {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        let cmd = match self.netns.get() {
            // nsenter execs mdrun (no fork for a network namespace): the pid stays mdrun's.
            Some(pid) => Cmd::new("nsenter", &self.dir).args(&[
                "-t".to_string(),
                pid.to_string(),
                "-n".to_string(),
                "--".to_string(),
                MDRUN.to_string(),
            ]),
            None => Cmd::new(MDRUN, &self.dir),
        };
        cmd.args(&args).env("MDRUN_CONFIG", &self.config)
    }

    /// From now on run mdrun in the network namespace of process `pid`.
    pub fn enter_netns(&self, pid: i32) {
        self.netns.set(Some(pid));
    }

    pub fn mdrun<S: AsRef<str>>(&self, args: &[S]) -> Out {
        self.cmd(args).run()
    }

    pub fn mdrun_stdin<S: AsRef<str>>(&self, args: &[S], input: &str) -> Out {
        self.cmd(args).stdin(input.as_bytes()).run()
    }

    /// `mdrun run --rm ARGS`.
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Out {
        self.cmd(&with_rm(args)).run()
    }

    /// `mdrun run --rm ARGS`, started and not waited for.
    pub fn spawn<S: AsRef<str>>(&self, args: &[S]) -> Running {
        self.cmd(&with_rm(args)).spawn()
    }

    /// A path inside this scenario's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Container records: the directories in `<root>/containers`, sorted (mdrun's own
    /// dot files there, such as its lock, are not records).
    pub fn containers(&self) -> Vec<String> {
        let dir = self.root.join("containers");
        files::names(&dir)
            .into_iter()
            .filter(|n| !n.starts_with('.') && dir.join(n).is_dir())
            .collect()
    }

    /// This scenario ran containers without `--rm`: their records are expected to remain.
    pub fn keep_containers(&self) {
        self.keep_containers.set(true);
    }

    /// The only container record; panics unless there is exactly one.
    pub fn only_container(&self) -> String {
        let containers = self.containers();
        assert_eq!(
            containers.len(),
            1,
            "expected one container in {}",
            self.root.display()
        );
        containers.into_iter().next().unwrap()
    }

    /// `<mount>/<cgroup_parent>` in the hierarchy of `controller`.
    pub fn cgroup_dir(&self, controller: &str) -> PathBuf {
        self.cgroup.dir(controller)
    }

    /// The running container's cgroup in the hierarchy of `controller`: waits until exactly
    /// one `mdrun-*` cgroup with a process in it exists under the parent.
    pub fn container_cgroup(&self, controller: &str) -> PathBuf {
        let parent = self.cgroup_dir(controller);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found: Vec<PathBuf> = files::names(&parent)
                .into_iter()
                .filter(|n| n.starts_with("mdrun-"))
                .map(|n| parent.join(n))
                .collect();
            if let [one] = found.as_slice() {
                let procs = fs::read_to_string(one.join("cgroup.procs")).unwrap_or_default();
                if !procs.trim().is_empty() {
                    return one.clone();
                }
            }
            assert!(
                found.len() <= 1,
                "more than one container cgroup under {}: {found:?}",
                parent.display()
            );
            assert!(
                Instant::now() < deadline,
                "no container cgroup with a process appeared under {} within 15 s",
                parent.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The host pid of the running container's process whose command line starts with
    /// `cmdline` (words joined by spaces); waits for it, as the container's init only becomes
    /// the command when it execs it.
    pub fn container_process(&self, cmdline: &str) -> i32 {
        let cgroup = self.container_cgroup("pids");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let procs = fs::read_to_string(cgroup.join("cgroup.procs")).unwrap_or_default();
            let found = procs
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .find(|pid| cgroup::comm(*pid).starts_with(cmdline));
            if let Some(pid) = found {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no `{cmdline}` among the container's processes {procs:?} within 15 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything left behind right now; `containers` says whether container records count.
    pub fn leftovers(&self, containers: bool) -> Vec<String> {
        let mut found = Vec::new();
        for m in mounts::mounts_under(&self.dir) {
            found.push(format!(
                "mount {} ({} from {})",
                m.mount_point.display(),
                m.fstype,
                m.source
            ));
        }
        found.extend(self.cgroup.leftovers());
        if containers {
            for c in self.containers() {
                found.push(format!(
                    "container record {}",
                    self.root.join("containers").join(c).display()
                ));
            }
        }
        // Runtime state: a directory per container while it runs (`<run_root>/<id>`).
        for name in files::names(&self.run_root) {
            if self.run_root.join(&name).is_dir() {
                found.push(format!(
                    "runtime state {}",
                    self.run_root.join(name).display()
                ));
            }
        }
        // Address leases (`<root>/networks/NAME.leases`, a line a container).
        for name in files::names(&self.root.join("networks")) {
            let path = self.root.join("networks").join(&name);
            if name.ends_with(".leases") && fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                let text = fs::read_to_string(&path).unwrap_or_default();
                found.push(format!("address lease in {}: {text}", path.display()));
            }
        }
        for name in files::names(&self.root.join("tmp")) {
            found.push(format!(
                "scratch {}",
                self.root.join("tmp").join(name).display()
            ));
        }
        found.extend(
            self.unused_layers()
                .iter()
                .map(|l| format!("unused layer {l}")),
        );
        found
    }

    /// Layers in the store that no image and no container record names (a commit of a
    /// stopped container moves its write layer into the store; `rm` deletes it again).
    pub fn unused_layers(&self) -> Vec<String> {
        let mut used = std::collections::HashSet::new();
        let mut add = |path: std::path::PathBuf| {
            let Ok(bytes) = std::fs::read(&path) else {
                return;
            };
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            for l in json["layers"].as_array().into_iter().flatten() {
                used.insert(l.as_str().unwrap_or_default().to_string());
            }
        };
        for name in files::names(&self.root.join("images")) {
            if name.ends_with(".json") {
                add(self.root.join("images").join(name));
            }
        }
        // `.removing-<id>`: a container half-removed, whose layers nothing uses.
        for name in files::names(&self.root.join("containers")) {
            if name.starts_with('.') {
                continue;
            }
            add(self
                .root
                .join("containers")
                .join(name)
                .join("container.json"));
        }
        files::names(&self.root.join("layers"))
            .into_iter()
            .filter(|l| !used.contains(l))
            .collect()
    }

    /// Panics, naming each leak, unless nothing is left of any container: no mount under
    /// this scenario's directory, no cgroup or process under its cgroup parent, no container
    /// record (unless `keep_containers`), no runtime state, nothing in `<root>/tmp`.
    #[track_caller]
    pub fn assert_clean(&self) {
        let found = self.leftovers(!self.keep_containers.get());
        assert!(
            found.is_empty(),
            "mdrun left behind:\n  {}",
            listing(&found)
        );
    }
}

/// Items one per line, at most 20 of them (a thousand leaked records would bury the rest).
fn listing(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n  ");
    if items.len() > SHOWN {
        text += &format!("\n  ... and {} more", items.len() - SHOWN);
    }
    text
}

fn with_rm<S: AsRef<str>>(args: &[S]) -> Vec<String> {
    let mut all = vec!["run".to_string(), "--rm".to_string()];
    all.extend(args.iter().map(|a| a.as_ref().to_string()));
    all
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let found = self.leftovers(!self.keep_containers.get());
        let mut cleanup_errors = Vec::new();
        if let Err(e) = self.cgroup.remove() {
            cleanup_errors.push(e);
        }
        for m in mounts::mounts_under(&self.dir) {
            if let Err(e) = mounts::detach(&m.mount_point) {
                cleanup_errors.push(format!("umount {}: {e}", m.mount_point.display()));
            }
        }
        let keep = std::env::var_os("MDRUN_TEST_KEEP").is_some();
        if !keep && cleanup_errors.is_empty() {
            if let Err(e) = fs::remove_dir_all(&self.dir) {
                cleanup_errors.push(format!("rm -r {}: {e}", self.dir.display()));
            }
        }
        if found.is_empty() && cleanup_errors.is_empty() {
            return;
        }
        let mut msg = String::new();
        if !found.is_empty() {
            msg += &format!("mdrun left behind:\n  {}\n", listing(&found));
        }
        if !cleanup_errors.is_empty() {
            msg += &format!(
                "the harness could not clean up:\n  {}\n",
                listing(&cleanup_errors)
            );
        }
        if std::thread::panicking() {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}

/// Asserts `path` does not exist (not even as a dangling symlink).
#[track_caller]
pub fn assert_absent(path: &Path) {
    assert!(
        fs::symlink_metadata(path).is_err(),
        "{} exists but must not",
        path.display()
    );
}
