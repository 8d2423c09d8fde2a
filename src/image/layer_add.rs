//! Adding layers: `commit` (a container's write layer on top of its image's layers) and
//! the last step of `load`, both through [`Store::publish`].
//!
//! A new layer is unpacked into `<root>/tmp/<prefix>-*` (removed by its guard on any
//! error) and its id is the sha256 of its tar stream, as for `import`. Only `publish`, under
//! the store lock, moves layers into `layers/`, writes the image and its tags; if one of
//! those steps fails it moves the layers it placed back into `tmp/`, so nothing is
//! half-made.
//!
//! A write layer becomes a layer by streaming it through the same code as an import:
//! `layer_tar` writes it as an OCI tarball (overlay whiteouts -> `.wh.` files) on one
//! thread, `stream` hashes it on a second, and `unpack` (OCI whiteouts -> overlay ones)
//! writes it on the calling thread. The layer so made stacks under overlayfs exactly as
//! the write layer did, and its id is the digest `save` will give its tarball.

use super::files::{io_err, mkdir_p, sweep_stale, write_atomic, StoreLock, TmpDir};
use super::reference::Reference;
use super::store::{exists, ImageRecord};
use super::tags::Tags;
use super::unpack::{unpack, Unpacked, Whiteouts};
use super::{layer_tar, stream, Image, ImageConfig, ImageError, Store};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A layer unpacked in `tmp/`, not yet published.
pub(crate) struct NewLayer {
    pub id: String,
    pub dir: TmpDir,
    pub unpacked: Unpacked,
}

/// What a commit did.
#[derive(Debug)]
pub struct Committed {
    pub image: Image,
    /// The tag was taken from this image.
    pub previous: Option<String>,
    /// The same write layer had been committed before: its layer was reused.
    pub layer_reused: bool,
    /// Bytes of file content in the new layer.
    pub layer_size: u64,
    pub xattrs_skipped: u64,
}

/// What `publish` is asked to make.
pub(crate) struct Publish<'a> {
    /// Every layer of the image, bottom first: each one is either in `new` or on disk.
    pub layers: Vec<String>,
    pub new: Vec<NewLayer>,
    pub config: ImageConfig,
    pub created: u64,
    pub size: u64,
    pub names: &'a [Reference],
    /// The image's id, its config's digest, when the config came with it (pulled, loaded);
    /// None: made here from `config` (`import`, `commit`; see `made_here_id`).
    pub id: Option<String>,
    /// That config as it came, kept as `images/<id>.config.json`.
    pub config_blob: Option<&'a [u8]>,
}

impl Store {
    /// A new image: `parent`'s layers plus the tree `upper` (a container's write layer, in
    /// overlayfs form) as one more, with `parent`'s config; tagged `reference`.
    pub fn commit(
        &self,
        parent: &Image,
        upper: &Path,
        reference: &str,
    ) -> Result<Committed, ImageError> {
        let reference = Reference::parse(reference)?;
        let layer = self.layer_from_tree(upper, "commit")?;
        let (layer_id, layer_size) = (layer.id.clone(), layer.unpacked.size);
        let xattrs_skipped = layer.unpacked.xattrs_skipped;
        crate::stop_point::reached("commit:layer");
        let mut layers = parent.layers.clone();
        layers.push(layer_id.clone());
        let layer_reused = exists(&self.layer_dir(&layer_id));
        let (image, mut previous) = self.publish(Publish {
            layers,
            new: vec![layer],
            config: parent.config.clone(),
            created: crate::time::unix_secs(),
            size: parent.size + layer_size,
            names: std::slice::from_ref(&reference),
            id: None,
            config_blob: None,
        })?;
        Ok(Committed {
            image,
            previous: previous.pop().flatten(),
            layer_reused,
            layer_size,
            xattrs_skipped,
        })
    }

    /// Streams the tree at `tree` into a new layer in `tmp/` (see the module comment).
    pub(crate) fn layer_from_tree(
        &self,
        tree: &Path,
        prefix: &str,
    ) -> Result<NewLayer, ImageError> {
        let tmp_root = self.paths.tmp();
        sweep_stale(&tmp_root, prefix);
        let dir = TmpDir::create(&tmp_root, prefix)?;
        let ((unpacked, _), id) = stream_tree(tree, |archive| {
            unpack(archive, dir.path(), Whiteouts::Overlay)
        })?;
        Ok(NewLayer { id, dir, unpacked })
    }

