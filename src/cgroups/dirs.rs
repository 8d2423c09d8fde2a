//! Directory work on cgroup file systems, shared by both backends: make a cgroup path while
//! remembering which directories were new, kill what is inside, remove a tree depth-first.

use super::CgroupError;
use std::fmt::Display;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How often mkdir may find a parent gone (another container removing its last child's
/// parent at the same moment) before we give up.
const MKDIR_ATTEMPTS: usize = 8;
/// How long `kill_all` keeps sending SIGKILL before it reports what is left.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

fn io_err(step: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CgroupError {
    let path = path.to_path_buf();
    move |source| CgroupError::Io { step, path, source }
}

/// mkdir `leaf` and every missing directory between `top` (which must exist) and it.
/// Returns the directories made, parents first and `leaf` last. `on_new` runs on each new
/// directory right after its mkdir (v1 cpuset fills in cpus and mems there).
/// On error, whatever was made is removed again.
pub(crate) fn make_path(
    top: &Path,
    leaf: &Path,
    on_new: &mut dyn FnMut(&Path) -> Result<(), CgroupError>,
) -> Result<Vec<PathBuf>, CgroupError> {
    let mut made = Vec::new();
    match make_path_inner(top, leaf, on_new, &mut made) {
        Ok(()) => Ok(made),
        Err(e) => {
            // Best effort: the mkdir error is the one worth reporting.
            for dir in made.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            Err(e)
        }
    }
}

fn make_path_inner(
    top: &Path,
    leaf: &Path,
    on_new: &mut dyn FnMut(&Path) -> Result<(), CgroupError>,
    made: &mut Vec<PathBuf>,
) -> Result<(), CgroupError> {
    let rel = leaf
        .strip_prefix(top)
        .map_err(|_| CgroupError::OutsideMount {
            path: leaf.display().to_string(),
            mount: top.to_path_buf(),
            root: top.to_path_buf(),
        })?;
    let mut last = None;
    for _ in 0..MKDIR_ATTEMPTS {
        // The leaf first: its parents usually exist, so this is the one syscall of the
        // common case.
        match fs::create_dir(leaf) {
            Ok(()) => {
                made.push(leaf.to_path_buf());
                return on_new(leaf);
            }
            Err(e) if errno(&e) == libc::EEXIST => {
                return Err(CgroupError::AlreadyExists {
                    path: leaf.to_path_buf(),
                })
            }
            Err(e) if errno(&e) == libc::ENOENT => last = Some(e),
            Err(e) => return Err(io_err("mkdir", leaf)(e)),
        }
        let mut dir = top.to_path_buf();
        let parents = rel
            .parent()
            .map(|p| p.components().collect::<Vec<_>>())
            .unwrap_or_default();
        for comp in parents {
            dir.push(comp);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    made.push(dir.clone());
                    on_new(&dir)?;
                }
                Err(e) if errno(&e) == libc::EEXIST => {}
                // Someone removed a parent above us just now: start again from the leaf.
                Err(e) if errno(&e) == libc::ENOENT => break,
                Err(e) => return Err(io_err("mkdir", &dir)(e)),
            }
        }
    }
    Err(io_err("mkdir", leaf)(last.unwrap_or_else(|| {
        io::Error::from_raw_os_error(libc::ENOENT)
    })))
}

/// rmdir `dir` and every cgroup below it, deepest first. A directory already gone is fine,
/// which makes this idempotent.
pub(crate) fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if errno(&e) == libc::ENOENT => return Ok(()),
        Err(e) => return Err(io_err("read directory", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err("read directory", dir))?;
        // cgroupfs fills in d_type, so this costs no stat.
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            remove_tree(&entry.path())?;
        }
    }
    rmdir_retrying(dir)
}

