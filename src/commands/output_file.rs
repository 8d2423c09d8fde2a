//! Where `export` and `save` write an archive asked for with `-o FILE`.

use crate::error::{IoContext, Result};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Runs `write` into `path`. A regular file (new, or already there, through a symlink or
/// not) is written as a scratch file beside it and renamed over it once `write` succeeds,
/// as docker's CLI does: a failed command leaves no half-written archive, and what was
/// there stays as it was (it used to be truncated, then removed). Anything else that is
/// there (`/dev/null`, a fifo, `/dev/stdout`) is written as it is and never removed.
pub fn to_file(path: &Path, write: impl FnOnce(Box<dyn Write + Send>) -> Result<()>) -> Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e).ctx("resolve", path),
    };
    // A file already there keeps its permissions (a private archive stays private).
    let mut mode = 0o666;
    match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => {
            let file = OpenOptions::new()
                .write(true)
                .open(&target)
                .ctx("open", path)?;
            return write(Box::new(file));
        }
        Ok(meta) => mode = meta.permissions().mode() & 0o777,
        Err(_) => {}
    }
    let scratch = scratch_path(&target);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&scratch)
        .ctx("create", &scratch)?;
    let result = write(Box::new(file))
        .and_then(|()| std::fs::rename(&scratch, &target).ctx("rename into place", &target));
    if result.is_err() {
        let _ = std::fs::remove_file(&scratch);
    }
    result
}

/// `DIR/.NAME.mdrun-tmp-PID` beside `target`.
fn scratch_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hidden = format!(".{name}.mdrun-tmp-{}", std::process::id());
    target.with_file_name(hidden)
}
