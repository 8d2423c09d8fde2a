//! The container record.

use super::{io, StateError};
use super::{CgroupManager, ExitStatus, LogDriver};
use crate::spec::{Limits, VolumeSpec};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub id: String,
    pub name: String,
    /// The image reference as given, and the id it resolved to.
    pub image: String,
    pub image_id: String,
    /// Layers a `commit` of the stopped container made of its write layer (moved into the
    /// layer store, see `container::commit`), bottom first: its root filesystem is the
    /// image's layers, these, then its (new) write layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// Bytes of file content in `layers`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub layers_size: u64,
    pub command: Vec<String>,
    /// Unix times in seconds.
    pub created: f64,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// The container's init (its PID 1), as the host sees it, while it runs.
    pub pid: Option<i32>,
    /// The mdrun process that waits for the init and records its end (the attached `mdrun`
    /// itself, or the detached container's supervisor).
    #[serde(default)]
    pub supervisor_pid: Option<i32>,
    pub status: Status,
    pub exit: Option<ExitStatus>,
    pub oom_killed: bool,
    pub limits: Limits,
    pub volumes: Vec<VolumeSpec>,
    pub hostname: String,
    pub tty: bool,
    pub auto_remove: bool,
    /// Cgroup directories (one per v1 hierarchy, one on v2).
    pub cgroup_paths: Vec<PathBuf>,
    pub cgroup_parent: Option<String>,
    /// Parent cgroup directories `create` made and `rm` may remove when empty.
    #[serde(default)]
    pub cgroup_created_parents: Vec<PathBuf>,
    #[serde(default = "default_manager")]
    pub cgroup_manager: CgroupManager,
    /// `md-<id>.scope` with the systemd manager.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default = "default_log_driver")]
    pub log_driver: LogDriver,
    #[serde(default)]
    pub detached: bool,
    /// The whole request, so that `start` can run it again.
    #[serde(default)]
    pub spec: Option<crate::spec::ContainerSpec>,
    /// `--restart`: with one, the container runs under a systemd service that starts it
    /// again (`container::supervised`).
    #[serde(default)]
    pub restart_policy: crate::policy::RestartPolicy,
    /// How often the policy started it again (docker's RestartCount).
    #[serde(default)]
    pub restart_count: u32,
    /// It ended, and the policy will start it again: `ps` says "Restarting".
    #[serde(default)]
    pub restart_pending: bool,
    /// `mdrun stop` ended it: an `unless-stopped` container stays down at boot.
    #[serde(default)]
    pub stopped_by_user: bool,
    /// Its healthcheck's results, while it has one (docker's State.Health).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<super::Health>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn default_manager() -> CgroupManager {
    CgroupManager::Cgroupfs
}

fn default_log_driver() -> LogDriver {
    LogDriver::None
}

pub use crate::time::unix_now as now;

impl Record {
    pub fn file(dir: &Path) -> PathBuf {
        dir.join(super::record_file::FILE)
    }

    /// Write atomically (a reader sees the old record or the new one, never a torn one) and
    /// without needing new disk blocks, so that the end of a container that filled the disk
    /// is still recorded: see [`super::record_file`]. Callers hold the store lock (the
    /// record's spare is shared by its writers), or own a directory nobody else knows yet.
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let data = serde_json::to_vec(self).map_err(|source| StateError::Json {
            path: Self::file(dir),
            source,
        })?;
        super::record_file::write(dir, &data)
    }

    /// Make room for the record's next writes in `dir` (see [`super::record_file`]): after
    /// this, saving it needs no new disk blocks.
    pub fn keep_room(dir: &Path) -> Result<(), StateError> {
        super::record_file::keep_room(dir)
    }

    /// `save` under the store lock of `containers_dir`, so that it cannot interleave with
    /// another command's check-then-write of the same record (see [`super::StoreLock`]).
    pub fn save_locked(&self, containers_dir: &Path, dir: &Path) -> Result<(), StateError> {
        let _lock = super::StoreLock::acquire(containers_dir)?;
        self.save(dir)
    }

    /// The record in `dir`. One that does not parse is read once more: a read that
    /// straddled two writes of it may see a mix of both (see [`super::record_file`]).
    pub fn load(dir: &Path) -> Result<Record, StateError> {
        let path = Self::file(dir);
        let read = || std::fs::read(&path).map_err(io("read", &path));
        match serde_json::from_slice(&read()?) {
            Ok(r) => Ok(r),
            Err(_) => {
                serde_json::from_slice(&read()?).map_err(|source| StateError::Json { path, source })
            }
        }
    }

    /// Every record under `containers_dir` (directories without a readable record are skipped:
    /// they belong to a `run` that is still starting or was killed half-way).
    pub fn list(containers_dir: &Path) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(containers_dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter(|e| !super::scan::is_hidden(&e.file_name()))
            .filter_map(|e| Record::load(&e.path()).ok())
            .collect()
    }

    /// Under the store lock: fail when another container has this name.
    pub fn check_name_free(containers_dir: &Path, name: &str) -> Result<(), StateError> {
        match Record::list(containers_dir)
            .into_iter()
            .find(|r| r.name == name)
        {
            Some(r) => Err(StateError::NameInUse {
                name: name.into(),
                id: r.id[..12].into(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A running-looking record for unit tests; callers set what they need.
    pub(crate) fn sample(id: &str, name: &str) -> Record {
        Record {
            id: id.to_string(),
            name: name.to_string(),
            image: "busybox".into(),
            image_id: "f".repeat(64),
            layers: Vec::new(),
            layers_size: 0,
            command: vec!["sleep".into(), "30".into()],
            created: now(),
            started: Some(now()),
            finished: None,
            pid: None,
            supervisor_pid: None,
            status: Status::Running,
            exit: None,
            oom_killed: false,
            limits: Limits::default(),
            volumes: Vec::new(),
            hostname: id.chars().take(12).collect(),
            tty: false,
            auto_remove: false,
            cgroup_paths: Vec::new(),
            cgroup_parent: None,
            cgroup_created_parents: Vec::new(),
            cgroup_manager: CgroupManager::Cgroupfs,
            scope: None,
            log_driver: LogDriver::None,
            detached: false,
            spec: None,
            restart_policy: Default::default(),
            restart_count: 0,
            restart_pending: false,
            stopped_by_user: false,
            health: None,
        }
    }
}
