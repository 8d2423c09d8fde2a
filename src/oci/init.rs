//! The container's init, cloned by `create` into the config's new namespaces: it waits
//! until `create` has placed it in its cgroup, joins the namespaces given by path, builds
//! the root (`rootfs`), reports ready, and waits in `accept` on the start socket until
//! `start` connects. Then it execs the process (`process`). Until ready, a failure goes
//! to `create` over the status pipe; after, to the init's stderr.

use super::seccomp::Compiled;
use nix::sched::CloneFlags;
use oci_spec::runtime::Spec;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

pub struct InitPlan {
    pub spec: Spec,
    pub rootfs: PathBuf,
    /// Namespaces to join by path in the init (the mount namespace: `create` joins the
    /// others itself before the clone).
    pub join: Vec<(OwnedFd, CloneFlags)>,
    pub new_mount_ns: bool,
    pub new_cgroup_ns: bool,
    pub new_uts_ns: bool,
    pub seccomp: Option<Compiled>,
    /// `--preserve-fds`: descriptors 3 .. 3+N stay open in the process.
    pub preserve_fds: u32,
    /// In a user namespace (new, its maps written by `create` before `go`, or joined):
    /// become its root first; rlimits and oom_score_adj are `create`'s.
    pub userns: bool,
    /// A new time namespace with linux.timeOffsets (`timens`).
    pub new_time_ns: bool,
    /// `create --no-pivot`.
    pub no_pivot: bool,
    /// The session keyring to join (`keyring`); None with `--no-new-keyring`.
    pub keyring: Option<String>,
}

pub struct InitFds {
    /// `create` writes one byte once the init is in its cgroup; EOF: give up.
    pub go: OwnedFd,
    /// The init writes `R` when ready, or `E<message>` on failure.
    pub status: OwnedFd,
    pub start: OwnedFd,
    pub console: Option<OwnedFd>,
}

fn fail(status: &OwnedFd, msg: &str) -> ! {
    let mut m = b"E".to_vec();
    m.extend_from_slice(msg.as_bytes());
    let _ = nix::unistd::write(status, &m);
    // SAFETY: _exit is always safe; no destructors of the runtime's state run in the init.
    unsafe { libc::_exit(1) }
}

pub fn run(plan: &InitPlan, fds: InitFds) -> ! {
    let st = &fds.status;
    let mut b = [0u8; 1];
    if !matches!(nix::unistd::read(&fds.go, &mut b), Ok(1)) {
        // SAFETY: as in `fail`.
        unsafe { libc::_exit(1) }
    }
    if let Err(e) = prepare(plan, &fds) {
        fail(st, &e)
    }
    let _ = nix::unistd::write(st, b"R");
    drop(fds.status);
    // Wait for `start`.
    let conn = loop {
        // SAFETY: accept on a listening socket we own; no address is asked for.
        let fd = unsafe {
            libc::accept4(
                fds.start.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        };
        if fd >= 0 {
            // SAFETY: the kernel just gave us this descriptor.
            break unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        }
        if nix::Error::last() != nix::Error::EINTR {
            eprintln!("mdrun-oci init: wait for start: {}", nix::Error::last());
            // SAFETY: as in `fail`.
            unsafe { libc::_exit(1) }
        }
    };
    drop(fds.start);
    let Some(process) = plan.spec.process() else {
        let _ = nix::unistd::write(&conn, b"Eno process in config.json");
        // SAFETY: as in `fail`.
        unsafe { libc::_exit(1) }
    };
    // `start` reads until EOF: the connection is close-on-exec, so EOF after `s` means the
    // process runs (poststart hooks come after that), `E...` that it could not start.
    let _ = nix::unistd::write(&conn, b"s");
    let msg = super::process::exec(process, plan.seccomp.as_ref(), plan.preserve_fds);
    let _ = nix::unistd::write(&conn, format!("E{msg}").as_bytes());
    eprintln!("mdrun-oci init: {msg}");
    // SAFETY: as in `fail`.
    unsafe { libc::_exit(127) }
}

fn prepare(plan: &InitPlan, fds: &InitFds) -> super::Result<()> {
    // The runtime's blocked signals and ignored SIGPIPE must not reach the container.
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    // SAFETY: restoring the default disposition installs no handler.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    // The time namespace before we become root of a user namespace: /proc/self/
    // timens_offsets is then still ours to open (after the uid change the process is not
    // dumpable and its /proc files are the host root's, out of the namespace's reach).
    if plan.new_time_ns {
        let offsets = plan
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.time_offsets().as_ref());
        super::timens::enter_new(offsets)?;
    }
    if plan.userns {
        super::userns::become_root()?;
    }
    for (fd, flag) in &plan.join {
        nix::sched::setns(fd, *flag).map_err(|e| format!("setns {flag:?}: {e}"))?;
    }
    // Our cgroup as the host sees it, for binding it in a user namespace (rootfs.rs).
    let own_cgroup = if plan.userns {
        std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default()
    } else {
        String::new()
    };
    if plan.new_cgroup_ns {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| format!("unshare cgroup namespace: {e}"))?;
    }
    nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
    if let Some(adj) = plan
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.oom_score_adj())
        .filter(|_| !plan.userns)
    {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| format!("write oom_score_adj {adj}: {e}"))?;
    }
    if plan.new_mount_ns {
        let ctx = super::rootfs::Ctx {
            userns: plan.userns,
            own_cgroup,
            no_pivot: plan.no_pivot,
        };
        super::rootfs::setup(&plan.spec, &plan.rootfs, &ctx)?;
    } else {
        nix::unistd::chroot(&plan.rootfs)
            .map_err(|e| format!("chroot {}: {e}", plan.rootfs.display()))?;
        nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    }
    if plan.new_uts_ns {
        if let Some(h) = plan.spec.hostname() {
            nix::unistd::sethostname(h).map_err(|e| format!("sethostname {h}: {e}"))?;
        }
        if let Some(d) = plan.spec.domainname() {
            // SAFETY: setdomainname reads `len` bytes of the string.
            if unsafe { libc::setdomainname(d.as_ptr() as *const libc::c_char, d.len()) } != 0 {
                return Err(format!("setdomainname {d}: {}", nix::Error::last()));
            }
        }
    }
    if let Some(linux) = plan.spec.linux() {
        super::sched::personality(linux)?;
    }
    if let Some(name) = &plan.keyring {
        super::keyring::join(name, Some(plan.userns))?;
    }
    if let Some(p) = plan.spec.process() {
        if let Some(sock) = &fds.console {
            if p.terminal() == Some(true) {
                let master = crate::launch::pty::open_in_container()
                    .map_err(|e| format!("allocate a terminal in /dev/pts: {e}"))?;
                if let Some(size) = p.console_size() {
                    let ws = nix::pty::Winsize {
                        ws_row: size.height() as u16,
                        ws_col: size.width() as u16,
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    crate::launch::pty::set_window_size(&master, &ws);
                }
                crate::launch::pty::send_fd(sock, &master)
                    .map_err(|e| format!("send the terminal to the console socket: {e}"))?;
            }
        }
        if !plan.userns {
            super::process::rlimits(p, None)?;
        }
    }
    Ok(())
}
