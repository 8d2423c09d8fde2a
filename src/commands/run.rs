//! `mdrun run`: create a container and start it, attached (default) or detached (`-d`).
//!
//! Order matters for start-up cost and for leaving nothing behind: validate everything
//! first; then claim the name and create the container's directories; then (run_start)
//! clone the init, which builds its root while we make its cgroup. Every step that creates
//! something has a guard that undoes it on the way out of an error.

use super::run_prepare::{notify_proxy, plan, volume_mounts, ContainerDirs};
use super::run_spec;
use super::run_start::{self, Prepared};
use crate::cli::RunArgs;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::image::Store;
use crate::logs;
use crate::paths::Paths;
use crate::placement;
use crate::state::{self, Record, Status, StoreLock};
use crate::{ids, parse};

pub fn run(args: &RunArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let mut spec = run_spec::build(args, &global)?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let store = Store::new(paths.clone());
    let image = super::pull::for_run(
        &store,
        &spec.image,
        &args.pull,
        &crate::registry::Options::from(&args.registry),
    )?;
    if spec.stop_signal.is_none() {
        spec.stop_signal = image.config.stop_signal.clone();
    }
    // Its last digits say which store made it (see state::StoreId).
    let id = state::StoreId::get_or_create(&paths.root)?.container_id();
    super::anon_volumes::add_image_volumes(&mut spec, &id, &image)?;
    let hostname = spec
        .hostname
        .clone()
        .unwrap_or_else(|| ids::short(&id).to_string());
    let (manager, warning) = placement::choose(spec.cgroup_manager, &global);
    if let Some(w) = warning {
        eprintln!("mdrun: {w}");
    }
    let log_driver = log_driver(&spec, &global);

    // Claim the name and the directories under the lock, so that a concurrent
    // `run --name x` sees our claim: a record in state "created" with this process as its
    // supervisor, which every other command reads as "being started" while we live and as
    // stale once we are gone (see state::liveness). Unnamed containers are recorded too,
    // so that `rm`, `prune` and `rmi` see them as soon as they have a directory.
    let (dirs, mut record) = {
        let _lock = StoreLock::acquire(&paths.containers())?;
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| state::generate_name(&id));
        if spec.name.is_some() {
            parse::name(&name)?;
            Record::check_name_free(&paths.containers(), &name)?;
        }
        let dirs = ContainerDirs::create(&paths, &id)?;
        let record = Record {
            id: id.clone(),
            name,
            image: spec.image.clone(),
            image_id: image.id.clone(),
            layers: Vec::new(),
            layers_size: 0,
            command: image
                .config
                .command(spec.entrypoint.as_deref(), &spec.command),
            created: state::now(),
            started: None,
            finished: None,
            pid: None,
            supervisor_pid: Some(std::process::id() as i32),
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
            cgroup_created_parents: Vec::new(),
            cgroup_manager: manager,
            // Its unit's name, known before the unit exists: a repair after a `run` killed
            // half-way finds what systemd may have made for it.
            scope: (manager == placement::Manager::Systemd)
                .then(|| crate::systemd::scope_name(&id)),
            log_driver,
            detached: spec.detach,
            spec: Some(spec.clone()),
        };
        record.save(&dirs.data)?;
        (dirs, record)
    };
    // An `rmi` that deleted the image between our resolve and our claim (it holds the
    // containers' lock while it checks and deletes): refuse rather than mount nothing.
    store.check_present(&image)?;
    state::stop_point("run:claimed");

    let mut volumes = volume_mounts(&paths, &spec)?;
    let notify = notify_proxy(&spec, &dirs)?.map(|(proxy, mount)| {
        volumes.push(mount);
        proxy
    });
    let plan = plan(
        &id,
        &spec,
        &store,
        &image,
        &dirs,
        volumes,
        hostname,
        log_driver != logs::Driver::None || spec.detach,
    );
    record.limits.restrict_devices = plan.process.security.device_filter;
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
    if spec.detach {
        run_start::detached(prepared)?;
        println!("{id}");
        Ok(0)
    } else {
        run_start::attached(prepared)
    }
}

/// Which log driver a new container gets: `--log-driver`, else the global config's, `auto`
/// meaning journald when it is there, else a file. An attached `--rm` container's output is
/// on the user's terminal and its file would be removed with it as it ends, so unless the
/// driver keeps logs elsewhere (journald) it gets none: a cheaper start, nothing lost.
fn log_driver(spec: &crate::spec::ContainerSpec, global: &GlobalConfig) -> logs::Driver {
    match logs::choose(spec.log_driver, global) {
        logs::Driver::File if spec.remove && !spec.detach => logs::Driver::None,
        d => d,
    }
}
