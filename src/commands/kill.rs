//! `mdrun kill [-s SIGNAL] CONTAINER...`: send a signal (default KILL) to each container's
//! init (see `container::kill`).

use super::report;
use crate::cli::KillArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::parse;
use crate::paths::Paths;

pub fn run(args: &KillArgs) -> Result<i32> {
    let signal = parse::signal(&args.signal)?;
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        container::kill(&paths, query, signal)
    }))
}
