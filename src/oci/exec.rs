//! `exec`: another process in a running container. As `crate::launch::join`: join the
//! init's cgroup and namespaces (pid before the fork, the mount namespace last), then the
//! process's confinement (`process`) and execve. The process comes from `--process FILE`
//! or from the arguments and flags; without --detach we wait and return its exit code.

use super::state::{Saved, Status};
use super::Result;
use crate::cli::oci_args::ExecArgs;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::{Process, User};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// User first: the rights in the others are then those of its root (runc's order).
const NAMESPACES: &[(&str, CloneFlags)] = &[
    ("user", CloneFlags::CLONE_NEWUSER),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("time", super::timens::CLONE_NEWTIME),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

fn process(a: &ExecArgs, saved: &Saved) -> Result<Process> {
    if let Some(p) = &a.process {
        let text = std::fs::read_to_string(p).map_err(|e| format!("read {}: {e}", p.display()))?;
        return serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", p.display()));
    }
    if a.command.is_empty() {
        return Err("exec: no command given (arguments or --process)".into());
    }
    // The container's own process, with the arguments and flags over it.
    let cfg = std::fs::read_to_string(saved.bundle.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<oci_spec::runtime::Spec>(&t).ok());
    let mut p = cfg.and_then(|s| s.process().clone()).unwrap_or_default();
    p.set_args(Some(a.command.clone()));
    p.set_terminal(Some(a.tty));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.into());
    }
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(a.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(u) = &a.user {
        let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
        let mut user = User::default();
        user.set_uid(uid.parse().map_err(|_| format!("--user {u}: uid[:gid]"))?);
        user.set_gid(gid.parse().map_err(|_| format!("--user {u}: uid[:gid]"))?);
        p.set_user(user);
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    Ok(p)
}

fn open_ro(p: &str) -> Result<OwnedFd> {
    nix::fcntl::open(
        p,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open {p}: {e}"))
}

pub fn exec(root: &Path, a: &ExecArgs) -> Result<i32> {
    let saved = Saved::load(root, &a.id)?;
    match saved.status(root) {
        Status::Running | Status::Created => {}
        s => {
            return Err(format!(
                "cannot exec in container {}: it is {}",
                a.id,
                s.as_str()
            ))
        }
    }
    let p = process(a, &saved)?;
    let pid = saved.pid;
    let ours = |n: &str| std::fs::read_link(format!("/proc/self/ns/{n}")).ok();
    let theirs = |n: &str| std::fs::read_link(format!("/proc/{pid}/ns/{n}")).ok();
    let mut ns = Vec::new();
    for (name, flag) in NAMESPACES {
        if ours(name) != theirs(name) {
            ns.push((open_ro(&format!("/proc/{pid}/ns/{name}"))?, *flag));
        }
    }
    let seccomp = std::fs::read_to_string(saved.bundle.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<oci_spec::runtime::Spec>(&t).ok())
        .and_then(|s| s.linux().clone())
        .and_then(|l| l.seccomp().clone())
        .map(|s| super::seccomp::compile(&s))
        .transpose()?;
    let procs: Vec<OwnedFd> = saved
        .cgroup_dirs
        .iter()
        .map(|d| {
            nix::fcntl::open(
                &d.join("cgroup.procs"),
                nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|e| format!("open {}: {e}", d.join("cgroup.procs").display()))
        })
        .collect::<Result<_>>()?;
    // The child is visible in the container's PID namespace until its exec.
    crate::launch::undumpable().map_err(|e| e.to_string())?;
    if ours("pid") != theirs("pid") {
        let pidns = open_ro(&format!("/proc/{pid}/ns/pid"))?;
        setns(&pidns, CloneFlags::CLONE_NEWPID).map_err(|e| format!("setns pid: {e}"))?;
    }
    let console = match (&a.console_socket, p.terminal() == Some(true)) {
        (Some(path), true) => {
            use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType};
            let s = socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(|e| format!("socket: {e}"))?;
            let (addr, _via) = super::sockaddr::unix_addr(path)?;
            connect(s.as_raw_fd(), &addr)
                .map_err(|e| format!("connect to the console socket {}: {e}", path.display()))?;
            Some(s)
        }
        _ => None,
    };
    let (st_r, st_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: mdrun-oci is single-threaded (no D-Bus connection in exec).
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(st_r);
            let msg = child(
                &p,
                &ns,
                &procs,
                console,
                seccomp.as_ref(),
                a.preserve_fds,
                &saved,
            );
            let _ = nix::unistd::write(&st_w, msg.as_bytes());
            // SAFETY: _exit is always safe.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            drop(st_w);
            let mut report = Vec::new();
            let mut buf = [0u8; 1024];
            while let Ok(n) = nix::unistd::read(&st_r, &mut buf) {
                if n == 0 {
                    break;
                }
                report.extend_from_slice(&buf[..n]);
            }
            if !report.is_empty() {
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(String::from_utf8_lossy(&report).into_owned());
            }
            if let Some(pf) = &a.pid_file {
                super::create::write_pid_file(pf, child.as_raw())?;
            }
            if a.detach {
                return Ok(0);
            }
            wait(child)
        }
    }
}

fn wait(child: Pid) -> Result<i32> {
    loop {
        match nix::sys::wait::waitpid(child, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => return Ok(c),
            Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => return Ok(128 + s as i32),
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(format!("wait for the exec'd process: {e}")),
        }
    }
}

fn child(
    p: &Process,
    ns: &[(OwnedFd, CloneFlags)],
    procs: &[OwnedFd],
    console: Option<OwnedFd>,
    seccomp: Option<&super::seccomp::Compiled>,
    preserve_fds: u32,
    saved: &Saved,
) -> String {
    for fd in procs {
        if let Err(e) = nix::unistd::write(fd, b"0") {
            return format!("join the container's cgroup: {e}");
        }
    }
    for (fd, flag) in ns {
        if let Err(e) = setns(fd, *flag) {
            return format!("setns {flag:?}: {e}");
        }
    }
    if let Some(name) = &saved.keyring {
        if let Err(e) = super::keyring::join(name, None) {
            return e;
        }
    }
    let _ = nix::unistd::setsid();
    if let Some(sock) = console {
        match crate::launch::pty::open_in_container() {
            Ok(master) => {
                if let Err(e) = crate::launch::pty::send_fd(&sock, &master) {
                    return format!("send the terminal to the console socket: {e}");
                }
            }
            Err(e) => return format!("allocate a terminal in /dev/pts: {e}"),
        }
    }
    if let Err(e) = super::process::rlimits(p, None) {
        return e;
    }
    super::process::exec(p, seccomp, preserve_fds)
}
