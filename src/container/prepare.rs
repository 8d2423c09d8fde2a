//! The host side of a container before it starts: its volumes' host directories, the
//! notification relay, and the plan handed to the init; the environment `exec` shares.

use super::dirs::ContainerDirs;
use super::run::Prepared;
use crate::config::GlobalConfig;
use crate::error::{IoContext, Result};
use crate::image::{Image, Store};
use crate::launch::{LaunchPlan, ProcessPlan};
use crate::paths::Paths;
use crate::rootfs::{Mount, RootfsPlan};
use crate::spec::{ContainerSpec, VolumeSource};
use crate::state::{LogDriver, Record};
use crate::systemd::NotifyProxy;
use std::path::PathBuf;

/// What `run` needs to start the claimed container `record` (new, or being started again)
/// from `spec` on `image`: its volumes' directories, its notification relay and its plan.
pub fn prepare(
    paths: &Paths,
    global: &GlobalConfig,
    store: &Store,
    image: &Image,
    spec: &ContainerSpec,
    mut record: Record,
    dirs: ContainerDirs,
) -> Result<Prepared> {
    let mut volumes = volume_mounts(paths, spec)?;
    let notify = notify_proxy(spec, &dirs)?.map(|(proxy, mount)| {
        volumes.push(mount);
        proxy
    });
    let (net, netns) = super::network::plan(paths, spec, image, &record, &dirs, &mut volumes)?;
    let init_layer = init_layer(&dirs, &volumes)?;
    let mut plan = plan(
        &record.id,
        spec,
        store,
        image,
        &dirs,
        volumes,
        record.hostname.clone(),
        record.log_driver != LogDriver::None || spec.detach,
    );
    plan.net = netns;
    if let Some(init) = init_layer {
        plan.rootfs.lower_dirs.insert(0, init);
    }
    record.limits.restrict_devices = plan.process.security.device_filter;
    let manager = record.cgroup_manager;
    Ok(Prepared {
        record,
        dirs,
        plan,
        manager,
        slice: global.slice.clone(),
        interactive: spec.interactive,
        sdnotify_container: spec.sdnotify_container,
        notify,
        net,
    })
}

/// The files mdrun mounts over the image's (a network's /etc/hosts and /etc/resolv.conf,
/// the notification socket) need mount points; made by the init in the write layer they
/// would show in `diff` and be committed as empty files. As docker's init layer: a lower
/// layer of the container's own, topmost, holding the empty mount points (made once; a
/// restart finds them).
fn init_layer(dirs: &ContainerDirs, mounts: &[Mount]) -> Result<Option<PathBuf>> {
    let init = dirs.data.join("init");
    let ours = mounts
        .iter()
        .filter(|m| m.source.starts_with(&dirs.data) || m.source.starts_with(&dirs.runtime));
    let mut any = false;
    for m in ours {
        let Ok(rel) = m.target.strip_prefix("/") else {
            continue;
        };
        let point = init.join(rel);
        if let Some(parent) = point.parent() {
            std::fs::create_dir_all(parent).ctx("create the init layer's directory", parent)?;
        }
        if point.symlink_metadata().is_err() {
            std::fs::File::create(&point).ctx("create a mount point in the init layer", &point)?;
        }
        any = true;
    }
    Ok(any.then_some(init))
}

/// Host directories of the volumes: created when missing, resolved to their real path (a
/// symlinked host path is followed on the host, as docker does).
fn volume_mounts(paths: &Paths, spec: &ContainerSpec) -> Result<Vec<Mount>> {
    let mut mounts = Vec::with_capacity(spec.volumes.len());
    for v in &spec.volumes {
        let source = match &v.source {
            VolumeSource::Host(p) => p.clone(),
            VolumeSource::Named(n) => paths.volume(n),
        };
        // A volume made now is filled from the image on its first use, as docker does
        // (a host directory never is).
        let made = matches!(v.source, VolumeSource::Named(_)) && source.symlink_metadata().is_err();
        std::fs::create_dir_all(&source).ctx("create volume directory", &source)?;
        let source = std::fs::canonicalize(&source).ctx("resolve volume directory", &source)?;
        mounts.push(Mount {
            source,
            target: v.target.clone(),
            read_only: v.read_only,
            copy_up: made,
        });
    }
    Ok(mounts)
}

