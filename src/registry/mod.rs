//! Images from registries: the OCI distribution protocol (docker's registry v2) over a
//! blocking HTTP client (ureq, rustls). Nothing here runs unless a command talks to a
//! registry: `run` of an image already in the store never reaches this module.
//!
//! - `reference`: docker's normalisation, registries.conf's search list;
//! - `auth`: credentials (auth.json, ~/.docker/config.json), challenges, tokens, login;
//! - `tls`: system roots plus certs.d CAs, or no verification (`--tls-verify=false`);
//! - `client`: one registry+repository: scheme, auth, retries with backoff;
//! - `proxy`: HTTPS_PROXY, HTTP_PROXY and NO_PROXY as Go (docker, podman) reads them;
//! - `blob`: a blob's body checked against its digest as it streams, resumed with Range;
//! - `manifest`: manifests, indexes, the platform chosen from an index;
//! - `pull`: layers fetched a few at a time and unpacked as they arrive;
//! - `push`, `upload`: blobs the registry lacks (HEAD, mount), then the manifest;
//! - `progress`: docker's per-layer lines.

mod auth;
mod blob;
mod client;
mod manifest;
mod progress;
mod proxy;
mod pull;
mod push;
mod reference;
mod tls;
mod upload;

pub use auth::{login, logout};
pub use progress::Progress;
pub use pull::{pull, Pulled};
pub use push::{push, Pushed};
pub use reference::{search_registries, ImageRef};

use std::path::PathBuf;

/// How to reach registries (`--tls-verify`, `--authfile`, `--platform`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub insecure: bool,
    pub authfile: Option<PathBuf>,
    /// `os/arch[/variant]`; None: this machine's.
    pub platform: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid image reference {}: {reason}", crate::quote::quoted(.reference))]
    InvalidReference {
        reference: String,
        reason: &'static str,
    },
    #[error("{}: a short name, and no unqualified-search-registries to look for it in", crate::quote::quoted(.reference))]
    NoSearchRegistries { reference: String },
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    /// What the registry answered, or why it could not be asked: `pull
    /// docker.io/library/nosuch: repository not found (404)`.
    #[error("{op} {target}: {what}")]
    Failed {
        op: &'static str,
        target: String,
        what: String,
    },
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
}

impl RegistryError {
    pub(crate) fn failed(op: &'static str, target: &str, what: impl Into<String>) -> Self {
        RegistryError::Failed {
            op,
            target: target.to_string(),
            what: what.into(),
        }
    }

    /// A 404 for the repository or the tag: a search goes on to the next registry.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::Failed { what, .. } if what.ends_with("(404)"))
    }
}
