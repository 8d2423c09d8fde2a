//! Running a prepared container: clone its init, place it (cgroup or scope), let it
//! exec, record it running, relay its output, record how it ended, clean up. Shared by an
//! attached `run`, the supervisor of `run -d`, and `start`.

use super::dirs::ContainerDirs;
use super::events;
use crate::error::{Error, Result};
use crate::launch::{self, signals, Attach, LaunchPlan};
use crate::logs;
use crate::placement;
use crate::state::{self, CgroupManager, ExitStatus, Record, Status};
use nix::unistd::{fork, ForkResult};
use std::os::fd::OwnedFd;

/// Seconds from a SIGTERM to mdrun to a SIGKILL of the container, as `docker stop`.
pub(super) const DEFAULT_STOP_TIMEOUT: u64 = 10;

/// Everything decided before the container starts ([`super::create`], [`super::start`]).
pub struct Prepared {
    pub record: Record,
    pub dirs: ContainerDirs,
    pub plan: LaunchPlan,
    pub manager: CgroupManager,
    /// The systemd slice for the scope (systemd manager).
    pub slice: String,
    pub interactive: bool,
    /// `--sdnotify container`: the container signals readiness itself.
    pub sdnotify_container: bool,
    /// ... through this relay (under a Type=notify unit).
    pub notify: Option<crate::systemd::NotifyProxy>,
    /// On a bridge network: its lease and ports (given back when this is dropped).
    pub net: Option<crate::network::Planned>,
}

/// Attached: we are the supervisor; returns the command's exit code.
pub fn run_attached(p: Prepared) -> Result<i32> {
    let status = launch_and_wait(p, true, |_| {})?;
    // As the main process of a Type=notify service (mdrun@.service), a stop that systemd
    // asked for and that ended the container is a success, not a failure to restart from;
    // a container that died on its own still gives its own status (Restart=on-failure).
    if launch::stop_requested() && std::env::var_os(crate::systemd::NOTIFY_SOCKET).is_some() {
        return Ok(0);
    }
    Ok(status.code())
}

/// Detached (`run -d`, `start`): fork a supervisor that outlives us, return once the
/// command runs (or failed to start, with its error).
pub fn run_detached(p: Prepared) -> Result<()> {
    // Forked before anything starts threads (no D-Bus yet): see launch::clone.
    let (report_r, report_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(launch::sys("pipe"))?;
    // SAFETY: mdrun is single-threaded here; the child only runs mdrun's own code.
    match unsafe { fork() }.map_err(launch::sys("fork supervisor"))? {
        ForkResult::Child => {
            drop(report_r);
            supervisor(p, report_w)
        }
        ForkResult::Parent { child } => {
            drop(report_w);
            // The bus handshake begun on a shared socket is the supervisor's to finish.
            crate::systemd::forget_handshake();
            let mut p = p;
            // The supervisor owns the container's directories and lease now.
            p.dirs.keep();
            if let Some(net) = &mut p.net {
                net.keep();
            }
            let report = read_report(&report_r);
            match report {
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = nix::sys::wait::waitpid(child, None);
                    Err(e)
                }
            }
        }
    }
}

/// The detached container's supervisor: its own session, stdio on /dev/null, reports to the
/// `run -d` that forked it once the command runs, then waits for it to end.
fn supervisor(p: Prepared, report: OwnedFd) -> ! {
    let _ = nix::unistd::setsid();
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 onto standard descriptor numbers.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    let mut report = Some(report);
    // The claim passes to us: the `run -d` (or `start`) that forked us returns soon.
    let mut p = p;
    p.record.supervisor_pid = Some(std::process::id() as i32);
    p.record.started = Some(state::now());
    let claimed = p.record.save_locked(p.dirs.containers(), &p.dirs.data);
    let result = claimed.map_err(Error::from).and_then(|()| {
        launch_and_wait(p, false, |_| {
            if let Some(r) = report.take() {
                let _ = nix::unistd::write(&r, &[0u8]);
            }
        })
    });
    let code = match result {
        Ok(_) => 0,
        Err(e) => {
            if let Some(r) = report.take() {
                let mut msg = vec![e.exit_code() as u8];
                msg.extend_from_slice(e.to_string().as_bytes());
                let _ = nix::unistd::write(&r, &msg);
            }
            e.exit_code()
        }
    };
    std::process::exit(code)
}

fn read_report(fd: &OwnedFd) -> Result<()> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out == [0u8] {
                    return Ok(());
                }
            }
            Err(nix::Error::EINTR) => continue,
            Err(_) => break,
        }
    }
    match out.split_first() {
        Some((0, _)) => Ok(()),
        Some((code, msg)) => Err(Error::Exec {
            code: *code as i32,
            message: String::from_utf8_lossy(msg).into_owned(),
        }),
        None => Err(Error::Usage(
            "the container's supervisor died while starting it".into(),
        )),
    }
}

