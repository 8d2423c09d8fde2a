//! `mdrun export [-o FILE] CONTAINER`: the container's root filesystem (its image's layers
//! merged with its write layer) as one flat tar archive, which `mdrun import` takes back.
//! To standard output unless `-o`; never to a terminal.

use super::{cleanup, commit_stopped};
use crate::cli::ExportArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

pub fn run(args: &ExportArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    match &args.output {
        Some(path) => to_file(Path::new(path), |out| export(&paths, &args.container, out))?,
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(Error::Usage(
                    "refusing to write a tar archive to a terminal: use -o FILE or redirect \
                     standard output"
                        .to_string(),
                ));
            }
            export(&paths, &args.container, Box::new(stdout))?;
        }
    }
    Ok(0)
}

/// Writes the container `query` names to `out`.
pub fn export(paths: &Paths, query: &str, out: Box<dyn Write + Send>) -> Result<()> {
    let (mut record, _) = cleanup::lookup(paths, query)?;
    let store = Store::new(paths.clone());
    if !record.layers.is_empty() {
        let _lock = crate::state::StoreLock::acquire(&paths.containers())?;
        record = crate::state::Record::load(&paths.container(&record.id))?;
        commit_stopped::finish_move(paths, &store, &record)?;
    }
    let image = commit_stopped::image_of(&store, &record)?;
    let mut dirs = vec![paths.container(&record.id).join("upper")];
    dirs.extend(store.lower_dirs(&image));
    let out = BufWriter::with_capacity(1 << 20, out);
    let (mut out, _) = store.export_merged(&dirs, out)?;
    out.flush().ctx("write", "the archive")
}

/// Runs `write` on a new file at `path`; removes the file if it fails, so a failed command
/// leaves no half-written archive.
pub(crate) fn to_file(
    path: &Path,
    write: impl FnOnce(Box<dyn Write + Send>) -> Result<()>,
) -> Result<()> {
    let file = File::create(path).ctx("create", path)?;
    let result = write(Box::new(file));
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}
