//! Freezing a running container while `commit` reads its write layer, as `docker commit`
//! pauses it: the layer then cannot change half-way through (a file half rewritten, a
//! directory renamed between two reads).
//!
//! The freezer is the container's cgroup: `freezer.state` on v1, `cgroup.freeze` on v2,
//! written through cgroups-rs's FreezerController as the backends' `destroy` does. Whether
//! the freeze is complete is read from `freezer.state` on v1 and from `cgroup.events` on
//! v2 (`cgroup.freeze` only says what was asked). A container whose cgroups have neither
//! file (a manager that did not make a freezer cgroup) is committed while it runs.
//!
//! `pause` freezes for good ([`pause`], [`thaw`]; `container::pause`), and [`is_frozen`]
//! says whether a container is paused, whoever froze it (a frozen systemd scope freezes
//! the container's cgroup below it too: v2's `cgroup.events` reports the effective state).
//!
//! A SIGKILLed `commit` must not leave the container frozen for good, so before freezing
//! we start a watchdog, `sh`, that waits for its stdin to close and then thaws the
//! cgroup: our end of that pipe closes when we are done or when we die, however we die.

use super::dirs::write_err;
use super::CgroupError;
use cgroups_rs::fs::freezer::FreezerController;
use cgroups_rs::FreezerState;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// The freezer of one cgroup directory.
struct Knob {
    dir: PathBuf,
    v2: bool,
}

impl Knob {
    /// The first of `cgroup_paths` in a v1 freezer hierarchy, else the first with v2's file.
    fn find(cgroup_paths: &[PathBuf]) -> Option<Knob> {
        let with = |file: &str, v2: bool| {
            cgroup_paths.iter().find_map(|dir| {
                dir.join(file).exists().then(|| Knob {
                    dir: dir.clone(),
                    v2,
                })
            })
        };
        with("freezer.state", false).or_else(|| with("cgroup.freeze", true))
    }

    fn controller(&self) -> FreezerController {
        FreezerController::new(self.dir.clone(), self.dir.clone(), self.v2)
    }

    /// The file written to freeze and thaw, and what thaws.
    fn control(&self) -> (PathBuf, &'static str) {
        match self.v2 {
            true => (self.dir.join("cgroup.freeze"), "0"),
            false => (self.dir.join("freezer.state"), "THAWED"),
        }
    }

    fn freeze(&self) -> Result<(), CgroupError> {
        let (file, _) = self.control();
        let value = if self.v2 { "1" } else { "FROZEN" };
        self.controller()
            .freeze()
            .map_err(write_err(&self.dir, file_name(&file), value))
    }

    fn thaw(&self) {
        let _ = self.controller().thaw();
    }

    /// Whether the kernel says the freeze is complete (every task stopped).
    fn is_frozen(&self) -> bool {
        if self.v2 {
            let events = std::fs::read_to_string(self.dir.join("cgroup.events"));
            events.is_ok_and(|e| e.lines().any(|l| l.trim() == "frozen 1"))
        } else {
            matches!(self.controller().state(), Ok(FreezerState::Frozen))
        }
    }

    /// Paused, as `ps` shows it: v1's `freezer.state` not THAWED (FREEZING counts: the
    /// freeze was asked for), v2's effective state from `cgroup.events`.
    fn is_paused(&self) -> bool {
        if self.v2 {
            self.is_frozen()
        } else {
            !matches!(self.controller().state(), Ok(FreezerState::Thawed) | Err(_))
        }
    }

    /// Freeze and wait until the kernel says every task stopped; thawed again on time-out.
    fn freeze_and_wait(&self, name: &str) -> Result<(), CgroupError> {
        self.freeze()?;
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        while !self.is_frozen() {
            if Instant::now() > deadline {
                self.thaw();
                return Err(CgroupError::FreezeTimeout {
                    name: name.to_string(),
                    path: self.control().0,
                    secs: FREEZE_TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

/// Is the container whose cgroup directories are `cgroup_paths` paused (frozen, or being
/// frozen)? False when none of them has a freezer.
pub fn is_frozen(cgroup_paths: &[PathBuf]) -> bool {
    Knob::find(cgroup_paths).is_some_and(|k| k.is_paused())
}

/// Freeze the container for good (`mdrun pause`), once the kernel says every task has
/// stopped. Ok(false) when none of `cgroup_paths` has a freezer.
pub fn pause(cgroup_paths: &[PathBuf], name: &str) -> Result<bool, CgroupError> {
    let Some(knob) = Knob::find(cgroup_paths) else {
        return Ok(false);
    };
    knob.freeze_and_wait(name)?;
    Ok(true)
}

/// Thaw the container (`mdrun unpause`, or a paused container that is being stopped).
pub fn thaw(cgroup_paths: &[PathBuf]) -> Result<(), CgroupError> {
    let Some(knob) = Knob::find(cgroup_paths) else {
        return Ok(());
    };
    let (file, value) = knob.control();
    knob.controller()
        .thaw()
        .map_err(write_err(&knob.dir, file_name(&file), value))
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Thaws the container when dropped.
pub struct Frozen {
    knob: Knob,
    watchdog: Option<Child>,
}

/// Freezes the container `name` whose cgroup directories are `cgroup_paths`; `None` when
/// none of them has a freezer.
pub fn freeze(cgroup_paths: &[PathBuf], name: &str) -> Result<Option<Frozen>, CgroupError> {
    let Some(knob) = Knob::find(cgroup_paths) else {
        return Ok(None);
    };
    let (control, thaw) = knob.control();
    // `$1` is the file, `$2` the value: no quoting of paths into the script.
    let watchdog = Command::new("/bin/sh")
        .args([
            "-c",
            "cat >/dev/null; printf %s \"$2\" >\"$1\"",
            "mdrun-thaw",
        ])
        .arg(&control)
        .arg(thaw)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| CgroupError::Io {
            step: "start the thaw watchdog for",
            path: control.clone(),
            source,
        })?;
    let frozen = Frozen {
        knob,
        watchdog: Some(watchdog),
    };
    frozen.knob.freeze_and_wait(name)?;
    Ok(Some(frozen))
}

impl Drop for Frozen {
    fn drop(&mut self) {
        self.knob.thaw();
        if let Some(mut child) = self.watchdog.take() {
            // Closing its stdin lets it finish (it thaws again: harmless).
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.flush();
            }
            let _ = child.wait();
        }
    }
}
