//! `push`: each layer the registry does not have (asked with `HEAD`, then mounted from
//! another repository of the same registry the image has a name in, else uploaded as a
//! gzip-compressed tarball, as docker pushes, three at a time), then the config (the stored bytes when they still
//! describe the layers, so the id stays the same), then the manifest, last.

use super::client::Client;
use super::progress::Progress;
use super::reference::ImageRef;
use super::upload::{self, Mount};
use super::{Options, RegistryError};
use crate::image::oci::{
    Descriptor, Manifest, MT_CONFIG, MT_LAYER_GZIP, MT_LAYER_TAR, MT_MANIFEST,
};
use crate::image::{Image, PushScratch, Store};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Layers compressed and sent at a time.
const PARALLEL: usize = 3;

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    /// `registry/repository:tag`.
    pub reference: String,
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
    pub size: u64,
    /// Layers sent (not already there, not mounted).
    pub sent: usize,
    pub mounted: usize,
}

/// Pushes the stored image `image_ref` to `dest` (default: `image_ref` itself).
pub fn push(
    store: &Store,
    image_ref: &str,
    dest: Option<&str>,
    opts: &Options,
    progress: &Progress,
) -> Result<Pushed, RegistryError> {
    let image = store.resolve(image_ref)?;
    let dest_input = dest.unwrap_or(image_ref);
    let mut r = ImageRef::parse_qualified(dest_input)?;
    if r.digest.is_some() {
        return Err(RegistryError::InvalidReference {
            reference: dest_input.to_string(),
            reason: "a push destination names a tag, not a digest",
        });
    }
    r.tag.get_or_insert_with(|| "latest".to_string());
    let client = Client::connect(&r, opts, "push", None)?;
    let sources = mount_sources(&image, &r);
    let scratch = store.push_scratch()?;
    let pushed = push_layers(store, &client, &image, &sources, &scratch, progress)?;
    drop(scratch);
    let mut layers: Vec<Descriptor> = Vec::new();
    let mut diff_ids: Vec<String> = Vec::new();
    let (mut sent, mut mounted) = (0, 0);
    for (desc, diff_id, how) in pushed {
        match how {
            How::Sent => sent += 1,
            How::Mounted => mounted += 1,
            How::There => {}
        }
        layers.push(desc);
        diff_ids.push(diff_id);
    }
    let config = store.push_config(&image, &diff_ids)?;
    let config_digest = sha256_digest(&config);
    upload::upload_bytes(&client, &config, &config_digest)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MT_MANIFEST.to_string()),
        config: descriptor(MT_CONFIG, config_digest, config.len() as u64),
        layers,
    };
    let bytes = serde_json::to_vec(&manifest).expect("manifests serialize");
    let tag = r.tag.clone().expect("a tag");
    client.request(
        "PUT",
        &client.path(&format!("manifests/{tag}")),
        &[("Content-Type", MT_MANIFEST)],
        Some(&bytes),
    )?;
    let digest = sha256_digest(&bytes);
    store.add_repo_digest(&image.id, &r.local_repo(), &digest)?;
    let size = config.len() as u64 + manifest.layers.iter().map(|l| l.size).sum::<u64>();
    progress.line(&format!("{tag}: digest: {digest} size: {}", bytes.len()));
    Ok(Pushed {
        reference: r.to_string(),
        digest,
        size,
        sent,
        mounted,
    })
}

enum How {
    There,
    Mounted,
    Sent,
}

fn descriptor(media_type: &str, digest: String, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest,
        size,
        annotations: BTreeMap::new(),
        platform: None,
        urls: Vec::new(),
    }
}

/// Repositories of the destination's registry that the image has a name in: a layer
/// the registry has there is mounted, not sent.
fn mount_sources(image: &Image, dest: &ImageRef) -> Vec<String> {
    let mut sources = Vec::new();
    for name in &image.names {
        if let Ok(r) = ImageRef::parse_qualified(name) {
            if r.registry == dest.registry
                && r.repository != dest.repository
                && !sources.contains(&r.repository)
            {
                sources.push(r.repository);
            }
        }
    }
    sources
}

