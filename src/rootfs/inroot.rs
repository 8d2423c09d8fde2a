//! Resolve and create paths *inside* the container's root from outside it: every symlink
//! in the image resolves as it would in the container (openat2 RESOLVE_IN_ROOT), so an image
//! that ships `/data -> /etc` cannot make a volume's mount point land on the host's /etc.

use super::{NixContext, RootfsError};
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

fn how() -> OpenHow {
    OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

/// `mkdir -p` of `path` (absolute, as seen in the container) under `root`, returning an
/// O_PATH descriptor of the final directory.
pub fn mkdir_all(root: &Path, path: &Path) -> Result<OwnedFd, RootfsError> {
    let root_fd = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .at("open", root)?;
    let mut sofar = PathBuf::from("/");
    let mut fd = openat2(root_fd.as_fd(), "/", how()).at("open", root)?;
    for comp in path.components() {
        let Component::Normal(name) = comp else {
            continue;
        };
        sofar.push(name);
        match openat2(root_fd.as_fd(), &sofar, how()) {
            Ok(next) => fd = next,
            Err(nix::Error::ENOENT) => {
                // The parent was resolved inside the root; creating relative to its fd
                // cannot escape whatever the name is (it is one plain component).
                match nix::sys::stat::mkdirat(fd.as_fd(), name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(nix::Error::EEXIST) => {}
                    Err(e) => {
                        return Err(e).at(
                            "mkdir",
                            root.join(sofar.strip_prefix("/").unwrap_or(&sofar)),
                        )
                    }
                }
                // Still missing after mkdir said it exists: a symlink whose target (resolved
                // inside the root) does not exist. Refuse rather than guess.
                fd = openat2(root_fd.as_fd(), &sofar, how()).at(
                    "open (dangling symlink?)",
                    root.join(sofar.strip_prefix("/").unwrap_or(&sofar)),
                )?;
            }
            Err(e) => {
                return Err(e).at("open", root.join(sofar.strip_prefix("/").unwrap_or(&sofar)))
            }
        }
    }
    Ok(fd)
}

/// The `/proc/self/fd/N` path of a descriptor, for syscalls that take a path (mount).
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let base = std::env::temp_dir().join(format!("mdrun-inroot-{}", std::process::id()));
        let root = base.join("root");
        let outside = base.join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        // An absolute link to a host directory, and a relative one that climbs out.
        std::os::unix::fs::symlink(&outside, root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("rel")).unwrap();
        // Inside the root both links dangle: refused, and nothing is made on the host.
        assert!(mkdir_all(&root, Path::new("/abs/x")).is_err());
        assert!(mkdir_all(&root, Path::new("/rel/y")).is_err());
        assert!(!outside.join("x").exists() && !outside.join("y").exists());
        // Where the link's target exists inside the root, the path is followed there.
        std::fs::create_dir_all(root.join("outside")).unwrap();
        mkdir_all(&root, Path::new("/rel/y")).unwrap();
        assert!(root.join("outside/y").is_dir() && !outside.join("y").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
