//! `mdrun load [-i FILE] [-q]`: the images of an OCI or docker archive (plain, gzip or
//! zstd), from a file or standard input. Prints `Loaded image: NAME` per name, or
//! `Loaded image ID: sha256:...` for an image without one, as docker does.

use crate::cli::LoadArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use std::io::{IsTerminal, Read, Write};

pub fn run(args: &LoadArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    let source: Box<dyn Read + Send> = match args.input.as_deref() {
        Some("-") | None => {
            if std::io::stdin().is_terminal() {
                return Err(Error::Usage(
                    "no archive: use -i FILE or redirect standard input".to_string(),
                ));
            }
            Box::new(std::io::stdin())
        }
        Some(path) => Box::new(std::fs::File::open(path).ctx("open", path)?),
    };
    let loaded = store.load_archive(source)?;
    let mut out = std::io::stdout().lock();
    for image in &loaded {
        for name in &image.skipped_names {
            eprintln!("mdrun: warning: not a valid image name here, skipped: {name:?}");
        }
        if args.quiet {
            writeln!(out, "sha256:{}", image.image.id)
        } else if image.names.is_empty() {
            writeln!(out, "Loaded image ID: sha256:{}", image.image.id)
        } else {
            image
                .names
                .iter()
                .try_for_each(|name| writeln!(out, "Loaded image: {name}"))
        }
        .ctx("write", "standard output")?;
    }
    Ok(0)
}
