//! User namespaces (`linux.namespaces` type `user`, `linux.uidMappings`/`gidMappings`), as
//! runc and crun make them:
//! - a new one: the init is cloned with CLONE_NEWUSER among its other CLONE_NEW* flags (the
//!   kernel makes the user namespace first, so it owns the others), and `create`, still
//!   root on the host, writes `/proc/<pid>/setgroups`, `uid_map` and `gid_map` before it
//!   lets the init go on (`write_maps`);
//! - one given by `path`: `create` cannot join it itself (it would lose its rights on the
//!   host's cgroups), so a short-lived helper joins it and clones the init from there with
//!   CLONE_PARENT, so that the init is still `create`'s child and its new namespaces are
//!   owned by the joined user namespace (`clone_in`).
//!
//! Then the init becomes root of the namespace (`become_root`) before it builds the root.

use super::Result;
use crate::launch::clone::CloneArgs;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespaceType};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The user namespace config.json asks for: none, a new one, or one to join.
pub enum UserNs {
    None,
    New,
    Join(OwnedFd),
}

impl UserNs {
    pub fn of(linux: &Linux) -> Result<UserNs> {
        let ns = linux
            .namespaces()
            .iter()
            .flatten()
            .find(|n| n.typ() == LinuxNamespaceType::User);
        Ok(match ns.and_then(|n| n.path().clone()) {
            None if ns.is_some() => UserNs::New,
            None => UserNs::None,
            Some(p) => UserNs::Join(
                nix::fcntl::open(
                    &p,
                    nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )
                .map_err(|e| format!("open user namespace {}: {e}", p.display()))?,
            ),
        })
    }

    pub fn any(&self) -> bool {
        !matches!(self, UserNs::None)
    }
}

/// config.json's checks: mappings only with a new user namespace, and both then.
pub fn check(linux: &Linux) -> Result<()> {
    let ns = linux
        .namespaces()
        .iter()
        .flatten()
        .find(|n| n.typ() == LinuxNamespaceType::User);
    let uid = linux.uid_mappings().as_deref().unwrap_or(&[]);
    let gid = linux.gid_mappings().as_deref().unwrap_or(&[]);
    match ns {
        None if !uid.is_empty() || !gid.is_empty() => Err(
            "config.json: uidMappings/gidMappings are set but there is no user namespace".into(),
        ),
        Some(n) if n.path().is_none() && (uid.is_empty() || gid.is_empty()) => {
            Err("config.json: a new user namespace needs both uidMappings and gidMappings".into())
        }
        _ => Ok(()),
    }
}

fn map_text(m: &[LinuxIdMapping]) -> String {
    m.iter()
        .map(|x| format!("{} {} {}\n", x.container_id(), x.host_id(), x.size()))
        .collect()
}

/// The maps of the init `pid`'s new user namespace. setgroups is denied only when the gid
/// map is the caller's own gid alone, as runc does (libcontainer's
/// requiresRootOrMappingTool): that is the one map an unprivileged writer may set.
pub fn write_maps(pid: Pid, linux: &Linux) -> Result<()> {
    let uid = linux.uid_mappings().as_deref().unwrap_or(&[]);
    let gid = linux.gid_mappings().as_deref().unwrap_or(&[]);
    let egid = nix::unistd::getegid().as_raw();
    let own_gid_only =
        matches!(gid, [g] if g.container_id() == 0 && g.host_id() == egid && g.size() == 1);
    let write = |name: &str, text: &str| -> Result<()> {
        let p = format!("/proc/{pid}/{name}");
        std::fs::write(&p, text).map_err(|e| format!("write {:?} to {p}: {e}", text.trim()))
    };
    if own_gid_only {
        write("setgroups", "deny")?;
    }
    write("uid_map", &map_text(uid))?;
    write("gid_map", &map_text(gid))
}

