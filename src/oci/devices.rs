//! The container's device nodes: the default six and `linux.devices`, made with mknod in
//! the root before pivot_root; then the /dev/fd, stdio and ptmx links. In a user namespace
//! mknod is refused (EPERM), so each node is the host's own bound onto an empty file, as
//! runc does (libcontainer/rootfs_linux.go, bindMountDeviceNode).

use super::rootfs::{err, inside, parent_in_root};
use super::Result;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, Mode, SFlag};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use std::path::Path;

const DEFAULT_DEVICES: &[(&str, u64, u64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

fn make_device(
    root: &Path,
    path: &Path,
    kind: SFlag,
    (major, minor): (u64, u64),
    mode: u32,
    (uid, gid): (u32, u32),
) -> Result<()> {
    let (dir, name) = parent_in_root(root, path)?;
    let shown = root.join(inside(Path::new(""), path));
    let _ = nix::unistd::unlinkat(
        &dir,
        name.as_os_str(),
        nix::unistd::UnlinkatFlags::NoRemoveDir,
    );
    nix::sys::stat::mknodat(
        &dir,
        name.as_os_str(),
        kind,
        Mode::from_bits_truncate(mode),
        makedev(major, minor),
    )
    .map_err(|e| err("mknod", &shown, e))?;
    // mknod's mode is cut by our umask.
    nix::sys::stat::fchmodat(
        &dir,
        name.as_os_str(),
        Mode::from_bits_truncate(mode),
        nix::sys::stat::FchmodatFlags::NoFollowSymlink,
    )
    .or_else(|_| {
        nix::sys::stat::fchmodat(
            &dir,
            name.as_os_str(),
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
    })
    .map_err(|e| err("chmod", &shown, e))?;
    nix::unistd::fchownat(
        &dir,
        name.as_os_str(),
        Some(uid.into()),
        Some(gid.into()),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|e| err("chown", &shown, e))
}

/// The devices; `userns`: bound from the host (a device's `path` is the host's node too).
pub fn devices(root: &Path, list: &[LinuxDevice], userns: bool) -> Result<()> {
    for (p, ma, mi) in DEFAULT_DEVICES {
        if !list.iter().any(|d| d.path() == Path::new(p)) {
            if userns {
                bind_device(root, Path::new(p), Path::new(p))?;
                continue;
            }
            make_device(
                root,
                Path::new(p),
                SFlag::S_IFCHR,
                (*ma, *mi),
                0o666,
                (0, 0),
            )?;
        }
    }
    for d in list {
        if userns {
            bind_device(root, d.path(), d.path())?;
            continue;
        }
        let kind = match d.typ() {
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            _ => SFlag::S_IFCHR,
        };
        make_device(
            root,
            d.path(),
            kind,
            (d.major() as u64, d.minor() as u64),
            d.file_mode().unwrap_or(0o666),
            (d.uid().unwrap_or(0), d.gid().unwrap_or(0)),
        )?;
    }
    let links = [
        ("/proc/self/fd", "dev/fd"),
        ("/proc/self/fd/0", "dev/stdin"),
        ("/proc/self/fd/1", "dev/stdout"),
        ("/proc/self/fd/2", "dev/stderr"),
    ];
    let link = |src: &str, dst: &str| -> Result<()> {
        let (dir, name) = parent_in_root(root, Path::new(dst))?;
        let _ = nix::unistd::unlinkat(
            &dir,
            name.as_os_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        let _ = nix::unistd::symlinkat(src, &dir, name.as_os_str());
        Ok(())
    };
    for (src, dst) in links {
        link(src, dst)?;
    }
    if crate::rootfs::open_or_make_dir(root, Path::new("/dev/pts")).is_ok_and(|d| {
        nix::sys::stat::fstatat(&d, "ptmx", nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).is_ok()
    }) {
        link("pts/ptmx", "dev/ptmx")?;
    }
    Ok(())
}

/// In a user namespace: an empty file at `path` with the host's node `host` bound onto it.
fn bind_device(root: &Path, path: &Path, host: &Path) -> Result<()> {
    let (dir, name) = parent_in_root(root, path)?;
    let shown = root.join(inside(Path::new(""), path));
    let _ = nix::unistd::unlinkat(
        &dir,
        name.as_os_str(),
        nix::unistd::UnlinkatFlags::NoRemoveDir,
    );
    let f = nix::fcntl::openat(
        &dir,
        name.as_os_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    )
    .map_err(|e| err("create", &shown, e))?;
    drop(f);
    let target = nix::fcntl::openat(
        &dir,
        name.as_os_str(),
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err("open", &shown, e))?;
    mount(
        Some(host),
        &crate::rootfs::fd_path(&target),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| {
        err(
            &format!("bind the host's {} onto", host.display()),
            &shown,
            e,
        )
    })
}
