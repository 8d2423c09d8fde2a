//! Noticing OOM kills as they happen, for containers in a systemd scope.
//!
//! With cgroupfs, mdrun removes the container's cgroup itself, after reading its OOM
//! counter. In a scope it is systemd that removes the whole delegated subtree, as soon as
//! the last process has left, and that races with the supervisor reading the counter once
//! it has reaped the init: an OOM-killed container was recorded as not OOM-killed (seen in
//! the test sandbox). So, as conmon does for podman, a thread listens for the kernel's OOM
//! events while the cgroup exists:
//! - v1: an eventfd registered on `memory.oom_control` through `cgroup.event_control`. It is
//!   signalled when the cgroup (or an ancestor) goes out of memory, and once more when the
//!   cgroup is removed (the kernel's "event going away"). A signal seen while the cgroup
//!   still exists is an OOM; two or more at once after it is gone include one.
//! - v2: inotify on `memory.events`, whose `oom_kill` count the kernel raises (and
//!   notifies) after each kill; the watch ends when the file goes away.

use crate::cgroups::Version;
use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How long the final check waits for the listener to see the cgroup's removal.
const SETTLE: Duration = Duration::from_secs(2);

pub struct OomWatch {
    version: Version,
    /// The container's memory cgroup directory.
    dir: PathBuf,
    fired: Arc<AtomicBool>,
    /// Closed (disconnected) when the listener ends.
    done: mpsc::Receiver<()>,
}

impl OomWatch {
    /// Start listening on the container's memory cgroup, found among `paths` (its
    /// directories). None when there is no memory controller or the kernel refuses: the
    /// counter read at the end is then all there is.
    pub fn start(version: Version, paths: &[PathBuf]) -> Option<OomWatch> {
        let (file, events) = match version {
            Version::V1 => ("memory.oom_control", "cgroup.event_control"),
            Version::V2 => ("memory.events", ""),
        };
        let dir = paths.iter().find(|p| p.join(file).exists())?.clone();
        let fired = Arc::new(AtomicBool::new(false));
        let (tx, done) = mpsc::channel::<()>();
        let flag = fired.clone();
        match version {
            Version::V1 => {
                let efd = register_v1(&dir.join(file), &dir.join(events))?;
                let dir2 = dir.clone();
                std::thread::Builder::new()
                    .name("oom-watch".into())
                    .spawn(move || {
                        listen_v1(efd, &dir2, &flag);
                        drop(tx);
                    })
                    .ok()?;
            }
            Version::V2 => {
                let path = dir.join(file);
                let ifd = watch_v2(&path)?;
                std::thread::Builder::new()
                    .name("oom-watch".into())
                    .spawn(move || {
                        listen_v2(ifd, &path, &flag);
                        drop(tx);
                    })
                    .ok()?;
            }
        }
        Some(OomWatch {
            version,
            dir,
            fired,
            done,
        })
    }

    /// Call once the container has ended: was anything in it OOM-killed? Reads the counter
    /// when the cgroup is still there; otherwise waits (briefly) for the listener to have
    /// seen everything up to the cgroup's removal.
    pub fn oom_killed(&self) -> bool {
        if self.fired.load(Ordering::SeqCst) {
            return true;
        }
        let (file, key) = match self.version {
            Version::V1 => ("memory.oom_control", "oom_kill"),
            Version::V2 => ("memory.events", "oom_kill"),
        };
        if let Ok(text) = fs::read_to_string(self.dir.join(file)) {
            if counter(&text, key) > 0 {
                return true;
            }
            if self.dir.exists() {
                return false;
            }
        }
        let _ = self.done.recv_timeout(SETTLE);
        self.fired.load(Ordering::SeqCst)
    }
}

fn counter(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or(0)
}

fn register_v1(oom_control: &Path, event_control: &Path) -> Option<OwnedFd> {
    let target = fs::File::open(oom_control).ok()?;
    // SAFETY: eventfd(2) takes two integers and returns a new descriptor or -1.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if raw < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let efd = unsafe { OwnedFd::from_raw_fd(raw) };
    let line = format!("{} {}", efd.as_raw_fd(), target.as_raw_fd());
    fs::write(event_control, line).ok()?;
    // The kernel holds its own reference on the target file from here on.
    Some(efd)
}

fn listen_v1(efd: OwnedFd, dir: &Path, fired: &AtomicBool) {
    let mut file = fs::File::from(efd);
    let mut buf = [0u8; 8];
    loop {
        if file.read_exact(&mut buf).is_err() {
            return;
        }
        let n = u64::from_ne_bytes(buf);
        if dir.join("cgroup.event_control").exists() {
            fired.store(true, Ordering::SeqCst);
        } else {
            // Removed: this read includes the removal's own signal.
            if n >= 2 {
                fired.store(true, Ordering::SeqCst);
            }
            return;
        }
    }
}

fn watch_v2(path: &Path) -> Option<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: inotify_init1(2) takes flags and returns a new descriptor or -1.
    let raw = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    if raw < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let ifd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: a valid descriptor and a NUL-terminated path that outlives the call.
    let wd = unsafe { libc::inotify_add_watch(ifd.as_raw_fd(), cpath.as_ptr(), libc::IN_MODIFY) };
    (wd >= 0).then_some(ifd)
}

fn listen_v2(ifd: OwnedFd, path: &Path, fired: &AtomicBool) {
    let mut file = fs::File::from(ifd);
    let mut buf = [0u8; 4096];
    loop {
        // Read first: a kill before the watch was in place is counted as well.
        match fs::read_to_string(path) {
            Ok(text) if counter(&text, "oom_kill") > 0 => {
                fired.store(true, Ordering::SeqCst);
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
        // Each event is at least 16 bytes; IN_IGNORED (mask 0x8000) means the file is gone.
        match file.read(&mut buf) {
            Ok(n) if n >= 16 => {
                let mask = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
                if mask & libc::IN_IGNORED != 0 {
                    return;
                }
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_by_key() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(counter(v1, "oom_kill"), 2);
        let v2 = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\noom_group_kill 0\n";
        assert_eq!(counter(v2, "oom_kill"), 0);
        assert_eq!(counter("", "oom_kill"), 0);
    }

    #[test]
    fn no_watch_without_a_memory_cgroup() {
        let dir = tempfile::tempdir().unwrap();
        assert!(OomWatch::start(Version::V1, &[dir.path().to_path_buf()]).is_none());
        assert!(OomWatch::start(Version::V2, &[]).is_none());
    }
}
