//! `mdrun export [-o FILE] CONTAINER`: the container's root filesystem as one flat tar
//! archive (see `container::export`), which `mdrun import` takes back. To standard output
//! unless `-o`; never to a terminal.

use super::output_file::to_file;
use crate::cli::ExportArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{Error, Result};
use crate::paths::Paths;
use std::io::IsTerminal;
use std::path::Path;

pub fn run(args: &ExportArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    match &args.output {
        Some(path) => to_file(Path::new(path), |out| {
            container::export(&paths, &args.container, out)
        })?,
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                return Err(Error::Usage(
                    "refusing to write a tar archive to a terminal: use -o FILE or redirect \
                     standard output"
                        .to_string(),
                ));
            }
            container::export(&paths, &args.container, Box::new(stdout))?;
        }
    }
    Ok(0)
}
