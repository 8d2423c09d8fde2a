//! Freezing a running container while `commit` reads its write layer, as `docker commit`
//! pauses it: the layer then cannot change half-way through (a file half rewritten, a
//! directory renamed between two reads).
//!
//! The freezer is the container's cgroup: `freezer.state` on v1, `cgroup.freeze` on v2.
//! A container whose cgroups have neither (a manager that did not make a freezer cgroup)
//! is committed while it runs.
//!
//! A SIGKILLed `commit` must not leave the container frozen for good, so before freezing
//! we start a watchdog, `sh`, that waits for its stdin to close and then thaws the
//! cgroup: our end of that pipe closes when we are done or when we die, however we die.

use crate::error::{Error, IoContext, Result};
use crate::state::Record;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// How one cgroup version freezes.
struct Knob {
    /// The file written to freeze and thaw.
    control: PathBuf,
    freeze: &'static str,
    thaw: &'static str,
}

impl Knob {
    fn find(record: &Record) -> Option<Knob> {
        for dir in &record.cgroup_paths {
            if dir.join("freezer.state").exists() {
                return Some(Knob {
                    control: dir.join("freezer.state"),
                    freeze: "FROZEN",
                    thaw: "THAWED",
                });
            }
        }
        record.cgroup_paths.iter().find_map(|dir| {
            dir.join("cgroup.freeze").exists().then(|| Knob {
                control: dir.join("cgroup.freeze"),
                freeze: "1",
                thaw: "0",
            })
        })
    }

    /// Whether the kernel says the freeze is complete (every task stopped).
    fn is_frozen(&self) -> bool {
        if self.freeze == "FROZEN" {
            read(&self.control).trim() == "FROZEN"
        } else {
            let events = self.control.with_file_name("cgroup.events");
            read(&events).lines().any(|l| l.trim() == "frozen 1")
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Thaws the container when dropped.
pub struct Frozen {
    knob: Knob,
    watchdog: Option<Child>,
}

/// Freezes `record`'s container; `None` when its cgroups have no freezer.
pub fn freeze(record: &Record) -> Result<Option<Frozen>> {
    let Some(knob) = Knob::find(record) else {
        return Ok(None);
    };
    // `$1` is the file, `$2` the value: no quoting of paths into the script.
    let watchdog = Command::new("/bin/sh")
        .args([
            "-c",
            "cat >/dev/null; printf %s \"$2\" >\"$1\"",
            "mdrun-thaw",
        ])
        .arg(&knob.control)
        .arg(knob.thaw)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ctx("start the thaw watchdog for", &knob.control)?;
    let frozen = Frozen {
        knob,
        watchdog: Some(watchdog),
    };
    std::fs::write(&frozen.knob.control, frozen.knob.freeze).ctx("write", &frozen.knob.control)?;
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    while !frozen.knob.is_frozen() {
        if Instant::now() > deadline {
            return Err(Error::FreezeTimeout {
                name: record.name.clone(),
                path: frozen.knob.control.clone(),
                secs: FREEZE_TIMEOUT.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(Some(frozen))
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.knob.control, self.knob.thaw);
        if let Some(mut child) = self.watchdog.take() {
            // Closing its stdin lets it finish (it thaws again: harmless).
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.flush();
            }
            let _ = child.wait();
        }
    }
}
