//! Where a container's processes go, and who enforces its limits: a cgroup mdrun makes
//! itself (`cgroupfs`), or a transient systemd scope `md-<id>.scope` created over D-Bus
//! (`systemd`), inside which cgroups-rs still applies the limits.
//!
//! With systemd, the scope starts with the container's init in it (PIDs=), carries the
//! limits as properties (so `systemctl status` shows them and systemd enforces them on the
//! whole scope), and is delegated (Delegate=yes): mdrun then makes the container's own
//! cgroup `<scope>/mdrun-<id>` inside it (named as in cgroupfs mode: `mdrun ps`, `stop` and
//! `kill` recognise a container's init by the id in its cgroup path), moves the init there
//! and applies the same limits through the same [`cgroups::Backend`] as in cgroupfs mode.
//! The init is still waiting for its go-ahead during all of this, so the command never runs
//! unplaced.

use crate::cgroups::{self, CgroupError, CgroupGuard};
use crate::config::{CgroupManagerSetting, GlobalConfig};
use crate::spec::Limits;
use crate::state::CgroupManager;
use crate::systemd::{self, ScopeSpec, SystemdError};
use std::time::Duration;

mod oom;
pub use oom::OomWatch;

/// Why a container could not be placed: its cgroup (made by mdrun, or inside its scope), or
/// its scope. Converts into the crate's error as the one of the two it is.
#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Systemd(#[from] SystemdError),
}

type Result<T> = std::result::Result<T, PlacementError>;

/// What `place` needs to know about the container.
pub struct Request<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub command: &'a [String],
    pub limits: &'a Limits,
    pub cgroup_parent: Option<&'a str>,
    /// The init, already cloned and waiting for its go-ahead.
    pub pid: i32,
}

/// A placed container: its cgroup (removed on drop unless the caller disarms it) and, with
/// the systemd manager, the scope's unit name.
pub struct Placed {
    pub cgroup: CgroupGuard,
    pub scope: Option<String>,
    /// How long systemd took to start the scope (StartTransientUnit and its job).
    pub scope_start: Option<Duration>,
    /// With systemd, which removes the cgroup as soon as it empties: OOM kills as they
    /// happen (see [`OomWatch`]). Ask it rather than the cgroup once the container ended.
    pub oom: Option<OomWatch>,
    /// Where the init still has to go, by itself (see [`place_in_entering`]); None: it is
    /// in place.
    pub pending: Option<cgroups::Entry>,
}

/// The container's cgroup directory name: under its parent (cgroupfs) or its scope.
pub fn cgroup_name(id: &str) -> String {
    format!("mdrun-{id}")
}

/// Which manager to use: the one asked for on the command line (`requested`), else the
/// global config's, `auto` meaning systemd when it is there. When systemd was asked for
/// explicitly and is not there, cgroupfs is used and the second value says so in one line.
pub fn choose(
    requested: Option<CgroupManagerSetting>,
    global: &GlobalConfig,
) -> (CgroupManager, Option<String>) {
    choose_with(requested, global, systemd::available)
}

fn choose_with(
    requested: Option<CgroupManagerSetting>,
    global: &GlobalConfig,
    available: impl Fn() -> bool,
) -> (CgroupManager, Option<String>) {
    match requested.unwrap_or(global.cgroup_manager) {
        CgroupManagerSetting::Cgroupfs => (CgroupManager::Cgroupfs, None),
        CgroupManagerSetting::Auto if available() => (CgroupManager::Systemd, None),
        CgroupManagerSetting::Auto => (CgroupManager::Cgroupfs, None),
        CgroupManagerSetting::Systemd if available() => (CgroupManager::Systemd, None),
        CgroupManagerSetting::Systemd => (
            CgroupManager::Cgroupfs,
            Some(
                "systemd is not available (PID 1 is not systemd or the system bus does not \
                 answer): using the cgroupfs cgroup manager"
                    .to_string(),
            ),
        ),
    }
}

/// cgroupfs: the container's cgroup, made with its limits before the init is cloned, so
/// that the init starts inside it ([`cgroups::Entry`]) and nobody pays for migrating it.
/// Finish with [`place_prepared`]. With systemd there is nothing to make yet: the scope is
/// created around the init's pid ([`place_in`]).
pub fn prepare(manager: CgroupManager, req: &Request) -> Result<Option<CgroupGuard>> {
    match manager {
        CgroupManager::Cgroupfs => make_cgroup(req).map(Some),
        CgroupManager::Systemd => Ok(None),
    }
}

fn make_cgroup(req: &Request) -> Result<CgroupGuard> {
    let backend = cgroups::backend();
    let cg = backend.create(req.cgroup_parent, &cgroup_name(req.id), req.limits)?;
    Ok(CgroupGuard::new(cg))
}

