//! `mdrun restart [-t SECONDS] CONTAINER...`: stop (as `mdrun stop`), then start detached
//! (under its restart policy's service, if it has one). Prints each container as named.

use super::report;
use crate::cli::RestartArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::image::Store;
use crate::paths::Paths;
use std::time::Duration;

pub fn run(args: &RestartArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let store = Store::new(paths.clone());
    let timeout = u64::try_from(args.time).ok().map(Duration::from_secs);
    Ok(report::each(&args.containers, |query| {
        container::stop(&paths, query, timeout)?;
        container::start(&paths, &global, &store, query, false, false)?;
        Ok(())
    }))
}
