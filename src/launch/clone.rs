//! clone(2) with fork semantics into new namespaces.

use super::{sys, LaunchError};
use nix::unistd::Pid;

/// The namespaces every container gets at clone time. The cgroup namespace is entered later,
/// by the init, once the parent has moved it into its cgroup: a cgroup namespace's root is
/// the cgroup its creator is in at that moment.
const FLAGS: libc::c_ulong = (libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET) as libc::c_ulong;

/// Returns None in the child, Some(pid) in the parent.
///
/// A raw clone without a new stack behaves like fork(): the child runs on a copy of the
/// parent's memory. This is sound only while the process is single-threaded (no lock can be
/// held by a thread that does not exist in the child), which mdrun guarantees by cloning
/// before it starts anything threaded (findings.md: D-Bus connections start threads).
pub fn clone_namespaces() -> Result<Option<Pid>, LaunchError> {
    let flags = FLAGS | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: fork-like clone (null stack, no CLONE_VM), arguments as clone(2) documents for
    // x86_64 and aarch64 (flags, stack, parent_tid, child_tid, tls); see the note above on threads.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        -1 => Err(sys("clone")(nix::Error::last())),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}
