//! Creating a container: its id, its name claimed, its directories made and its record
//! written, ready for [`super::run_attached`] or [`super::run_detached`].
//!
//! Order matters for start-up cost and for leaving nothing behind: everything was
//! validated before (the spec, the image); then the name is claimed and the container's
//! directories made under the store lock; then (`run`) its init is cloned, which builds its
//! root while its cgroup is made. Every step that creates something has a guard that undoes
//! it on the way out of an error.

use super::dirs::ContainerDirs;
use super::prepare::prepare;
use super::run::Prepared;
use crate::config::GlobalConfig;
use crate::error::Result;
use crate::ids;
use crate::image::{Image, Store};
use crate::logs;
use crate::parse;
use crate::paths::Paths;
use crate::spec::ContainerSpec;
use crate::state::{self, CgroupManager, LogDriver, Record, Status, StoreLock};

/// A new container for `spec` on `image` (resolved in `store`), placed by `manager`.
pub fn create(
    paths: &Paths,
    global: &GlobalConfig,
    spec: &ContainerSpec,
    store: &Store,
    image: &Image,
    manager: CgroupManager,
) -> Result<Prepared> {
    // Its last digits say which store made it (see state::StoreId).
    let id = state::StoreId::get_or_create(&paths.root)?.container_id();
    // The image's VOLUME paths that no -v covers become anonymous volumes.
    let mut spec = spec.clone();
    super::anon_volumes::add_image_volumes(&mut spec, &id, image)?;
    let spec = &spec;
    let hostname = spec
        .hostname
        .clone()
        .unwrap_or_else(|| ids::short(&id).to_string());
    let log_driver = log_driver(spec, global);

    // Claim the name and the directories under the lock, so that a concurrent
    // `run --name x` sees our claim: a record in state "created" with this process as its
    // supervisor, which every other command reads as "being started" while we live and as
    // stale once we are gone (see state::liveness). Unnamed containers are recorded too,
    // so that `rm`, `prune` and `rmi` see them as soon as they have a directory.
    let (dirs, record) = {
        let _lock = StoreLock::acquire(&paths.containers())?;
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| state::generate_name(&id));
        if spec.name.is_some() {
            parse::name(&name)?;
            Record::check_name_free(&paths.containers(), &name)?;
        }
        let dirs = ContainerDirs::create(paths, &id)?;
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
            hostname,
            tty: spec.tty,
            auto_remove: spec.remove,
            cgroup_paths: Vec::new(),
            cgroup_parent: spec.cgroup_parent.clone(),
            cgroup_created_parents: Vec::new(),
            cgroup_manager: manager,
            // Its unit's name, known before the unit exists: a repair after a `run` killed
            // half-way finds what systemd may have made for it.
            scope: (manager == CgroupManager::Systemd).then(|| crate::systemd::scope_name(&id)),
            log_driver,
            detached: spec.detach,
            spec: Some(spec.clone()),
            restart_policy: spec.restart,
            restart_count: 0,
            restart_pending: false,
            stopped_by_user: false,
            health: None,
        };
        record.save(&dirs.data)?;
        (dirs, record)
    };
    // An `rmi` that deleted the image between our resolve and our claim (it holds the
    // containers' lock while it checks and deletes): refuse rather than mount nothing.
    store.check_present(image)?;
    crate::stop_point::reached("run:claimed");
    prepare(paths, global, store, image, spec, record, dirs)
}

/// Which log driver a new container gets: `--log-driver`, else the global config's, `auto`
/// meaning journald when it is there, else a file. An attached `--rm` container's output is
/// on the user's terminal and its file would be removed with it as it ends, so unless the
/// driver keeps logs elsewhere (journald) it gets none: a cheaper start, nothing lost.
fn log_driver(spec: &ContainerSpec, global: &GlobalConfig) -> LogDriver {
    match logs::choose(spec.log_driver, global) {
        LogDriver::File if spec.remove && !spec.detach => LogDriver::None,
        d => d,
    }
}
