//! The image store: imported root filesystems as read-only layers shared by containers.
//!
//! On disk, under `<root>` (see [`crate::paths::Paths`]):
//! - `layers/<layer-id>/`: one unpacked, read-only layer; the id is the sha256 of the
//!   uncompressed tar stream it came from, so importing the same content twice reuses it.
//! - `images/<image-id>.json`: one image (its layers, size, creation time and config); the id
//!   is the digest of its OCI config, kept as `images/<image-id>.config.json`.
//! - `tar-split/<layer-id>`: how the layer's tar stream was laid out (`tar_split`), so that
//!   `save` and `push` write the same bytes again (`layer_blob`).
//! - `images/tags.json`: every `name:tag` and the image id it points at, changed only under
//!   an exclusive `flock` on `images/.lock` and replaced atomically (write + rename).
//! - `tmp/`: imports unpack here first, then a rename publishes the layer.
//!
//! The steps live in their own files: `reference` (parse `NAME[:TAG]`), `stream`
//! (decompress and hash the input), `entry` (read and check one tar entry), `unpack` and
//! `fsops` (write the entries without ever leaving the layer), `import`, `store` (look up,
//! list), `remove` (rmi), `tags` and `files` (atomic writes, the lock, scratch dirs).
//! Layers that stack: `whiteout` (overlayfs <-> OCI deletions), `layer_tar` (a tree as a
//! tarball), `layer_add` (`commit`, and publishing new layers), `export`, `oci` (the
//! archive documents), `save` and `load`.

mod digests;
mod entry;
mod export;
mod files;
pub(crate) mod fsops;
mod header_budget;
mod import;
mod layer_add;
mod layer_adopt;
mod layer_blob;
mod layer_blobs;
mod layer_tar;
mod load;
pub(crate) mod oci;
mod pulled;
mod pushed;
mod reference;
mod remove;
mod save;
mod store;
mod stream;
mod tags;
mod tar_split;
mod unpack;
mod whiteout;

#[cfg(test)]
mod layer_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use digests::HistoryRow;
pub(crate) use fsops::open_regular;
pub use import::Imported;
pub use layer_add::Committed;
pub(crate) use layer_add::NewLayer;
pub(crate) use layer_blob::Blob;
pub(crate) use layer_blobs::KnownBlob;
pub(crate) use layer_tar::write_dir;
pub use layer_tar::{TarOut, Written};
pub use load::Loaded;
pub(crate) use oci::sha256_hex;
pub(crate) use pushed::PushScratch;
pub use reference::Reference;
pub use remove::Removed;
pub(crate) use save::hex;
pub use save::Saved;
pub use store::Store;
pub use unpack::Whiteouts;
pub(crate) use unpack::{unpack, unpack_on_host};

use crate::quote::quoted;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("unknown image {}", quoted(.0))]
    Unknown(String),
    #[error("image reference {} is ambiguous, it matches: {}", quoted(.reference), .matches.join(", "))]
    Ambiguous {
        reference: String,
        matches: Vec<String>,
    },
    #[error("invalid image reference {}: {reason}", quoted(.reference))]
    InvalidReference {
        reference: String,
        reason: &'static str,
    },
    #[error("image {} is in use by container {container:?} (id {container_id})", quoted(.reference))]
    InUse {
        reference: String,
        container: String,
        container_id: String,
    },
    /// A tar entry that would write outside the layer. Nothing outside is touched.
    #[error("refusing tar entry {}: {reason}", quoted(.entry))]
    UnsafeEntry { entry: String, reason: &'static str },
    /// Writing one entry of the archive into the layer failed.
    #[error("unpack {}: {step}: {source}", quoted(.entry))]
    Entry {
        entry: String,
        step: &'static str,
        source: std::io::Error,
    },
    /// The input is not a readable tar stream (bad header, corrupt gzip or zstd data...).
    #[error("read archive: {0}")]
    Archive(#[source] std::io::Error),
    #[error("archive is truncated: entry {} ends early", quoted(.entry))]
    TruncatedEntry { entry: String },
    #[error("archive is empty or truncated: no end-of-archive marker")]
    Truncated,
    #[error("{0}-compressed archives are not supported: use plain tar, gzip or zstd")]
    UnsupportedCompression(&'static str),
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// `load`: the archive is not an image archive, or its documents disagree.
    #[error("invalid image archive: {reason}")]
    InvalidArchive { reason: &'static str },
    /// `load`: a file a document names is missing or unusable.
    #[error("invalid image archive: {path}: {reason}")]
    ArchiveFile { path: String, reason: &'static str },
    #[error("invalid image archive: {what} {expected} has digest {actual}")]
    DigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    /// A layer an image needs is not in the store (an `rmi` removed it meanwhile).
    #[error("layer {layer} is not in the store")]
    MissingLayer { layer: String },
    #[error("parse {path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// How to run a container of this image when the user gives no command: the run part of
/// its OCI config. The fields after `workdir` are left out of the stored JSON when empty,
/// so the ids of images made before they existed (a hash of this JSON) do not change.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageConfig {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// ENTRYPOINT: the arguments of `run` (or CMD) are appended to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// USER: a name (resolved in the image's /etc/passwd) or `UID[:GID]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// STOPSIGNAL: what `stop` sends first (`SIGQUIT`, `3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `80/tcp`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    /// VOLUME paths: `run` gives each an anonymous volume (see commands::anon_volumes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// HEALTHCHECK as the image has it (kept for whoever runs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
}

impl ImageConfig {
    /// What `docker import` gives a bare root filesystem, plus a shell as the command.
    pub fn for_rootfs() -> ImageConfig {
        ImageConfig {
            cmd: vec!["sh".to_string()],
            env: vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ],
            ..ImageConfig::default()
        }
    }

    /// What a container runs, as docker decides: ENTRYPOINT (or `--entrypoint`, `''`
    /// clearing it) followed by the user's arguments, else by CMD (which `--entrypoint`
    /// resets).
    pub fn command(&self, entrypoint: Option<&str>, args: &[String]) -> Vec<String> {
        let mut command = match entrypoint {
            Some("") => Vec::new(),
            Some(e) => vec![e.to_string()],
            None => self.entrypoint.clone(),
        };
        if !args.is_empty() {
            command.extend(args.iter().cloned());
        } else if entrypoint.is_none() {
            command.extend(self.cmd.iter().cloned());
        }
        command
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Image {
    /// 64 hex digits.
    pub id: String,
    /// `name:tag` references pointing at it, sorted; filled from `tags.json` when loaded
    /// (the image file itself does not store them, so they cannot disagree).
    pub names: Vec<String>,
    /// Layer ids, bottom first.
    pub layers: Vec<String>,
    /// Seconds since the epoch.
    pub created: u64,
    /// Bytes of file content in its layers (regular files, each hard-linked file once).
    pub size: u64,
    pub config: ImageConfig,
}