/// How often a start is tried again when the cgroup mdrun made for the init is removed before
/// the init could enter it. On a host where systemd is PID 1, a cgroup outside a delegated
/// subtree (cgroupfs mode with a `cgroup_parent` of one's own) may be removed by systemd
/// whenever it is empty, as it is between its mkdir and the init's entry: pruning a unit's
/// cgroup trims every empty cgroup below it in every hierarchy (unit_prune_cgroup,
/// cg_trim_everywhere; for the root slice, everything under `/`), and
/// systemd.io/CGROUP_DELEGATION says as much. Seen in the scenarios, right after a scope ended.
const VANISHED_RETRIES: u32 = 2;

/// Clone the init, place it and let it exec. With cgroupfs the cgroup is made first and the
/// init enters it by itself; if the cgroup is gone by then, the start is tried again.
fn spawn_placed(
    plan: &launch::LaunchPlan,
    manager: CgroupManager,
    slice: &str,
    req: &mut placement::Request<'_>,
    data: &std::path::Path,
    net: Option<&crate::network::Planned>,
) -> Result<(
    launch::Running,
    placement::Placed,
    Option<crate::network::Attached>,
)> {
    let mut tries = 0;
    loop {
        // cgroupfs: the cgroup first, so that the init starts in it; dropped on an error,
        // it goes after the init (declared before it).
        let (early, entry) = match prepare_entry(manager, req, tries == 0) {
            Ok(prepared) => prepared,
            // Removed between its mkdir and the opening of its files (ENOENT): made again,
            // as when the init finds it gone.
            Err(e) if tries < VANISHED_RETRIES && cgroup_vanished(&e) => {
                tries += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let retry_allowed = early.is_some() && tries < VANISHED_RETRIES;
        if tries == 0 {
            crate::stop_point::reached("run:cgroup-made");
        }
        let mut spawned = launch::spawn(plan, entry.as_ref(), manager == CgroupManager::Systemd)?;
        drop(entry);
        req.pid = spawned.pid.as_raw();
        crate::stop_point::reached("run:spawned");
        // Its veth, address and ports while the init builds its root filesystem.
        let attached = net
            .map(|n| crate::network::attach(n, req.pid))
            .transpose()?;
        if tries == 0 {
            // While the init builds its root filesystem: room for the record's next writes,
            // so that the end is recorded even if the command fills the disk.
            Record::keep_room(data)?;
        }
        // With systemd, the init builds its root filesystem while we make its scope.
        let mut placed = match early {
            Some(cg) => placement::place_prepared(cg, req.pid, spawned.entered)?,
            None => placement::place_in_entering(manager, req, slice)?,
        };
        if let Some(entry) = placed.pending.take() {
            spawned.send_entry(&entry)?;
        }
        crate::stop_point::reached("run:placed");
        match spawned.release() {
            Ok(running) => return Ok((running, placed, attached)),
            Err(e) if retry_allowed && e.cgroup_gone() => {
                // `placed` goes (what is left of the cgroup with it), and we start over.
                tries += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// cgroupfs: the container's cgroup with its limits, and the files the init enters it by.
fn prepare_entry(
    manager: CgroupManager,
    req: &placement::Request<'_>,
    first: bool,
) -> Result<(
    Option<crate::cgroups::CgroupGuard>,
    Option<crate::cgroups::Entry>,
)> {
    let early = placement::prepare(manager, req)?;
    if first && early.is_some() {
        crate::stop_point::reached("run:cgroup-created");
    }
    let entry = match &early {
        Some(cg) => cg.entry()?,
        None => None,
    };
    Ok((early, entry))
}

fn cgroup_vanished(e: &Error) -> bool {
    matches!(e, Error::Cgroup(c) if c.vanished())
}

fn launch_and_wait(
    mut p: Prepared,
    attached: bool,
    on_running: impl FnOnce(&Record),
) -> Result<ExitStatus> {
    let record = &mut p.record;
    // Never ended before: its first start (`start` of an exited one keeps `finished`).
    let first_start = record.finished.is_none();
    signals::block().map_err(launch::sys("block signals"))?;
    let mut req = placement::Request {
        id: &record.id,
        name: &record.name,
        command: &record.command,
        limits: &record.limits,
        cgroup_parent: record.cgroup_parent.as_deref(),
        pid: 0,
    };
    let (running, placed, net_link) = spawn_placed(
        &p.plan,
        p.manager,
        &p.slice,
        &mut req,
        &p.dirs.data,
        p.net.as_ref(),
    )?;
    let oom = placed.oom;
    let cgroup = placed.cgroup;
    let scope = placed.scope;

    record.pid = Some(running.pid.as_raw());
    record.supervisor_pid = Some(std::process::id() as i32);
    record.status = Status::Running;
    record.started = Some(state::now());
    record.finished = None;
    record.exit = None;
    record.oom_killed = false;
    record.cgroup_paths = cgroup.paths();
    record.cgroup_created_parents = cgroup.created_parents();
    record.scope = scope;
    record.cgroup_manager = p.manager;
    let health_checked = record
        .spec
        .as_ref()
        .is_some_and(|s| s.healthcheck.is_some());
    record.health = health_checked.then(state::Health::default);
    p.dirs.keep();
    record.save_locked(p.dirs.containers(), &p.dirs.data)?;
    // Under a Type=notify unit (mdrun@.service) we stay as the main process: the
    // supervisor that exits with the container's status.
    let me = std::process::id() as i32;
    if p.sdnotify_container {
        crate::systemd::notify_main_pid(me);
    } else {
        crate::systemd::notify_ready(me);
    }
    on_running(record);
    super::health::start_checks(record);
    // After the go-ahead and the parent's report: off the path to the container's exec.
    if first_start {
        events::emit(p.dirs.containers(), record, "create", &[]);
    }
    events::emit(p.dirs.containers(), record, "start", &[]);

    let ctx = logs::Context {
        id: record.id.clone(),
        name: record.name.clone(),
        unit: record.scope.clone(),
        pid: running.pid.as_raw(),
        dir: p.dirs.data.clone(),
    };
    let mut sink = logs::open(record.log_driver, &ctx).unwrap_or_else(|_| Box::new(logs::Discard));
    let stop_secs = record
        .spec
        .as_ref()
        .and_then(|s| s.stop_timeout)
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let attach = Attach {
        stdin: attached && p.interactive,
        stop_timeout: Some(std::time::Duration::from_secs(stop_secs)),
        notify: p.notify.as_ref(),
        echo: attached,
        sink: sink.as_mut(),
    };
    let status = launch::supervise(running, attach).map_err(launch::sys("wait for container"));
    signals::unblock();
    let status = status?;
    // Its ports first (`Attached::detach`). Its lease goes below, its veth with its
    // network namespace.
    if let Some(link) = net_link {
        link.detach();
    }
    crate::systemd::notify_stopping();
    super::health::stop_checks(record);

    // In a scope, systemd may have removed the cgroup already: the watch saw it happen.
    record.oom_killed = oom.is_some_and(|w| w.oom_killed()) || cgroup.oom_killed();
    record.status = Status::Exited;
    record.finished = Some(state::now());
    record.exit = Some(status);
    record.pid = None;
    record.supervisor_pid = None;
    let cgroup_result = cgroup.destroy();
    if let Some(n) = p.net.take() {
        // The networks it was connected to while it ran (`network connect`), then its own.
        crate::network::connect::release_extras(
            &crate::network::connect::Target {
                root: &n.root,
                containers: &n.containers,
                id: &n.id,
                name: &record.name,
                data: &p.dirs.data,
            },
            true,
        );
    }
    p.dirs.remove_runtime();
    if record.auto_remove {
        p.dirs.remove();
        super::anon_volumes::remove_anonymous_beside(&p.dirs.data, &record.id, &record.volumes)?;
    } else {
        save_end(record, p.dirs.containers(), &p.dirs.data)?;
    }
    if record.oom_killed {
        events::emit(p.dirs.containers(), record, "oom", &[]);
    }
    let code = ("exitCode", status.code().to_string());
    events::emit(p.dirs.containers(), record, "die", &[code]);
    if record.auto_remove {
        events::emit(p.dirs.containers(), record, "destroy", &[]);
    }
    cgroup_result?;
    Ok(status)
}

/// Record the end over the record as it is now: other commands change it while the
/// container runs (`rename`, `update` and `update --restart`, `mdrun stop`'s mark, the
/// healthcheck's results, a restart's flag), and only the end's own fields are ours.
fn save_end(
    record: &mut Record,
    containers: &std::path::Path,
    dir: &std::path::Path,
) -> Result<()> {
    let _lock = state::StoreLock::acquire(containers)?;
    if let Ok(mut current) = Record::load(dir) {
        current.status = record.status;
        current.finished = record.finished;
        current.exit = record.exit;
        current.oom_killed = record.oom_killed;
        current.pid = record.pid;
        current.supervisor_pid = record.supervisor_pid;
        *record = current;
    }
    record.save(dir)?;
    Ok(())
}
