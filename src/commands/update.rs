//! `mdrun update [--memory ...] CONTAINER...`: new limits for each container, live (see
//! `container::update`), printing each name as docker does.

use super::report;
use crate::cli::UpdateArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::policy::RestartPolicy;
use crate::spec::Limits;

pub fn run(args: &UpdateArgs) -> Result<i32> {
    let changed = limits(args)?;
    let global = GlobalConfig::load()?;
    let restart = args
        .restart
        .as_deref()
        .map(RestartPolicy::parse)
        .transpose()
        .map_err(Error::Usage)?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    Ok(report::each(&args.containers, |query| {
        if let Some(policy) = restart {
            container::update_restart(&paths, query, policy)?;
            if changed.is_empty() {
                return Ok(());
            }
        }
        container::update(&paths, query, &changed).map(|_| ())
    }))
}

/// The limits the flags set, each parsed and checked as `run` checks it.
fn limits(args: &UpdateArgs) -> Result<Limits> {
    let mut l = Limits::default();
    super::run::apply_flags(&mut l, &args.limits)?;
    Ok(l)
}
