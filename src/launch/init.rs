//! The container's init: the cloned child, PID 1 of the new PID namespace. It enters its
//! cgroup (or is born in it, or is put there), builds the root filesystem, waits for mdrun's
//! go-ahead, and execs the command.
//! Every failure is reported to mdrun over the status pipe and ends the child.

use super::execve;
use super::sync::ChildEnd;
use crate::rootfs;
use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// What to run, and how.
#[derive(Debug, Clone)]
pub struct ProcessPlan {
    /// argv; argv[0] is looked up in the container's PATH unless it contains a `/`.
    pub args: Vec<String>,
    /// The complete environment, `KEY=VALUE`.
    pub env: Vec<String>,
    pub cwd: PathBuf,
    pub hostname: String,
    pub tty: bool,
    /// Give the command /dev/null as stdin (docker without `-i`).
    pub stdin_null: bool,
    /// Without a tty: send stdout and stderr through pipes to mdrun (for a log driver or a
    /// detached container) instead of letting the command inherit mdrun's own.
    pub capture_output: bool,
    /// Capabilities, seccomp, no_new_privs, user: applied right before execve.
    pub security: crate::security::SecurityPlan,
}

/// First thing in the child, on v1: move ourselves (one thread, so the whole process) into
/// the container's cgroup in every hierarchy by writing "0" to each `tasks` file the parent
/// opened (see cgroups::Entry for why not cgroup.procs). The parent made the cgroup and
/// wrote its limits and device list before it cloned us.
/// How the init's reports of a failed cgroup entry begin (see `LaunchError::cgroup_gone`).
pub(super) const JOIN_CGROUP: &str = "join cgroup";

pub(super) fn enter_cgroup(tasks: &[(PathBuf, OwnedFd)], sync: &ChildEnd) {
    for (path, fd) in tasks {
        if let Err(e) = nix::unistd::write(fd, b"0") {
            sync.fail(
                125,
                &format!("{JOIN_CGROUP}: write 0 to {}: {e}", path.display()),
            );
        }
    }
}

pub fn run(
    plan: &super::LaunchPlan,
    sync: ChildEnd,
    tty_sock: Option<OwnedFd>,
    output: Option<[OwnedFd; 2]>,
    late_entry: Option<OwnedFd>,
) -> ! {
    if let Some([out, err]) = output {
        for (fd, target) in [(out, 1), (err, 2)] {
            if let Err(e) = dup_onto(&fd, target) {
                sync.fail(125, &format!("dup2 output pipe: {e}"));
            }
        }
    }
    match prepare(plan, &sync, tty_sock) {
        Ok(()) => {}
        Err(msg) => sync.fail(125, &msg),
    }
    // systemd on v1: mdrun sends our cgroup's `tasks` files once the scope and the cgroup
    // below it exist, then closes the socket (or closes it at once: nothing to do).
    if let Some(sock) = late_entry {
        while let Some(fd) = super::pty::recv_fd(&sock) {
            if let Err(e) = nix::unistd::write(&fd, b"0") {
                sync.fail(125, &format!("{JOIN_CGROUP}: write 0 to a tasks file: {e}"));
            }
        }
    }
    if !sync.wait_for_go() {
        // mdrun went away or gave up (it cleans up after us); say nothing.
        // SAFETY: _exit is always safe.
        unsafe { libc::_exit(125) }
    }
    // We are in the container's cgroup now (whichever way we got there): see which
    // hierarchies it has a cgroup of its own in while /proc/self/cgroup still says where,
    // make it our cgroup root, and mount it at /sys/fs/cgroup (inside the namespace, so that
    // the mounts show that root and nothing above it).
    let cgroups = rootfs::select_cgroups(&plan.rootfs.cgroup)
        .unwrap_or_else(|e| sync.fail(125, &format!("container cgroup mount: {e}")));
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP) {
        sync.fail(125, &format!("unshare cgroup namespace: {e}"));
    }
    if let Err(e) = rootfs::mount_cgroups(&cgroups) {
        sync.fail(125, &format!("container cgroup mount: {e}"));
    }
    let (code, msg) = execve::execve(&plan.process, None);
    sync.fail(code, &msg)
}

fn prepare(
    plan: &super::LaunchPlan,
    sync: &ChildEnd,
    tty_sock: Option<OwnedFd>,
) -> Result<(), String> {
    let _ = sync;
    // Die with mdrun: an attached container must not outlive the runtime that owns it.
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and changes only this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    // mdrun blocked the signals it relays; Rust ignores SIGPIPE. Neither may leak into the
    // container: blocked masks and ignored dispositions survive execve.
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    // SAFETY: restoring the default disposition installs no handler.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };

    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    if let super::NetNs::Join(fd) = &plan.net {
        use std::os::fd::AsFd;
        nix::sched::setns(fd.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("join the network namespace of --network container: {e}"))?;
    }
    if tty_sock.is_none() && plan.process.stdin_null {
        let null = std::fs::File::open("/dev/null").map_err(|e| format!("open /dev/null: {e}"))?;
        dup_onto(&OwnedFd::from(null), 0).map_err(|e| format!("dup2 /dev/null: {e}"))?;
    }

    rootfs::setup(&plan.rootfs).map_err(|e| e.to_string())?;
    if let Some(sock) = tty_sock {
        let master = super::pty::open_in_container()
            .map_err(|e| format!("allocate terminal in /dev/pts: {e}"))?;
        super::pty::send_fd(&sock, &master).map_err(|e| format!("send terminal to mdrun: {e}"))?;
    }
    nix::unistd::sethostname(&plan.process.hostname).map_err(|e| format!("sethostname: {e}"))?;
    if let super::NetNs::New = plan.net {
        super::net::loopback_up().map_err(|e| format!("bring up loopback: {e}"))?;
    }
    Ok(())
}

fn dup_onto(fd: &OwnedFd, target: i32) -> nix::Result<()> {
    // SAFETY: dup2 onto a standard descriptor number; both are valid.
    if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
        return Err(nix::Error::last());
    }
    Ok(())
}

pub(crate) fn cstrings(items: &[String]) -> Result<Vec<CString>, String> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| format!("argument contains a NUL byte: {s:?}"))
        })
        .collect()
}
