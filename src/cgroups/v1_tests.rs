//! Root tests against the host's real v1 hierarchies. Each test nests its cgroups under a
//! parent of its own below our own cgroup (made by the backend as an intermediate parent)
//! and checks that everything is gone afterwards.

use super::v1::V1Backend;
use super::{detect, Backend, CgroupError, ContainerCgroup, Version};
use crate::spec::Limits;
use cgroups_rs::fs::hierarchies::mountinfo_self;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A backend that believes our own cgroup is `<own>/mdrun-test-<pid>-<n>` in every
/// hierarchy, plus the directories that unique parent would be in. These tests are
/// `#[ignore]`d for an unprivileged `cargo test` (which reports them as ignored, not
/// passed); `tests/run` runs them as root, where anything missing is a failure.
fn backend() -> (V1Backend, Vec<PathBuf>) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the cgroup v1 tests need root (bash tests/run)"
    );
    assert_eq!(
        detect(),
        Version::V1,
        "the cgroup v1 tests need a cgroup v1 or hybrid host"
    );
    static N: AtomicU32 = AtomicU32::new(0);
    let tag = format!(
        "mdrun-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let real = fs::read_to_string("/proc/self/cgroup").unwrap();
    let fake: String = real
        .lines()
        .map(|l| format!("{}/{tag}\n", l.trim_end_matches('/')))
        .collect();
    let mounts = mountinfo_self();
    let b = V1Backend::from_parts(&mounts, &fake);
    let parents = b
        .load(None, "x")
        .paths()
        .iter()
        .map(|p| p.parent().unwrap().into())
        .collect();
    (b, parents)
}

fn read(p: PathBuf) -> String {
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .into()
}

fn dir_of(cg: &dyn ContainerCgroup, hierarchy: &str) -> PathBuf {
    let root = PathBuf::from("/sys/fs/cgroup").join(hierarchy);
    cg.paths()
        .into_iter()
        .find(|p| p.starts_with(&root))
        .expect(hierarchy)
}

fn assert_gone(cg: &dyn ContainerCgroup, parents: &[PathBuf]) {
    for p in cg.paths().iter().chain(parents) {
        assert!(!p.exists(), "{} is still there", p.display());
    }
}

