//! What a registry push needs from the store: each layer as a tarball (the same bytes
//! `save` writes, so a layer made here has its id as its digest) in a scratch dir, and
//! the image's config: the one it was pulled or loaded with, byte for byte, when the
//! layers' digests are still its diff_ids (then its id, the config's digest, stays the
//! same through push and pull), else one made from its run config, as `save` makes it.

use super::files::{sweep_stale, TmpDir};
use super::{Blob, Image, ImageError, Store};
use std::path::Path;

const TMP_PREFIX: &str = "push";

/// A push's scratch dir (`<root>/tmp/push-*`), removed when dropped.
pub(crate) struct PushScratch(TmpDir);

impl PushScratch {
    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Store {
    pub(crate) fn push_scratch(&self) -> Result<PushScratch, ImageError> {
        sweep_stale(&self.paths.tmp(), TMP_PREFIX);
        Ok(PushScratch(TmpDir::create(&self.paths.tmp(), TMP_PREFIX)?))
    }

    /// Layer `layer` as a gzip-compressed OCI tarball in `scratch` (what docker pushes).
    pub(crate) fn layer_tarball(
        &self,
        layer: &str,
        scratch: &PushScratch,
        n: usize,
    ) -> Result<Blob, ImageError> {
        self.layer_blob(layer, scratch.path(), n, true)
    }

    /// The config to push for `image` whose layers have `diff_ids` (`sha256:<hex>`,
    /// bottom first): see [`Store::config_for`].
    pub(crate) fn push_config(
        &self,
        image: &Image,
        diff_ids: &[String],
    ) -> Result<Vec<u8>, ImageError> {
        self.config_for(image, diff_ids)
    }
}
