//! The image store: imported root filesystems as read-only layers shared by containers.
//! (STUB: to be filled in; signatures are the contract.)

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("unknown image {0:?}")]
    Unknown(String),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImageConfig {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Image {
    /// 64 hex digits.
    pub id: String,
    /// `name:tag` references pointing at it.
    pub names: Vec<String>,
    /// Layer ids, bottom first.
    pub layers: Vec<String>,
    /// Seconds since the epoch.
    pub created: u64,
    /// Bytes on disk of its layers.
    pub size: u64,
    pub config: ImageConfig,
}

pub struct Store {
    pub paths: crate::paths::Paths,
}

impl Store {
    pub fn new(paths: crate::paths::Paths) -> Store { Store { paths } }
    /// `NAME[:TAG]`, a full id or a unique id prefix.
    pub fn resolve(&self, _reference: &str) -> Result<Image, ImageError> { todo!() }
    /// Layer directories for overlayfs `lowerdir=`, topmost first.
    pub fn lower_dirs(&self, _image: &Image) -> Vec<PathBuf> { todo!() }
}
