//! `mdrun healthcheck run CONTAINER`: run its healthcheck once, record the result (see
//! `container::health`); exit 0 when the check passed, 1 when it failed.

use crate::cli::{HealthcheckAction, HealthcheckArgs};
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::paths::Paths;

pub fn run(args: &HealthcheckArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    match &args.action {
        HealthcheckAction::Run { container } => {
            // The check forks into the container: from a sealed binary, as `exec`.
            crate::sealed_exe::reexec(&paths.exe_lower())?;
            let passed = container::run_healthcheck(&paths, container)?;
            Ok(if passed { 0 } else { 1 })
        }
    }
}