/// The common case at a container's end, in one rmdir per directory: every one of `dirs`
/// empty, with no cgroup below it. True when all are gone (or were); false as soon as one
/// is not (processes or child cgroups still in it: EBUSY, ENOTEMPTY), for the caller to
/// kill and remove the slow way. Skips a read of cgroup.procs and a directory listing per
/// hierarchy (7 on v1) on every `run --rm`.
pub(crate) fn rmdir_all_if_empty(dirs: &[PathBuf]) -> bool {
    dirs.iter().all(|d| match fs::remove_dir(d) {
        Ok(()) => true,
        Err(e) => errno(&e) == libc::ENOENT,
    })
}

/// rmdir, retried for a short while on EBUSY: the kernel may still be tearing down the last
/// exited task's css_set (runc retries the same way, libcontainer/cgroups/utils.go).
fn rmdir_retrying(dir: &Path) -> Result<(), CgroupError> {
    let mut delay = Duration::from_millis(10);
    for attempt in 0.. {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if errno(&e) == libc::ENOENT => return Ok(()),
            Err(e) if errno(&e) == libc::EBUSY && attempt < 4 => {
                sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(io_err("rmdir", dir)(e)),
        }
    }
    unreachable!("the loop returns")
}

/// rmdir the parent directories `create` made, deepest first, if they are empty now. One
/// still in use by another container (ENOTEMPTY, EBUSY) or already gone stays as it is.
pub(crate) fn remove_parents(parents: &[PathBuf]) -> Result<(), CgroupError> {
    let mut sorted: Vec<&PathBuf> = parents.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    let mut first_err = None;
    for dir in sorted {
        match fs::remove_dir(dir) {
            Ok(()) => {}
            Err(e) if [libc::ENOENT, libc::ENOTEMPTY, libc::EBUSY].contains(&errno(&e)) => {}
            Err(e) => {
                first_err.get_or_insert(io_err("rmdir", dir)(e));
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// The pids in `dir`/cgroup.procs and in every cgroup below it. Gone directories count as
/// empty. Pids the reader's pid namespace cannot see read as 0 and are left out.
pub(crate) fn procs_tree(dir: &Path, out: &mut Vec<i32>) {
    if let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(
            text.lines()
                .filter_map(|l| l.trim().parse::<i32>().ok())
                .filter(|p| *p > 0),
        );
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                procs_tree(&entry.path(), out);
            }
        }
    }
}

pub(crate) fn procs_of(dirs: &[PathBuf]) -> Vec<i32> {
    let mut pids = Vec::new();
    for dir in dirs {
        procs_tree(dir, &mut pids);
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// SIGKILL every process in `dirs` (and below) until none is left, for at most 5 s.
/// `after_first_round` runs once after the first signals went out (v1 thaws the freezer
/// there: a frozen task does not die until it is thawed).
///
/// A pid read from cgroup.procs could exit and be reused before the kill; runc took the same
/// risk before cgroup.kill. v2 uses cgroup.kill first, so this loop only mops up there.
pub(crate) fn kill_all(
    dirs: &[PathBuf],
    after_first_round: &mut dyn FnMut(),
) -> Result<(), CgroupError> {
    let start = Instant::now();
    let mut round = 0;
    loop {
        let pids = procs_of(dirs);
        if pids.is_empty() {
            return Ok(());
        }
        if start.elapsed() > KILL_TIMEOUT {
            return Err(CgroupError::KillTimeout {
                path: dirs.first().cloned().unwrap_or_default(),
                pids,
                secs: KILL_TIMEOUT.as_secs(),
            });
        }
        for &pid in &pids {
            let target = nix::unistd::Pid::from_raw(pid);
            match nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(source) => return Err(CgroupError::Kill { pid, source }),
            }
        }
        if round == 0 {
            after_first_round();
        }
        round += 1;
        sleep(Duration::from_millis(if round < 10 { 2 } else { 20 }));
    }
}

/// Read a whole control file.
pub(crate) fn read(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(io_err("read", path))
}

/// The words of a space-separated list file (cgroup.controllers, cgroup.subtree_control);
/// a missing file is an empty list.
pub(crate) fn read_words(path: &Path) -> Result<Vec<String>, CgroupError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text.split_whitespace().map(str::to_string).collect()),
        Err(e) if errno(&e) == libc::ENOENT => Ok(Vec::new()),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

/// Does the cgroup `dir` itself hold a process (its cgroup.procs is not empty)?
pub(crate) fn has_processes(dir: &Path) -> bool {
    fs::read_to_string(dir.join("cgroup.procs")).is_ok_and(|t| !t.trim().is_empty())
}

/// The value of `key` in a flat keyed file (`oom_kill 3`, `usage_usec 1234`).
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(key))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

