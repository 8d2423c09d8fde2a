//! Against the kernel: neither kind of sealed binary can be written through a handle the
//! way a container would try (reopening `/proc/self/fd/N` for writing).

use super::{memfd, overlay};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

fn reopen_for_writing(fd: &OwnedFd) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn link(fd: &OwnedFd) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn head(path: &str) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = std::fs::File::open(path).unwrap().read(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
#[ignore = "needs root (fsopen of an overlay): bash tests/run runs it"]
fn the_overlay_view_of_the_binary_is_read_only_and_mounted_nowhere() {
    let scratch = tempfile::tempdir().unwrap();
    let lower = scratch.path().join("lower");
    let fd = overlay::open(&lower).unwrap();
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    // The path inside the detached mount: the binary's name at its root.
    assert_eq!(
        link(&fd),
        format!("/{}", exe.file_name().unwrap().to_string_lossy())
    );
    let err = reopen_for_writing(&fd).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
    // Readable, and what we run.
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    assert_eq!(head(&path), head("/proc/self/exe"));
    // The lower directory was made, is empty, and no mount appeared.
    assert_eq!(std::fs::read_dir(&lower).unwrap().count(), 0);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(scratch.path().to_str().unwrap()));
}

#[test]
fn the_overlay_reports_the_step_that_failed() {
    let err = overlay::open(std::path::Path::new("/nonexistent/lower")).unwrap_err();
    assert!(err.starts_with("mkdir /nonexistent/lower:"), "{err}");
}

#[test]
fn the_memfd_copy_is_sealed_against_writes() {
    let fd = memfd::copy().unwrap();
    assert!(
        link(&fd).starts_with("/memfd:mdrun-sealed-exe"),
        "{}",
        link(&fd)
    );
    // Root may open it for writing (the mode does not stop root), but no write goes in.
    match reopen_for_writing(&fd) {
        Ok(mut f) => {
            let err = f.write(b"x").unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}"),
    }
    let seals = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GET_SEALS).unwrap();
    let base = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    assert_eq!(seals & base, base);
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        std::fs::metadata("/proc/self/exe").unwrap().len()
    );
    assert_eq!(head(&path), head("/proc/self/exe"));
}
