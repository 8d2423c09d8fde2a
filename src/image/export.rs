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
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use std::path::{Path, PathBuf};

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
        let options = lower_options(dirs);
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let io = |step| {
                        let path = target.clone();
                        move |e: nix::Error| ImageError::Io {
                            step,
                            path,
                            source: e.into(),
                        }
                    };
                    // CLONE_NEWNS also unshares this thread's fs_struct: only it moves.
                    unshare(CloneFlags::CLONE_NEWNS)
                        .map_err(io("unshare the mount namespace for"))?;
                    // Else the overlay would propagate to the host through shared mounts.
                    mount(
                        None::<&str>,
                        "/",
                        None::<&str>,
                        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                        None::<&str>,
                    )
                    .map_err(io("make mounts private before mounting"))?;
                    mount(
                        Some("overlay"),
                        &target,
                        Some("overlay"),
                        MsFlags::MS_RDONLY | MsFlags::MS_NODEV | MsFlags::MS_NOSUID,
                        Some(options.as_str()),
                    )
                    .map_err(io("mount the container's layers on"))?;
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

/// `lowerdir=a:b:c`, topmost first, with overlayfs' separators escaped.
fn lower_options(dirs: &[PathBuf]) -> String {
    let escaped: Vec<String> = dirs.iter().map(|d| escape(d)).collect();
    format!("lowerdir={}", escaped.join(":"))
}

fn escape(path: &Path) -> String {
    path.to_string_lossy()
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(':', "\\:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_dirs_are_listed_topmost_first_and_escaped() {
        let dirs = [PathBuf::from("/c/up:per"), PathBuf::from("/l/a,b")];
        assert_eq!(lower_options(&dirs), "lowerdir=/c/up\\:per:/l/a\\,b");
    }
}