/// In the init, its maps written: become root of the user namespace (uid and gid 0, no
/// supplementary groups), as runc's nsexec does, so that what it makes in the container's
/// own mounts (a /dev tmpfs) has an owner there.
pub fn become_root() -> Result<()> {
    let root = nix::unistd::Gid::from_raw(0);
    nix::unistd::setresgid(root, root, root)
        .map_err(|e| format!("user namespace: become gid 0 (is gid 0 in gidMappings?): {e}"))?;
    let root = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresuid(root, root, root)
        .map_err(|e| format!("user namespace: become uid 0 (is uid 0 in uidMappings?): {e}"))?;
    if !setgroups_denied() {
        nix::unistd::setgroups(&[]).map_err(|e| format!("user namespace: setgroups: {e}"))?;
    }
    Ok(())
}

/// Is setgroups(2) denied in our user namespace (`/proc/self/setgroups` is "deny")?
pub fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

/// A helper joins the user namespace `userns` and clones the init into `flags` (new
/// namespaces, owned by the joined one) with CLONE_PARENT: `None` in the init, the init's
/// pid (in our pid namespace, from a pidfd the helper passes back) in the caller. Like
/// `crate::launch::clone::clone_with`, only sound while the caller is single-threaded.
pub fn clone_in(userns: &OwnedFd, flags: CloneFlags) -> Result<Option<Pid>> {
    let (ours, theirs) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| format!("socketpair: {e}"))?;
    // SAFETY: the caller is single-threaded (see above); the child only makes syscalls
    // and leaves with _exit.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))? {
        nix::unistd::ForkResult::Child => {
            drop(ours);
            match helper(userns, flags, &theirs) {
                Ok(None) => Ok(None),
                Ok(Some(())) => {
                    // SAFETY: _exit is always safe; nothing of the parent's state is torn down.
                    unsafe { libc::_exit(0) }
                }
                Err(e) => {
                    let _ = nix::unistd::write(&theirs, format!("E{e}").as_bytes());
                    // SAFETY: as above.
                    unsafe { libc::_exit(1) }
                }
            }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(theirs);
            let got = crate::launch::pty::recv_with_fd(&ours, 4096);
            let _ = nix::sys::wait::waitpid(child, None);
            match got {
                Ok((_, Some(pidfd))) => pid_of(&pidfd).map(Some),
                Ok((msg, None)) if msg.first() == Some(&b'E') => {
                    Err(String::from_utf8_lossy(&msg[1..]).into_owned())
                }
                Ok(_) => Err("user namespace helper: no init was cloned".into()),
                Err(e) => Err(format!("user namespace helper: {e}")),
            }
        }
    }
}

/// In the helper: `Ok(None)` in the init it cloned, `Ok(Some(()))` once the pidfd is sent.
fn helper(userns: &OwnedFd, flags: CloneFlags, sock: &OwnedFd) -> Result<Option<()>> {
    nix::sched::setns(userns, CloneFlags::CLONE_NEWUSER)
        .map_err(|e| format!("setns user namespace: {e}"))?;
    let mut pidfd: libc::c_int = -1;
    let args = CloneArgs {
        flags: flags.bits() as u64 | libc::CLONE_PARENT as u64 | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        // With CLONE_PARENT clone3 wants exit_signal 0: the init takes ours (SIGCHLD, a
        // fork's), and it goes to our parent.
        ..Default::default()
    };
    // SAFETY: fork-like clone3 (no stack, no CLONE_VM) in a single-threaded process;
    // `args` and `pidfd` outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(format!(
            "clone the init in the joined user namespace: {}",
            nix::Error::last()
        )),
        0 => Ok(None),
        _ => {
            // SAFETY: clone3 stored a new descriptor that only we own.
            let fd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            crate::launch::pty::send_fd(sock, &fd).map_err(|e| format!("send the pidfd: {e}"))?;
            Ok(Some(()))
        }
    }
}

/// The pid of a pidfd in our pid namespace (its fdinfo's `Pid:` line).
fn pid_of(pidfd: &OwnedFd) -> Result<Pid> {
    let p = format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd());
    let text = std::fs::read_to_string(&p).map_err(|e| format!("read {p}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse::<i32>().ok())
        .filter(|p| *p > 0)
        .map(Pid::from_raw)
        .ok_or_else(|| format!("{p}: no Pid line"))
}
