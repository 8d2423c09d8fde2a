//! mdrun's directories are root's alone. A layer holds its image's setuid-root files and
//! device nodes, and root in a container makes more in its write layer and its volumes:
//! a host user who could reach one could run it and be root on the host (docker's
//! CVE-2021-41091). So the storage root, its top-level directories, every container's
//! directory and the run root are mode 0700: made so, and tightened when an older mdrun
//! left them open. Below them modes are the image's and the container's own (a layer's
//! root, a write layer, a volume's directory keep 0755: they are what the container sees
//! as `/` or as the volume). Mounts inside the container do not walk these paths, so
//! users inside it are not affected.

use crate::error::{IoContext, Result};
use crate::paths::Paths;
use std::fs::{self, DirBuilder, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// rwx for root, nothing for group and others.
pub const MODE: u32 = 0o700;

/// On every command that opens the store: `root`, its top-level directories and
/// `run_root` exist and are private. A stat each when they already are (7 in all); no walk
/// (what lies below a private directory is out of reach whatever its mode).
pub fn secure_store(paths: &Paths) -> Result<()> {
    ensure(&paths.root)?;
    for dir in [
        paths.layers(),
        paths.images(),
        paths.tmp(),
        paths.volumes(),
        paths.containers(),
    ] {
        ensure(&dir)?;
    }
    ensure(&paths.run_root)
}

/// `dir` exists and only its owner may enter it: made 0700 (missing parents too) when
/// absent, its group and other bits cleared when present.
pub fn ensure(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            Err(io::Error::from_raw_os_error(libc::ENOTDIR)).ctx("open store directory", dir)
        }
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 == 0 {
                return Ok(());
            }
            fs::set_permissions(dir, Permissions::from_mode(mode & !0o077))
                .ctx("make private (chmod go-rwx)", dir)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => create(dir).ctx("mkdir", dir),
        Err(e) => Err(e).ctx("stat", dir),
    }
}

/// `mkdir -p` with mode 0700 for every directory it makes.
pub fn create(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(MODE).create(dir)
}

/// `mkdir` (its parent must exist; AlreadyExists if it does) with mode 0700.
pub fn create_one(dir: &Path) -> io::Result<()> {
    DirBuilder::new().mode(MODE).create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn made_private_or_tightened_keeping_the_owner_bits() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::new(tmp.path().join("a/root"), tmp.path().join("run"));
        secure_store(&paths).unwrap();
        for d in [
            &paths.root,
            &paths.layers(),
            &paths.containers(),
            &paths.run_root,
        ] {
            assert_eq!(mode(d), 0o700, "{}", d.display());
        }
        fs::set_permissions(paths.layers(), Permissions::from_mode(0o1755)).unwrap();
        fs::set_permissions(&paths.run_root, Permissions::from_mode(0o711)).unwrap();
        secure_store(&paths).unwrap();
        assert_eq!(mode(&paths.layers()), 0o1700);
        assert_eq!(mode(&paths.run_root), 0o700);
    }

    #[test]
    fn a_file_in_the_way_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::new(tmp.path().join("root"), tmp.path().join("run"));
        fs::create_dir(&paths.root).unwrap();
        fs::write(paths.images(), "").unwrap();
        let err = secure_store(&paths).unwrap_err().to_string();
        assert!(
            err.contains("images") && err.contains("ot a directory"),
            "{err}"
        );
    }
}
