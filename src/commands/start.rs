//! `mdrun start CONTAINER...`: run an exited container again, with its write layer, its
//! limits and its command; detached unless `-a`.

use super::run_prepare::{notify_proxy, plan, volume_mounts, ContainerDirs};
use super::run_start::{self, Prepared};
use crate::cli::StartArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::logs;
use crate::paths::Paths;
use crate::state::Status;

pub fn run(args: &StartArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::new(&global.root, &global.run_root);
    if args.attach && args.containers.len() > 1 {
        return Err(Error::Usage(
            "you cannot start and attach multiple containers at once".into(),
        ));
    }
    let store = Store::new(paths.clone());
    for query in &args.containers {
        // lookup repairs a stale record (its supervisor died) before we act on it.
        let (mut record, _) = super::cleanup::lookup(&paths, query)?;
        if record.status == Status::Running && record.init_alive() {
            // As docker: starting a running container is not an error.
            println!("{query}");
            continue;
        }
        let mut spec = record.spec.clone().ok_or_else(|| {
            Error::Usage(format!(
                "container {} has no saved configuration; it cannot be started",
                record.name
            ))
        })?;
        spec.detach = !args.attach;
        spec.interactive = args.attach && args.interactive;
        let image = store.resolve(&record.image_id)?;
        let dirs = ContainerDirs::reopen(&paths, &record.id)?;
        let mut volumes = volume_mounts(&paths, &spec)?;
        let notify = notify_proxy(&spec, &dirs)?.map(|(proxy, mount)| {
            volumes.push(mount);
            proxy
        });
        let capture = record.log_driver != logs::Driver::None || spec.detach;
        let plan = plan(
            &spec,
            &store,
            &image,
            &dirs,
            volumes,
            record.hostname.clone(),
            capture,
        );
        record.detached = spec.detach;
        record.limits.restrict_devices = plan.process.security.device_filter;
        let manager = record.cgroup_manager;
        let prepared = Prepared {
            record,
            dirs,
            plan,
            manager,
            slice: global.slice.clone(),
            interactive: spec.interactive,
            sdnotify_container: spec.sdnotify_container,
            notify,
        };
        if args.attach {
            return run_start::attached(prepared);
        }
        run_start::detached(prepared)?;
        println!("{query}");
    }
    Ok(0)
}
