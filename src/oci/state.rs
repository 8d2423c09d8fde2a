//! A container's state: `<root>/<id>/state.json` (what `create` decided), the init's pid
//! and start time, and `start.sock` while it waits for `start`. The runtime-spec status is
//! read from these and from the init itself, never stored.

use super::Result;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const START_SOCKET: &str = "start.sock";
const STATE_FILE: &str = "state.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub id: String,
    pub pid: i32,
    /// Field 22 of /proc/<pid>/stat: tells our init from a later process with its pid.
    pub start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    /// The container's cgroup directories (one a hierarchy).
    pub cgroup_dirs: Vec<PathBuf>,
    /// Parent directories `create` made, removed at delete when empty (deepest first).
    pub cgroup_parents: Vec<PathBuf>,
    /// The systemd scope, with --systemd-cgroup.
    pub scope: Option<String>,
    pub annotations: HashMap<String, String>,
    /// The poststart/poststop hooks, kept for `start` and `delete` (the bundle may be gone).
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The session keyring the init joined, which `exec` joins too (none: the caller's).
    #[serde(default)]
    pub keyring: Option<String>,
    /// `linux.devices`: their nodes stay allowed when `update` replaces the device rules.
    #[serde(default)]
    pub devices: Vec<oci_spec::runtime::LinuxDevice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid container id {id:?}"))
    }
}

pub fn dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Has `id` a state file under `root` (a container, in whatever status)?
pub fn exists(root: &Path, id: &str) -> bool {
    dir(root, id).join(STATE_FILE).exists()
}

pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); start time is field 22.
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl Saved {
    pub fn load(root: &Path, id: &str) -> Result<Saved> {
        check_id(id)?;
        let path = dir(root, id).join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("container {id} does not exist"),
            _ => format!("read {}: {e}", path.display()),
        })?;
        serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let d = dir(root, &self.id);
        let tmp = d.join(".state.json.tmp");
        let text = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        // 0600: it holds the hooks' environment (runc's state.json is 0600 too).
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&text)
        };
        write().map_err(|e| format!("write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, d.join(STATE_FILE))
            .map_err(|e| format!("rename {}: {e}", tmp.display()))
    }

    /// Is our init still there (not a zombie, not a later process with its pid)?
    pub fn alive(&self) -> bool {
        self.pid > 0 && start_time(self.pid) == Some(self.start_time)
    }

    pub fn status(&self, root: &Path) -> Status {
        if !self.alive() {
            return Status::Stopped;
        }
        if dir(root, &self.id).join(START_SOCKET).exists() {
            return Status::Created;
        }
        if super::pause::frozen(&self.cgroup_dirs) {
            return Status::Paused;
        }
        Status::Running
    }

    /// The runtime-spec state document.
    pub fn document(&self, status: Status) -> serde_json::Value {
        let mut doc = serde_json::json!({
            "ociVersion": super::SPEC_VERSION,
            "id": self.id,
            "status": status.as_str(),
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": "",
        });
        if status != Status::Stopped {
            doc["pid"] = self.pid.into();
        } else {
            doc["pid"] = 0.into();
        }
        if !self.annotations.is_empty() {
            doc["annotations"] = serde_json::to_value(&self.annotations).unwrap_or_default();
        }
        doc
    }
}

pub fn print_state(root: &Path, id: &str) -> Result<()> {
    let saved = Saved::load(root, id)?;
    let doc = saved.document(saved.status(root));
    super::out!(
        "{}",
        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
    );
    Ok(())
}
