//! Which compressed blobs a layer is known as in registries: the blob a pull fetched it
//! from, the gzip blob a push made of it (docker keeps the same, its "distribution
//! metadata"). A push asks the registry for these (`HEAD`, cross-repository mount) before
//! it compresses the layer again: a pulled image pushed to another repository of its
//! registry is mounted, not re-sent, and a second push compresses nothing.
//! `<root>/layer-blobs/<layer-id>`, JSON; removed with the layer.

use super::files::{mkdir_p, write_atomic};
use super::Store;
use std::path::PathBuf;

/// One blob a layer is known as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct KnownBlob {
    /// `sha256:<hex>`.
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// At most this many per layer (the newest kept).
const KEEP: usize = 8;

impl Store {
    pub(crate) fn layer_blobs_dir(&self) -> PathBuf {
        self.paths.root().join("layer-blobs")
    }

    /// The blobs layer `layer` is known as, newest first (none if unreadable).
    pub(crate) fn known_blobs(&self, layer: &str) -> Vec<KnownBlob> {
        std::fs::read(self.layer_blobs_dir().join(layer))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Remembers that layer `layer` is `blob` (best effort: it only saves work later).
    pub(crate) fn add_known_blob(&self, layer: &str, blob: KnownBlob) {
        if !super::store::exists(&self.layer_dir(layer)) {
            return;
        }
        let mut all = self.known_blobs(layer);
        all.retain(|b| b.digest != blob.digest);
        all.insert(0, blob);
        all.truncate(KEEP);
        let json = serde_json::to_vec(&all).expect("blobs serialize");
        let _ = mkdir_p(&self.layer_blobs_dir())
            .and_then(|_| write_atomic(&self.layer_blobs_dir().join(layer), &json));
    }
}
