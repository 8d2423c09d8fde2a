//! Anonymous volumes: an image's VOLUME paths that `run` does not mount anything on get a
//! volume of their own under `<root>/volumes/<name>`, as docker gives them. The name is
//! the sha256 of the container's id and the path, so `start` finds the same one again and
//! `rm -v` / `--rm` know which of a container's volumes are its anonymous ones (a named
//! volume the user gave is never removed).

use crate::error::{Error, IoContext, Result};
use crate::image::Image;
use crate::paths::Paths;
use crate::spec::{ContainerSpec, VolumeSource, VolumeSpec};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The anonymous volume of container `id` at `target`.
pub fn anonymous_name(id: &str, target: &Path) -> String {
    let mut h = Sha256::new();
    h.update(b"mdrun-anonymous-volume\0");
    h.update(id.as_bytes());
    h.update(b"\0");
    h.update(target.as_os_str().as_encoded_bytes());
    crate::image::hex(&h.finalize())
}

/// Adds an anonymous volume to `spec` for each of `image`'s VOLUME paths that no `-v`
/// already mounts something on.
pub fn add_image_volumes(spec: &mut ContainerSpec, id: &str, image: &Image) -> Result<()> {
    for path in &image.config.volumes {
        let parsed = |name: &str| {
            crate::parse::volume(&format!("{name}:{path}"))
                .map_err(|e| Error::Usage(format!("image VOLUME {path:?}: {e}")))
        };
        let target = parsed("x")?.target;
        if spec.volumes.iter().any(|v| v.target == target) {
            continue;
        }
        spec.volumes.push(parsed(&anonymous_name(id, &target))?);
    }
    Ok(())
}

/// Removes container `id`'s anonymous volumes among `volumes` (named ones are kept).
pub fn remove_anonymous(paths: &Paths, id: &str, volumes: &[VolumeSpec]) -> Result<()> {
    remove_in(&paths.volumes(), id, volumes)
}

/// The same, given the container's data directory (`<root>/containers/<id>`).
pub fn remove_anonymous_beside(data: &Path, id: &str, volumes: &[VolumeSpec]) -> Result<()> {
    match data.parent().and_then(Path::parent) {
        Some(root) => remove_in(&root.join("volumes"), id, volumes),
        None => Ok(()),
    }
}

fn remove_in(volumes_dir: &Path, id: &str, volumes: &[VolumeSpec]) -> Result<()> {
    for v in volumes {
        if let VolumeSource::Named(name) = &v.source {
            if *name == anonymous_name(id, &v.target) {
                let dir = volumes_dir.join(name);
                match std::fs::remove_dir_all(&dir) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    other => other.ctx("remove anonymous volume", &dir)?,
                }
            }
        }
    }
    Ok(())
}
