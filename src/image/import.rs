//! `import`: a root filesystem tarball (plain, gzip or zstd) becomes a single-layer image.
//!
//! 1. unpack into `<root>/tmp/import-*` (a guard removes it on any error), hashing the
//!    uncompressed stream on the way: that digest is the layer id;
//!    and keeping its tar-split (see `tar_split`), so `save` and `push` write the same
//!    bytes again;
//! 2. `publish`, under the store lock: rename the directory to `<root>/layers/<layer-id>`
//!    (or keep the layer already there: same content), write the image (its id: the
//!    digest of the OCI config made for it) if new, point the tag at it. Until this step
//!    nothing outside `tmp/` has changed, so a failed import leaves nothing behind.

use super::files::{sweep_stale, TmpDir};
use super::layer_add::{NewLayer, Publish};
use super::reference::Reference;
use super::store::exists;
use super::unpack::{unpack_recorded, Whiteouts};
use super::{stream, Image, ImageConfig, ImageError, Store};
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
        let dir = TmpDir::create(&tmp_root, TMP_PREFIX)?;

        let (compression, source) = stream::detect(source)?;
        let mut pipe = stream::spawn(source, compression);
        let unpacked = match unpack_recorded(pipe.reader(), dir.path(), Whiteouts::Literal) {
            Ok(u) => u,
            Err(e) => {
                pipe.abandon();
                return Err(e);
            }
        };
        let layer_id = pipe.finish()?;
        let layer_reused = exists(&self.layer_dir(&layer_id));
        let (size, xattrs_skipped) = (unpacked.size, unpacked.xattrs_skipped);
        let (image, mut previous) = self.publish(Publish {
            layers: vec![layer_id.clone()],
            new: vec![NewLayer {
                id: layer_id,
                dir,
                unpacked,
            }],
            config: ImageConfig::for_rootfs(),
            created: crate::time::unix_secs(),
            size,
            names: std::slice::from_ref(&reference),
            id: None,
            config_blob: None,
        })?;
        Ok(Imported {
            image,
            previous: previous.pop().flatten(),
            layer_reused,
            xattrs_skipped,
        })
    }
}