fn sleeper() -> Child {
    Command::new("sleep").arg("30").spawn().unwrap()
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn memory_100m_lands_in_limit_in_bytes_with_docker_swap_default() {
    let (b, parents) = backend();
    let l = Limits {
        memory: Some(100 << 20),
        ..Limits::default()
    };
    let cg = b.create(None, "mdrun-mem", &l).unwrap();
    let dir = dir_of(&*cg, "memory");
    assert_eq!(read(dir.join("memory.limit_in_bytes")), "104857600");
    if dir.join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(read(dir.join("memory.memsw.limit_in_bytes")), "209715200");
    }
    assert!(!cg.oom_killed());
    cg.destroy().unwrap();
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn pids_cpu_and_cpuset_limits_land_in_their_files() {
    let (b, parents) = backend();
    let l = Limits {
        pids_limit: Some(20),
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        cpu_shares: Some(512),
        cpuset_cpus: Some("0".into()),
        ..Limits::default()
    };
    let cg = b.create(None, "mdrun-cpu", &l).unwrap();
    assert_eq!(read(dir_of(&*cg, "pids").join("pids.max")), "20");
    let cpu = dir_of(&*cg, "cpu");
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(cpu.join("cpu.shares")), "512");
    let cpuset = dir_of(&*cg, "cpuset");
    assert_eq!(read(cpuset.join("cpuset.cpus")), "0");
    assert!(
        !read(cpuset.join("cpuset.mems")).is_empty(),
        "mems copied from the parent"
    );
    cg.destroy().unwrap();
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn a_child_added_shows_in_procs_and_destroy_kills_it() {
    let (b, parents) = backend();
    // A cpuset of its own, so that attaching proves the copied cpus/mems (ENOSPC otherwise).
    let cg = b.create(None, "mdrun-procs", &Limits::default()).unwrap();
    let mut child = sleeper();
    let pid = child.id() as i32;
    cg.add_process(pid).unwrap();
    assert_eq!(cg.procs(), [pid]);
    for p in cg.paths() {
        assert_eq!(
            read(p.join("cgroup.procs")),
            pid.to_string(),
            "{}",
            p.display()
        );
    }
    cg.destroy().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn cpu_usage_grows_while_a_child_spins() {
    let (b, parents) = backend();
    // A CPU limit, so that the container joins the cpuacct hierarchy (see v1::needed).
    let shares = Limits {
        cpu_shares: Some(1024),
        ..Limits::default()
    };
    let cg = b.create(None, "mdrun-usage", &shares).unwrap();
    assert_eq!(cg.cpu_usage_usec().unwrap(), 0);
    let mut child = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    cg.add_process(child.id() as i32).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let used = cg.cpu_usage_usec().unwrap();
    cg.destroy().unwrap();
    child.wait().unwrap();
    assert!(used > 10_000, "only {used} us after 300 ms of spinning");
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn oom_kill_is_reported() {
    let (b, parents) = backend();
    let l = Limits {
        memory: Some(20 << 20),
        ..Limits::default()
    };
    let cg = b.create(None, "mdrun-oom", &l).unwrap();
    // The sleep lets us move the shell in before it forks the pipeline, which inherits the
    // cgroup; tail then holds the newline-free 200 MiB line in memory.
    let script = "sleep 0.3; head -c 200m /dev/zero | tail -n 1 >/dev/null";
    let mut child = Command::new("sh")
        .args(["-c", script])
        .stderr(std::process::Stdio::null()) // sh's "Killed"
        .spawn()
        .unwrap();
    cg.add_process(child.id() as i32).unwrap();
    child.wait().unwrap();
    let killed = cg.oom_killed();
    cg.destroy().unwrap();
    assert!(killed, "tail was not OOM-killed under a 20m limit");
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn a_cpuset_the_host_lacks_fails_and_leaves_nothing() {
    let (b, parents) = backend();
    // Past the host's CPUs: the kernel says ERANGE for a CPU beyond nr_cpu_ids (this 2-CPU
    // host, "5") and EINVAL for one that exists but is not in the parent's set.
    let cpus = std::thread::available_parallelism().map_or(64, |n| n.get() + 3);
    let l = Limits {
        cpuset_cpus: Some(cpus.to_string()),
        ..Limits::default()
    };
    let r = b.create(None, "mdrun-badcpu", &l);
    match r {
        Err(CgroupError::Write { path, source, .. }) => {
            assert!(path.ends_with("cpuset.cpus"), "{}", path.display());
            let errno = source.raw_os_error().unwrap_or(0);
            assert!([libc::EINVAL, libc::ERANGE].contains(&errno), "{source}");
        }
        other => panic!(
            "expected the kernel to refuse cpuset.cpus, got {:?}",
            other.map(|c| c.paths())
        ),
    }
    assert_gone(&*b.load(None, "mdrun-badcpu"), &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn destroying_twice_or_after_partial_removal_is_ok() {
    let (b, parents) = backend();
    // Limits that make it join every hierarchy (see v1::needed).
    let every = Limits {
        cpu_shares: Some(1024),
        cpuset_cpus: Some("0".into()),
        ..Limits::default()
    };
    let cg = b.create(None, "mdrun-twice", &every).unwrap();
    // Half-destroyed by someone else: one hierarchy's directory already gone.
    fs::remove_dir(dir_of(&*cg, "pids")).unwrap();
    cg.destroy().unwrap();
    cg.destroy().unwrap();
    assert_gone(&*cg, &parents);
    // A later command's handle, with the parents recorded at create time.
    let cg = b.create(None, "mdrun-twice", &every).unwrap();
    let recorded = cg.created_parents();
    assert_eq!(recorded.len(), parents.len());
    let later = b.load_with_parents(None, "mdrun-twice", &recorded);
    later.destroy().unwrap();
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn an_existing_cgroup_is_refused_and_kept() {
    let (b, parents) = backend();
    let cg = b.create(None, "mdrun-dup", &Limits::default()).unwrap();
    let again = b.create(None, "mdrun-dup", &Limits::default());
    assert!(matches!(again, Err(CgroupError::AlreadyExists { .. })));
    for p in cg.paths() {
        assert!(p.is_dir(), "the first one's {} must survive", p.display());
    }
    cg.destroy().unwrap();
    assert_gone(&*cg, &parents);
}

#[test]
#[ignore = "needs root on a cgroup v1 host: bash tests/run runs it"]
fn an_entry_lets_a_new_process_move_itself_into_every_hierarchy() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let (b, parents) = backend();
    let cg = b.create(None, "mdrun-entry", &Limits::default()).unwrap();
    let Some(super::Entry::Tasks(tasks)) = cg.entry().unwrap() else {
        panic!("v1 gives the tasks files");
    };
    assert_eq!(tasks.len(), cg.paths().len());
    let fds: Vec<i32> = tasks.iter().map(|(_, fd)| fd.as_raw_fd()).collect();
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    // SAFETY: between fork and exec only write(2) on descriptors we own is called.
    unsafe {
        cmd.pre_exec(move || {
            for fd in &fds {
                if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(tasks);
    let pid = child.id() as i32;
    for p in cg.paths() {
        assert_eq!(
            read(p.join("cgroup.procs")),
            pid.to_string(),
            "{}",
            p.display()
        );
    }
    cg.destroy().unwrap();
    child.wait().unwrap();
    assert_gone(&*cg, &parents);
}
