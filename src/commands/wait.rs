//! `mdrun wait CONTAINER...`: block until each container has exited, then print its exit
//! code (255 when mdrun never saw the exit, see `cleanup::UNKNOWN_EXIT`).

use super::cleanup::{self, Repair};
use super::exit_wait::{self, Waited};
use super::report;
use crate::cli::WaitArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::paths::Paths;
use crate::state::StateError;

pub fn run(args: &WaitArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each_printing(&args.containers, |query| {
        wait(&paths, query).map(|code| code.to_string())
    }))
}

/// The exit code of the container `query` names, once it has exited.
pub fn wait(paths: &Paths, query: &str) -> Result<i32> {
    let (record, _) = cleanup::lookup(paths, query)?;
    match exit_wait::until_exited(paths, &record.id, None, Repair::Record)? {
        Waited::Exited(r) => Ok(r.exit.map_or(cleanup::UNKNOWN_EXIT, |e| e.code())),
        // Removed by its own `--rm` before we could read how it ended.
        Waited::Removed | Waited::TimedOut(_) => Err(StateError::NoSuchContainer {
            query: query.to_string(),
        }
        .into()),
    }
}
