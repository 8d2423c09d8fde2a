//! `mdrun pause CONTAINER...` and `mdrun unpause CONTAINER...`: freeze or thaw each
//! container (see `container::pause`), printing each name as docker does.

use super::report;
use crate::cli::PauseArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::paths::Paths;

pub fn pause(args: &PauseArgs) -> Result<i32> {
    each(args, container::pause)
}

pub fn unpause(args: &PauseArgs) -> Result<i32> {
    each(args, container::unpause)
}

fn each(args: &PauseArgs, act: fn(&Paths, &str) -> Result<String>) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        act(&paths, query).map(|_| ())
    }))
}
