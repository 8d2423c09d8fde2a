//! What a registry pull needs from the store: which layers are there already, a layer
//! unpacked from a stream that must hash to its diff_id, and publishing an image whose
//! id is its config's digest (as docker shows it), with that config kept beside it
//! (`images/<id>.config.json`).

use super::files::{sweep_stale, TmpDir};
use super::layer_add::{NewLayer, Publish};
use super::oci::ConfigFile;
use super::reference::Reference;
use super::store::exists;
use super::tags::Tags;
use super::unpack::{unpack_recorded, Whiteouts};
use super::{stream, Image, ImageError, Store};
use std::io::Read;
use std::path::PathBuf;

/// Scratch directories of pulls: `<root>/tmp/pull-*`.
const TMP_PREFIX: &str = "pull";

impl Store {
    /// Removes what killed pulls left in `tmp/` (scratch dirs no live process holds).
    pub fn sweep_pulls(&self) {
        sweep_stale(&self.paths.tmp(), TMP_PREFIX);
    }

    /// Unpacks the layer stream `source` (plain, gzip or zstd: told by its first bytes)
    /// into a scratch dir; its uncompressed stream must hash to `diff_id` (hex).
    pub(crate) fn unpack_stream(
        &self,
        source: Box<dyn Read + Send>,
        diff_id: &str,
    ) -> Result<NewLayer, ImageError> {
        let dir = TmpDir::create(&self.paths.tmp(), TMP_PREFIX)?;
        let (compression, source) = stream::detect(source)?;
        let mut pipe = stream::spawn(source, compression);
        let unpacked = match unpack_recorded(pipe.reader(), dir.path(), Whiteouts::Overlay) {
            Ok(u) => u,
            Err(e) => {
                pipe.abandon();
                return Err(e);
            }
        };
        let id = pipe.finish()?;
        if id != diff_id {
            return Err(ImageError::DigestMismatch {
                what: "layer",
                expected: format!("sha256:{diff_id}"),
                actual: format!("sha256:{id}"),
            });
        }
        Ok(NewLayer { id, dir, unpacked })
    }

    /// The image whose config has this digest (hex), when it and all its layers are
    /// stored: a pull that finds it fetches no blob.
    pub fn complete_image(&self, config_hex: &str) -> Result<Option<Image>, ImageError> {
        let Some(record) = self.load_record(config_hex)? else {
            return Ok(None);
        };
        if !record.layers.iter().all(|l| self.has_layer(l)) {
            return Ok(None);
        }
        let tags = Tags::load(&self.images_dir())?;
        Ok(Some(record.into_image(&tags)))
    }

    /// Publishes an image made of `layers` (diff_ids, bottom first; each in `new` or
    /// stored) whose config is `config_bytes`; its id is their digest. Tagged `names`.
    pub(crate) fn publish_config(
        &self,
        config_bytes: &[u8],
        config: &ConfigFile,
        layers: Vec<String>,
        new: Vec<NewLayer>,
        names: &[Reference],
    ) -> Result<Image, ImageError> {
        let id = super::save::hex(&<sha2::Sha256 as sha2::Digest>::digest(config_bytes));
        // An image already stored keeps its record: no need to measure its layers.
        let stored = exists(&self.image_path(&id));
        let mut size = 0;
        for id in layers.iter().filter(|_| !stored) {
            size += match new.iter().find(|l| &l.id == id) {
                Some(layer) => layer.unpacked.size,
                None => super::load::tree_size(&self.layer_dir(id)),
            };
        }
        let job = Publish {
            layers,
            new,
            config: config.image_config(),
            created: config.created_secs().unwrap_or_else(crate::time::unix_secs),
            size,
            names,
            id: Some(id),
            config_blob: Some(config_bytes),
        };
        Ok(self.publish(job)?.0)
    }

    /// The config an image was pulled or loaded with, as it came (`None` for images
    /// made here: `import`, `commit`).
    pub fn config_blob(&self, id: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let path = self.config_blob_path(id);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(super::files::io_err("read", &path)(e)),
        }
    }

    /// `tag SRC DST`: `DST` (`NAME[:TAG]`) points at the image `SRC` names; returns its id
    /// and the image `DST` was taken from, if another.
    pub fn tag(&self, src: &str, dst: &str) -> Result<(String, Option<String>), ImageError> {
        let dst = Reference::parse(dst)?;
        let images_dir = self.images_dir();
        let _lock = super::files::StoreLock::exclusive(&images_dir)?;
        let mut tags = Tags::load(&images_dir)?;
        let id = self.resolve_id(src, &tags)?;
        let previous = tags.set(&dst.to_string(), &id);
        tags.save(&images_dir)?;
        Ok((id, previous))
    }

    pub(crate) fn config_blob_path(&self, id: &str) -> PathBuf {
        self.images_dir().join(format!("{id}.config.json"))
    }
}
