//! Starting a container's init and supervising it.
//!
//! `spawn` clones a child into new mount, PID, UTS, IPC and network namespaces. Its cgroup
//! and limits are made first where they can be (cgroupfs), and the child starts inside them
//! (born there on v2, entering by itself on v1); with systemd, the parent makes the scope
//! while the child (see `init`) builds the root filesystem. The child then waits for the
//! parent's go-ahead before it enters its cgroup namespace and execs the command, so the
//! command never runs before its cgroup and limits are in place.

pub(crate) mod clone;
mod execve;
mod init;
pub mod join;
mod net;
pub mod pty;
pub mod signals;
mod supervise;
mod sync;
mod workdir;

pub use init::ProcessPlan;

/// Make this process, and every process it forks or clones from now on, non-dumpable until
/// one of them execs the container's program (execve of an ordinary program makes it
/// dumpable again). A process that joins a running container's PID namespace stands there
/// with mdrun's descriptors, environment and memory until that exec; while it is
/// non-dumpable, the container's processes cannot open its `/proc/<pid>/fd`, `environ`,
/// `mem`, `cwd` or `root`, nor ptrace it, whatever capabilities they share with it
/// (only CAP_SYS_PTRACE over the host's user namespace would). runc does the same.
pub fn undumpable() -> Result<(), LaunchError> {
    // SAFETY: prctl(PR_SET_DUMPABLE) changes a flag of this process; no memory is passed.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } < 0 {
        return Err(LaunchError::Sys {
            step: "prctl(PR_SET_DUMPABLE, 0)",
            source: nix::Error::last(),
        });
    }
    Ok(())
}
pub use supervise::{stop_requested, supervise, Attach};

use crate::cgroups::Entry;
use crate::rootfs::RootfsPlan;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use std::os::fd::{AsFd, OwnedFd};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The command could not be started (126 cannot execute, 127 not found, 125 setup).
    #[error("{message}")]
    Exec { code: i32, message: String },
    #[error("{step}: {source}")]
    Sys {
        step: &'static str,
        source: nix::Error,
    },
    #[error("open {path}: {source}")]
    Open { path: String, source: nix::Error },
}

impl LaunchError {
    /// The init could not enter its cgroup because the cgroup was gone (ENODEV from its
    /// `tasks` file: removed after mdrun made it, before the init wrote to it).
    pub fn cgroup_gone(&self) -> bool {
        matches!(self, LaunchError::Exec { message, .. }
            if message.starts_with(init::JOIN_CGROUP)
                && message.contains(nix::Error::ENODEV.desc()))
    }
}

pub(crate) fn sys(step: &'static str) -> impl FnOnce(nix::Error) -> LaunchError {
    move |source| LaunchError::Sys { step, source }
}

/// What the init needs: how to build the root, and what to run in it.
#[derive(Debug)]
pub struct LaunchPlan {
    pub rootfs: RootfsPlan,
    pub process: ProcessPlan,
    pub net: NetNs,
}

/// The init's network namespace.
#[derive(Debug, Default)]
pub enum NetNs {
    /// A new one, loopback up (and a veth when the container has a network).
    #[default]
    New,
    /// mdrun's own (`--network host`).
    Host,
    /// Another container's (`--network container:NAME`): its `/proc/PID/ns/net`, opened
    /// before the clone; the init enters it first thing.
    Join(OwnedFd),
}

/// A cloned init that is building its root and waits for `release`. Dropping it without
/// releasing kills the child, so an error on the way leaves no process behind.
pub struct Spawned {
    pub pid: Pid,
    /// The init is in its cgroup by itself (see `spawn`): nobody needs to move it.
    pub entered: bool,
    /// `late_entry`: where `send_entry` sends the init its cgroup's `tasks` files; closed
    /// (the init stops waiting for them) by `send_entry` or `release`.
    late: Option<OwnedFd>,
    sync: sync::ParentEnd,
    /// With `-t`: where the init sends its terminal's master.
    tty_sock: Option<OwnedFd>,
    /// Read ends of the stdout and stderr pipes, when output is captured.
    output: Option<[OwnedFd; 2]>,
    released: bool,
}

/// A running container: the command has been exec'd.
pub struct Running {
    pub pid: Pid,
    pub pty_master: Option<OwnedFd>,
    /// Read ends of the command's stdout and stderr pipes, when output is captured.
    pub output: Option<[OwnedFd; 2]>,
}

