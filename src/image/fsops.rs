//! File-system steps of unpacking, all relative to directory fds (`*at` calls), so no path
//! is ever resolved from `/`: parents are opened with `openat2(RESOLVE_BENEATH)`, which
//! fails with EXDEV instead of following a symlink or `..` out of the layer, and the last
//! component is never followed (O_NOFOLLOW, O_EXCL, `AT_SYMLINK_NOFOLLOW`, `linkat` without
//! `AT_SYMLINK_FOLLOW`).

use super::entry::Meta;
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fchmod, fstatat, futimens, utimensat, FileStat};
use nix::sys::stat::{Mode, SFlag, UtimensatFlags};
use nix::unistd::{fchown, fchownat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

/// How the metadata is applied: ownership only as root (as GNU tar), xattrs that the
/// file system or our privileges refuse are counted, not fatal (as docker does: not every
/// file system takes `trusted.*` or `user.*`).
#[derive(Debug, Default)]
pub(crate) struct Applier {
    pub chown: bool,
    pub xattrs_skipped: u64,
}

/// `openat2(root, rel, RESOLVE_BENEATH)`; `rel` empty means the root itself.
pub(crate) fn open_beneath(root: &OwnedFd, rel: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let rel: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    loop {
        // EAGAIN: a concurrent rename made the kernel unsure a ".." stayed beneath; retry.
        match openat2(root, rel, how) {
            Err(Errno::EAGAIN) => continue,
            other => return other,
        }
    }
}

/// chmod of the node (device, fifo) at `dir/name`, never of what a symlink there points
/// at. `cp` into a running container unpacks into a directory the container writes to as
/// well: it can swap the node just made for a symlink to a host file, and a chmod that
/// follows it (Linux has no lchmod; fchmodat's AT_SYMLINK_NOFOLLOW needs fchmodat2, 6.6)
/// would give that file the entry's mode, setuid bits and all. So: the name opened
/// O_PATH|O_NOFOLLOW, refused if a symlink, and changed through its fd's /proc link, which
/// leads to exactly that inode.
pub(crate) fn chmod_node(dir: &OwnedFd, name: &OsStr, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = nix::fcntl::openat(dir, name, flags, Mode::empty())?;
    let st = nix::sys::stat::fstat(&fd)?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFLNK {
        return Err(Errno::ELOOP.into());
    }
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7777))
}

/// Opens `dir/name` to read it, only if it is still the regular file `st` (from an
/// earlier `fstatat`) describes: in a running container's tree it may have been swapped
/// since for a fifo (an open that never returns) or a device node (the host's disk, a
/// watchdog: opened by root on the host, outside the container's device filter). Opened
/// O_PATH first, checked, then reopened through its /proc link, so nothing else is ever
/// opened. ESTALE: it is not that file any more.
pub(crate) fn open_regular(dir: &impl AsFd, name: &OsStr, st: &FileStat) -> nix::Result<File> {
    let path_fd = openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let now = nix::sys::stat::fstat(&path_fd)?;
    if now.st_mode & libc::S_IFMT != libc::S_IFREG
        || (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino)
    {
        return Err(Errno::ESTALE);
    }
    let link = format!("/proc/self/fd/{}", path_fd.as_raw_fd());
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    // O_NOATIME: reading a layer does not write its inodes back (EPERM: not the owner).
    let fd = match nix::fcntl::open(link.as_str(), flags | OFlag::O_NOATIME, Mode::empty()) {
        Err(Errno::EPERM) => nix::fcntl::open(link.as_str(), flags, Mode::empty()),
        other => other,
    }?;
    Ok(File::from(fd))
}

/// Removes whatever is at `dir/name` (a directory only if empty), not following symlinks.
pub(crate) fn remove_existing(dir: &OwnedFd, name: &OsStr) -> nix::Result<()> {
    let flag = if is_dir_at(dir, name)? {
        UnlinkatFlags::RemoveDir
    } else {
        UnlinkatFlags::NoRemoveDir
    };
    unlinkat(dir, name, flag)
}

/// Whether `dir/name` is a directory (not a symlink to one).
pub(crate) fn is_dir_at(dir: &OwnedFd, name: &OsStr) -> nix::Result<bool> {
    let st = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    Ok(SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR)
}

impl Applier {
    /// On an open regular file or directory. Order matters: chown clears setuid bits and
    /// `security.capability`, so it goes first; the mtime goes last.
    pub(crate) fn apply_fd(
        &mut self,
        file: &File,
        meta: &Meta,
    ) -> Result<(), (&'static str, std::io::Error)> {
        if self.chown {
            fchown(
                file,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
            )
            .map_err(|e| ("chown", e.into()))?;
        }
        fchmod(file, Mode::from_bits_truncate(meta.mode)).map_err(|e| ("chmod", e.into()))?;
        for (name, value) in &meta.xattrs {
            let result = xattr::FileExt::set_xattr(file, name, value);
            self.xattr_result(result)?;
        }
        futimens(file, &meta.mtime, &meta.mtime).map_err(|e| ("set mtime", e.into()))
    }

    /// On `dir/name`, which we just created and which may be a symlink, device or fifo
    /// (none of which can be opened to set things through an fd).
    pub(crate) fn apply_at(
        &mut self,
        dir: &OwnedFd,
        name: &OsStr,
        meta: &Meta,
        symlink: bool,
    ) -> Result<(), (&'static str, std::io::Error)> {
        if self.chown {
            let (uid, gid) = (Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)));
            fchownat(dir, name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(|e| ("chown", e.into()))?;
        }
        if !symlink {
            chmod_node(dir, name, meta.mode).map_err(|e| ("chmod", e))?;
        }
        if !meta.xattrs.is_empty() {
            // lsetxattr through the directory fd's /proc link: no fd-based call takes a
            // symlink or a device node without opening it.
            let path = Path::new("/proc/self/fd")
                .join(dir.as_raw_fd().to_string())
                .join(name);
            for (key, value) in &meta.xattrs {
                self.xattr_result(xattr::set(&path, key, value))?;
            }
        }
        utimensat(
            dir,
            name,
            &meta.mtime,
            &meta.mtime,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| ("set mtime", e.into()))
    }

    fn xattr_result(
        &mut self,
        result: std::io::Result<()>,
    ) -> Result<(), (&'static str, std::io::Error)> {
        match result {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                    Errno::ENOTSUP | Errno::EPERM
                ) =>
            {
                self.xattrs_skipped += 1;
                Ok(())
            }
            Err(e) => Err(("set xattr", e)),
        }
    }
}
