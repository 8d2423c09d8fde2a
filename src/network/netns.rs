//! Which network namespace a container's links and ports live in. A container's veth and
//! published ports are made in the network namespace its `run` ran in, and that is where
//! `rm` and `prune` must remove them, wherever they are run from: the run records the
//! namespace (its device and inode numbers, as stat(2) of /proc/self/ns/net gives them), and
//! the release enters it when it is another one (`Place::Elsewhere`), or knows that it is
//! gone, and everything in it with it (`Place::Gone`).

use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A network namespace, told apart by its nsfs device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetNsId {
    pub dev: u64,
    pub ino: u64,
}

impl NetNsId {
    /// The calling thread's.
    pub fn current() -> Option<NetNsId> {
        NetNsId::of(Path::new("/proc/thread-self/ns/net"))
    }

    fn of(path: &Path) -> Option<NetNsId> {
        let m = std::fs::metadata(path).ok()?;
        Some(NetNsId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// Where a recorded namespace is, from here.
#[derive(Debug, PartialEq, Eq)]
pub enum Place {
    /// Ours (or nothing was recorded: a record from before namespaces were).
    Here,
    /// Another one, still there: a path that opens it (a process's, or a bind mount).
    Elsewhere(PathBuf),
    /// Another one that no process holds and no mount keeps: the kernel has removed it
    /// with its links, tables and ports.
    Gone,
}

pub fn locate(recorded: Option<NetNsId>) -> Place {
    let Some(want) = recorded else {
        return Place::Here;
    };
    if NetNsId::current() == Some(want) {
        return Place::Here;
    }
    find(want).map_or(Place::Gone, Place::Elsewhere)
}

/// A path to namespace `want`: a process in it, or an nsfs mount of it (`ip netns add`).
fn find(want: NetNsId) -> Option<PathBuf> {
    let procs = std::fs::read_dir("/proc").ok()?.flatten().filter_map(|e| {
        let name = e.file_name();
        let name = name.to_str()?;
        name.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| Path::new("/proc").join(name).join("ns/net"))
    });
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let nsfs = mounts.lines().filter_map(|l| {
        let (fields, fs) = l.split_once(" - ")?;
        let point = fields.split(' ').nth(4)?;
        fs.starts_with("nsfs ")
            .then(|| PathBuf::from(crate::mountinfo::unescape(point)))
    });
    procs
        .chain(nsfs.collect::<Vec<_>>())
        .find(|p| NetNsId::of(p) == Some(want))
}

/// Run `f` with this thread in the network namespace at `path`, then come back.
pub fn run_in<T>(path: &Path, f: impl FnOnce() -> T) -> io::Result<T> {
    let own = std::fs::File::open("/proc/thread-self/ns/net")?;
    let target = std::fs::File::open(path)?;
    nix::sched::setns(target.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(io::Error::from)?;
    let result = f();
    // Back in our own namespace, or nothing after this may run: every later link, rule or
    // socket would be made in the other one.
    if let Err(e) = nix::sched::setns(own.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET) {
        eprintln!("mdrun: return to its own network namespace: {e}");
        std::process::abort();
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_here_and_a_made_up_one_is_gone() {
        assert_eq!(locate(None), Place::Here);
        assert_eq!(locate(NetNsId::current()), Place::Here);
        let mut other = NetNsId::current().unwrap();
        other.ino = other.ino.wrapping_add(0x7fff_0000);
        assert_eq!(locate(Some(other)), Place::Gone);
        assert_eq!(
            crate::mountinfo::unescape(r"/run/netns/a\040b"),
            "/run/netns/a b"
        );
    }
}
