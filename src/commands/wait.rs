//! `mdrun wait CONTAINER...`: block until each container has exited, then print its exit
//! code (255 when mdrun never saw the exit, see `container::UNKNOWN_EXIT`).

use super::report;
use crate::cli::WaitArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::paths::Paths;

pub fn run(args: &WaitArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each_printing(&args.containers, |query| {
        container::wait(&paths, query).map(|code| code.to_string())
    }))
}
