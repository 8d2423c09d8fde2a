//! `mdrun rm [-f] [-v] CONTAINER...`: remove containers: their write layer, record, log
//! file, runtime directory, cgroup and scope (see `container::remove`). A running
//! container is refused unless `-f`, which kills it first.
//!
//! `-v` removes the container's anonymous volumes (those `run` made for its image's
//! VOLUME paths); host directories and named volumes are always kept.

use super::report;
use crate::cli::RmArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::paths::Paths;

pub fn run(args: &RmArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        container::remove(&paths, query, args.force, args.volumes)
    }))
}
