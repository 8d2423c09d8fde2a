//! Where `export` and `save` write an archive asked for with `-o FILE`.

use crate::error::{IoContext, Result};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Runs `write` on a new file at `path`; removes the file if it fails, so a failed command
/// leaves no half-written archive.
pub fn to_file(path: &Path, write: impl FnOnce(Box<dyn Write + Send>) -> Result<()>) -> Result<()> {
    let file = File::create(path).ctx("create", path)?;
    let result = write(Box::new(file));
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}
