//! `mdrun push [-q] IMAGE [DEST]`: a stored image to a registry, docker's lines per
//! layer (`Pushed`, `Layer already exists`, `Mounted from ...`), then
//! `TAG: digest: sha256:... size: N`; the last line is `NAME@DIGEST` (alone with `-q`).

use crate::cli::PushArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::image::Store;
use crate::paths::Paths;
use crate::registry::{self, Options, Progress};

pub fn run(args: &PushArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    let progress = Progress::new(args.quiet, false);
    let pushed = registry::push(
        &store,
        &args.image,
        args.dest.as_deref(),
        &Options::from(&args.registry),
        &progress,
    )?;
    let name = pushed
        .reference
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(pushed.reference.as_str(), |(n, _)| n);
    println!("{name}@{}", pushed.digest);
    Ok(0)
}
