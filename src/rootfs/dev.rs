//! A minimal /dev on a tmpfs, as docker and podman make it: the standard character devices,
//! a private devpts instance, /dev/shm, /dev/mqueue and the fd links.

use super::{NixContext, RootfsError};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::path::Path;

/// (name, major, minor)
const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: &[(&str, &str)] = &[
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),
];

fn mkdir(path: &str, mode: u32) -> Result<(), RootfsError> {
    match nix::unistd::mkdir(path, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(nix::Error::EEXIST) => Ok(()),
        Err(e) => Err(e).at("mkdir", path),
    }
}

pub fn populate() -> Result<(), RootfsError> {
    let nosuid = MsFlags::MS_NOSUID;
    super::kernfs::ensure_dir("/dev")?;
    mount(
        Some("tmpfs"),
        "/dev",
        Some("tmpfs"),
        nosuid | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .at("mount tmpfs on", "/dev")?;
    // The umask would strip the 0666; mknod's mode is exactly what we want, so clear it here
    // (the init sets the container's umask again before exec).
    let old = nix::sys::stat::umask(Mode::empty());
    for (name, major, minor) in DEVICES {
        let path = Path::new("/dev").join(name);
        mknod(
            &path,
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(*major, *minor),
        )
        .at("mknod", &path)?;
    }
    nix::sys::stat::umask(old);
    mkdir("/dev/pts", 0o755)?;
    mount(
        Some("devpts"),
        "/dev/pts",
        Some("devpts"),
        nosuid | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )
    .at("mount devpts on", "/dev/pts")?;
    mkdir("/dev/shm", 0o1777)?;
    mount(
        Some("shm"),
        "/dev/shm",
        Some("tmpfs"),
        nosuid | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )
    .at("mount tmpfs on", "/dev/shm")?;
    mkdir("/dev/mqueue", 0o755)?;
    // mqueue's superblock belongs to the IPC namespace, which is the container's own.
    mount(
        Some("mqueue"),
        "/dev/mqueue",
        Some("mqueue"),
        nosuid | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .at("mount mqueue on", "/dev/mqueue")?;
    for (target, link) in LINKS {
        std::os::unix::fs::symlink(target, link)
            .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
            .at("symlink", *link)?;
    }
    Ok(())
}
