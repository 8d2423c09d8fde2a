//! `pull`: the manifest (the platform's, from an index), the config, then each layer the
//! store does not have, a few at a time, unpacked as it arrives: its compressed bytes
//! checked against the manifest's digest and its tar stream against the config's
//! diff_id. Nothing is published until every layer checked out; a failed or killed pull
//! leaves only scratch dirs, which their guards (or the next pull, or `prune`) remove.

use super::blob::{BlobReader, Outcome};
use super::client::Client;
use super::manifest::{self, Resolved};
use super::progress::Progress;
use super::reference::{search_registries, ImageRef};
use super::{Options, RegistryError};
use crate::image::oci::{ConfigFile, Descriptor};
use crate::image::{Image, ImageError, KnownBlob, Reference, Store};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Layers downloaded at once (docker's default is 3).
const PARALLEL: usize = 3;
/// Configs are small; a bigger one is refused rather than read into memory.
const MAX_CONFIG: u64 = 8 << 20;

/// What a pull did.
#[derive(Debug)]
pub struct Pulled {
    pub image: Image,
    /// The full reference pulled (`docker.io/library/alpine:latest`).
    pub reference: String,
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
    /// Layers downloaded (0 when all were in the store).
    pub fetched: usize,
}

/// Pulls `input` (`alpine`, `host:port/app:v1`, `...@sha256:...`). A name without a
/// registry is tried on each search registry in turn until one has it.
pub fn pull(
    store: &Store,
    input: &str,
    opts: &Options,
    progress: &Progress,
) -> Result<Pulled, RegistryError> {
    let search = search_registries()?;
    let candidates = ImageRef::candidates(input, &search)?;
    let platform = match &opts.platform {
        Some(p) => manifest::parse_platform(p)?,
        None => crate::image::oci::host_platform(),
    };
    store.sweep_pulls();
    let last = candidates.len() - 1;
    for (i, r) in candidates.iter().enumerate() {
        match pull_one(store, r, opts, &platform, progress) {
            Err(e) if i < last && e.is_not_found() => continue,
            result => return result,
        }
    }
    unreachable!("the last candidate returns")
}

fn pull_one(
    store: &Store,
    r: &ImageRef,
    opts: &Options,
    platform: &crate::image::oci::Platform,
    progress: &Progress,
) -> Result<Pulled, RegistryError> {
    let client = Arc::new(Client::connect(r, opts, "pull", None)?);
    let Resolved { manifest, digest } = manifest::resolve(&client, r.manifest_ref(), platform)?;
    let names: Vec<Reference> = r
        .local_name()
        .map(|n| Reference::parse(&n))
        .transpose()?
        .into_iter()
        .collect();
    let config_hex = crate::image::sha256_hex(&manifest.config.digest)
        .ok_or_else(|| {
            client.fail(format!(
                "config digest {:?} is not sha256",
                manifest.config.digest
            ))
        })?
        .to_string();
    let done = |image: Image, fetched| -> Result<Pulled, RegistryError> {
        store.add_repo_digest(&image.id, &r.local_repo(), &digest)?;
        progress.line(&format!("Digest: {digest}"));
        Ok(Pulled {
            image,
            reference: r.to_string(),
            digest: digest.clone(),
            fetched,
        })
    };
    // Before any blob is fetched.
    for layer in &manifest.layers {
        check_layer_type(&client, layer)?;
    }
    // Every layer there already: only the name changes, no blob is fetched.
    if let Some(image) = store.complete_image(&config_hex)? {
        if let Some(bytes) = store.config_blob(&image.id)? {
            for layer in &manifest.layers {
                progress.layer(&layer.digest, layer.size).exists();
            }
            let config = config_of(&client, &bytes)?;
            let image = store.publish_config(&bytes, &config, image.layers, Vec::new(), &names)?;
            return done(image, 0);
        }
    }
    let config_bytes = small_blob(&client, &manifest.config)?;
    let config = config_of(&client, &config_bytes)?;
    let diff_ids = diff_ids(&client, &config, manifest.layers.len())?;
    let mut todo: Vec<(&Descriptor, &str)> = Vec::new();
    for (layer, diff_id) in manifest.layers.iter().zip(&diff_ids) {
        if store.has_layer(diff_id) {
            progress.layer(&layer.digest, layer.size).exists();
        } else if !todo.iter().any(|(_, d)| d == diff_id) {
            todo.push((layer, diff_id));
        }
    }
    let fetched = todo.len();
    let new = fetch_layers(store, &client, &todo, progress)?;
    let image = store.publish_config(&config_bytes, &config, diff_ids.clone(), new, &names)?;
    // What each layer is in this registry: a push there mounts it rather than sending it.
    for (layer, diff_id) in manifest.layers.iter().zip(&diff_ids) {
        let known = KnownBlob {
            digest: layer.digest.clone(),
            size: layer.size,
            media_type: layer.media_type.clone(),
        };
        store.add_known_blob(diff_id, known);
    }
    done(image, fetched)
}

/// Downloads and unpacks `todo`, [`PARALLEL`] at a time; the first failure stops the
/// others from starting more and is returned (their scratch dirs are removed).
fn fetch_layers(
    store: &Store,
    client: &Arc<Client>,
    todo: &[(&Descriptor, &str)],
    progress: &Progress,
) -> Result<Vec<crate::image::NewLayer>, RegistryError> {
    let bars: Vec<_> = todo
        .iter()
        .map(|(d, _)| progress.layer(&d.digest, d.size))
        .collect();
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(None::<RegistryError>);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(todo.len()) {
            s.spawn(|| loop {
                if failed.lock().expect("lock").is_some() {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((desc, diff_id)) = todo.get(i) else {
                    return;
                };
                match fetch_layer(store, client, desc, diff_id, bars[i].counter()) {
                    Ok(layer) => {
                        bars[i].done();
                        done.lock().expect("lock").push(layer);
                    }
                    Err(e) => {
                        bars[i].failed();
                        failed.lock().expect("lock").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match failed.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(done.into_inner().expect("lock")),
    }
}

fn fetch_layer(
    store: &Store,
    client: &Arc<Client>,
    desc: &Descriptor,
    diff_id: &str,
    counter: Box<dyn Fn(u64) + Send>,
) -> Result<crate::image::NewLayer, RegistryError> {
    let (reader, outcome) = BlobReader::new(client.clone(), &desc.digest, desc.size, counter);
    let result = store.unpack_stream(Box::new(reader), diff_id);
    crate::stop_point::reached("pull:layer");
    let outcome = outcome.lock().expect("lock").clone();
    match (result, outcome) {
        (_, Outcome::Mismatch(actual)) => Err(client.fail(format!(
            "blob {} does not match its digest (received {actual}): nothing stored",
            desc.digest
        ))),
        (Ok(_), Outcome::Reading) => Err(client.fail(format!(
            "blob {}: the layer ended before the blob did",
            desc.digest
        ))),
        (Ok(layer), Outcome::Verified) => Ok(layer),
        (Err(ImageError::DigestMismatch { actual, .. }), _) => Err(client.fail(format!(
            "layer {} unpacks to {actual}, not the config's diff_id sha256:{diff_id}: nothing stored",
            desc.digest
        ))),
        // The stream broke before its end (a corrupt gzip trailer, say): if the blob
        // does not match its digest, that is the error to report.
        (Err(e), _) => match received_digest(client, desc) {
            Some(actual) if actual != desc.digest => Err(client.fail(format!(
                "blob {} does not match its digest (received {actual}): nothing stored",
                desc.digest
            ))),
            _ => Err(client.fail(format!("layer {}: {e}", desc.digest))),
        },
    }
}

/// The digest of the blob as the registry sends it (read again, hashed, not kept).
fn received_digest(client: &Client, desc: &Descriptor) -> Option<String> {
    let resp = client
        .request(
            "GET",
            &client.path(&format!("blobs/{}", desc.digest)),
            &[],
            None,
        )
        .ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut resp.into_reader().take(desc.size + 1), &mut hasher).ok()?;
    Some(format!("sha256:{}", crate::image::hex(&hasher.finalize())))
}

/// OCI and docker layers, plain, gzip or zstd; foreign and non-distributable layers (and
/// any with `urls`) are refused: they live outside the registry, under other terms.
fn check_layer_type(client: &Client, layer: &Descriptor) -> Result<(), RegistryError> {
    const OK: [&str; 6] = [
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
    ];
    let t = layer.media_type.as_str();
    if t.contains("foreign") || t.contains("nondistributable") || !layer.urls.is_empty() {
        return Err(client.fail(format!(
            "layer {} is foreign or non-distributable ({t}): it is not in the registry, refused",
            layer.digest
        )));
    }
    if !OK.contains(&t) {
        return Err(client.fail(format!(
            "layer {} has an unsupported media type {t:?}",
            layer.digest
        )));
    }
    Ok(())
}

/// The config blob, checked against its digest.
fn small_blob(client: &Client, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
    if desc.size > MAX_CONFIG {
        return Err(client.fail(format!(
            "config {} is {} bytes: too big",
            desc.digest, desc.size
        )));
    }
    let resp = client.request(
        "GET",
        &client.path(&format!("blobs/{}", desc.digest)),
        &[],
        None,
    )?;
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(MAX_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| client.fail(format!("read config {}: {e}", desc.digest)))?;
    let actual = format!("sha256:{}", crate::image::hex(&Sha256::digest(&bytes)));
    if actual != desc.digest {
        return Err(client.fail(format!(
            "blob {} does not match its digest (received {actual}): nothing stored",
            desc.digest
        )));
    }
    Ok(bytes)
}

fn config_of(client: &Client, bytes: &[u8]) -> Result<ConfigFile, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| client.fail(format!("image config: {e}")))
}

fn diff_ids(
    client: &Client,
    config: &ConfigFile,
    layers: usize,
) -> Result<Vec<String>, RegistryError> {
    if config.rootfs.diff_ids.len() != layers {
        return Err(client.fail(format!(
            "the config lists {} diff_ids for {layers} layers",
            config.rootfs.diff_ids.len()
        )));
    }
    config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| {
            crate::image::sha256_hex(d)
                .map(str::to_string)
                .ok_or_else(|| client.fail(format!("diff_id {d:?} is not a sha256 digest")))
        })
        .collect()
}
