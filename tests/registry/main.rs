//! Area `registry`: images from and to real registries on 127.0.0.1 (Debian's
//! docker-registry 2.8, images put there with skopeo from OCI layouts the tests write).
//!
//! - pull.rs: `pull`, `login`/`logout`, `tag`, `run --pull`, running real images as docker does
//! - push.rs: `push`, `history`, `images --digests`
//! - proxy.rs: HTTPS_PROXY, HTTP_PROXY, NO_PROXY
//! - faults.rs: foreign layers refused, a push through server errors, a killed push

#[path = "../common/mod.rs"]
mod common;

mod faults;
mod proxy;
mod pull;
mod push;
