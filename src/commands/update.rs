//! `mdrun update [--memory ...] CONTAINER...`: new limits for each container, live (see
//! `container::update`), printing each name as docker does.

use super::report;
use crate::cli::UpdateArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{Error, Result};
use crate::parse;
use crate::policy::RestartPolicy;
use crate::paths::Paths;
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
    let cpus = parse::host_cpus();
    let mut l = Limits::default();
    if let Some(m) = &args.memory {
        l.memory = Some(parse::memory(m)?);
    }
    if let Some(s) = &args.memory_swap {
        l.memory_swap = Some(parse::memory_swap(s)?);
    }
    if let Some(c) = &args.cpus {
        let (quota, period) = parse::cpus(c, cpus)?;
        l.cpu_quota = Some(quota);
        l.cpu_period = Some(period);
    }
    if let Some(s) = args.cpu_shares {
        if !(2..=262144).contains(&s) {
            return Err(Error::Usage(format!(
                "--cpu-shares {s}: must be between 2 and 262144"
            )));
        }
        l.cpu_shares = Some(s);
    }
    if let Some(c) = &args.cpuset_cpus {
        l.cpuset_cpus = Some(parse::cpuset(c, cpus)?);
    }
    if let Some(p) = args.pids_limit {
        if p == 0 || p < -1 {
            return Err(Error::Usage(format!(
                "--pids-limit {p}: must be positive, or -1 for unlimited"
            )));
        }
        l.pids_limit = Some(p);
    }
    Ok(l)
}
