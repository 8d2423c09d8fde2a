//! The propagation of the container's `/` before its root is built, as runc's prepareRoot
//! and rootfsParentMountPrivate set it. By default (and for slave/private) `/` becomes
//! rslave/rprivate: nothing mounted in the container reaches the host. With
//! rootfsPropagation shared or rshared (containerd asks for it when a Kubernetes volume is
//! `Bidirectional`) `/` stays rshared, so a volume bound `rshared` joins the host mount's
//! peer group and mounts made in it go both ways; the mount that holds the bundle's root is
//! then made private, so the root's own binds, and everything mounted on them, stay in the
//! container. The old root is made rslave before it is detached (`pivot::enter_from_shared`).

use super::Result;
use nix::mount::{mount, MsFlags};
use std::path::{Path, PathBuf};

/// Sets `/`'s propagation for rootfsPropagation `prop`; true when it stays shared.
pub fn prepare_root(prop: &str, rootfs: &Path) -> Result<bool> {
    let shared = matches!(prop, "shared" | "rshared");
    let flags = match prop {
        "shared" | "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "private" | "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        _ => MsFlags::MS_SLAVE | MsFlags::MS_REC,
    };
    mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
        .map_err(|e| format!("set propagation of /: {e}"))?;
    if shared {
        let info = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
        let root = std::fs::canonicalize(rootfs)
            .map_err(|e| format!("resolve the root {}: {e}", rootfs.display()))?;
        if let Some(parent) = holding_mount(&info, &root) {
            mount(
                None::<&str>,
                &parent,
                None::<&str>,
                MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .map_err(|e| format!("make {} private: {e}", parent.display()))?;
        }
    }
    Ok(shared)
}

/// The mount point of the (topmost) mount that holds `path`, from mountinfo's text.
fn holding_mount(info: &str, path: &Path) -> Option<PathBuf> {
    let mut best: Option<PathBuf> = None;
    for line in info.lines() {
        let Some(mp) = line.split(' ').nth(4).map(crate::mountinfo::unescape) else {
            continue;
        };
        let mp = PathBuf::from(mp);
        let longer = best
            .as_ref()
            .is_none_or(|b| mp.as_os_str().len() >= b.as_os_str().len());
        if path.starts_with(&mp) && longer {
            best = Some(mp);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holding_mount_is_the_longest_and_last_prefix() {
        let info = "22 1 8:1 / / rw shared:1 - ext4 /dev/vda rw\n\
                    30 22 0:5 / /var/lib rw shared:2 - tmpfs t rw\n\
                    31 22 0:6 / /var/lib2 rw - tmpfs t rw\n\
                    32 30 0:7 / /var/lib/a\\040b rw - tmpfs t rw\n";
        let p = |s: &str| holding_mount(info, Path::new(s)).unwrap();
        assert_eq!(p("/var/lib/x/rootfs"), Path::new("/var/lib"));
        assert_eq!(p("/var/lib2x/rootfs"), Path::new("/"));
        assert_eq!(p("/var/lib/a b/rootfs"), Path::new("/var/lib/a b"));
    }
}
