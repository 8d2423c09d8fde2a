//! `create`: the bundle checked, the state directory, the cgroup, the init cloned into its
//! namespaces and placed, ready and waiting on `<root>/<id>/start.sock`; the hooks of
//! create time; the pid file. Every step that makes something is undone on an error, so a
//! failed create leaves no state directory, cgroup, scope, mount or process.

use super::cgroup::{self, Placement};
use super::init::{InitFds, InitPlan};
use super::state::{self, Saved, START_SOCKET};
use super::{config, hooks, Result};
use crate::cli::oci_args::{CreateArgs, OciCli};
use nix::sched::CloneFlags;
use nix::sys::socket::{bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxNamespaceType;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// A created container whose init is ours until `create` returns (for `run`).
pub struct Created {
    pub saved: Saved,
}

/// What to undo if `create` fails half-way.
struct Undo {
    dir: Option<PathBuf>,
    cgroup: Option<(Vec<PathBuf>, Vec<PathBuf>)>,
    scope: Option<String>,
    pid: Option<Pid>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
        if let Some(unit) = &self.scope {
            let _ = crate::systemd::stop_unit(unit);
        }
        if let Some((dirs, parents)) = &self.cgroup {
            let _ = cgroup::destroy(dirs, parents);
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn ns_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Time => super::timens::CLONE_NEWTIME,
    }
}

fn open_ro(p: &Path) -> Result<OwnedFd> {
    nix::fcntl::open(
        p,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open {}: {e}", p.display()))
}

pub fn create(cli: &OciCli, a: &CreateArgs) -> Result<Created> {
    state::check_id(&a.id)?;
    let bundle = config::load(&a.bundle)?;
    let spec = &bundle.spec;
    let linux = spec.linux().clone().unwrap_or_default();
    let placement = cgroup::placement(
        linux.cgroups_path().as_deref().and_then(Path::to_str),
        &a.id,
        cli.systemd_cgroup,
    )?;
    let seccomp = linux
        .seccomp()
        .as_ref()
        .map(super::seccomp::compile)
        .transpose()?;
    let linux_devices = linux.devices().clone().unwrap_or_default();
    let dev_rules = super::device_rules::rule_list(
        linux
            .resources()
            .as_ref()
            .and_then(|r| r.devices().as_deref())
            .unwrap_or(&[]),
        &linux_devices,
    )?;
    let dev_filter = super::device_rules::Filter::new(&dev_rules)?;

    // Root's alone, as runc's: the state holds the hooks' environment (see state_files).
    crate::private_dirs::create(&cli.root)
        .map_err(|e| format!("mkdir {}: {e}", cli.root.display()))?;
    let dir = state::dir(&cli.root, &a.id);
    match crate::private_dirs::create_one(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!("container with id {} already exists", a.id))
        }
        Err(e) => return Err(format!("mkdir {}: {e}", dir.display())),
    }
    let mut undo = Undo {
        dir: Some(dir.clone()),
        cgroup: None,
        scope: None,
        pid: None,
    };

    // The start socket: the init waits in accept() on it until `start` connects.
    let start = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    let sock_path = dir.join(START_SOCKET);
    {
        // `_via` (a long path's directory) is closed before the init is cloned.
        let (addr, _via) = super::sockaddr::unix_addr(&sock_path)?;
        bind(std::os::fd::AsRawFd::as_raw_fd(&start), &addr)
            .map_err(|e| format!("bind {}: {e}", sock_path.display()))?;
    }
    listen(&start, Backlog::new(1).unwrap_or(Backlog::MAXCONN))
        .map_err(|e| format!("listen {}: {e}", sock_path.display()))?;

    let console = match (
        &a.console_socket,
        spec.process().as_ref().and_then(|p| p.terminal()),
    ) {
        (Some(path), Some(true)) => {
            let s = socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(|e| format!("socket: {e}"))?;
            let (addr, _via) = super::sockaddr::unix_addr(path)?;
            nix::sys::socket::connect(std::os::fd::AsRawFd::as_raw_fd(&s), &addr)
                .map_err(|e| format!("connect to the console socket {}: {e}", path.display()))?;
            Some(s)
        }
        (None, Some(true)) => {
            return Err("process.terminal is true: --console-socket is required".into())
        }
        _ => None,
    };

    // The cgroup first (cgroupfs), so that a bad path or limit fails before the clone.
    let dirs = match &placement {
        Placement::Cgroupfs(path) => {
            let (dirs, parents) = cgroup::make(path)?;
            undo.cgroup = Some((dirs.clone(), parents));
            if let Some(r) = linux.resources() {
                super::update::apply(&dirs, r)?;
            }
            super::update::allow_default_devices(&dirs, &linux_devices)?;
            if super::update::is_v2(&dirs) {
                // No devices.allow on v2: the rules as a program, before the init is placed.
                dev_filter.attach(&dirs[0], false)?;
            }
            dirs
        }
        Placement::Systemd { .. } => Vec::new(),
    };

    // Namespaces: the ones with a path are joined (all but mnt here: they change nothing of
    // this process's view of files; pid only applies to our children), the rest are new.
    let mut new = CloneFlags::empty();
    let mut join_in_init = Vec::new();
    let mut new_mount_ns = false;
    let mut new_cgroup_ns = false;
    let mut new_uts_ns = false;
    // Joining a pid namespace (a pod's) changes this process's pid_for_children, and then no
    // thread can be made (clone(CLONE_THREAD) is EINVAL): the D-Bus connection of
    // --systemd-cgroup needs threads. Our own is restored once the init is cloned.
    let own_pid_ns = if linux
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.path().is_some() && ns_flag(n.typ()) == CloneFlags::CLONE_NEWPID)
    {
        Some(open_ro(Path::new("/proc/self/ns/pid"))?)
    } else {
        None
    };
    // The user namespace: a new one is made by the clone with the others (and owns them);
    // one given by path is joined by a helper that clones the init (`userns`).
    let userns = super::userns::UserNs::of(&linux)?;
    for ns in linux.namespaces().iter().flatten() {
        let flag = ns_flag(ns.typ());
        if flag == CloneFlags::CLONE_NEWUSER {
            if ns.path().is_none() {
                new |= flag;
            }
            continue;
        }
        if flag == super::timens::CLONE_NEWTIME && ns.path().is_none() {
            // Not a clone flag (clone's low byte is the exit signal): the init makes it.
            continue;
        }
        match ns.path() {
            Some(p) => {
                let fd = open_ro(p)?;
                if flag == CloneFlags::CLONE_NEWNS {
                    join_in_init.push((fd, flag));
                } else {
                    nix::sched::setns(&fd, flag)
                        .map_err(|e| format!("setns {}: {e}", p.display()))?;
                }
                if flag == CloneFlags::CLONE_NEWNS {
                    new_mount_ns = true;
                }
            }
            None if flag == CloneFlags::CLONE_NEWCGROUP => new_cgroup_ns = true,
            None => {
                new |= flag;
                if flag == CloneFlags::CLONE_NEWNS {
                    new_mount_ns = true;
                }
                if flag == CloneFlags::CLONE_NEWUTS {
                    new_uts_ns = true;
                }
            }
        }
    }

    let (go_r, go_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (st_r, st_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let plan = InitPlan {
        spec: spec.clone(),
        rootfs: bundle.rootfs.clone(),
        join: join_in_init,
        new_mount_ns,
        new_cgroup_ns,
        new_uts_ns,
        seccomp,
        preserve_fds: a.preserve_fds,
        userns: userns.any(),
        new_time_ns: super::timens::wants_new(&linux),
        no_pivot: a.no_pivot,
        keyring: (!a.no_new_keyring).then(|| super::keyring::name(&a.id)),
    };
    // The init waits for `start` with the runtime's descriptors; in a pod's PID namespace
    // the pod's processes see it: non-dumpable until it execs (as runc's init).
    crate::launch::undumpable().map_err(|e| e.to_string())?;
    let cloned = match &userns {
        super::userns::UserNs::Join(fd) => super::userns::clone_in(fd, new)?,
        _ => crate::launch::clone::clone_with(new.bits() as libc::c_ulong)
            .map_err(|e| e.to_string())?,
    };
    let pid = match cloned {
        None => {
            drop(go_w);
            drop(st_r);
            super::init::run(
                &plan,
                InitFds {
                    go: go_r,
                    status: st_w,
                    start,
                    console,
                },
            )
        }
        Some(pid) => pid,
    };
    if let Some(fd) = &own_pid_ns {
        nix::sched::setns(fd, CloneFlags::CLONE_NEWPID)
            .map_err(|e| format!("setns back to our own pid namespace: {e}"))?;
    }
    drop(go_r);
    drop(st_w);
    drop(start);
    drop(console);
    undo.pid = Some(pid);
    if let super::userns::UserNs::New = userns {
        super::userns::write_maps(pid, &linux)?;
    }
    if userns.any() {
        // What the init could do for itself as root on the host, but not from inside a user
        // namespace (runc does these from its parent too): rlimits above the hard limit,
        // and a lower oom_score_adj.
        if let Some(p) = spec.process() {
            super::process::rlimits(p, Some(pid))?;
            if let Some(adj) = p.oom_score_adj() {
                let f = format!("/proc/{pid}/oom_score_adj");
                std::fs::write(&f, adj.to_string())
                    .map_err(|e| format!("write {adj} to {f}: {e}"))?;
            }
        }
    }

    // Place it, then let it go on.
    let (dirs, scope) = match &placement {
        Placement::Cgroupfs(_) => {
            for d in &dirs {
                let f = d.join("cgroup.procs");
                std::fs::write(&f, pid.as_raw().to_string())
                    .map_err(|e| format!("write {pid} to {}: {e}", f.display()))?;
            }
            (dirs, None)
        }
        Placement::Systemd { slice, unit } => {
            let conn = crate::systemd::connect().map_err(|e| e.to_string())?;
            let version = crate::cgroups::detect();
            // v2: systemd's own device filter, from DevicePolicy= and DeviceAllow=.
            let dev_props = match version {
                crate::cgroups::Version::V2 => dev_filter.systemd_properties(),
                crate::cgroups::Version::V1 => None,
            };
            let sspec = crate::systemd::ScopeSpec {
                unit: unit.clone(),
                description: format!("mdrun-oci container {}", a.id),
                slice: slice.clone(),
                pids: vec![pid.as_raw() as u32],
                limits: Default::default(),
                version,
                extra: dev_props.clone().unwrap_or_default(),
            };
            // A slice that does not exist yet is made by systemd, as runc lets it be.
            let started = crate::systemd::scope::start_unchecked(&conn, &sspec)
                .map_err(|e| format!("start scope {unit} in {slice}: {e}"))?;
            undo.scope = Some(unit.clone());
            if version == crate::cgroups::Version::V1 {
                let mut made = Vec::new();
                let joined =
                    super::scope_join::join_all_v1(pid.as_raw(), &started.control_group, &mut made);
                made.reverse();
                undo.cgroup = Some((Vec::new(), made));
                joined?;
            }
            let dirs = crate::cgroups::dirs_of_process(pid.as_raw());
            if let Some(r) = linux.resources() {
                super::update::apply(&dirs, r)?;
            }
            super::update::allow_default_devices(&dirs, &linux_devices)?;
            if dev_props.is_none() && super::update::is_v2(&dirs) {
                // What systemd cannot say: our program on the scope's cgroup.
                dev_filter.attach(&dirs[0], false)?;
            }
            (dirs, Some(unit.clone()))
        }
    };
    let _ = nix::unistd::write(&go_w, b"g");
    drop(go_w);
    let mut report = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(&st_r, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                report.extend_from_slice(&buf[..n]);
                if report == b"R" {
                    break;
                }
            }
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(format!("read the init's status: {e}")),
        }
    }
    match report.split_first() {
        Some((b'R', _)) => {}
        Some((_, msg)) => return Err(String::from_utf8_lossy(msg).into_owned()),
        None => return Err("the container's init died while starting".into()),
    }
    let saved = Saved {
        id: a.id.clone(),
        pid: pid.as_raw(),
        start_time: state::start_time(pid.as_raw()).unwrap_or(0),
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: crate::time::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        ),
        cgroup_dirs: dirs,
        cgroup_parents: undo
            .cgroup
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default(),
        scope,
        annotations: spec.annotations().clone().unwrap_or_default(),
        hooks: spec.hooks().clone(),
        keyring: plan.keyring.clone(),
        devices: linux_devices,
    };
    saved.save(&cli.root)?;
    let doc = saved.document(state::Status::Created);
    if let Some(h) = spec.hooks() {
        // runtime-tools checks that these hooks see "created" (the init is ready).
        let creating = doc.clone();
        hooks::run_all("createRuntime", h.create_runtime().as_ref(), &creating)?;
        hooks::run_all("createContainer", h.create_container().as_ref(), &creating)?;
    }
    if let Some(pf) = &a.pid_file {
        write_pid_file(pf, pid.as_raw())?;
    }
    // Done: the container is the state directory and its init now.
    undo.pid = None;
    undo.cgroup = None;
    undo.scope = None;
    undo.dir = None;
    Ok(Created { saved })
}

pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let tmp = path.with_extension("mdrun-oci-tmp");
    std::fs::write(&tmp, pid.to_string()).map_err(|e| format!("write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("rename to {}: {e}", path.display()))
}
