//! Unix socket addresses for paths of any length. sun_path holds 107 bytes, and a
//! container's directory under a long --root (containerd's CRI: `<Root>/k8s.io/<64 hex>/`)
//! exceeds it: such a path is reached through its directory opened O_PATH, as
//! `/proc/self/fd/<n>/<name>` (runc reaches long paths the same way).

use super::Result;
use nix::sys::socket::UnixAddr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// sun_path's size less its terminating NUL.
const MAX: usize = 107;

/// The address of `path`, and the directory it goes through when the path is too long
/// (keep it open until bind or connect is done).
pub fn unix_addr(path: &Path) -> Result<(UnixAddr, Option<File>)> {
    if path.as_os_str().len() <= MAX {
        let addr = UnixAddr::new(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((addr, None));
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(format!("{}: not a socket path", path.display()));
    };
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(parent)
        .map_err(|e| format!("open {} (for a socket in it): {e}", parent.display()))?;
    let short = Path::new("/proc/self/fd")
        .join(dir.as_raw_fd().to_string())
        .join(name);
    let addr = UnixAddr::new(&short).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((addr, Some(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paths_are_used_as_they_are() {
        let (a, dir) = unix_addr(Path::new("/run/x/start.sock")).unwrap();
        assert!(dir.is_none());
        assert_eq!(a.path(), Some(Path::new("/run/x/start.sock")));
    }

    #[test]
    fn long_paths_go_through_their_directory() {
        let tmp = std::env::temp_dir().join("a".repeat(110));
        std::fs::create_dir_all(&tmp).unwrap();
        let (a, dir) = unix_addr(&tmp.join("start.sock")).unwrap();
        let fd = dir.as_ref().unwrap().as_raw_fd();
        assert_eq!(
            a.path().unwrap(),
            Path::new(&format!("/proc/self/fd/{fd}/start.sock"))
        );
        std::fs::remove_dir(&tmp).unwrap();
        let e = unix_addr(&tmp.join("start.sock")).unwrap_err();
        assert!(e.contains("aaaa") && e.contains("No such file"), "{e}");
    }
}
