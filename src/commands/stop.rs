//! `mdrun stop [-t SECONDS] CONTAINER...`: SIGTERM to the init, SIGKILL once the timeout
//! has passed, then wait until the exit is on record (see `container::stop`). Like docker:
//! prints each container as it was named; stopping one that is not running is fine (a note
//! on stderr, exit 0).

use super::report;
use crate::cli::StopArgs;
use crate::config::GlobalConfig;
use crate::container::{self, Stopped};
use crate::error::Result;
use crate::paths::Paths;
use std::time::Duration;

pub fn run(args: &StopArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let timeout = u64::try_from(args.time).ok().map(Duration::from_secs);
    Ok(report::each(
        &args.containers,
        |query| match container::stop(&paths, query, timeout)? {
            Stopped::Now => Ok(()),
            Stopped::Already(name) => {
                eprintln!("mdrun: container {name:?} is not running");
                Ok(())
            }
        },
    ))
}
