//! A container's directories: its data directory (write layer, work dir, record) and its
//! runtime directory (the overlay's mount point), made before it starts and removed again
//! if it does not.

use crate::error::{IoContext, Result};
use crate::paths::Paths;
use std::path::PathBuf;

/// A container's directories; removed on drop unless `keep` was called (for an existing
/// container being started again, only the runtime part is removed).
pub struct ContainerDirs {
    pub data: PathBuf,
    pub runtime: PathBuf,
    keep: bool,
    existing: bool,
}

impl ContainerDirs {
    pub fn create(paths: &Paths, id: &str) -> Result<ContainerDirs> {
        let dirs = ContainerDirs {
            data: paths.container(id),
            runtime: paths.runtime(id),
            keep: false,
            existing: false,
        };
        dirs.make()?;
        Ok(dirs)
    }

    /// An exited container's directories, for `start`: its write layer is kept whatever happens.
    pub fn reopen(paths: &Paths, id: &str) -> Result<ContainerDirs> {
        let dirs = ContainerDirs {
            data: paths.container(id),
            runtime: paths.runtime(id),
            keep: false,
            existing: true,
        };
        // A `volatile` overlay (a `--rm` container whose removal was cut short) marks its work
        // dir so that it is not mounted again by mistake: we know what it held, so clear it.
        let _ = std::fs::remove_dir_all(dirs.data.join("work/incompat"));
        dirs.make()?;
        Ok(dirs)
    }

    /// The container's directory and its runtime directory are root's alone (one made by
    /// an older mdrun is tightened); the write layer, work dir and mount point inside them
    /// keep the usual 0755: the write layer's mode is that of the container's `/`.
    fn make(&self) -> Result<()> {
        crate::private_dirs::ensure(&self.data)?;
        crate::private_dirs::ensure(&self.runtime)?;
        for d in [
            self.data.join("upper"),
            self.data.join("work"),
            self.runtime.join("rootfs"),
        ] {
            std::fs::create_dir_all(&d).ctx("mkdir", &d)?;
        }
        Ok(())
    }

    /// `<root>/containers`, whose store lock guards the record.
    pub fn containers(&self) -> &std::path::Path {
        self.data.parent().unwrap_or(&self.data)
    }

    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Remove everything of the container but what the user keeps (volumes live elsewhere).
    pub fn remove(&mut self) {
        self.keep = false;
        let _ = std::fs::remove_dir_all(&self.runtime);
        let _ = std::fs::remove_dir_all(&self.data);
    }

    /// After the container ended: its overlay mount point is not needed any more.
    pub fn remove_runtime(&self) {
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}

impl Drop for ContainerDirs {
    fn drop(&mut self) {
        if self.keep {
        } else if self.existing {
            self.remove_runtime();
        } else {
            self.remove();
        }
    }
}