    /// Under the store lock: moves the new layers into `layers/` (a layer already there is
    /// kept: same id, same content), checks that every layer of the image is there, writes
    /// the image unless the same one exists, and points each name at it. Returns the image
    /// and, per name, the image that name was taken from.
    pub(crate) fn publish(
        &self,
        job: Publish<'_>,
    ) -> Result<(Image, Vec<Option<String>>), ImageError> {
        mkdir_p(&self.paths.layers())?;
        let images_dir = self.images_dir();
        // Declared before the lock, so dropped (their scratch dirs deleted) after it.
        let mut placed: Vec<(PathBuf, NewLayer)> = Vec::new();
        let mut kept = Vec::new();
        let _lock = StoreLock::exclusive(&images_dir)?;
        let result = (|| {
            for mut layer in job.new {
                let target = self.layer_dir(&layer.id);
                if exists(&target) {
                    kept.push(layer);
                    continue;
                }
                if let Some(split) = &layer.unpacked.split {
                    mkdir_p(&self.tar_split_dir())?;
                    write_atomic(&self.tar_split_path(&layer.id), split)?;
                }
                std::fs::rename(layer.dir.path(), &target)
                    .map_err(io_err("rename into place", &target))?;
                layer.dir.disarm();
                placed.push((target, layer));
            }
            if let Some(missing) = job.layers.iter().find(|l| !exists(&self.layer_dir(l))) {
                return Err(ImageError::MissingLayer {
                    layer: missing.clone(),
                });
            }
            let (id, made_blob) = match (&job.id, job.config_blob) {
                (Some(id), Some(_)) => (id.clone(), None),
                _ => self.made_here_id(&job.layers, &job.config, job.created)?,
            };
            let path = self.image_path(&id);
            let (record, written) = match self.load_record(&id)? {
                Some(existing) => (existing, false),
                None => {
                    if let Some(blob) = job.config_blob.or(made_blob.as_deref()) {
                        write_atomic(&self.config_blob_path(&id), blob)?;
                    }
                    let record = ImageRecord {
                        id: id.clone(),
                        layers: job.layers,
                        created: job.created,
                        size: job.size,
                        config: job.config,
                    };
                    let json = serde_json::to_vec_pretty(&record).expect("records serialize");
                    write_atomic(&path, &json)?;
                    (record, true)
                }
            };
            let tagged = Tags::load(&images_dir).and_then(|mut tags| {
                let previous: Vec<Option<String>> = job
                    .names
                    .iter()
                    .map(|name| tags.set(&name.to_string(), &id))
                    .collect();
                tags.save(&images_dir)?;
                Ok((tags, previous))
            });
            match tagged {
                Ok((tags, previous)) => Ok((record.into_image(&tags), previous)),
                Err(e) => {
                    if written {
                        let _ = std::fs::remove_file(&path);
                        let _ = std::fs::remove_file(self.config_blob_path(&id));
                    }
                    Err(e)
                }
            }
        })();
        if result.is_err() {
            // No layer without an image: back to `tmp/`, where the guards remove them.
            for (target, mut layer) in placed {
                if std::fs::rename(&target, layer.dir.path()).is_ok() {
                    layer.dir.rearm();
                    let _ = std::fs::remove_file(self.tar_split_path(&layer.id));
                }
            }
        }
        result
    }

    /// The id of an image made here (`import`, `commit`): the digest of the OCI config
    /// that describes it (returned too, to be stored), as for pulled and loaded images,
    /// so that it stays the same through save, load, push and pull. An image already
    /// stored with the same layers and run config is the same image: its id is kept
    /// (importing or committing the same content twice makes no second image).
    fn made_here_id(
        &self,
        layers: &[String],
        config: &ImageConfig,
        created: u64,
    ) -> Result<(String, Option<Vec<u8>>), ImageError> {
        for id in self.image_ids()? {
            if let Some(r) = self.load_record(&id)? {
                if r.layers == layers && &r.config == config {
                    return Ok((id, None));
                }
            }
        }
        let diff_ids = layers.iter().map(|l| format!("sha256:{l}")).collect();
        let file = super::oci::ConfigFile::for_image(config, created, diff_ids);
        let blob = serde_json::to_vec(&file).expect("configs serialize");
        let id = super::save::hex(&<sha2::Sha256 as sha2::Digest>::digest(&blob));
        Ok((id, Some(blob)))
    }

    /// Removes tar-splits (and known blobs, `layer_blobs`) whose layer is gone (a publish
    /// killed between writing one and moving its layer into place) and half-written ones.
    /// Call under the store lock.
    pub(crate) fn sweep_tar_splits(&self) {
        for dir in [self.tar_split_dir(), self.layer_blobs_dir()] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') || !exists(&self.layer_dir(&name)) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    pub(crate) fn tar_split_dir(&self) -> PathBuf {
        self.paths.root().join("tar-split")
    }

    /// The tar-split of layer `layer` (see `tar_split`), when it came as a tar stream.
    pub(crate) fn tar_split_path(&self, layer: &str) -> PathBuf {
        self.tar_split_dir().join(layer)
    }
}

/// Writes the tree at `tree` as an OCI layer tarball on one thread, hashes the stream on a
/// second and hands it to `consume` on the calling thread. Returns what `consume` made,
/// what was written, and the stream's digest (the layer's id).
pub(crate) fn stream_tree<T>(
    tree: &Path,
    consume: impl FnOnce(&mut stream::ChunkReader) -> Result<T, ImageError>,
) -> Result<((T, layer_tar::Written), String), ImageError> {
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| io_err("make a pipe for", tree)(e.into()))?;
    let (reader, writer) = (std::fs::File::from(reader), std::fs::File::from(writer));
    // 1 MiB instead of 64 KiB: fewer wake-ups between the threads. Best effort.
    let _ = nix::fcntl::fcntl(&writer, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
    let root = tree.to_path_buf();
    let writer_thread = std::thread::spawn(move || {
        let out = BufWriter::with_capacity(1 << 20, writer);
        let (out, written) = layer_tar::write_tree(&root, out, true)?;
        out.into_inner()
            .map_err(|e| io_err("write archive of", &root)(e.into_error()))?;
        Ok::<_, ImageError>(written)
    });
    let mut pipe = stream::spawn(Box::new(reader), stream::Compression::None);
    let result = match consume(pipe.reader()) {
        Ok(made) => pipe.finish().map(|id| (made, id)),
        Err(e) => {
            pipe.abandon();
            Err(e)
        }
    };
    // The writer's own error explains a reader's "truncated archive" best.
    let written = writer_thread.join().unwrap_or_else(|_| {
        Err(ImageError::Archive(std::io::Error::other(
            "the archive writer thread panicked",
        )))
    })?;
    let (made, id) = result?;
    Ok(((made, written), id))
}
