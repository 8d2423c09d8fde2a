//! A read-only view of mdrun's binary that no handle can be turned into a writable one: an
//! overlayfs made of two lower layers (the binary's directory on top, an empty directory
//! below) and no upper layer, so its superblock is read-only; mounted with fsmount(2) and
//! attached nowhere (only our descriptors reach it, and it goes when they do). Unlike a
//! read-only bind mount, nothing can make it writable again (runc's exeseal does the same).

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// An O_PATH descriptor of our binary, as seen through the overlay. `lower`: the second
/// lower layer (overlayfs needs two when it has no upper one, and they may neither be the
/// same nor contain each other), an empty directory of mdrun's own, made here if missing
/// and kept: made and removed each time, it cost more than the rest (ext4's inode
/// allocation after many deletions).
pub fn open(lower: &Path) -> Result<OwnedFd, String> {
    let exe = std::fs::read_link("/proc/self/exe")
        .map_err(|e| format!("readlink /proc/self/exe: {e}"))?;
    let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(format!("{} has no directory", exe.display()));
    };
    match std::fs::create_dir(lower) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(format!("mkdir {}: {e}", lower.display()))
        }
        _ => {}
    }
    let ctx = fs_open()?;
    let layers = format!("{}:{}", escape(dir), escape(lower));
    fs_config(&ctx, "lowerdir", &layers)?;
    // Only to keep overlayfs from logging about inode numbers across filesystems.
    let _ = fs_config(&ctx, "xino", "off");
    create(&ctx)?;
    let mnt = mount(&ctx)?;
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let file = openat(&mnt, name, flags, Mode::empty()).map_err(|e| {
        format!(
            "open {} in the overlay of {}: {e}",
            name.to_string_lossy(),
            dir.display()
        )
    })?;
    same_file(&file, &exe)?;
    Ok(file)
}

/// The overlay's file must be the one we run: not a binary put at the same path since
/// (an upgrade). Overlayfs keeps the inode number of a lower file (its device is its own).
fn same_file(file: &OwnedFd, exe: &Path) -> Result<(), String> {
    let ours =
        std::fs::metadata("/proc/self/exe").map_err(|e| format!("stat /proc/self/exe: {e}"))?;
    let seen = fstat(file).map_err(|e| format!("stat {} in the overlay: {e}", exe.display()))?;
    let theirs = (seen.st_ino, seen.st_size, seen.st_mtime, seen.st_mtime_nsec);
    if (
        ours.ino(),
        ours.size() as i64,
        ours.mtime(),
        ours.mtime_nsec(),
    ) != theirs
    {
        return Err(format!(
            "{} is no longer the binary this process runs",
            exe.display()
        ));
    }
    Ok(())
}

/// overlayfs splits `lowerdir` at `:` and takes `\` as an escape.
fn escape(path: &Path) -> String {
    path.to_string_lossy()
        .replace('\\', "\\\\")
        .replace(':', "\\:")
}

const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
const MOUNT_ATTR_NOSUID: libc::c_uint = 0x2;
const MOUNT_ATTR_NODEV: libc::c_uint = 0x4;

fn owned(ret: libc::c_long, step: &str) -> Result<OwnedFd, String> {
    if ret < 0 {
        return Err(format!("{step}: {}", nix::Error::last()));
    }
    // SAFETY: the syscall returned a new descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}

fn fs_open() -> Result<OwnedFd, String> {
    // SAFETY: fsopen(2) with a NUL-terminated name; returns a new descriptor or -1.
    let ret = unsafe { libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), FSOPEN_CLOEXEC) };
    owned(ret, "fsopen overlay")
}

fn fs_config(ctx: &OwnedFd, key: &str, value: &str) -> Result<(), String> {
    let (k, v) = (CString::new(key), CString::new(value));
    let (Ok(k), Ok(v)) = (k, v) else {
        return Err(format!("overlay option {key}={value:?} has a NUL byte"));
    };
    // SAFETY: fsconfig(2) on our context with two NUL-terminated strings; no memory is kept.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_SET_STRING,
            k.as_ptr(),
            v.as_ptr(),
            0,
        )
    };
    if ret < 0 {
        return Err(format!(
            "overlay option {key}={value}: {}",
            nix::Error::last()
        ));
    }
    Ok(())
}

fn create(ctx: &OwnedFd) -> Result<(), String> {
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY: fsconfig(2) FSCONFIG_CMD_CREATE takes no key or value.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            null,
            null,
            0,
        )
    };
    if ret < 0 {
        return Err(format!("create the overlay: {}", nix::Error::last()));
    }
    Ok(())
}

fn mount(ctx: &OwnedFd) -> Result<OwnedFd, String> {
    let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    // SAFETY: fsmount(2) of our context; returns a new descriptor or -1.
    let ret = unsafe { libc::syscall(libc::SYS_fsmount, ctx.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) };
    owned(ret, "fsmount the overlay")
}
