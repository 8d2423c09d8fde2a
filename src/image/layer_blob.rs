//! A stored layer as a blob for `save` and `push`: its tar stream, plain or gzip, written
//! into a scratch dir and hashed on the way (a blob is named by its digest, and a tar
//! header needs the size before the data).
//!
//! The stream is the one the layer came as when its tar-split was kept (`import`, `load`,
//! `pull`; see `tar_split`): the same bytes, so its digest is the layer's id and the
//! image's config, whose diff_ids name the layers, stays valid byte for byte. A layer
//! made here (`commit`) has `layer_tar`'s stream as its id; so has one without a
//! tar-split, or whose tar-split no longer gives its id (then the digest differs, and
//! `save` and `push` make a new config for the image).

use super::files::io_err;
use super::store::exists;
use super::{layer_tar, tar_split, ImageError, Store};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A blob written to the scratch dir.
pub(crate) struct Blob {
    /// `sha256:<hex>` of the file.
    pub digest: String,
    pub size: u64,
    pub path: PathBuf,
    /// `sha256:<hex>` of the uncompressed tar stream (== `digest` when plain).
    pub diff_id: String,
}

impl Store {
    /// Writes layer `layer` into `dir` as `layer-<n>.tar` (`.tar.gz` with `gzip`).
    pub(crate) fn layer_blob(
        &self,
        layer: &str,
        dir: &Path,
        n: usize,
        gzip: bool,
    ) -> Result<Blob, ImageError> {
        let split = self.tar_split_path(layer);
        if exists(&split) {
            let blob = self.write_blob(dir, n, gzip, |out| {
                tar_split::write(&split, &self.layer_dir(layer), out)
            })?;
            if blob.diff_id == format!("sha256:{layer}") {
                return Ok(blob);
            }
        }
        self.write_blob(dir, n, gzip, |out| {
            layer_tar::write_tree(&self.layer_dir(layer), out, true).map(|_| ())
        })
    }

    fn write_blob(
        &self,
        dir: &Path,
        n: usize,
        gzip: bool,
        write: impl FnOnce(&mut HashingWriter<Sink>) -> Result<(), ImageError>,
    ) -> Result<Blob, ImageError> {
        let path = dir.join(format!("layer-{n}.tar{}", if gzip { ".gz" } else { "" }));
        let file = File::create(&path).map_err(io_err("create", &path))?;
        let file = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        let sink = match gzip {
            // Level 1: pushing is bound by compression on these machines, and the
            // registry and the pulling side do not care about the level.
            true => Sink::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            )),
            false => Sink::Plain(file),
        };
        let mut tar = HashingWriter::new(sink);
        write(&mut tar)?;
        let write_err = io_err("write", &path);
        let diff_id = format!("sha256:{}", super::hex(&tar.hasher.finalize()));
        let mut file = match tar.inner {
            Sink::Plain(file) => file,
            Sink::Gzip(gz) => gz.finish().map_err(io_err("write", &path))?,
        };
        file.inner.flush().map_err(write_err)?;
        Ok(Blob {
            digest: format!("sha256:{}", super::hex(&file.hasher.finalize())),
            size: file.bytes,
            path,
            diff_id,
        })
    }
}

/// Where a layer's tar stream goes: the file, or a gzip encoder in front of it.
pub(crate) enum Sink {
    Plain(HashingWriter<BufWriter<File>>),
    Gzip(flate2::write::GzEncoder<HashingWriter<BufWriter<File>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Counts and hashes what goes through.
pub(crate) struct HashingWriter<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub bytes: u64,
}

impl<W> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<W: Write> layer_tar::TarOut for HashingWriter<W> {}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
