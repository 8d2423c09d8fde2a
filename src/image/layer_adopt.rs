//! A stopped container's write layer becomes a layer by moving it into the store, not by
//! copying it (`commit` of a container that does not run; see `container::commit_stopped`).
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
use super::layer_add::{Committed, Publish};
use super::layer_tar;
use super::reference::Reference;
use super::store::exists;
use super::{Image, ImageError, Store};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::mpsc;

/// The digest and size of a write layer, as a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDigest {
    /// The layer id: sha256 of its OCI tarball, hex.
    pub id: String,
    /// Bytes of regular file content.
    pub bytes: u64,
}

impl Store {
    /// Hashes the tree at `tree` as `layer_from_tree` would stream it, writing nothing:
    /// the archive is made on the calling thread and hashed on a second one, handed over
    /// in chunks (no pipe: each byte is copied once less than through one).
    pub fn digest_tree(&self, tree: &Path) -> Result<TreeDigest, ImageError> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Chunk>(CHUNKS);
        let (empty_tx, empty_rx) = mpsc::channel::<Chunk>();
        let hasher = std::thread::spawn(move || {
            let mut sha = Sha256::new();
            for mut chunk in full_rx {
                sha.update(&chunk.buf[..chunk.len]);
                chunk.len = 0;
                let _ = empty_tx.send(chunk);
            }
            sha.finalize()
        });
        let sink = ChunkSink {
            chunk: Chunk::new(),
            full: Some(full_tx),
            empty: empty_rx,
        };
        let written = layer_tar::write_tree(tree, sink, true).and_then(|(mut sink, written)| {
            sink.send().map_err(io_err("hash the archive of", tree))?;
            Ok(written)
        });
        // The sender is gone (sent, or dropped with the sink on an error): the hasher ends.
        let digest = hasher.join().map_err(|_| {
            ImageError::Archive(std::io::Error::other("the hashing thread panicked"))
        })?;
        let written = written?;
        Ok(TreeDigest {
            id: digest.iter().map(|b| format!("{b:02x}")).collect(),
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
        crate::stop_point::reached("commit:moved");
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
            created: crate::time::unix_secs(),
            size,
            names: std::slice::from_ref(&reference),
            id: None,
            config_blob: None,
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
        self.sweep_tar_splits();
        Ok(removed)
    }
}

/// The size of the pieces the archive is hashed in, and how many may wait for the hasher.
const CHUNK: usize = 1 << 16;
const CHUNKS: usize = 4;

/// A piece of the archive: `buf[..len]`. Allocated zeroed once and passed back and forth.
struct Chunk {
    buf: Box<[u8]>,
    len: usize,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            buf: vec![0u8; CHUNK].into_boxed_slice(),
            len: 0,
        }
    }
}

/// Collects the archive into chunks for the hashing thread, reusing the ones it hands back.
/// File content is read straight into a chunk (`copy_file`).
struct ChunkSink {
    chunk: Chunk,
    full: Option<mpsc::SyncSender<Chunk>>,
    empty: mpsc::Receiver<Chunk>,
}

impl ChunkSink {
    /// Hands the chunk (when not empty) to the hasher and takes an empty one.
    fn send(&mut self) -> std::io::Result<()> {
        if self.chunk.len == 0 {
            return Ok(());
        }
        let next = self.empty.try_recv().unwrap_or_else(|_| Chunk::new());
        let chunk = std::mem::replace(&mut self.chunk, next);
        let gone = || std::io::Error::other("the hashing thread is gone");
        self.full
            .as_ref()
            .ok_or_else(gone)?
            .send(chunk)
            .map_err(|_| gone())
    }

    /// The free part of the chunk, after sending it on when it is full.
    fn room(&mut self) -> std::io::Result<&mut [u8]> {
        if self.chunk.len == CHUNK {
            self.send()?;
        }
        Ok(&mut self.chunk.buf[self.chunk.len..])
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.room()?;
        let n = room.len().min(data.len());
        room[..n].copy_from_slice(&data[..n]);
        self.chunk.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl layer_tar::TarOut for ChunkSink {
    /// Reads straight into the chunks: one copy of each byte before the hasher reads it.
    fn copy_file(&mut self, mut file: &File, size: u64) -> std::io::Result<u64> {
        let mut copied = 0;
        while copied < size {
            let room = self.room()?;
            let want = room.len().min((size - copied) as usize);
            let n = match file.read(&mut room[..want]) {
                Ok(0) => break, // shrank while being read: the caller pads
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.chunk.len += n;
            copied += n as u64;
        }
        Ok(copied)
    }
}

impl Drop for ChunkSink {
    fn drop(&mut self) {
        self.full.take();
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
