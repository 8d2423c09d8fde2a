//! `mdrun rm [-f] [-v] CONTAINER...`: remove containers: their write layer, record, log
//! file, runtime directory, cgroup and scope (see `container::remove`). A running
//! container is refused unless `-f`, which kills it first.
//!
//! `-v` removes anonymous volumes; mdrun has none yet (every volume is a host directory or
//! a named volume, and those are always kept), so it changes nothing today.

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
        container::remove(&paths, query, args.force)
    }))
}
