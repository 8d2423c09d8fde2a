//! The bundle's root as the container's `/`, in the init's mount namespace: the root
//! bound onto itself, config.json's mounts in order, the default devices, pivot_root
//! (`crate::rootfs::pivot`), then sysctls, masked and read-only paths, a read-only root
//! and the root's propagation. Read-only is always a bind remount (per mount, never the
//! superblock's flags, which proc, sysfs and cgroup share with the host).

use super::Result;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;
use oci_spec::runtime::{Mount, Spec};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

/// What the init knows of where it runs, for the mounts that differ in a user namespace.
pub struct Ctx {
    /// In a user namespace (new or joined): no mknod, no new cgroup v1 mount, and sysfs
    /// only with a network namespace of its own.
    pub userns: bool,
    /// /proc/self/cgroup as read before the cgroup namespace was entered.
    pub own_cgroup: String,
    /// `create --no-pivot`: MS_MOVE and chroot instead of pivot_root (`moveroot`).
    pub no_pivot: bool,
}

pub(super) fn err(step: &str, path: &Path, e: impl std::fmt::Display) -> String {
    format!("{step} {}: {e}", path.display())
}

/// `dest` inside `root`, without leaving it lexically.
pub(super) fn inside(root: &Path, dest: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in dest.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    root.join(out)
}

/// The container's own cgroup directory in the host's hierarchy `m`, bound onto `dir`.
fn bind_own_cgroup(m: &crate::cgroups::CgroupMount, dir: &Path, ctx: &Ctx) -> nix::Result<()> {
    let own = crate::cgroups::parse_proc_cgroup(&ctx.own_cgroup);
    let ctl: Vec<&str> = m.super_opts.iter().map(String::as_str).collect();
    let path = own
        .iter()
        .find(|e| {
            if m.fs_type == "cgroup2" {
                e.controllers.is_empty()
            } else {
                !e.controllers.is_empty() && e.controllers.iter().all(|c| ctl.contains(&c.as_str()))
            }
        })
        .map(|e| e.path.clone())
        .unwrap_or_else(|| "/".into());
    let src = crate::cgroups::dir_under_mount(&m.mount_point, &m.mount_root, &path)
        .map_err(|_| nix::Error::EPERM)?;
    mount(
        Some(&src),
        dir,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
}

const PROPAGATION: &[(&str, MsFlags)] = &[
    ("private", MsFlags::MS_PRIVATE),
    ("rprivate", MsFlags::MS_PRIVATE.union(MsFlags::MS_REC)),
    ("shared", MsFlags::MS_SHARED),
    ("rshared", MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
    ("slave", MsFlags::MS_SLAVE),
    ("rslave", MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
    ("unbindable", MsFlags::MS_UNBINDABLE),
    ("runbindable", MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC)),
];

/// (flags to set, flags to clear, propagation, data)
fn options(opts: &[String]) -> (MsFlags, MsFlags, MsFlags, Vec<String>) {
    let mut set = MsFlags::empty();
    let mut clear = MsFlags::empty();
    let mut prop = MsFlags::empty();
    let mut data = Vec::new();
    for o in opts {
        let (s, c) = match o.as_str() {
            "ro" => (MsFlags::MS_RDONLY, MsFlags::empty()),
            "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY),
            "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty()),
            "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID),
            "nodev" => (MsFlags::MS_NODEV, MsFlags::empty()),
            "dev" => (MsFlags::empty(), MsFlags::MS_NODEV),
            "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty()),
            "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC),
            "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
            "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS),
            "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty()),
            "mand" => (MsFlags::MS_MANDLOCK, MsFlags::empty()),
            "nomand" => (MsFlags::empty(), MsFlags::MS_MANDLOCK),
            "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty()),
            "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME),
            "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty()),
            "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME),
            "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty()),
            "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME),
            "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty()),
            "nostrictatime" => (MsFlags::empty(), MsFlags::MS_STRICTATIME),
            "bind" => (MsFlags::MS_BIND, MsFlags::empty()),
            "rbind" => (MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()),
            "remount" | "defaults" => (MsFlags::empty(), MsFlags::empty()),
            other => {
                if let Some((_, f)) = PROPAGATION.iter().find(|(n, _)| *n == other) {
                    prop |= *f;
                } else if !other.starts_with("rro") && !other.starts_with("idmap") {
                    data.push(other.to_string());
                }
                continue;
            }
        };
        set |= s;
        set &= !c;
        clear |= c;
    }
    (set, clear, prop, data)
}

/// The mount target `dest` inside `root`, made when missing (a directory, or an empty file
/// when `file`), as an O_PATH descriptor: every component, symlinks included, is resolved
/// inside the root (openat2 RESOLVE_IN_ROOT, `crate::rootfs::open_or_make_dir`), so a
/// symlink in the bundle's root cannot send a mount, a file or a device node onto the host.
fn target(root: &Path, dest: &Path, file: bool) -> Result<OwnedFd> {
    let dest = Path::new("/").join(inside(Path::new(""), dest));
    if !file {
        return crate::rootfs::open_or_make_dir(root, &dest).map_err(|e| e.to_string());
    }
    let (dir, name) = parent_in_root(root, &dest)?;
    match nix::fcntl::openat(
        &dir,
        name.as_os_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    ) {
        Ok(_) | Err(nix::Error::EEXIST) => {}
        Err(e) => return Err(err("create", &root.join(inside(Path::new(""), &dest)), e)),
    }
    nix::fcntl::openat(
        &dir,
        name.as_os_str(),
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err("open", &root.join(inside(Path::new(""), &dest)), e))
}

/// The directory holding `path` inside `root` (made when missing), and the last name.
pub(super) fn parent_in_root(root: &Path, path: &Path) -> Result<(OwnedFd, std::ffi::OsString)> {
    let path = Path::new("/").join(inside(Path::new(""), path));
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: no file name", path.display()))?
        .to_os_string();
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = crate::rootfs::open_or_make_dir(root, parent).map_err(|e| e.to_string())?;
    Ok((dir, name))
}

/// A bind remount read-only, keeping `flags` and the mount's own nosuid, nodev, noexec and
/// atime flags: in a user namespace those are locked, and a remount that drops one is EPERM.
fn remount_ro(target: &Path, flags: MsFlags) -> Result<()> {
    let mut keep = flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    if let Ok(st) = nix::sys::statvfs::statvfs(target) {
        use nix::sys::statvfs::FsFlags;
        for (f, m) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if st.flags().contains(f) {
                keep |= m;
            }
        }
    }
    mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | keep,
        None::<&str>,
    )
    .map_err(|e| err("remount read-only", target, e))
}

