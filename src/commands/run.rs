//! `mdrun run`: start a container and stay attached to it until it ends.
//!
//! Order matters for start-up cost and for leaving nothing behind: validate everything
//! first; then create the container's directories, clone the init (which builds its root
//! while we make its cgroup), move it into the cgroup, let it exec. Every step that creates
//! something has a guard that undoes it on the way out of an error.

use super::run_prepare::{plan, volume_mounts, ContainerDirs};
use super::run_spec;
use crate::cgroups;
use crate::cli::RunArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::image::Store;
use crate::launch::{self, signals};
use crate::paths::Paths;
use crate::state::{self, Record, Status, StoreLock};
use crate::{ids, parse};

pub fn run(args: &RunArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let spec = run_spec::build(args, &global)?;
    let paths = Paths::new(&global.root, &global.run_root);
    let store = Store::new(paths.clone());
    let image = store.resolve(&spec.image)?;
    let id = ids::new_id();
    let hostname = spec.hostname.clone().unwrap_or_else(|| ids::short(&id).to_string());

    // Claim the name and the directories under the lock, so a concurrent `run --name x` sees
    // our claim (a record in state "created").
    let mut dirs;
    let mut record;
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        let name = spec.name.clone().unwrap_or_else(|| state::generate_name(&id));
        if spec.name.is_some() {
            parse::name(&name)?;
            Record::check_name_free(&paths.containers(), &name)?;
        }
        dirs = ContainerDirs::create(&paths, &id)?;
        record = Record {
            id: id.clone(),
            name,
            image: spec.image.clone(),
            image_id: image.id.clone(),
            command: if spec.command.is_empty() { image.config.cmd.clone() } else { spec.command.clone() },
            created: state::now(),
            started: None,
            finished: None,
            pid: None,
            status: Status::Created,
            exit: None,
            oom_killed: false,
            limits: spec.limits.clone(),
            volumes: spec.volumes.clone(),
            hostname: hostname.clone(),
            tty: spec.tty,
            auto_remove: spec.remove,
            cgroup_paths: Vec::new(),
            cgroup_parent: spec.cgroup_parent.clone(),
        };
        if spec.name.is_some() {
            record.save(&dirs.data)?;
        }
    }

    let volumes = volume_mounts(&paths, &spec)?;
    let launch_plan = plan(&spec, &store, &image, &dirs, volumes, hostname);

    signals::block().map_err(launch::sys("block signals"))?;
    let spawned = launch::spawn(&launch_plan)?;
    // The init builds its root filesystem while we make its cgroup.
    let backend = cgroups::backend();
    let cgroup = cgroups::CgroupGuard::new(backend.create(
        spec.cgroup_parent.as_deref(),
        &format!("mdrun-{id}"),
        &spec.limits,
    )?);
    cgroup.add_process(spawned.pid.as_raw())?;
    let running = spawned.release()?;

    record.pid = Some(running.pid.as_raw());
    record.status = Status::Running;
    record.started = Some(state::now());
    record.cgroup_paths = cgroup.paths();
    dirs.keep();
    record.save(&dirs.data)?;

    let status = launch::supervise(running, spec.interactive).map_err(launch::sys("wait for container"));
    signals::unblock();
    let status = status?;

    record.oom_killed = cgroup.oom_killed();
    record.status = Status::Exited;
    record.finished = Some(state::now());
    record.exit = Some(status);
    record.pid = None;
    let cgroup_result = cgroup.destroy();
    dirs.remove_runtime();
    if spec.remove {
        dirs.remove();
    } else {
        record.save(&dirs.data)?;
    }
    cgroup_result?;
    Ok(status.code())
}
