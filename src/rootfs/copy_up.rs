//! A new volume takes what the image has at its mount point, as docker fills a volume on
//! first use: files, directories, symlinks and device nodes with their owner, mode and
//! times; the volume's root takes the directory's owner and mode. Done by the init before
//! the volume is mounted there, while both the container's root and the host's volume
//! directory are in view, and only for a volume `run` has just made (`Mount::copy_up`).
//!
//! The image's side is resolved inside the container's root (RESOLVE_IN_ROOT) and walked
//! by descriptor, never following a symlink: an image cannot make the copy read or write
//! outside the two trees.

use super::{Mount, NixContext, RootfsError};
use nix::dir::Dir;
use nix::fcntl::{openat, openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{
    fstat, fstatat, mkdirat, mknodat, utimensat, FileStat, Mode, SFlag, UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, symlinkat, Gid, Uid};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const DIR: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Copies the image's directory at `vol.target` (under `root`) into `vol.source`.
pub fn copy_up(root: &Path, vol: &Mount) -> Result<(), RootfsError> {
    let shown = root.join(vol.target.strip_prefix("/").unwrap_or(&vol.target));
    let root_fd = nix::fcntl::open(root, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())
        .at("open", root)?;
    let how = OpenHow::new()
        .flags(DIR)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let src = match openat2(root_fd.as_fd(), &vol.target, how) {
        Ok(fd) => fd,
        // Nothing there, or not a directory: nothing to copy.
        Err(nix::Error::ENOENT | nix::Error::ENOTDIR | nix::Error::ELOOP) => return Ok(()),
        Err(e) => return Err(e).at("open", &shown),
    };
    let dst = nix::fcntl::open(&vol.source, DIR, Mode::empty()).at("open", &vol.source)?;
    copy_dir(&src, &dst).at("copy the image's files into the volume", &vol.source)?;
    let st = fstat(&src).at("stat", &shown)?;
    set_meta(&dst, OsStr::new("."), &st).at("set owner and mode of", &vol.source)
}

fn copy_dir(src: &OwnedFd, dst: &OwnedFd) -> nix::Result<()> {
    let mut dir = Dir::openat(src, ".", DIR, Mode::empty())?;
    let names: Vec<Vec<u8>> = dir
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_bytes().to_vec())
        .filter(|n| n != b"." && n != b"..")
        .collect();
    for name in names {
        let name = OsStr::from_bytes(&name);
        let st = fstatat(src, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        let perm = Mode::from_bits_truncate(0o700);
        match kind {
            SFlag::S_IFDIR => {
                mkdirat(dst, name, perm)?;
                let s = openat(src, name, DIR, Mode::empty())?;
                let d = openat(dst, name, DIR, Mode::empty())?;
                copy_dir(&s, &d)?;
            }
            SFlag::S_IFREG => {
                let s = openat(
                    src,
                    name,
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW,
                    Mode::empty(),
                )?;
                let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW;
                let d = openat(dst, name, flags, Mode::from_bits_truncate(0o600))?;
                std::io::copy(&mut File::from(s), &mut File::from(d))
                    .map_err(|e| nix::Error::try_from(e).unwrap_or(nix::Error::EIO))?;
            }
            SFlag::S_IFLNK => {
                let target = nix::fcntl::readlinkat(src, name)?;
                symlinkat(target.as_os_str(), dst, name)?;
            }
            _ => mknodat(dst, name, kind, perm, st.st_rdev)?,
        }
        set_meta(dst, name, &st)?;
    }
    Ok(())
}

/// Owner, mode (not for a symlink: it has none) and times of `name` in `dir`, as `st`.
fn set_meta(dir: &OwnedFd, name: &OsStr, st: &FileStat) -> nix::Result<()> {
    let link = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK;
    fchownat(
        dir,
        name,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if !link {
        // After the chown, which clears setuid and setgid bits. On the entry itself, never
        // through a symlink another container sharing the volume swapped in meanwhile
        // (fchmodat cannot refuse to follow one).
        crate::image::fsops::chmod_node(dir, name, st.st_mode)
            .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    }
    let atime = TimeSpec::new(st.st_atime, st.st_atime_nsec);
    let mtime = TimeSpec::new(st.st_mtime, st.st_mtime_nsec);
    utimensat(dir, name, &atime, &mtime, UtimensatFlags::NoFollowSymlink)
}
