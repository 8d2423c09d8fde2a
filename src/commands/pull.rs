//! `mdrun pull [--platform os/arch[/variant]] [-q] REF` (the pull `run` makes of a missing
//! image, `--pull missing|always|never`, is `container::image_for_run`). Progress per layer as docker shows it;
//! the last line is the full reference (`docker.io/library/alpine:latest`).

use crate::cli::PullArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::image::Store;
use crate::paths::Paths;
use crate::registry::{self, Options, Progress};

pub fn run(args: &PullArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    let progress = Progress::new(args.quiet, false);
    let pulled = pull(
        &store,
        &args.reference,
        &Options::from(&args.registry),
        &progress,
    )?;
    println!("{}", pulled);
    Ok(0)
}

/// `mdrun tag SOURCE TARGET`: TARGET names the image SOURCE names (docker prints nothing).
pub fn tag(args: &crate::cli::TagArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    store.tag(&args.source, &args.target)?;
    Ok(0)
}

/// Pulls `reference`; returns the full reference pulled, as the last line shows it.
fn pull(store: &Store, reference: &str, opts: &Options, progress: &Progress) -> Result<String> {
    let pulled = registry::pull(store, reference, opts, progress)?;
    progress.line(&match pulled.fetched {
        0 => format!("Status: Image is up to date for {}", pulled.reference),
        _ => format!("Status: Downloaded newer image for {}", pulled.reference),
    });
    Ok(pulled.reference)
}

impl std::fmt::Display for registry::Pulled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reference)
    }
}
