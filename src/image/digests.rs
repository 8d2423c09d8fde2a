//! What a registry knows an image by, and how the image was made: `repo@sha256:...`
//! digests of the manifests it was pulled or pushed as (`images/<id>.digests.json`, for
//! `images --digests`), and its history (from its config, for `history`).

use super::files::{io_err, write_atomic, StoreLock};
use super::oci::{parse_time, ConfigFile};
use super::{Image, ImageError, Store};
use std::path::PathBuf;

/// One row of `history`, bottom first as the config lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub created: Option<u64>,
    pub created_by: String,
    pub comment: String,
    /// Bytes of file content of the layer this step made (0: no layer).
    pub size: u64,
}

impl Store {
    fn digests_path(&self, id: &str) -> PathBuf {
        self.images_dir().join(format!("{id}.digests.json"))
    }

    /// `repo@digest` of each manifest image `id` was pulled or pushed as.
    pub fn repo_digests(&self, id: &str) -> Result<Vec<String>, ImageError> {
        let path = self.digests_path(id);
        match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|_| ImageError::Io {
                step: "parse",
                path,
                source: std::io::Error::other("not a JSON list of digests"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    /// Records that image `id` is `repo@digest` (under the store lock; kept while the
    /// image is, removed with it).
    pub fn add_repo_digest(&self, id: &str, repo: &str, digest: &str) -> Result<(), ImageError> {
        let _lock = StoreLock::exclusive(&self.images_dir())?;
        if !super::store::exists(&self.image_path(id)) {
            return Ok(());
        }
        let entry = format!("{repo}@{digest}");
        let mut all = self.repo_digests(id)?;
        if !all.contains(&entry) {
            all.push(entry);
            all.sort();
            let json = serde_json::to_vec_pretty(&all).expect("digests serialize");
            write_atomic(&self.digests_path(id), &json)?;
        }
        Ok(())
    }

    pub(crate) fn remove_repo_digests(&self, id: &str) {
        let _ = std::fs::remove_file(self.digests_path(id));
    }

    /// How `image` was made: its config's history when it came with one that matches
    /// its layers, else one row per layer.
    pub fn history(&self, image: &Image) -> Result<Vec<HistoryRow>, ImageError> {
        let sizes: Vec<u64> = image
            .layers
            .iter()
            .map(|l| super::load::tree_size(&self.layer_dir(l)))
            .collect();
        let config: Option<ConfigFile> = self
            .config_blob(&image.id)?
            .and_then(|b| serde_json::from_slice(&b).ok());
        let history = config.map(|c| c.history).unwrap_or_default();
        let layered = history.iter().filter(|h| !h.empty_layer).count();
        if history.is_empty() || layered != image.layers.len() {
            return Ok(sizes
                .into_iter()
                .map(|size| HistoryRow {
                    created: Some(image.created),
                    created_by: String::new(),
                    comment: String::new(),
                    size,
                })
                .collect());
        }
        let mut sizes = sizes.into_iter();
        Ok(history
            .into_iter()
            .map(|h| HistoryRow {
                // A step without a time: the image's.
                created: h
                    .created
                    .as_deref()
                    .and_then(parse_time)
                    .or(Some(image.created)),
                created_by: h.created_by.unwrap_or_default(),
                comment: h.comment.unwrap_or_default(),
                size: match h.empty_layer {
                    true => 0,
                    false => sizes.next().unwrap_or(0),
                },
            })
            .collect())
    }
}
