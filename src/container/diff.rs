//! What changed in a container's root filesystem (`mdrun diff`): its write layer, read
//! against the image's layers below it, as docker lists it: `A` added, `C` changed (a
//! directory with changes inside, or a file written over), `D` deleted (an overlayfs
//! whiteout, a 0:0 character device).
//!
//! The write layer is walked with directory fds and O_NOFOLLOW (a running container may
//! swap a directory for a symlink meanwhile: it is then listed, never followed), and a
//! path is looked up in the layers below with openat2(RESOLVE_NO_SYMLINKS), as overlayfs
//! itself merges directories only through directories.

use super::commit_stopped::{finish_move, image_of};
use super::lookup::lookup;
use crate::error::{IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{Record, StoreLock};
use nix::dir::Dir;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, Mode};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Changed,
    Deleted,
}

impl Change {
    /// docker's letter.
    pub fn letter(self) -> char {
        match self {
            Change::Added => 'A',
            Change::Changed => 'C',
            Change::Deleted => 'D',
        }
    }
}

/// The changes of the container `query` names, sorted by path (`/etc`, `/etc/passwd`).
pub fn diff(paths: &Paths, query: &str) -> Result<Vec<(Change, PathBuf)>> {
    let (mut record, _) = lookup(paths, query)?;
    let store = Store::new(paths.clone());
    if !record.layers.is_empty() {
        let _lock = StoreLock::acquire(&paths.containers())?;
        record = Record::load(&paths.container(&record.id))?;
        finish_move(paths, &store, &record)?;
    }
    let image = image_of(&store, &record)?;
    let lower = store.lower_dirs(&image);
    let upper = paths.container(&record.id).join("upper");
    let dir = Dir::open(&upper, dir_flags(), Mode::empty())
        .map_err(std::io::Error::from)
        .ctx("open", &upper)?;
    let mut out = Vec::new();
    walk(dir, &upper, PathBuf::new(), &lower, &mut out)?;
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

fn walk(
    mut dir: Dir,
    upper: &Path,
    rel: PathBuf,
    lower: &[PathBuf],
    out: &mut Vec<(Change, PathBuf)>,
) -> Result<()> {
    let here = upper.join(&rel);
    let mut names = Vec::new();
    for entry in dir.iter() {
        let entry = entry
            .map_err(std::io::Error::from)
            .ctx("read directory", &here)?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
        }
    }
    for name in names {
        let child = rel.join(&name);
        let Ok(st) = fstatat(
            dir.as_fd(),
            name.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) else {
            continue; // gone meanwhile
        };
        let shown = Path::new("/").join(&child);
        let whiteout = st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0;
        if whiteout {
            out.push((Change::Deleted, shown));
            continue;
        }
        let kind = match in_lower(lower, &child) {
            true => Change::Changed,
            false => Change::Added,
        };
        out.push((kind, shown));
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            // Swapped for a symlink since the stat: O_NOFOLLOW refuses it, skip it.
            if let Ok(sub) = Dir::openat(dir.as_fd(), name.as_os_str(), dir_flags(), Mode::empty())
            {
                walk(sub, upper, child, lower, out)?;
            }
        }
    }
    Ok(())
}

/// Is `rel` in the layers below (topmost first), and not deleted by a higher one?
fn in_lower(lower: &[PathBuf], rel: &Path) -> bool {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_BENEATH);
    for layer in lower {
        let Ok(root) = nix::fcntl::open(
            layer,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        // The parent through directories only; the last component itself may be a symlink.
        let parent = rel.parent().unwrap_or(Path::new(""));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let Ok(pfd) = nix::fcntl::openat2(&root, parent, how) else {
            continue;
        };
        let Some(name) = rel.file_name() else {
            return true;
        };
        if let Ok(st) = fstatat(&pfd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            let whiteout = st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0;
            return !whiteout;
        }
    }
    false
}
