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

/// `path` (absolute, as seen in the container) under `root` as an O_PATH descriptor of a
/// directory, made with its missing parents when absent: one openat2 when it exists.
/// `..` is taken lexically first (`/a/../b` is `/b`, as docker cleans `-w`), so that the
/// directory found and the one made are the same.
pub fn open_or_make_dir(root: &Path, path: &Path) -> Result<OwnedFd, RootfsError> {
    let mut clean = PathBuf::from("/");
    for comp in path.components() {
        match comp {
            Component::Normal(name) => clean.push(name),
            Component::ParentDir => {
                clean.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let path = clean.as_path();
    let root_fd = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .at("open", root)?;
    match openat2(root_fd.as_fd(), path, how()) {
        Ok(fd) => Ok(fd),
        Err(nix::Error::ENOENT) => mkdir_all(root, path),
        Err(e) => Err(e).at("open", root.join(path.strip_prefix("/").unwrap_or(path))),
    }
}

/// After resolving `path` under `root` failed with ELOOP: was a /proc magic link on the way
/// (`/proc/self/fd/N`, `/proc/1/cwd`), rather than a loop of symlinks? Without
/// RESOLVE_NO_MAGICLINKS the kernel still refuses a magic link's jump out of a scoped
/// lookup (EXDEV) or, should that change, follows it; a loop stays ELOOP. The descriptor,
/// if any, is O_PATH and closed at once.
pub fn through_magic_link(root: &Path, path: &Path) -> bool {
    let Ok(root_fd) = nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let scoped = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT);
    !matches!(
        openat2(root_fd.as_fd(), path, scoped),
        Err(nix::Error::ELOOP)
    )
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

    #[test]
    fn magic_links_are_not_followed_and_told_from_loops() {
        let base = std::env::temp_dir().join(format!("mdrun-inroot-m-{}", std::process::id()));
        std::fs::create_dir_all(base.join("d")).unwrap();
        std::os::unix::fs::symlink("b", base.join("a")).unwrap();
        std::os::unix::fs::symlink("a", base.join("b")).unwrap();
        let outside =
            nix::fcntl::open("/", OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let magic = fd_path(&outside);
        // Resolved with `/` as the root, as the init does after pivot_root.
        let err = open_or_make_dir(Path::new("/"), &magic).unwrap_err();
        assert!(
            matches!(
                err,
                RootfsError::Sys {
                    source: nix::Error::ELOOP,
                    ..
                }
            ),
            "{err}"
        );
        assert!(through_magic_link(Path::new("/"), &magic));
        let err = open_or_make_dir(&base, Path::new("/a")).unwrap_err();
        assert!(
            matches!(
                err,
                RootfsError::Sys {
                    source: nix::Error::ELOOP,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!through_magic_link(&base, Path::new("/a")));
        open_or_make_dir(&base, Path::new("/d")).unwrap();
        open_or_make_dir(&base, Path::new("/d/new/deeper")).unwrap();
        assert!(base.join("d/new/deeper").is_dir());
        open_or_make_dir(&base, Path::new("/x/../../y/./z")).unwrap();
        assert!(base.join("y/z").is_dir() && !base.join("x").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
