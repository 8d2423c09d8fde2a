//! Things shared by all scenarios of a test binary: the busybox rootfs tarball and locks.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// target/tmp: Cargo makes it for integration tests; shared by every test binary.
pub fn target_tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// An exclusive flock(2) on `target/tmp/<name>.lock`, held until dropped. flock locks belong
/// to the open file, so this serialises threads of one binary as well as separate binaries.
pub struct FileLock(File);

impl FileLock {
    pub fn exclusive(name: &str) -> FileLock {
        let path = target_tmp().join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        // SAFETY: flock(2) on a descriptor we own; no memory is shared with the kernel.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            panic!(
                "flock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        FileLock(file)
    }
}

/// Held by tests that measure CPU time and by those that burn CPU or memory, so that on a
/// two-core machine the measurements do not depend on what else happens to run.
pub fn heavy_lock() -> FileLock {
    FileLock::exclusive("heavy")
}

pub fn fixture_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/busybox-rootfs.sh")
}

/// The busybox rootfs tarball, built by scripts/busybox-rootfs.sh into target/tmp
/// once per test binary (rebuilt when the script or /bin/busybox is newer than it).
pub fn busybox_tarball() -> &'static Path {
    static TARBALL: OnceLock<PathBuf> = OnceLock::new();
    TARBALL.get_or_init(|| {
        let out = target_tmp().join("busybox-rootfs.tar");
        let _lock = FileLock::exclusive("busybox-rootfs");
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let script = fixture_script();
        let fresh = match mtime(&out) {
            Some(built) => [script.as_path(), Path::new("/bin/busybox")]
                .iter()
                .all(|input| mtime(input).is_some_and(|t| t <= built)),
            None => false,
        };
        if !fresh {
            let status = Command::new("bash")
                .arg(&script)
                .arg(&out)
                .status()
                .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
            assert!(
                status.success(),
                "{} {} failed: {status}",
                script.display(),
                out.display()
            );
        }
        out
    })
}

/// Builds `tests/fixtures/<name>.rs` as a static executable (the busybox image has no libc)
/// with plain rustc, std only, into a directory of its own; returns that directory (to
/// mount into a container). Callers keep the result: each call builds again.
pub fn static_probe(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{}-{}",
        name.replace('_', "-"),
        std::process::id()
    ));
    fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.rs"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "target-feature=+crt-static",
            "-o",
        ])
        .arg(dir.join(name))
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("run rustc to build {}: {e}", src.display()));
    assert!(status.success(), "building {} failed", src.display());
    dir
}
