//! The host side of a container before it starts: its directories (write layer, work dir,
//! overlay mount point) and its volumes' host directories, and the plan handed to the init.

use crate::error::{IoContext, Result};
use crate::image::{Image, Store};
use crate::launch::{LaunchPlan, ProcessPlan};
use crate::paths::Paths;
use crate::rootfs::{Mount, RootfsPlan};
use crate::spec::{ContainerSpec, VolumeSource};
use crate::systemd::NotifyProxy;
use std::path::PathBuf;

/// A container's directories; removed on drop unless `keep` was called (for an existing
/// container being started again, only the runtime part is removed).
pub struct ContainerDirs {
    pub data: PathBuf,
    pub runtime: PathBuf,
    keep: bool,
    existing: bool,
}

impl ContainerDirs {
    pub fn create(paths: &Paths, id: &str) -> Result<ContainerDirs> {
        let dirs = ContainerDirs {
            data: paths.container(id),
            runtime: paths.runtime(id),
            keep: false,
            existing: false,
        };
        dirs.make()?;
        Ok(dirs)
    }

    /// An exited container's directories, for `start`: its write layer is kept whatever happens.
    pub fn reopen(paths: &Paths, id: &str) -> Result<ContainerDirs> {
        let dirs = ContainerDirs {
            data: paths.container(id),
            runtime: paths.runtime(id),
            keep: false,
            existing: true,
        };
        // A `volatile` overlay (a `--rm` container whose removal was cut short) marks its work
        // dir so that it is not mounted again by mistake: we know what it held, so clear it.
        let _ = std::fs::remove_dir_all(dirs.data.join("work/incompat"));
        dirs.make()?;
        Ok(dirs)
    }

    /// The container's directory and its runtime directory are root's alone (one made by
    /// an older mdrun is tightened); the write layer, work dir and mount point inside them
    /// keep the usual 0755: the write layer's mode is that of the container's `/`.
    fn make(&self) -> Result<()> {
        crate::private_dirs::ensure(&self.data)?;
        crate::private_dirs::ensure(&self.runtime)?;
        for d in [
            self.data.join("upper"),
            self.data.join("work"),
            self.runtime.join("rootfs"),
        ] {
            std::fs::create_dir_all(&d).ctx("mkdir", &d)?;
        }
        Ok(())
    }

    /// `<root>/containers`, whose store lock guards the record.
    pub fn containers(&self) -> &std::path::Path {
        self.data.parent().unwrap_or(&self.data)
    }

    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Remove everything of the container but what the user keeps (volumes live elsewhere).
    pub fn remove(&mut self) {
        self.keep = false;
        let _ = std::fs::remove_dir_all(&self.runtime);
        let _ = std::fs::remove_dir_all(&self.data);
    }

    /// After the container ended: its overlay mount point is not needed any more.
    pub fn remove_runtime(&self) {
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}

impl Drop for ContainerDirs {
    fn drop(&mut self) {
        if self.keep {
        } else if self.existing {
            self.remove_runtime();
        } else {
            self.remove();
        }
    }
}

/// Host directories of the volumes: created when missing, resolved to their real path (a
/// symlinked host path is followed on the host, as docker does).
pub fn volume_mounts(paths: &Paths, spec: &ContainerSpec) -> Result<Vec<Mount>> {
    let mut mounts = Vec::with_capacity(spec.volumes.len());
    for v in &spec.volumes {
        let source = match &v.source {
            VolumeSource::Host(p) => p.clone(),
            VolumeSource::Named(n) => paths.volume(n),
        };
        std::fs::create_dir_all(&source).ctx("create volume directory", &source)?;
        let source = std::fs::canonicalize(&source).ctx("resolve volume directory", &source)?;
        mounts.push(Mount {
            source,
            target: v.target.clone(),
            read_only: v.read_only,
        });
    }
    Ok(mounts)
}

#[allow(clippy::too_many_arguments)]
pub fn plan(
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
            security: crate::security::plan(&security),
        },
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
pub fn notify_proxy(
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
