//! Small file helpers of the store: atomic replace, JSON read, the lock, scratch dirs.

use super::ImageError;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) fn io_err(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ImageError {
    let path = path.to_path_buf();
    move |source| ImageError::Io { step, path, source }
}

/// `mkdir -p` of one of the store's own directories (layers, images, tmp): root's alone.
pub(crate) fn mkdir_p(path: &Path) -> Result<(), ImageError> {
    crate::private_dirs::create(path).map_err(io_err("mkdir", path))
}

/// Readers never see a half-written file: write a temporary beside it, then rename over.
/// The data is synced first so a crash leaves the old or the new file, not an empty one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", &crate::ids::new_id()[..12]));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_data().map_err(io_err("fsync", &tmp))?;
        fs::rename(&tmp, path).map_err(io_err("rename into place", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `None` when the file does not exist.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, ImageError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ImageError::Json {
            path: path.to_path_buf(),
            source,
        })
}

/// Exclusive `flock` on `<root>/images/.lock`, held by whoever changes tags, images or
/// layers. Released on drop (closing the fd).
pub(crate) struct StoreLock {
    _lock: Flock<File>,
}

impl StoreLock {
    pub(crate) fn exclusive(images_dir: &Path) -> Result<StoreLock, ImageError> {
        mkdir_p(images_dir)?;
        let path = images_dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| io_err("flock", &path)(errno.into()))?;
        Ok(StoreLock { _lock: lock })
    }
}

/// A scratch directory under `<root>/tmp/`, removed on drop unless [`TmpDir::disarm`]ed
/// (after it was renamed into place). While it exists its process holds a `flock` on it,
/// so [`sweep_stale`] can tell the leftovers of a killed import from a running one.
pub(crate) struct TmpDir {
    path: PathBuf,
    _lock: Option<Flock<File>>,
    armed: bool,
}

impl TmpDir {
    pub(crate) fn create(parent: &Path, prefix: &str) -> Result<TmpDir, ImageError> {
        mkdir_p(parent)?;
        let path = parent.join(format!("{prefix}-{}", &crate::ids::new_id()[..16]));
        fs::create_dir(&path).map_err(io_err("mkdir", &path))?;
        // From here on the guard owns the directory, even if locking it fails.
        let mut dir = TmpDir {
            path,
            _lock: None,
            armed: true,
        };
        let file = File::open(&dir.path).map_err(io_err("open", &dir.path))?;
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|(_, errno)| io_err("flock", &dir.path)(errno.into()))?;
        dir._lock = Some(lock);
        Ok(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The directory was moved away: nothing left to remove.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// It was moved back: remove it after all.
    pub(crate) fn rearm(&mut self) {
        self.armed = true;
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Removes scratch dirs named `<prefix>-*` that no live process holds locked: what a killed
/// import (SIGKILL, Ctrl-C: no destructor runs) left behind. Best effort.
pub(crate) fn sweep_stale(parent: &Path, prefix: &str) {
    sweep(parent, |name| {
        name.strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('-'))
    });
}

/// Removes every scratch dir under `parent` that no live process holds locked, whatever
/// made it (`prune`); returns those removed. Best effort.
pub(crate) fn sweep_all_stale(parent: &Path) -> Vec<PathBuf> {
    sweep(parent, |_| true)
}

fn sweep(parent: &Path, ours: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_name().to_str().is_some_and(&ours) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if let Ok(_lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            if fs::remove_dir_all(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}