pub(super) fn output_pipe() -> Result<(OwnedFd, OwnedFd), LaunchError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(sys("pipe"))
}

/// Clone the container's init. The caller must have blocked the signals it wants to handle
/// (`signals::block`) before this, and must be single-threaded. With `entry`, the init
/// starts in its cgroup (born there on v2, or moving itself in first thing on v1), and
/// `Spawned::entered` says so; otherwise the caller moves it in.
pub fn spawn(
    plan: &LaunchPlan,
    entry: Option<&Entry>,
    late_entry: bool,
) -> Result<Spawned, LaunchError> {
    let (parent_end, child_end) = sync::channel()?;
    // `late_entry`: a socket over which the init may get its cgroup's `tasks` files once
    // they exist (systemd on v1: see placement::place_in_entering).
    let late = if late_entry {
        Some(pty::channel()?)
    } else {
        None
    };
    let tty = if plan.process.tty {
        Some(pty::channel()?)
    } else {
        None
    };
    let pipes = if plan.process.capture_output && !plan.process.tty {
        Some((output_pipe()?, output_pipe()?))
    } else {
        None
    };
    let new_net = matches!(plan.net, NetNs::New);
    let (pid, entered) = match entry {
        // A kernel without CLONE_INTO_CGROUP, or one that will not start a process in this
        // cgroup (EOPNOTSUPP for a child of a cgroup2 directory that holds processes, as a
        // service's own cgroup does): clone as usual, and the caller moves the child in
        // (or says why it cannot).
        Some(Entry::Dir(_, dir)) => match clone::clone_namespaces_into(dir.as_fd(), new_net) {
            Ok(Some(pid)) => (pid, true),
            Ok(None) | Err(_) => (clone::clone_namespaces(new_net)?, false),
        },
        Some(Entry::Tasks(_)) => (clone::clone_namespaces(new_net)?, true),
        None => (clone::clone_namespaces(new_net)?, false),
    };
    match pid {
        None => {
            drop(parent_end);
            if let Some(Entry::Tasks(tasks)) = entry {
                init::enter_cgroup(tasks, &child_end);
            }
            let late = late.map(|(parent, child)| {
                drop(parent);
                child
            });
            let tty_sock = tty.map(|(parent, child)| {
                drop(parent);
                child
            });
            let output = pipes.map(|((_, out_w), (_, err_w))| [out_w, err_w]);
            init::run(plan, child_end, tty_sock, output, late)
        }
        Some(pid) => {
            drop(child_end);
            let tty_sock = tty.map(|(parent, _child)| parent);
            let output = pipes.map(|((out_r, _), (err_r, _))| [out_r, err_r]);
            Ok(Spawned {
                pid,
                entered,
                late: late.map(|(parent, _child)| parent),
                sync: parent_end,
                tty_sock,
                output,
                released: false,
            })
        }
    }
}

impl Spawned {
    /// Hand the init the `tasks` files of its cgroup (v1): it writes `0` to each before it
    /// waits for the go-ahead. Only with `late_entry`; anything but `Entry::Tasks` is moved
    /// in by the caller instead.
    pub fn send_entry(&mut self, entry: &Entry) -> Result<(), LaunchError> {
        let (Some(sock), Entry::Tasks(tasks)) = (self.late.take(), entry) else {
            return Err(LaunchError::Exec {
                code: 125,
                message: "internal: no late cgroup entry for this init".into(),
            });
        };
        for (_, fd) in tasks {
            pty::send_fd(&sock, fd).map_err(sys("send the cgroup's tasks files to the init"))?;
        }
        Ok(())
    }

    /// Let the init exec the command, and wait until it has (or failed to).
    pub fn release(mut self) -> Result<Running, LaunchError> {
        self.released = true;
        // No (more) cgroup files for the init: it stops waiting for them.
        self.late = None;
        let pid = self.pid;
        // The init sends its terminal before it waits for go; a failed init sends nothing.
        let pty_master = self.tty_sock.take().and_then(|s| pty::recv_fd(&s));
        // Size it before the command can ask (`stty size` right at start).
        if let (Some(m), Some(ws)) = (&pty_master, pty::window_size(0)) {
            pty::set_window_size(m, &ws);
        }
        let result = self.sync.go_and_wait();
        if let Err(e) = result {
            let _ = waitpid(pid, None);
            return Err(e);
        }
        Ok(Running {
            pid,
            pty_master,
            output: self.output.take(),
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !self.released {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
    }
}
