//! `mdrun save [-o FILE] IMAGE...`: images as an OCI archive (an OCI image layout in a tar,
//! with docker's `manifest.json` beside it) that `mdrun load`, `podman load` and
//! `docker load` read. To standard output unless `-o`; never to a terminal.

use super::output_file::to_file;
use crate::cli::SaveArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(args: &SaveArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    let save = |mut out: Box<dyn Write + Send>| -> Result<()> {
        store.save(&args.images, &mut out)?;
        Ok(())
    };
    match &args.output {
        Some(path) => to_file(Path::new(path), save)?,
        None if std::io::stdout().is_terminal() => {
            return Err(Error::Usage(
                "refusing to write an image archive to a terminal: use -o FILE or redirect \
                 standard output"
                    .to_string(),
            ))
        }
        None => save(Box::new(std::io::stdout()))?,
    }
    Ok(0)
}
