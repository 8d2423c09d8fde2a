//! `rmi`: untag, and when no name is left, delete the image and the layers nobody else uses.
//! As with docker, dropping one of several tags is always allowed; deleting an image a
//! container was created from is refused.

use super::files::{io_err, StoreLock, TmpDir};
use super::reference::{id_prefix, Reference};
use super::tags::Tags;
use super::{ImageError, Store};
use std::collections::HashSet;
use std::fs;

/// What an `rmi` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// `name:tag`s taken away.
    pub untagged: Vec<String>,
    /// The image id, when the image itself was deleted.
    pub deleted: Option<String>,
    /// Layer ids deleted with it.
    pub layers: Vec<String>,
}

impl Store {
    /// Removes `reference`: a tag, or (by id) the image with all its tags.
    pub fn remove(&self, reference: &str) -> Result<Removed, ImageError> {
        let images_dir = self.images_dir();
        let _lock = StoreLock::exclusive(&images_dir)?;
        let mut tags = Tags::load(&images_dir)?;
        let id = self.resolve_id(reference, &tags)?;
        let names = tags.names_of(&id);
        // Named by tag (not by id): only that tag goes, unless it was the last one.
        let tag = Reference::parse(reference)
            .ok()
            .map(|r| r.to_string())
            .filter(|t| names.contains(t));
        if let Some(tag) = &tag {
            if names.len() > 1 {
                tags.remove(tag);
                tags.save(&images_dir)?;
                return Ok(Removed {
                    untagged: vec![tag.clone()],
                    ..Removed::default()
                });
            }
        }
        let Some(record) = self.load_record(&id)? else {
            // A tag left pointing at a missing image: dropping the names is all there is.
            for name in &names {
                tags.remove(name);
            }
            tags.save(&images_dir)?;
            return Ok(Removed {
                untagged: names,
                ..Removed::default()
            });
        };
        // Held until the image is gone: a `run` claims its container under this lock and
        // then checks that its image is still there (Store::check_present).
        let _containers = self.lock_containers()?;
        if let Some((container, container_id)) = self.container_using(&id)? {
            let reference = reference.to_string();
            return Err(ImageError::InUse {
                reference,
                container,
                container_id,
            });
        }
        for name in &names {
            tags.remove(name);
        }
        tags.save(&images_dir)?;
        let path = self.image_path(&id);
        fs::remove_file(&path).map_err(io_err("remove", &path))?;
        let _ = fs::remove_file(self.config_blob_path(&id));
        self.remove_repo_digests(&id);
        // A committed container's own layers (see `layer_adopt`) stay with it.
        let mut still_used = self.container_layers()?;
        for other in self.image_ids()? {
            if let Some(r) = self.load_record(&other)? {
                still_used.extend(r.layers);
            }
        }
        let mut removed_layers = Vec::new();
        for layer in record.layers.iter().filter(|l| !still_used.contains(*l)) {
            self.remove_layer(layer)?;
            removed_layers.push(layer.clone());
        }
        Ok(Removed {
            untagged: names,
            deleted: Some(id),
            layers: removed_layers,
        })
    }

    /// First moves the layer into `tmp/` (one rename: no half-deleted layer is ever seen
    /// at its name), then deletes it there.
    pub(crate) fn remove_layer(&self, layer: &str) -> Result<(), ImageError> {
        let dir = self.layer_dir(layer);
        if !super::store::exists(&dir) {
            return Ok(());
        }
        super::files::sweep_stale(&self.paths.tmp(), "rmi");
        let trash = TmpDir::create(&self.paths.tmp(), "rmi")?;
        let target = trash.path().join(layer);
        fs::rename(&dir, &target).map_err(io_err("move away", &dir))?;
        let _ = fs::remove_file(self.tar_split_path(layer));
        let _ = fs::remove_file(self.layer_blobs_dir().join(layer));
        drop(trash); // removes it, with the layer inside
        Ok(())
    }

    /// The containers' store lock (see `state::StoreLock`), its errors as ours.
    pub(crate) fn lock_containers(&self) -> Result<crate::state::StoreLock, ImageError> {
        let dir = self.paths.containers();
        crate::state::StoreLock::acquire(&dir).map_err(|e| match e {
            crate::state::StateError::Io { step, path, source } => {
                ImageError::Io { step, path, source }
            }
            other => io_err("lock", &dir)(std::io::Error::other(other.to_string())),
        })
    }

    /// The layers containers use besides their image's (`layers` of each record that has
    /// them; see `layer_adopt`). Caller holds the containers' lock.
    pub(crate) fn container_layers(&self) -> Result<HashSet<String>, ImageError> {
        let mut used = HashSet::new();
        for record in self.container_records()? {
            if let Some(layers) = record.get("layers").and_then(|v| v.as_array()) {
                used.extend(layers.iter().filter_map(|l| l.as_str()).map(str::to_string));
            }
        }
        Ok(used)
    }

    /// Every readable `<root>/containers/*/container.json`, as JSON (a record that cannot
    /// be read is a container being created or removed right now; `.removing-<id>`, a
    /// container half-removed by a killed `rm`, uses nothing).
    fn container_records(&self) -> Result<Vec<serde_json::Value>, ImageError> {
        let dir = self.paths.containers();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read directory", &dir)(e)),
        };
        Ok(entries
            .flatten()
            .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
            .filter_map(|e| fs::read(e.path().join("container.json")).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect())
    }

    /// A container created from image `id`, as (name, short id). Reads only `image_id`,
    /// `name` and `id` of `<root>/containers/*/container.json`; records that cannot be read
    /// are skipped (a container being created or removed right now).
    fn container_using(&self, id: &str) -> Result<Option<(String, String)>, ImageError> {
        for record in self.container_records()? {
            let field = |k: &str| record.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let image = field("image_id").unwrap_or_default();
            if id_prefix(&image) == Some(id) {
                let container_id = field("id").unwrap_or_default();
                let name = field("name").unwrap_or_default();
                return Ok(Some((name, crate::ids::short(&container_id).to_string())));
            }
        }
        Ok(None)
    }
}
