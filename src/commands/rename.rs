//! `mdrun rename CONTAINER NEW_NAME` (see `container::rename`); prints nothing, as docker.

use crate::cli::RenameArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::paths::Paths;

pub fn run(args: &RenameArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    container::rename(&paths, &args.container, &args.new_name)?;
    Ok(0)
}
