//! clone(2) with fork semantics into new namespaces.

use super::{sys, LaunchError};
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The namespaces every container gets at clone time. The cgroup namespace is entered later,
/// by the init, once it is in its cgroup: a cgroup namespace's root is
/// the cgroup its creator is in at that moment.
const FLAGS: libc::c_ulong = (libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET) as libc::c_ulong;

/// `clone_args` of clone3(2), up to `cgroup` (Linux 5.7). Also mdrun-oci's, for the init it
/// clones in a joined user namespace (`oci::userns`).
#[repr(C)]
#[derive(Default)]
pub(crate) struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// FLAGS, without a new network namespace for `--network host` and `container:`.
fn flags(new_net: bool) -> libc::c_ulong {
    if new_net {
        FLAGS
    } else {
        FLAGS & !(libc::CLONE_NEWNET as libc::c_ulong)
    }
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Like [`clone_namespaces`], with the child born in the cgroup v2 directory `cgroup`
/// (clone3 with CLONE_INTO_CGROUP), so that nobody has to migrate it. `Ok(None)` from the
/// outer option: this kernel has no clone3 or no CLONE_INTO_CGROUP (before 5.7). On `Ok(None)`
/// and on an error nothing was cloned.
pub fn clone_namespaces_into(
    cgroup: BorrowedFd,
    new_net: bool,
) -> Result<Option<Option<Pid>>, LaunchError> {
    let args = CloneArgs {
        #[allow(clippy::unnecessary_cast)] // c_ulong is u64 here, not on every target
        flags: flags(new_net) as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: fork-like clone3 (no stack, no CLONE_VM; see clone_namespaces on threads);
    // `args` is a valid clone_args of the size passed, alive for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => match nix::Error::last() {
            nix::Error::ENOSYS | nix::Error::E2BIG => Ok(None),
            e => Err(sys("clone3 into the container's cgroup")(e)),
        },
        0 => Ok(Some(None)),
        pid => Ok(Some(Some(Pid::from_raw(pid as i32)))),
    }
}

/// Returns None in the child, Some(pid) in the parent.
///
/// A raw clone without a new stack behaves like fork(): the child runs on a copy of the
/// parent's memory. This is sound only while the process is single-threaded (no lock can be
/// held by a thread that does not exist in the child), which mdrun guarantees by cloning
/// before it starts anything threaded (findings.md: D-Bus connections start threads).
pub fn clone_namespaces(new_net: bool) -> Result<Option<Pid>, LaunchError> {
    let flags = flags(new_net) | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: fork-like clone (null stack, no CLONE_VM), arguments as clone(2) documents for
    // x86_64 and aarch64 (flags, stack, parent_tid, child_tid, tls); see the note above on threads.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        -1 => Err(sys("clone")(nix::Error::last())),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

/// A fork-like clone into the namespaces in `flags` (CLONE_NEW*), for mdrun-oci's init,
/// whose namespaces come from config.json. Same contract as [`clone_namespaces`].
pub fn clone_with(flags: libc::c_ulong) -> Result<Option<Pid>, LaunchError> {
    let flags = flags | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: as in clone_namespaces: fork-like (null stack, no CLONE_VM), single-threaded.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        -1 => Err(sys("clone")(nix::Error::last())),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}
