//! A stopped container's write layer becomes a layer by moving it into the store, not by
//! copying it (`commit` of a container that does not run; see `commands::commit_stopped`).
//!
//! The write layer is hashed as `layer_tar` streams it (the digest `save` will give the
//! layer's tarball, as for a copied layer), renamed to `layers/<digest>` and replaced by an
//! empty one; the container's record lists the moved layer above its image's, so that it
//! goes on seeing the same files. Such a layer is used by the container as well as by the
//! image: `rmi` keeps layers a container uses, and `sweep_unused_layers` deletes the ones
//! nobody uses once the container is removed.
//!
//! overlayfs keeps its own bookkeeping in an upper directory (`trusted.overlay.origin`,
//! `impure`): as a lower layer those are not looked at, and `layer_tar` drops them from
//! the stream, so the moved layer and one unpacked from its tarball stack the same way.

use super::files::{io_err, mkdir_p, StoreLock, TmpDir};
use super::layer_add::{now, stream_tree, Committed, Publish};
use super::reference::Reference;
use super::store::exists;
use super::{Image, ImageError, Store};
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The digest and size of a write layer, as a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDigest {
    /// The layer id: sha256 of its OCI tarball, hex.
    pub id: String,
    /// Bytes of regular file content.
    pub bytes: u64,
}

impl Store {
    /// Hashes the tree at `tree` as `layer_from_tree` would stream it, writing nothing.
    pub fn digest_tree(&self, tree: &Path) -> Result<TreeDigest, ImageError> {
        let ((_, written), id) = stream_tree(tree, |archive| {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                match archive.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(ImageError::Archive(e)),
                }
            }
        })?;
        Ok(TreeDigest {
            id,
            bytes: written.bytes,
        })
    }

    /// Whether layer `id` is in the store.
    pub fn has_layer(&self, id: &str) -> bool {
        exists(&self.layer_dir(id))
    }

    /// Whether `dir` can be renamed into the layer store (the same file system).
    pub fn can_adopt(&self, dir: &Path) -> Result<bool, ImageError> {
        let layers = self.paths.layers();
        mkdir_p(&layers)?;
        let here = fs::metadata(dir).map_err(io_err("stat", dir))?;
        let there = fs::metadata(&layers).map_err(io_err("stat", &layers))?;
        Ok(here.dev() == there.dev())
    }

    /// Moves the tree `upper` into the store as layer `id` (its digest) and makes an empty
    /// `upper` with the old one's mode and owner (overlayfs shows the upper directory's own
    /// attributes as `/`). When layer `id` is there already (the same content), `upper` is
    /// deleted instead. The caller holds the containers' lock and has put `id` on the
    /// container's record. Returns whether the layer was there already.
    pub fn adopt_layer(&self, upper: &Path, id: &str) -> Result<bool, ImageError> {
        let target = self.layer_dir(id);
        let reused = exists(&target);
        if reused {
            let trash = TmpDir::create(&self.paths.tmp(), "commit")?;
            let moved = trash.path().join("upper");
            fs::rename(upper, &moved).map_err(io_err("move away", upper))?;
            drop(trash);
        } else {
            mkdir_p(&self.paths.layers())?;
            fs::rename(upper, &target).map_err(io_err("move into the layer store", upper))?;
        }
        crate::state::stop_point("commit:moved");
        make_empty_like(upper, &target)?;
        Ok(reused)
    }

    /// After a commit killed between recording layer `id` and finishing `adopt_layer`:
    /// move `upper` into place if it is not there, and make the empty `upper` if it is
    /// missing. Caller holds the containers' lock.
    pub fn finish_adoption(&self, upper: &Path, id: &str) -> Result<(), ImageError> {
        let target = self.layer_dir(id);
        if !exists(&target) && exists(upper) {
            mkdir_p(&self.paths.layers())?;
            fs::rename(upper, &target).map_err(io_err("move into the layer store", upper))?;
        }
        if !exists(upper) {
            make_empty_like(upper, &target)?;
        }
        Ok(())
    }

    /// An image of `layers` (all in the store already), with `parent`'s config, tagged
    /// `reference`; `size` is the bytes of file content of all its layers.
    pub fn commit_layers(
        &self,
        parent: &Image,
        layers: Vec<String>,
        size: u64,
        reference: &str,
    ) -> Result<Committed, ImageError> {
        let reference = Reference::parse(reference)?;
        let (image, mut previous) = self.publish(Publish {
            layers,
            new: Vec::new(),
            config: parent.config.clone(),
            created: now(),
            size,
            names: std::slice::from_ref(&reference),
        })?;
        Ok(Committed {
            image,
            previous: previous.pop().flatten(),
            layer_reused: true,
            layer_size: 0,
            xattrs_skipped: 0,
        })
    }

    /// Deletes every layer that no image and no container uses: one a committed container
    /// had moved into the store, once the container and the images made of it are gone.
    /// Under both locks (images first, as `rmi`), so no commit or import is half-way.
    pub fn sweep_unused_layers(&self) -> Result<Vec<String>, ImageError> {
        let layers_dir = self.paths.layers();
        let Ok(entries) = fs::read_dir(&layers_dir) else {
            return Ok(Vec::new());
        };
        let present: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| super::store::is_image_id(n))
            .collect();
        let _lock = StoreLock::exclusive(&self.images_dir())?;
        let _containers = self.lock_containers()?;
        let mut used: HashSet<String> = self.container_layers()?;
        for id in self.image_ids()? {
            if let Some(r) = self.load_record(&id)? {
                used.extend(r.layers);
            }
        }
        let mut removed = Vec::new();
        for layer in present.into_iter().filter(|l| !used.contains(l)) {
            self.remove_layer(&layer)?;
            removed.push(layer);
        }
        Ok(removed)
    }
}

/// mkdir `dir` with the mode and owner of `like` (0755 root when `like` is gone).
fn make_empty_like(dir: &Path, like: &Path) -> Result<(), ImageError> {
    let (mode, uid, gid) = match fs::metadata(like) {
        Ok(m) => (m.mode() & 0o7777, m.uid(), m.gid()),
        Err(_) => (0o755, 0, 0),
    };
    match fs::create_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(io_err("mkdir", dir)(e))
        }
        _ => {}
    }
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io_err("chown", dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", dir))
}
