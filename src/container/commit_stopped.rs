//! `commit` of a container that does not run: its write layer is moved into the layer store
//! instead of copied (see `image::layer_adopt`), so a commit costs a read of the layer for
//! its digest and a rename.
//!
//! Order, so that a SIGKILL at any point leaves a container that sees its files:
//! 1. the digest of the write layer, without any lock (a `start` meanwhile is noticed in 2);
//! 2. under the containers' lock: the record, looked at again, gets the layer (saved
//!    atomically), then the write layer is renamed into the store and an empty one made;
//!    a command killed in between leaves a record whose last layer is still the write
//!    layer, and the next `start`, `commit` or `export` finishes the move (`finish_move`);
//! 3. the image, made of the image's layers and the container's, as any commit's.
//!
//! The container's own layers are kept while it exists even when the image is removed;
//! `rm` and `prune` delete them once nothing uses them.

use crate::error::Result;
use crate::image::{Committed, Image, Store};
use crate::paths::Paths;
use crate::state::{Record, Status, StoreLock};

/// The image the container runs on: its image with the layers its commits moved.
pub fn image_of(store: &Store, record: &Record) -> Result<Image> {
    let mut image = store.resolve(&record.image_id)?;
    image.layers.extend(record.layers.iter().cloned());
    image.size += record.layers_size;
    Ok(image)
}

/// Finishes the move of a commit killed half-way (see the module comment). The caller
/// holds the containers' lock; `record` is as stored.
pub fn finish_move(paths: &Paths, store: &Store, record: &Record) -> Result<()> {
    if let Some(last) = record.layers.last() {
        let upper = paths.container(&record.id).join("upper");
        store.finish_adoption(&upper, last)?;
    }
    Ok(())
}

/// Commits `record`, which was not running when looked up. None when it was started
/// meanwhile (the caller then commits it as a running container).
pub fn commit(
    paths: &Paths,
    store: &Store,
    record: &Record,
    reference: &str,
) -> Result<Option<Committed>> {
    let dir = paths.container(&record.id);
    let upper = dir.join("upper");
    {
        let _lock = StoreLock::acquire(&paths.containers())?;
        finish_move(paths, store, &Record::load(&dir)?)?;
    }
    if !store.can_adopt(&upper)? {
        return Ok(None);
    }
    let base = store.resolve(&record.image_id)?;
    let unchanged = std::fs::read_dir(&upper)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if unchanged && !record.layers.is_empty() {
        // Nothing written since the last commit moved the write layer: the same layers.
        let image = image_of(store, record)?;
        let committed = store.commit_layers(&base, image.layers, image.size, reference)?;
        return Ok(Some(committed));
    }
    let digest = store.digest_tree(&upper)?;
    crate::stop_point::reached("commit:hashed");
    let layers = {
        let _lock = StoreLock::acquire(&paths.containers())?;
        let mut current = Record::load(&dir)?;
        let moved_on = current.status == Status::Running
            || super::wait::is_starting(&current)
            || current.started != record.started
            || current.layers != record.layers;
        if moved_on {
            return Ok(None);
        }
        let before = current.clone();
        current.layers.push(digest.id.clone());
        current.layers_size += digest.bytes;
        current.save(&dir)?;
        crate::stop_point::reached("commit:recorded");
        if let Err(e) = store.adopt_layer(&upper, &digest.id) {
            // Nothing moved (the rename failed): the record as it was. Otherwise the record
            // is right, and `finish_move` completes what is missing.
            if !store.has_layer(&digest.id) && upper.exists() {
                let _ = before.save(&dir);
            }
            return Err(e.into());
        }
        current.layers
    };
    let size = base.size + record.layers_size + digest.bytes;
    let mut all = base.layers.clone();
    all.extend(layers);
    let mut committed = store.commit_layers(&base, all, size, reference)?;
    committed.layer_reused = false;
    committed.layer_size = digest.bytes;
    Ok(Some(committed))
}
