//! An overlay seen by one thread of ours only: mounted in a mount namespace that thread
//! unshares for itself, so nothing is ever mounted on the host, and a SIGKILL cannot leave a
//! mount behind (the namespace, and the mount, go with the thread). `export` writes the
//! merged tree out of it; `cp` on a stopped container opens it and detaches it at once.
//! Also the escaping of the directories in overlayfs' mount options.

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use std::path::{Path, PathBuf};

/// overlayfs splits its options on `,` and `lowerdir` on `:`; both need a backslash escape.
pub fn escape(path: &Path) -> String {
    path.to_string_lossy()
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(':', "\\:")
}

/// The value of `lowerdir`: `dirs` topmost first, joined by `:`, each escaped.
pub fn lower_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| escape(d)).collect::<Vec<_>>().join(":")
}

/// Mounts the overlay `options` on `target` (read-only unless `writable`; nodev, nosuid) in
/// a new mount namespace of the calling thread, which must be a thread of its own that
/// ends when done with it. An error names the step that failed.
pub fn mount_for_this_thread(
    target: &Path,
    options: &str,
    writable: bool,
) -> Result<(), (&'static str, nix::Error)> {
    // CLONE_NEWNS also unshares this thread's fs_struct: only it moves.
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| ("unshare the mount namespace for", e))?;
    // Else the overlay would propagate to the host through shared mounts.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| ("make mounts private before mounting", e))?;
    let mut flags = MsFlags::MS_NODEV | MsFlags::MS_NOSUID;
    if !writable {
        flags |= MsFlags::MS_RDONLY;
    }
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        flags,
        Some(options),
    )
    .map_err(|e| ("mount the container's layers on", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_dirs_are_listed_topmost_first_and_escaped() {
        let dirs = [PathBuf::from("/c/up:per"), PathBuf::from("/l/a,b\\c")];
        assert_eq!(lower_dirs(&dirs), "/c/up\\:per:/l/a\\,b\\\\c");
    }
}
