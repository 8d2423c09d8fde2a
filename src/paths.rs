//! Where mdrun keeps things. Data (images, layers, write layers, volumes, records of
//! containers) under `root` (default /var/lib/mdrun); runtime state under `run_root`
//! (default /run/mdrun).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub run_root: PathBuf,
}

impl Paths {
    pub fn new(root: impl Into<PathBuf>, run_root: impl Into<PathBuf>) -> Self {
        Paths {
            root: root.into(),
            run_root: run_root.into(),
        }
    }
    /// The paths of the store a command works on, its directories made (or tightened to)
    /// root's alone first: see [`crate::private_dirs`].
    pub fn open(
        root: impl Into<PathBuf>,
        run_root: impl Into<PathBuf>,
    ) -> crate::error::Result<Self> {
        let paths = Paths::new(root, run_root);
        crate::private_dirs::secure_store(&paths)?;
        Ok(paths)
    }
    /// Unpacked read-only layers: `<root>/layers/<layer-id>`.
    pub fn layers(&self) -> PathBuf {
        self.root.join("layers")
    }
    /// Image descriptions: `<root>/images/<image-id>.json`, plus `<root>/images/tags.json`.
    pub fn images(&self) -> PathBuf {
        self.root.join("images")
    }
    /// Scratch space for imports, on the same filesystem as `layers` so a rename finishes them.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// An empty directory: the second lower layer of the read-only overlay of its own
    /// binary that `exec` runs from (`sealed_exe`).
    pub fn exe_lower(&self) -> PathBuf {
        self.root.join("exe-lower")
    }
    pub fn volumes(&self) -> PathBuf {
        self.root.join("volumes")
    }
    /// Per-container data: `<root>/containers/<id>/{upper,work,config.json}`.
    pub fn container(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }
    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }
    /// Per-container runtime state: `<run_root>/<id>/rootfs` is the overlay's mount point
    /// (mounted only inside the container's own mount namespace).
    pub fn runtime(&self, id: &str) -> PathBuf {
        self.run_root.join(id)
    }
    pub fn volume(&self, name: &str) -> PathBuf {
        self.volumes().join(name)
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
}
