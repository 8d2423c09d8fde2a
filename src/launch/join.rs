//! `mdrun exec`'s process (planned by `container::exec`): start a process inside a running
//! container. It joins the container's cgroup, then its cgroup, IPC, UTS, network, PID and
//! mount namespaces and its root, so it sees exactly what the container's own processes
//! see.

use super::init::ProcessPlan;
use super::sync::{self, ChildEnd};
use super::{execve, pty, sys, LaunchError, Running};
use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::unistd::{fork, ForkResult};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

pub struct JoinPlan {
    /// The container's init, as the host sees it.
    pub target: i32,
    /// The container's cgroup directories, in every hierarchy it does not share with us
    /// (`cgroups::dirs_of_process` of its init): the new process is moved into each.
    pub cgroups: Vec<PathBuf>,
    pub process: ProcessPlan,
    /// `-u`: as given (`uid[:gid]` or a name from the container's /etc/passwd).
    pub user: Option<String>,
}

/// Order matters: the cgroup namespace last among those whose view depends on where we are
/// (we join the cgroup first, while its path still resolves on the host), the mount
/// namespace last of all (after it, the host's /proc/<pid> paths are gone).
const NAMESPACES: &[(&str, CloneFlags)] = &[
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

fn open(path: &str, flags: OFlag) -> Result<OwnedFd, LaunchError> {
    nix::fcntl::open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).map_err(|source| {
        LaunchError::Open {
            path: path.into(),
            source,
        }
    })
}

/// Start the process; returns it running (exec done) or the reason it could not start.
pub fn spawn(plan: &JoinPlan) -> Result<Running, LaunchError> {
    // Before anything of the container's is opened: the child below is visible to the
    // container's processes from its fork until its exec.
    super::undumpable()?;
    let pid = plan.target;
    let ns: Vec<(OwnedFd, CloneFlags)> = NAMESPACES
        .iter()
        .map(|(name, flag)| {
            open(&format!("/proc/{pid}/ns/{name}"), OFlag::O_RDONLY).map(|fd| (fd, *flag))
        })
        .collect::<Result<_, _>>()?;
    let root = open(
        &format!("/proc/{pid}/root"),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
    )?;
    // v1: `tasks`, where "0" moves just the writing thread (our child is one thread): that
    // skips the kernel's global threadgroup lock and its RCU grace period (cgroups::Entry).
    // cgroup2 has no such file; its cgroup.procs moves the whole process.
    let procs: Vec<OwnedFd> = plan
        .cgroups
        .iter()
        .map(|d| {
            let file = if d.join("tasks").exists() {
                "tasks"
            } else {
                "cgroup.procs"
            };
            open(&d.join(file).to_string_lossy(), OFlag::O_WRONLY)
        })
        .collect::<Result<_, _>>()?;
    // Joining a PID namespace only changes where our *children* go: fork after it.
    let pidns = open(&format!("/proc/{pid}/ns/pid"), OFlag::O_RDONLY)?;
    setns(&pidns, CloneFlags::CLONE_NEWPID).map_err(sys("setns pid"))?;

    let (mut parent_end, child_end) = sync::channel()?;
    let tty = if plan.process.tty {
        Some(pty::channel()?)
    } else {
        None
    };
    // Captured (a healthcheck): stdout and stderr through pipes, read by `supervise`.
    let pipes = if plan.process.capture_output && !plan.process.tty {
        Some((super::output_pipe()?, super::output_pipe()?))
    } else {
        None
    };
    // SAFETY: mdrun is single-threaded here (no D-Bus connection in exec).
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            drop(parent_end);
            let tty_sock = tty.map(|(p, c)| {
                drop(p);
                c
            });
            if let Some(((_, out_w), (_, err_w))) = &pipes {
                // SAFETY: dup2 of pipe ends we own onto stdout and stderr.
                let ok = unsafe {
                    libc::dup2(out_w.as_raw_fd(), 1) >= 0 && libc::dup2(err_w.as_raw_fd(), 2) >= 0
                };
                if !ok {
                    child_end.fail(125, &format!("dup2 output pipe: {}", nix::Error::last()));
                }
            }
            drop(pipes);
            child(plan, &child_end, &ns, &root, &procs, tty_sock)
        }
        ForkResult::Parent { child } => {
            drop(child_end);
            let pty_master = tty.and_then(|(p, _c)| pty::recv_fd(&p));
            if let (Some(m), Some(ws)) = (&pty_master, pty::window_size(0)) {
                pty::set_window_size(m, &ws);
            }
            if let Err(e) = parent_end.go_and_wait() {
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(e);
            }
            Ok(Running {
                pid: child,
                pty_master,
                output: pipes.map(|((out_r, _), (err_r, _))| [out_r, err_r]),
            })
        }
    }
}

fn child(
    plan: &JoinPlan,
    sync: &ChildEnd,
    ns: &[(OwnedFd, CloneFlags)],
    root: &OwnedFd,
    procs: &[OwnedFd],
    tty_sock: Option<OwnedFd>,
) -> ! {
    let fail = |msg: String| -> ! { sync.fail(125, &msg) };
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    // SAFETY: restoring the default disposition installs no handler.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    for fd in procs {
        // "0" moves the writing process.
        if let Err(e) = nix::unistd::write(fd, b"0") {
            fail(format!("join the container's cgroup: {e}"));
        }
    }
    for (fd, flag) in ns {
        if let Err(e) = setns(fd, *flag) {
            fail(format!("setns {flag:?}: {e}"));
        }
    }
    // SAFETY: fchdir to a directory fd we own, then chroot to it: the container's root.
    if unsafe { libc::fchdir(root.as_raw_fd()) } < 0 || nix::unistd::chroot(".").is_err() {
        fail(format!(
            "enter the container's root: {}",
            nix::Error::last()
        ));
    }
    let _ = nix::unistd::setsid();
    if let Some(sock) = tty_sock {
        match pty::open_in_container() {
            Ok(master) => {
                if let Err(e) = pty::send_fd(&sock, &master) {
                    fail(format!("send terminal to mdrun: {e}"));
                }
            }
            Err(e) => fail(format!("allocate terminal in /dev/pts: {e}")),
        }
    } else if plan.process.stdin_null {
        if let Ok(null) = std::fs::File::open("/dev/null") {
            // SAFETY: dup2 onto stdin.
            unsafe { libc::dup2(null.as_raw_fd(), 0) };
        }
    }
    // The container's capabilities, seccomp filter and no_new_privs, and its user unless
    // `-u` says otherwise (security::apply).
    let (code, msg) = execve::execve(&plan.process, plan.user.as_deref());
    sync.fail(code, &msg)
}
