//! What mdrun records about each container: `<root>/containers/<id>/container.json`,
//! written atomically into room kept for it (see `record_file`), plus the lock that keeps
//! names unique.

mod health;
mod liveness;
mod lock;
mod names;
mod record;
mod record_fields;
mod record_file;
mod resolve;
mod scan;
mod store_id;

pub use health::{
    Health, HealthResult, HealthStatus, LOG_LEN as HEALTH_LOG_LEN, OUTPUT_MAX as HEALTH_OUTPUT_MAX,
};
pub use liveness::Liveness;
pub use lock::StoreLock;
pub use names::generate_name;
pub use record::{now, Record, Status};
pub use record_fields::{CgroupManager, ExitStatus, LogDriver};
pub use resolve::{is_full_id, pick, resolve};
pub use scan::scan;
pub use store_id::StoreId;

/// A record for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) use record::tests::sample as sample_record;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("parse {path}: {source}")]
    Json {
        path: std::path::PathBuf,
        source: serde_json::Error,
    },
    #[error("the name {name:?} is already in use by container {id}")]
    NameInUse { name: String, id: String },
    #[error("{path} does not hold a store id (16 hex digits): remove it, and the next `mdrun run` makes a new one")]
    BadStoreId { path: std::path::PathBuf },
    #[error("no such container {}", crate::quote::quoted(.query))]
    NoSuchContainer { query: String },
    #[error("container id prefix {} is ambiguous, it matches: {}", crate::quote::quoted(.query), .matches.join(", "))]
    AmbiguousPrefix { query: String, matches: Vec<String> },
    #[error("container {name:?} is running: stop it first, or use `mdrun rm -f`")]
    Running { name: String },
    #[error("container {name:?} is still being started: try again, or use `mdrun rm -f`")]
    Starting { name: String },
    #[error("container {name:?} is already being started by mdrun (pid {pid})")]
    AlreadyStarting { name: String, pid: i32 },
    #[error("container {name:?} is not running")]
    NotRunning { name: String },
    /// Its supervisor did not record the end of a container that has exited.
    #[error("container {name:?} ended, but its supervisor (pid {pid}) did not record it within {secs} s")]
    NotRecorded { name: String, pid: i32, secs: u64 },
    #[error("container {name:?} is already paused")]
    AlreadyPaused { name: String },
    #[error("container {name:?} is not paused")]
    NotPaused { name: String },
    #[error("container {name:?} has no freezer (none of its cgroups has cgroup.freeze or freezer.state)")]
    NoFreezer { name: String },
    #[error("no such container or image {}", crate::quote::quoted(.query))]
    NoSuchObject { query: String },
    #[error("container {name:?} (init pid {pid}) is still running {secs} s after SIGKILL")]
    StillRunning { name: String, pid: i32, secs: u64 },
    /// Signalling the container's init failed.
    #[error("{step} {pid} (init of container {name:?}): {source}")]
    Signal {
        step: &'static str,
        name: String,
        pid: i32,
        source: std::io::Error,
    },
}

pub(crate) fn io(
    step: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io { step, path, source }
}