#[allow(clippy::too_many_arguments)]
fn plan(
    id: &str,
    spec: &ContainerSpec,
    store: &Store,
    image: &Image,
    dirs: &ContainerDirs,
    volumes: Vec<Mount>,
    hostname: String,
    capture_output: bool,
) -> LaunchPlan {
    let args = image
        .config
        .command(spec.entrypoint.as_deref(), &spec.command);
    // The image's USER unless `--user` says otherwise (a name is resolved in the
    // container's /etc/passwd, as for --user).
    let mut security = spec.security.clone();
    if security.user.is_none() {
        security.user = image.config.user.clone();
    }
    LaunchPlan {
        rootfs: RootfsPlan {
            lower_dirs: store.lower_dirs(image),
            upper_dir: dirs.data.join("upper"),
            work_dir: dirs.data.join("work"),
            mountpoint: dirs.runtime.join("rootfs"),
            volumes,
            mask_paths: !spec.security.privileged,
            read_only: spec.security.read_only,
            tmpfs: spec.security.tmpfs.clone(),
            volatile: spec.remove,
            cgroup: crate::rootfs::CgroupMountPlan {
                unified: crate::cgroups::detect() == crate::cgroups::Version::V2,
                own_names: vec![
                    crate::placement::cgroup_name(id),
                    crate::systemd::scope_name(id),
                ],
            },
        },
        process: ProcessPlan {
            args,
            env: environment(spec, image, &hostname),
            cwd: spec
                .workdir
                .clone()
                .or(image.config.workdir.as_ref().map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("/")),
            hostname,
            tty: spec.tty,
            stdin_null: !spec.interactive,
            capture_output,
            security: crate::security::plan(&security, crate::cgroups::devices::filter_available()),
        },
        net: crate::launch::NetNs::New,
    }
}

/// Where `--sdnotify container` puts the notification socket inside (as podman does).
const NOTIFY_TARGET: &str = "/run/notify/notify.sock";

/// Does the container signal readiness itself, to a systemd that is listening?
fn container_notifies(spec: &ContainerSpec) -> bool {
    spec.sdnotify_container && std::env::var_os(crate::systemd::NOTIFY_SOCKET).is_some()
}

/// `--sdnotify container` under a Type=notify unit: the relay socket, bound in the
/// container's runtime directory, and the mount that makes it the container's
/// NOTIFY_SOCKET. None otherwise.
fn notify_proxy(
    spec: &ContainerSpec,
    dirs: &ContainerDirs,
) -> Result<Option<(NotifyProxy, Mount)>> {
    if !container_notifies(spec) {
        return Ok(None);
    }
    let path = dirs.runtime.join("notify.sock");
    let Some(proxy) = NotifyProxy::open(path.clone()).ctx("bind notify socket", &path)? else {
        return Ok(None);
    };
    let mount = Mount {
        source: path,
        target: PathBuf::from(NOTIFY_TARGET),
        read_only: false,
        copy_up: false,
    };
    Ok(Some((proxy, mount)))
}

/// PATH and HOSTNAME first, then the image's, then the user's (later entries win), as docker.
pub fn environment(spec: &ContainerSpec, image: &Image, hostname: &str) -> Vec<String> {
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOSTNAME".into(), hostname.into()),
        ("HOME".into(), "/root".into()),
    ];
    if spec.tty {
        env.push(("TERM".into(), "xterm".into()));
    }
    if container_notifies(spec) {
        env.push(("NOTIFY_SOCKET".into(), NOTIFY_TARGET.into()));
    }
    let image_env = image
        .config
        .env
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()));
    for (k, v) in image_env.chain(spec.env.iter().cloned()) {
        match env.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = v,
            None => env.push((k, v)),
        }
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}
