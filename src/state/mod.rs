//! What mdrun records about each container: `<root>/containers/<id>/container.json`,
//! written atomically (temp file + rename), plus the lock that keeps names unique.

mod lock;
mod names;
mod record;

pub use lock::StoreLock;
pub use names::generate_name;
pub use record::{now, Record, Status};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{step} {path}: {source}")]
    Io { step: &'static str, path: std::path::PathBuf, source: std::io::Error },
    #[error("parse {path}: {source}")]
    Json { path: std::path::PathBuf, source: serde_json::Error },
    #[error("the name {name:?} is already in use by container {id}")]
    NameInUse { name: String, id: String },
}

pub(crate) fn io(step: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io { step, path, source }
}