fn mount_one(root: &Path, m: &Mount, ctx: &Ctx) -> Result<()> {
    let opts = m.options().clone().unwrap_or_default();
    let (flags, _clear, prop, data) = options(&opts);
    let typ = m.typ().clone().unwrap_or_default();
    let source = m.source().clone();
    let dest = m.destination();
    let bind = typ == "bind" || flags.contains(MsFlags::MS_BIND);
    let cgroup = typ == "cgroup" || typ == "cgroup2";
    let src = match (bind, &source) {
        (true, None) => return Err(format!("bind mount on {}: no source", dest.display())),
        (_, s) => s.clone(),
    };
    let file = bind && src.as_deref().is_some_and(|s| !s.is_dir());
    // The mount goes onto the target's descriptor; what follows (remounts, propagation,
    // the cgroup hierarchies) onto a descriptor opened again, which is the new mount's.
    let under = target(root, dest, file)?;
    let at = crate::rootfs::fd_path(&under);
    let fs_flags = flags & !MsFlags::MS_RDONLY;
    if bind {
        mount(
            src.as_deref(),
            &at,
            None::<&str>,
            flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            None::<&str>,
        )
        .map_err(|e| err("bind mount", &root.join(inside(Path::new(""), dest)), e))?;
    } else if cgroup {
        mount_cgroup_root(&at, fs_flags)?;
    } else {
        let data = data.join(",");
        mount(
            source.as_deref().or(Some(Path::new(&typ))),
            &at,
            Some(typ.as_str()),
            fs_flags,
            (!data.is_empty()).then_some(data.as_str()),
        )
        .or_else(|e| match (e, typ.as_str()) {
            // sysfs in a user namespace needs a network namespace of its own: else the
            // host's /sys, bound (runc does the same).
            (nix::Error::EPERM, "sysfs") if ctx.userns => mount(
                Some("/sys"),
                &at,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            ),
            (e, _) => Err(e),
        })
        .map_err(|e| {
            err(
                &format!("mount {typ} on"),
                &root.join(inside(Path::new(""), dest)),
                e,
            )
        })?;
    }
    let top = target(root, dest, file)?;
    let top = crate::rootfs::fd_path(&top);
    if cgroup {
        mount_cgroup_hierarchies(&top, fs_flags, ctx)?;
    }
    let rest = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
    if rest.contains(MsFlags::MS_RDONLY) {
        remount_ro(&top, rest)?;
    } else if bind && !rest.is_empty() {
        mount(
            None::<&str>,
            &top,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rest,
            None::<&str>,
        )
        .map_err(|e| err("remount bind", dest, e))?;
    }
    if !prop.is_empty() {
        mount(None::<&str>, &top, None::<&str>, prop, None::<&str>)
            .map_err(|e| err("set propagation", dest, e))?;
    }
    Ok(())
}

