//! Exporting a container: its root filesystem (its image's layers merged with its write
//! layer) as one flat tar archive, which `mdrun import` takes back.

use super::commit_stopped::{finish_move, image_of};
use super::lookup::lookup;
use crate::error::{IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::{Record, StoreLock};
use std::io::{BufWriter, Write};

/// Writes the container `query` names to `out`.
pub fn export(paths: &Paths, query: &str, out: Box<dyn Write + Send>) -> Result<()> {
    let (mut record, _) = lookup(paths, query)?;
    let store = Store::new(paths.clone());
    if !record.layers.is_empty() {
        let _lock = StoreLock::acquire(&paths.containers())?;
        record = Record::load(&paths.container(&record.id))?;
        finish_move(paths, &store, &record)?;
    }
    let image = image_of(&store, &record)?;
    let mut dirs = vec![paths.container(&record.id).join("upper")];
    dirs.extend(store.lower_dirs(&image));
    let out = BufWriter::with_capacity(1 << 20, out);
    let (mut out, _) = store.export_merged(&dirs, out)?;
    out.flush().ctx("write", "the archive")
}
