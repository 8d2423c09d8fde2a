//! `export`: a container's root filesystem as one flat tarball (its image's layers merged
//! with its write layer, deletions applied), which is what `import` takes back.
//!
//! The merging is overlayfs' own: a read-only overlay of the write layer and the image's
//! layers (all as lower dirs, so nothing can be written) is mounted in a mount namespace
//! private to one thread of ours, and written out with `layer_tar`. When the thread ends
//! its namespace goes with it, and the mount too: nothing is ever mounted on the host,
//! and a SIGKILL cannot leave a mount behind. The container's volumes, /proc and /dev are
//! not in it, as with `docker export`.
//!
//! A running container's write layer may change while it is read (overlayfs calls that
//! undefined, not unsafe); `export` takes what it finds, as `docker export` does.

use super::files::{sweep_stale, TmpDir};
use super::layer_tar::{self, Written};
use super::{ImageError, Store};
use nix::mount::{umount2, MntFlags};
use std::path::PathBuf;

const TMP_PREFIX: &str = "export";

impl Store {
    /// Writes the merged tree of `dirs` (topmost first) to `out`; at least two dirs.
    pub fn export_merged<W: layer_tar::TarOut + Send>(
        &self,
        dirs: &[PathBuf],
        out: W,
    ) -> Result<(W, Written), ImageError> {
        sweep_stale(&self.paths.tmp(), TMP_PREFIX);
        let scratch = TmpDir::create(&self.paths.tmp(), TMP_PREFIX)?;
        let target = scratch.path().to_path_buf();
        let options = format!("lowerdir={}", crate::private_overlay::lower_dirs(dirs));
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    crate::private_overlay::mount_for_this_thread(&target, &options, false)
                        .map_err(|(step, e)| ImageError::Io {
                            step,
                            path: target.clone(),
                            source: e.into(),
                        })?;
                    let result = layer_tar::write_tree(&target, out, false);
                    let _ = umount2(&target, MntFlags::MNT_DETACH);
                    result
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(ImageError::Archive(std::io::Error::other(
                        "the export thread panicked",
                    )))
                })
        })
    }
}