/// The init `pid`, cloned with the entry of `cgroup` (from [`prepare`]), is placed: moved
/// in here unless it `entered` by itself.
pub fn place_prepared(cgroup: CgroupGuard, pid: i32, entered: bool) -> Result<Placed> {
    if !entered {
        cgroup.add_process(pid)?;
    }
    Ok(Placed {
        cgroup,
        scope: None,
        scope_start: None,
        oom: None,
        pending: None,
    })
}

/// Place with the default slice (machine.slice). See [`place_in`].
pub fn place(manager: CgroupManager, req: &Request) -> Result<Placed> {
    place_in(manager, req, &GlobalConfig::default().slice)
}

/// Put the waiting init `req.pid` into its cgroup (and with systemd, its scope in `slice`),
/// limits applied. On error nothing is left: no scope, no cgroup (the init itself is the
/// caller's to kill).
pub fn place_in(manager: CgroupManager, req: &Request, slice: &str) -> Result<Placed> {
    match manager {
        CgroupManager::Cgroupfs => place_prepared(make_cgroup(req)?, req.pid, false),
        CgroupManager::Systemd => place_systemd(req, slice, false),
    }
}

/// Like [`place_in`], but on cgroup v1 with systemd the init is not moved from its scope
/// into its own cgroup there: `Placed::pending` holds that cgroup's `tasks` files for the
/// init to write `0` to itself (a cgroup.procs migration waits for an RCU grace period, see
/// [`cgroups::Entry`]). The caller hands them over ([`crate::launch::Spawned::send_entry`]).
pub fn place_in_entering(manager: CgroupManager, req: &Request, slice: &str) -> Result<Placed> {
    match manager {
        CgroupManager::Cgroupfs => place_in(manager, req, slice),
        CgroupManager::Systemd => place_systemd(req, slice, true),
    }
}

fn place_systemd(req: &Request, slice: &str, late_entry: bool) -> Result<Placed> {
    let backend = cgroups::backend();
    let spec = ScopeSpec {
        unit: systemd::scope_name(req.id),
        description: systemd::properties::description(
            req.name,
            crate::ids::short(req.id),
            req.command,
        ),
        slice: slice.to_string(),
        pids: vec![req.pid as u32],
        limits: req.limits.clone(),
        version: backend.version(),
        extra: Vec::new(),
    };
    let conn = systemd::connect()?;
    let scope = systemd::scope::start(&conn, &spec)?;
    let child = cgroup_name(req.id);
    // v1 only: on v2 the init must leave the scope's own cgroup before the limits go on
    // below it (create_around), and a process cannot move only itself there.
    let late = late_entry && backend.version() == cgroups::Version::V1;
    let made = if late {
        backend
            .create(Some(&scope.control_group), &child, req.limits)
            .and_then(|cg| match cg.entry() {
                Ok(entry) => Ok((cg, entry)),
                Err(e) => {
                    let _ = cg.destroy();
                    Err(e)
                }
            })
    } else {
        backend
            .create_around(&scope.control_group, &child, req.pid, req.limits)
            .map(|cg| (cg, None))
    };
    match made {
        Ok((cg, pending)) => Ok(Placed {
            oom: OomWatch::start(backend.version(), &cg.paths()),
            cgroup: CgroupGuard::new(cg),
            scope: Some(scope.unit.clone()),
            scope_start: Some(scope.start_latency),
            pending,
        }),
        Err(e) => {
            scope.abandon();
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(m: CgroupManagerSetting) -> GlobalConfig {
        GlobalConfig {
            cgroup_manager: m,
            ..GlobalConfig::default()
        }
    }

    #[test]
    fn auto_follows_availability_silently() {
        assert_eq!(
            choose_with(None, &global(CgroupManagerSetting::Auto), || true),
            (CgroupManager::Systemd, None)
        );
        assert_eq!(
            choose_with(None, &global(CgroupManagerSetting::Auto), || false),
            (CgroupManager::Cgroupfs, None)
        );
    }

    #[test]
    fn the_flag_overrides_the_config() {
        let g = global(CgroupManagerSetting::Systemd);
        assert_eq!(
            choose_with(Some(CgroupManagerSetting::Cgroupfs), &g, || true),
            (CgroupManager::Cgroupfs, None)
        );
        let g = global(CgroupManagerSetting::Cgroupfs);
        assert_eq!(
            choose_with(Some(CgroupManagerSetting::Systemd), &g, || true),
            (CgroupManager::Systemd, None)
        );
    }

    #[test]
    fn asking_for_systemd_without_it_falls_back_with_one_line() {
        let (m, warning) = choose_with(
            Some(CgroupManagerSetting::Systemd),
            &global(CgroupManagerSetting::Auto),
            || false,
        );
        assert_eq!(m, CgroupManager::Cgroupfs);
        let warning = warning.expect("a warning");
        assert!(warning.contains("systemd is not available"), "{warning}");
        assert!(!warning.contains('\n'));
        let (m, warning) = choose_with(None, &global(CgroupManagerSetting::Systemd), || false);
        assert_eq!(m, CgroupManager::Cgroupfs);
        assert!(warning.is_some());
    }
}