/// Turn a cgroups-rs error from writing `value` into `dir`/`file` into one that names the
/// whole path and carries the kernel's errno ("Invalid argument"), which cgroups-rs keeps
/// only as a `Debug`-printed cause.
pub(crate) fn write_err(
    dir: &Path,
    file: &str,
    value: impl Display,
) -> impl FnOnce(cgroups_rs::fs::error::Error) -> CgroupError {
    let path = dir.join(file);
    let value = value.to_string();
    move |e| {
        let cause = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
        let source = match cause {
            Some(io) => match io.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(io.kind(), io.to_string()),
            },
            None => io::Error::other(e.to_string()),
        };
        CgroupError::Write {
            path,
            value,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mdrun-dirs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn make_path_reports_new_parents_and_refuses_an_existing_leaf() {
        let top = scratch("mk");
        fs::create_dir(top.join("a")).unwrap();
        let leaf = top.join("a/b/c/leaf");
        let mut seen = Vec::new();
        let made = make_path(&top, &leaf, &mut |d| {
            seen.push(d.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert_eq!(made, vec![top.join("a/b"), top.join("a/b/c"), leaf.clone()]);
        assert_eq!(seen, made);
        let again = make_path(&top, &leaf, &mut |_| Ok(()));
        assert!(matches!(again, Err(CgroupError::AlreadyExists { .. })));
        remove_tree(&leaf).unwrap();
        remove_parents(&made[..2]).unwrap();
        assert!(!top.join("a/b").exists());
        assert!(top.join("a").exists(), "a existed before and stays");
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn make_path_undoes_itself_when_the_hook_fails() {
        let top = scratch("undo");
        let leaf = top.join("x/y");
        let r = make_path(&top, &leaf, &mut |d| {
            if d.ends_with("y") {
                Err(CgroupError::InvalidLimits { reason: "test" })
            } else {
                Ok(())
            }
        });
        assert!(matches!(r, Err(CgroupError::InvalidLimits { .. })));
        assert!(!top.join("x").exists());
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn remove_parents_keeps_one_still_in_use() {
        let top = scratch("busy");
        fs::create_dir_all(top.join("p/other")).unwrap();
        remove_parents(&[top.join("p")]).unwrap();
        assert!(top.join("p/other").exists());
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn remove_tree_twice_is_fine() {
        let top = scratch("twice");
        fs::create_dir_all(top.join("c/child/grandchild")).unwrap();
        remove_tree(&top.join("c")).unwrap();
        remove_tree(&top.join("c")).unwrap();
        assert!(!top.join("c").exists());
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn keyed_values_come_from_their_own_line() {
        let oom = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed_value(oom, "oom_kill"), Some(3));
        assert_eq!(
            keyed_value("oom_kill_disable 1\nunder_oom 0\n", "oom_kill"),
            None
        );
        let stat = "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n";
        assert_eq!(keyed_value(stat, "usage_usec"), Some(1234));
    }

    #[test]
    fn write_errors_name_the_file_and_keep_the_errno() {
        let ctl = cgroups_rs::fs::pid::PidController::new(
            PathBuf::from("/nonexistent-mdrun"),
            PathBuf::from("/"),
            false,
        );
        let dir = Path::new("/nonexistent-mdrun");
        let e = ctl
            .set_pid_max(cgroups_rs::fs::MaxValue::Value(5))
            .map_err(write_err(dir, "pids.max", 5))
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("write \"5\" to /nonexistent-mdrun/pids.max: "),
            "{msg}"
        );
        assert!(matches!(e, CgroupError::Write { ref source, .. }
            if source.raw_os_error() == Some(libc::ENOENT)));
    }
}
