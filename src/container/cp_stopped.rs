//! `cp` on a container that does not run: its root is its image's layers and its write
//! layer, merged by an overlay mounted in a mount namespace private to one thread of ours
//! (`private_overlay`, as `export` uses it), detached at once and reached through one open
//! directory fd; when the fd is closed the overlay goes. Nothing is ever mounted on the
//! host, and a SIGKILL cannot leave a mount behind.
//!
//! Copying out mounts it read-only, with the write layer as the topmost lower dir. Copying
//! in mounts the write layer as the overlay's upper dir (its work dir as the container's
//! own), so that what is written is in the container when it starts, copied up and
//! whited out as the container's own overlay would; the containers' lock is held until the
//! copy is done, so no `start` mounts the same write layer meanwhile. The container's
//! volumes are not in either (as with `export`).

use super::commit_stopped::{finish_move, image_of};
use super::wait::is_starting;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::private_overlay::{escape, lower_dirs};
use crate::state::{Record, StateError, Status, StoreLock};
use nix::fcntl::OFlag;
use nix::mount::{umount2, MntFlags};
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::path::Path;

/// The root of a container that does not run, and (when writable) the lock that keeps it
/// from being started while it is written.
pub struct StoppedRoot {
    pub root: OwnedFd,
    _lock: Option<StoreLock>,
}

/// Opens the root of the stopped container `record`; `writable` to copy into it.
pub fn open(paths: &Paths, record: &Record, writable: bool) -> Result<StoppedRoot> {
    let store = Store::new(paths.clone());
    let dir = paths.container(&record.id);
    let lock = StoreLock::acquire(&paths.containers())?;
    let current = Record::load(&dir)?;
    let name = current.name.clone();
    match current.status {
        Status::Exited => {}
        Status::Created if !is_starting(&current) => {}
        Status::Created => return Err(StateError::Starting { name }.into()),
        // Started since it was looked up: it is copied as a running container.
        Status::Running => return Err(StateError::Running { name }.into()),
    }
    finish_move(paths, &store, &current)?;
    let image = image_of(&store, &current)?;
    let lowers = store.lower_dirs(&image);
    let (upper, work) = (dir.join("upper"), dir.join("work"));
    let options = match writable {
        true => format!(
            "lowerdir={},upperdir={},workdir={}",
            lower_dirs(&lowers),
            escape(&upper),
            escape(&work)
        ),
        false => format!("lowerdir={}:{}", escape(&upper), lower_dirs(&lowers)),
    };
    // Any directory serves as the mount point: the mount is seen by that thread only.
    let target = paths.tmp();
    std::fs::create_dir_all(&target).map_err(|e| Error::Io {
        step: "mkdir",
        path: target.clone(),
        source: e,
    })?;
    let root = std::thread::scope(|scope| {
        scope
            .spawn(|| mount_detached(&target, &options, writable))
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the mount thread panicked".into())))
    })?;
    Ok(StoppedRoot {
        root,
        _lock: writable.then_some(lock),
    })
}

/// In a new mount namespace of this thread: the overlay on `target`, opened, detached.
fn mount_detached(target: &Path, options: &str, writable: bool) -> Result<OwnedFd> {
    let io = |step: &'static str| {
        move |e: nix::Error| Error::Io {
            step,
            path: target.to_path_buf(),
            source: e.into(),
        }
    };
    crate::private_overlay::mount_for_this_thread(target, options, writable)
        .map_err(|(step, e)| io(step)(e))?;
    let fd = nix::fcntl::open(
        target,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    );
    // Detached: it lives as long as the fd (and what is opened through it).
    let _ = umount2(target, MntFlags::MNT_DETACH);
    fd.map_err(io("open the overlay on"))
}
