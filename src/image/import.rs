//! `import`: a root filesystem tarball (plain, gzip or zstd) becomes a single-layer image.
//!
//! 1. unpack into `<root>/tmp/import-*` (a guard removes it on any error), hashing the
//!    uncompressed stream on the way: that digest is the layer id;
//! 2. under the store lock: rename the directory to `<root>/layers/<layer-id>` (or keep
//!    the layer already there: same content), write `images/<image-id>.json` if new,
//!    point the tag at it. Until this step nothing outside `tmp/` has changed, so a
//!    failed import leaves nothing behind.

use super::files::{io_err, mkdir_p, sweep_stale, write_atomic, StoreLock, TmpDir};
use super::reference::Reference;
use super::store::{exists, ImageRecord};
use super::tags::Tags;
use super::unpack::{unpack, Whiteouts};
use super::{stream, Image, ImageConfig, ImageError, Store};
use sha2::{Digest, Sha256};
use std::io::Read;

const TMP_PREFIX: &str = "import";

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    pub image: Image,
    /// The tag was taken from this image (which stays, untagged if it has no other name).
    pub previous: Option<String>,
    /// The same content had been imported before: its layer was reused.
    pub layer_reused: bool,
    /// Extended attributes the file system or our privileges refused (see `fsops`).
    pub xattrs_skipped: u64,
}

impl Store {
    /// Imports the tar stream `source` as `reference` (`NAME[:TAG]`). Streams: memory use
    /// does not grow with the archive.
    pub fn import(
        &self,
        source: Box<dyn Read + Send>,
        reference: &str,
    ) -> Result<Imported, ImageError> {
        let reference = Reference::parse(reference)?;
        let tmp_root = self.paths.tmp();
        sweep_stale(&tmp_root, TMP_PREFIX);
        let mut tmp = TmpDir::create(&tmp_root, TMP_PREFIX)?;

        let (compression, source) = stream::detect(source)?;
        let mut pipe = stream::spawn(source, compression);
        let unpacked = match unpack(pipe.reader(), tmp.path(), Whiteouts::Literal) {
            Ok(u) => u,
            Err(e) => {
                pipe.abandon();
                return Err(e);
            }
        };
        let layer_id = pipe.finish()?;

        let config = ImageConfig::for_rootfs();
        let layers = vec![layer_id];
        let id = image_id(&layers, &config);

        mkdir_p(&self.paths.layers())?;
        let _lock = StoreLock::exclusive(&self.images_dir())?;
        let layer_dir = self.layer_dir(&layers[0]);
        let layer_reused = exists(&layer_dir);
        if !layer_reused {
            std::fs::rename(tmp.path(), &layer_dir)
                .map_err(io_err("rename into place", &layer_dir))?;
            tmp.disarm();
        }
        let committed = self.record_and_tag(&id, layers, config, unpacked.size, &reference);
        if committed.is_err() && !layer_reused {
            // No layer without an image: move it back where the guard removes it.
            if std::fs::rename(&layer_dir, tmp.path()).is_ok() {
                tmp.rearm();
            }
        }
        let (image, previous) = committed?;
        // Locals drop in reverse: the lock is released before `tmp` (when the layer was
        // already there) is removed.
        Ok(Imported {
            image,
            previous,
            layer_reused,
            xattrs_skipped: unpacked.xattrs_skipped,
        })
    }

    /// Writes the image (unless the same one exists) and points the tag at it; on failure
    /// removes the image file it wrote. Call with the store lock held.
    fn record_and_tag(
        &self,
        id: &str,
        layers: Vec<String>,
        config: ImageConfig,
        size: u64,
        reference: &Reference,
    ) -> Result<(Image, Option<String>), ImageError> {
        let (record, written) = match self.load_record(id)? {
            Some(existing) => (existing, false),
            None => {
                let created = now();
                let id = id.to_string();
                let record = ImageRecord {
                    id,
                    layers,
                    created,
                    size,
                    config,
                };
                let json = serde_json::to_vec_pretty(&record).expect("an image record serializes");
                write_atomic(&self.image_path(&record.id), &json)?;
                (record, true)
            }
        };
        let images_dir = self.images_dir();
        let tagged = Tags::load(&images_dir).and_then(|mut tags| {
            let previous = tags.set(&reference.to_string(), id);
            tags.save(&images_dir)?;
            Ok((tags, previous))
        });
        match tagged {
            Ok((tags, previous)) => Ok((record.into_image(&tags), previous)),
            Err(e) => {
                if written {
                    let _ = std::fs::remove_file(self.image_path(id));
                }
                Err(e)
            }
        }
    }
}

/// sha256 of the layer ids and config as JSON (struct order: stable). Importing the same
/// content again gives the same image, as the layer ids say exactly what is in it.
pub(crate) fn image_id(layers: &[String], config: &ImageConfig) -> String {
    #[derive(serde::Serialize)]
    struct IdInput<'a> {
        layers: &'a [String],
        config: &'a ImageConfig,
    }
    let json = serde_json::to_vec(&IdInput { layers, config }).expect("strings serialize");
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
