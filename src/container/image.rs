//! A container's image: from the store, or pulled from its registry when missing.

use crate::error::Result;
use crate::image::{Image, Store};
use crate::registry::{self, Options, Progress};
use std::io::IsTerminal;

/// `run`'s image: from the store, pulled when missing (`missing`), always (`always`), or
/// never (`never`: a missing image is an error). The store is looked at first and the
/// network code is not touched when the image is there.
pub fn image_for_run(
    store: &Store,
    reference: &str,
    policy: &str,
    opts: &Options,
) -> Result<Image> {
    if policy != "always" {
        match store.resolve(reference) {
            Ok(image) => return Ok(image),
            Err(crate::image::ImageError::Unknown(_)) if policy == "missing" => {}
            Err(e) => return Err(e.into()),
        }
        // A short name pulled from a search registry other than docker.io is stored under
        // its full name.
        if let Some(image) = stored_under_search_name(store, reference)? {
            return Ok(image);
        }
        // An id or id prefix is never pulled.
        if crate::image::Reference::parse(reference).is_err() && !reference.contains('@') {
            return Err(crate::image::ImageError::Unknown(reference.to_string()).into());
        }
    }
    // On a terminal, docker's lines and bars; otherwise nothing but a failure's one line
    // (the container's output follows on the same streams).
    let terminal = std::io::stderr().is_terminal();
    if terminal && policy != "always" {
        eprintln!("Unable to find image '{reference}' locally");
    }
    let progress = Progress::new(!terminal, true);
    let pulled = registry::pull(store, reference, opts, &progress)?;
    Ok(pulled.image)
}

fn stored_under_search_name(store: &Store, reference: &str) -> Result<Option<Image>> {
    let Ok(search) = registry::search_registries() else {
        return Ok(None);
    };
    let Ok(candidates) = registry::ImageRef::candidates(reference, &search) else {
        return Ok(None);
    };
    for c in candidates {
        if let Some(name) = c.local_name().filter(|n| n != reference) {
            if let Ok(image) = store.resolve(&name) {
                return Ok(Some(image));
            }
        }
    }
    Ok(None)
}