/// The cgroup file system at `target`: cgroup2 on a unified host, else a tmpfs to hold one
/// cgroup (v1) mount a hierarchy (`mount_cgroup_hierarchies`), as runc makes them.
fn mount_cgroup_root(target: &Path, flags: MsFlags) -> Result<()> {
    let base = flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    if crate::cgroups::detect() == crate::cgroups::Version::V2 {
        return mount(Some("cgroup2"), target, Some("cgroup2"), base, None::<&str>)
            .map_err(|e| err("mount cgroup2", target, e));
    }
    mount(Some("tmpfs"), target, Some("tmpfs"), base, Some("mode=755"))
        .map_err(|e| err("mount tmpfs", target, e))
}

fn mount_cgroup_hierarchies(target: &Path, flags: MsFlags, ctx: &Ctx) -> Result<()> {
    if crate::cgroups::detect() == crate::cgroups::Version::V2 {
        return Ok(());
    }
    let base = flags & (MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut done: Vec<String> = Vec::new();
    for m in crate::cgroups::cgroup_mounts(&info) {
        let name = match m.mount_point.file_name() {
            Some(n) => n.to_string_lossy().into_owned(),
            None => continue,
        };
        if done.contains(&name) || !m.mount_point.starts_with("/sys/fs/cgroup") {
            continue;
        }
        done.push(name.clone());
        let dir = target.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| err("mkdir", &dir, e))?;
        let (fstype, data) = if m.fs_type == "cgroup2" {
            ("cgroup2", String::new())
        } else {
            let opts: Vec<&str> = m
                .super_opts
                .iter()
                .map(String::as_str)
                .filter(|o| *o != "rw" && *o != "ro")
                .collect();
            ("cgroup", opts.join(","))
        };
        mount(
            Some(fstype),
            &dir,
            Some(fstype),
            base,
            (!data.is_empty()).then_some(data.as_str()),
        )
        .or_else(|e| match e {
            // A cgroup v1 hierarchy cannot be mounted in a user namespace (nor cgroup2
            // without a cgroup namespace of its own): the container's own directory of
            // it, bound, as runc's mountCgroupV1 does.
            nix::Error::EPERM if ctx.userns => bind_own_cgroup(&m, &dir, ctx),
            e => Err(e),
        })
        .map_err(|e| err("mount cgroup", &dir, e))?;
        if flags.contains(MsFlags::MS_RDONLY) {
            remount_ro(&dir, base)?;
        }
        // cpu,cpuacct: the names of each controller as links, as on the host.
        if name.contains(',') {
            for part in name.split(',') {
                let _ = std::os::unix::fs::symlink(&name, target.join(part));
            }
        }
    }
    Ok(())
}

/// Before pivot_root: `/` made rslave (or as rootfsPropagation says: `propagation`), the
/// root bound onto itself, the mounts, the devices; then pivot_root and what happens inside.
pub fn setup(spec: &Spec, rootfs: &Path, ctx: &Ctx) -> Result<()> {
    let linux = spec.linux().clone().unwrap_or_default();
    let prop = linux.rootfs_propagation().clone().unwrap_or_default();
    let shared = super::propagation::prepare_root(&prop, rootfs)?;
    mount(
        Some(rootfs),
        rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| err("bind the root onto itself", rootfs, e))?;
    // pivot_root needs the new root's parent mount private.
    let _ = mount(
        None::<&str>,
        rootfs,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    );
    for m in spec.mounts().iter().flatten() {
        mount_one(rootfs, m, ctx)?;
    }
    super::devices::devices(
        rootfs,
        linux.devices().as_deref().unwrap_or(&[]),
        ctx.userns,
    )?;
    // The root was bound onto itself above, before its mounts: binding it again would drop
    // the unbindable ones.
    if ctx.no_pivot {
        super::moveroot::enter(rootfs)?;
    } else if shared {
        crate::rootfs::pivot::enter_mount_point_from_shared(rootfs).map_err(|e| e.to_string())?;
    } else {
        crate::rootfs::pivot::enter_mount_point(rootfs).map_err(|e| e.to_string())?;
    }
    for (k, v) in linux.sysctl().iter().flatten() {
        let p = PathBuf::from("/proc/sys").join(k.replace('.', "/"));
        std::fs::write(&p, v).map_err(|e| err("sysctl", &p, e))?;
    }
    for p in linux.readonly_paths().iter().flatten() {
        let path = Path::new(p);
        if !path.exists() {
            continue;
        }
        mount(
            Some(path),
            path,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| err("bind read-only path", path, e))?;
        remount_ro(
            path,
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        )?;
    }
    for p in linux.masked_paths().iter().flatten() {
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Err(_) => continue,
            Ok(md) if md.is_dir() => mount(
                Some("tmpfs"),
                path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None::<&str>,
            )
            .map_err(|e| err("mask", path, e))?,
            Ok(_) => mount(
                Some("/dev/null"),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| err("mask", path, e))?,
        }
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        remount_ro(Path::new("/"), MsFlags::empty())?;
    }
    if !prop.is_empty() {
        let flags = options(std::slice::from_ref(&prop)).2;
        mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
            .map_err(|e| err(&format!("rootfsPropagation {prop}:"), Path::new("/"), e))?;
    }
    Ok(())
}
