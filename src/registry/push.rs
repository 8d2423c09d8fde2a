//! `push`: each layer the registry does not have, three at a time: first the blobs the
//! layer is known as are asked for (`HEAD`, then a mount from another repository of the
//! same registry the image has a name in), else it is uploaded as a gzip-compressed
//! tarball, as docker pushes; then the config (the stored bytes when they still describe
//! the layers, so the id stays the same), then the manifest, last.

use super::client::Client;
use super::progress::Progress;
use super::reference::ImageRef;
use super::upload::{self, Mount};
use super::{Options, RegistryError};
use crate::image::oci::{
    Descriptor, Manifest, MT_CONFIG, MT_LAYER_GZIP, MT_LAYER_TAR, MT_MANIFEST,
};
use crate::image::{Image, KnownBlob, PushScratch, Store};
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
            How::MountedFrom(_) => mounted += 1,
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
    MountedFrom(String),
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

/// One layer. The registry is first asked (`HEAD`, then a mount from each of `sources`)
/// for the blobs the layer is known as: the uncompressed tarball whose digest is its id
/// (pushed so by an older mdrun or another tool), the blob it was pulled from, the gzip
/// blob an earlier push made (`KnownBlob`). Otherwise the layer is written
/// gzip-compressed, to learn its digest, then asked for, mounted or sent.
fn push_layer(
    store: &Store,
    client: &Client,
    layer: &str,
    sources: &[String],
    scratch: &PushScratch,
    n: usize,
    progress: &Progress,
) -> Result<(Descriptor, String, How), RegistryError> {
    let diff_id = format!("sha256:{layer}");
    let mut known = store.known_blobs(layer);
    known.push(KnownBlob {
        digest: diff_id.clone(),
        size: 0,
        media_type: MT_LAYER_TAR.to_string(),
    });
    let mut session = None;
    if let Some((blob, how)) = find_or_mount(client, &known, sources, &mut session)? {
        upload::cancel(client, session);
        return Ok(finish(store, layer, progress, blob, diff_id, how));
    }
    let tarball = store.layer_tarball(layer, scratch, n)?;
    let blob = KnownBlob {
        digest: tarball.digest.clone(),
        size: tarball.size,
        media_type: MT_LAYER_GZIP.to_string(),
    };
    let found = find_or_mount(client, std::slice::from_ref(&blob), sources, &mut session)?;
    if let Some((blob, how)) = found {
        upload::cancel(client, session);
        let _ = std::fs::remove_file(&tarball.path);
        return Ok(finish(store, layer, progress, blob, tarball.diff_id, how));
    }
    let bar = progress.layer(&blob.digest, blob.size);
    let counter = bar.counter_as("Pushing");
    let result = upload::upload_file(
        client,
        &tarball.path,
        &blob.digest,
        blob.size,
        session,
        &*counter,
    );
    let _ = std::fs::remove_file(&tarball.path);
    if let Err(e) = result {
        bar.failed();
        return Err(e);
    }
    bar.say("Pushed");
    store.add_known_blob(layer, blob.clone());
    let desc = descriptor(&blob.media_type, blob.digest, blob.size);
    Ok((desc, tarball.diff_id, How::Sent))
}

/// The first of `candidates` the registry has (`HEAD`) or mounts from one of `sources`,
/// with its size. A mount the registry cannot make starts an upload instead: the first
/// such session is kept in `session` (the blob goes there if it must be sent), the others
/// are cancelled.
fn find_or_mount(
    client: &Client,
    candidates: &[KnownBlob],
    sources: &[String],
    session: &mut Option<String>,
) -> Result<Option<(KnownBlob, How)>, RegistryError> {
    for blob in candidates {
        if let Some(size) = upload::has_blob(client, &blob.digest)? {
            return Ok(Some((
                KnownBlob {
                    size,
                    ..blob.clone()
                },
                How::There,
            )));
        }
    }
    for from in sources {
        for blob in candidates {
            match upload::mount(client, &blob.digest, from)? {
                Mount::Mounted => {
                    let size = upload::has_blob(client, &blob.digest)?.unwrap_or(blob.size);
                    let how = How::MountedFrom(from.clone());
                    return Ok(Some((
                        KnownBlob {
                            size,
                            ..blob.clone()
                        },
                        how,
                    )));
                }
                Mount::Session(l) => match session {
                    None => *session = Some(l),
                    Some(_) => upload::cancel(client, Some(l)),
                },
            }
        }
    }
    Ok(None)
}

/// A layer the registry had or mounted: said, remembered, described.
fn finish(
    store: &Store,
    layer: &str,
    progress: &Progress,
    blob: KnownBlob,
    diff_id: String,
    how: How,
) -> (Descriptor, String, How) {
    let status = match &how {
        How::MountedFrom(from) => format!("Mounted from {from}"),
        _ => "Layer already exists".to_string(),
    };
    progress.layer(&blob.digest, blob.size).say(&status);
    if blob.media_type != MT_LAYER_TAR {
        store.add_known_blob(layer, blob.clone());
    }
    let desc = descriptor(oci_media_type(&blob.media_type), blob.digest, blob.size);
    (desc, diff_id, how)
}

/// A layer blob pulled from a docker schema2 image goes into an OCI manifest under the
/// OCI name of the same bytes.
fn oci_media_type(media_type: &str) -> &str {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar.gzip" => MT_LAYER_GZIP,
        "application/vnd.docker.image.rootfs.diff.tar" => MT_LAYER_TAR,
        "application/vnd.docker.image.rootfs.diff.tar.zstd" => {
            "application/vnd.oci.image.layer.v1.tar+zstd"
        }
        other => other,
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", crate::image::hex(&sha2::Sha256::digest(bytes)))
}