/// Every layer of `image`, [`PARALLEL`] at a time (each compresses its own); the first
/// failure stops the others from starting. Bottom first: (descriptor, diff_id, how).
fn push_layers(
    store: &Store,
    client: &Client,
    image: &Image,
    sources: &[String],
    scratch: &PushScratch,
    progress: &Progress,
) -> Result<Vec<(Descriptor, String, How)>, RegistryError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    type Slot = Option<Result<(Descriptor, String, How), RegistryError>>;
    let results: Mutex<Vec<Slot>> = Mutex::new(image.layers.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(image.layers.len()) {
            s.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= image.layers.len() || failed.load(Ordering::SeqCst) {
                    return;
                }
                let layer = &image.layers[n];
                let result = push_layer(store, client, layer, sources, scratch, n, progress);
                failed.fetch_or(result.is_err(), Ordering::SeqCst);
                results.lock().expect("not poisoned")[n] = Some(result);
            });
        }
    });
    let mut out = Vec::new();
    for slot in results.into_inner().expect("not poisoned") {
        match slot {
            Some(r) => out.push(r?),
            None => {
                return Err(RegistryError::failed(
                    "push",
                    &client.target,
                    "a layer was not pushed",
                ))
            }
        }
    }
    Ok(out)
}

/// One layer. The registry is first asked for the uncompressed blob (`HEAD`, mount) whose
/// digest is the layer's id (pushed so by an older mdrun or another tool); otherwise the
/// layer is written gzip-compressed first, to learn its digest, and then asked for, or
/// mounted, or sent.
fn push_layer(
    store: &Store,
    client: &Client,
    layer: &str,
    sources: &[String],
    scratch: &PushScratch,
    n: usize,
    progress: &Progress,
) -> Result<(Descriptor, String, How), RegistryError> {
    let by_id = format!("sha256:{layer}");
    let found = |digest: &str, size: u64, how: How, status: &str| {
        progress.layer(digest, size).say(status);
        let desc = descriptor(MT_LAYER_TAR, digest.to_string(), size);
        Ok((desc, digest.to_string(), how))
    };
    let gzipped = |blob: &crate::image::Blob, how: How| {
        let desc = descriptor(MT_LAYER_GZIP, blob.digest.clone(), blob.size);
        Ok((desc, blob.diff_id.clone(), how))
    };
    if let Some(size) = upload::has_blob(client, &by_id)? {
        return found(&by_id, size, How::There, "Layer already exists");
    }
    // A mount the registry cannot make starts an upload instead: the blob goes there.
    let mut session = None;
    for from in sources {
        match upload::mount(client, &by_id, from)? {
            Mount::Mounted => {
                let size = upload::has_blob(client, &by_id)?.unwrap_or(0);
                return found(&by_id, size, How::Mounted, &format!("Mounted from {from}"));
            }
            Mount::Session(l) => match session {
                None => session = Some(l),
                Some(_) => upload::cancel(client, Some(l)),
            },
        }
    }
    let blob = store.layer_tarball(layer, scratch, n)?;
    if upload::has_blob(client, &blob.digest)?.is_some() {
        upload::cancel(client, session);
        let _ = std::fs::remove_file(&blob.path);
        progress
            .layer(&blob.digest, blob.size)
            .say("Layer already exists");
        return gzipped(&blob, How::There);
    }
    for from in sources {
        match upload::mount(client, &blob.digest, from)? {
            Mount::Mounted => {
                upload::cancel(client, session);
                let _ = std::fs::remove_file(&blob.path);
                progress
                    .layer(&blob.digest, blob.size)
                    .say(&format!("Mounted from {from}"));
                return gzipped(&blob, How::Mounted);
            }
            // One session is enough: the newer one is dropped.
            Mount::Session(l) => match session {
                None => session = Some(l),
                Some(_) => upload::cancel(client, Some(l)),
            },
        }
    }
    let bar = progress.layer(&blob.digest, blob.size);
    let counter = bar.counter_as("Pushing");
    let result = upload::upload_file(
        client,
        &blob.path,
        &blob.digest,
        blob.size,
        session,
        &*counter,
    );
    let _ = std::fs::remove_file(&blob.path);
    if let Err(e) = result {
        bar.failed();
        return Err(e);
    }
    bar.say("Pushed");
    gzipped(&blob, How::Sent)
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", crate::image::hex(&sha2::Sha256::digest(bytes)))
}
