//! `load`: images from an OCI archive (`index.json`, `blobs/sha256/...`, as `podman save
//! --format oci-archive` and `mdrun save` write) or a docker archive (`manifest.json` with
//! `<id>/layer.tar` or `<id>.tar` layers, as `docker save` and `podman save` write),
//! plain, gzip or zstd.
//!
//! 1. The archive is extracted with the import's safe unpacker into `<root>/tmp/load-*`
//!    (the documents may come in any order, and stdin cannot seek); every file named by a
//!    document is then opened with `RESOLVE_BENEATH`, so a path or symlink in the archive
//!    cannot make us read outside it.
//! 2. Everything is read and checked before any layer is unpacked: the documents parse,
//!    each blob has the digest it is named by, each config lists one diff_id per layer.
//! 3. Each layer not already in the store is unpacked (OCI whiteouts -> overlayfs ones)
//!    into a scratch dir of its own, and must hash to its diff_id.
//! 4. `publish` moves the layers into place and writes the image and its names, under the
//!    store lock. Any failure before leaves only scratch dirs, which their guards remove.

use super::files::{sweep_stale, TmpDir};
use super::fsops::open_beneath;
use super::layer_add::{NewLayer, Publish};
use super::oci::{
    sha256_hex, ConfigFile, Descriptor, DockerEntry, Index, Manifest, CONTAINERD_NAME,
    MT_DOCKER_LIST, MT_INDEX, REF_NAME,
};
use super::reference::Reference;
use super::save::hex;
use super::store::exists;
use super::unpack::{unpack, Whiteouts};
use super::{stream, Image, ImageError, Store};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

const TMP_PREFIX: &str = "load";

/// One image of the archive, as stored.
#[derive(Debug)]
pub struct Loaded {
    pub image: Image,
    /// The names it was given (docker's normalization applied: `docker.io/library/x` is `x`).
    pub names: Vec<String>,
    /// Names in the archive that are not valid references here, and were not given.
    pub skipped_names: Vec<String>,
}

/// An image as the archive describes it.
struct Wanted {
    config: ConfigFile,
    /// The config as the archive has it: the image's id is its digest.
    config_blob: Vec<u8>,
    /// Per layer: the path of its tarball in the archive and its diff_id (hex).
    layers: Vec<(String, String)>,
    names: Vec<String>,
}

impl Store {
    /// Loads every image of the archive `source`.
    pub fn load_archive(&self, source: Box<dyn Read + Send>) -> Result<Vec<Loaded>, ImageError> {
        sweep_stale(&self.paths.tmp(), TMP_PREFIX);
        let extracted = TmpDir::create(&self.paths.tmp(), TMP_PREFIX)?;
        let (compression, source) = stream::detect(source)?;
        let mut pipe = stream::spawn(source, compression);
        if let Err(e) = unpack(pipe.reader(), extracted.path(), Whiteouts::Literal) {
            pipe.abandon();
            return Err(e);
        }
        pipe.finish()?;
        let root = nix::fcntl::open(
            extracted.path(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| super::files::io_err("open", extracted.path())(e.into()))?;
        let wanted = if present(&root, "index.json") {
            oci_images(&root)?
        } else if present(&root, "manifest.json") {
            docker_images(&root)?
        } else {
            return Err(ImageError::InvalidArchive {
                reason: "it has neither index.json (OCI) nor manifest.json (docker)",
            });
        };
        let mut loaded = Vec::new();
        for image in wanted {
            loaded.push(self.load_one(&root, image)?);
        }
        Ok(loaded)
    }

    fn load_one(&self, root: &OwnedFd, wanted: Wanted) -> Result<Loaded, ImageError> {
        let mut names = Vec::new();
        let mut skipped_names = Vec::new();
        for name in &wanted.names {
            match normalize(name) {
                Some(r) if !names.contains(&r) => names.push(r),
                Some(_) => {}
                None => skipped_names.push(name.clone()),
            }
        }
        let layers: Vec<String> = wanted.layers.iter().map(|(_, id)| id.clone()).collect();
        let mut new: HashMap<String, NewLayer> = HashMap::new();
        // A layer found in the store is not unpacked again; if an `rmi` takes it away
        // before we hold the lock, `publish` says so and the next round unpacks it.
        for _round in 0..3 {
            for (path, diff_id) in &wanted.layers {
                if !new.contains_key(diff_id) && !exists(&self.layer_dir(diff_id)) {
                    let layer = self.unpack_layer(root, path, diff_id)?;
                    new.insert(diff_id.clone(), layer);
                }
            }
            let mut size = 0;
            for id in &layers {
                size += match new.get(id) {
                    Some(layer) => layer.unpacked.size,
                    None => tree_size(&self.layer_dir(id)),
                };
            }
            let job = Publish {
                layers: layers.clone(),
                new: new.drain().map(|(_, layer)| layer).collect(),
                config: wanted.config.image_config(),
                created: wanted
                    .config
                    .created_secs()
                    .unwrap_or_else(crate::time::unix_secs),
                size,
                names: &names,
                id: Some(hex(&Sha256::digest(&wanted.config_blob))),
                config_blob: Some(&wanted.config_blob),
            };
            match self.publish(job) {
                Ok((image, _)) => {
                    return Ok(Loaded {
                        image,
                        names: names.iter().map(|n| n.to_string()).collect(),
                        skipped_names,
                    })
                }
                Err(ImageError::MissingLayer { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ImageError::MissingLayer {
            layer: layers.join(", "),
        })
    }

    /// Unpacks the layer tarball at `path` in the archive, which must hash to `diff_id`.
    fn unpack_layer(
        &self,
        root: &OwnedFd,
        path: &str,
        diff_id: &str,
    ) -> Result<NewLayer, ImageError> {
        let file = open_file(root, path)?;
        self.unpack_stream(Box::new(file), diff_id)
    }
}

/// `docker.io/library/x:t` -> `x:t` (docker's short form); `None` if not a valid name.
fn normalize(name: &str) -> Option<Reference> {
    let short = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name);
    Reference::parse(short).ok()
}

fn present(root: &OwnedFd, rel: &str) -> bool {
    open_beneath(root, Path::new(rel), OFlag::O_PATH).is_ok()
}

/// A regular file of the extracted archive, never outside it.
fn open_file(root: &OwnedFd, rel: &str) -> Result<File, ImageError> {
    let bad = |reason| ImageError::ArchiveFile {
        path: rel.to_string(),
        reason,
    };
    let clean = super::entry::clean(rel.as_bytes()).ok_or_else(|| bad("a path with \"..\""))?;
    let fd = match open_beneath(root, &clean, OFlag::O_RDONLY | OFlag::O_NOFOLLOW) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Err(bad("not in the archive")),
        Err(Errno::EXDEV | Errno::ELOOP) => return Err(bad("a symlink")),
        Err(e) => {
            return Err(ImageError::Io {
                step: "open archive member",
                path: clean,
                source: e.into(),
            })
        }
    };
    let file = File::from(fd);
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        _ => Err(bad("not a regular file")),
    }
}

fn read_file(root: &OwnedFd, rel: &str) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    open_file(root, rel)?
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::Io {
            step: "read archive member",
            path: rel.into(),
            source: e,
        })?;
    Ok(bytes)
}

fn parse<T: serde::de::DeserializeOwned>(rel: &str, bytes: &[u8]) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
        path: rel.into(),
        source,
    })
}

/// The blob `digest` names, checked against it.
fn read_blob(root: &OwnedFd, digest: &str) -> Result<Vec<u8>, ImageError> {
    let rel = blob_rel(digest)?;
    let bytes = read_file(root, &rel)?;
    let actual = hex(&Sha256::digest(&bytes));
    check_digest("blob", digest, &actual)?;
    Ok(bytes)
}

fn blob_rel(digest: &str) -> Result<String, ImageError> {
    let hex = sha256_hex(digest).ok_or_else(|| ImageError::ArchiveFile {
        path: digest.to_string(),
        reason: "not a sha256 digest",
    })?;
    Ok(format!("blobs/sha256/{hex}"))
}

fn check_digest(what: &'static str, expected: &str, actual_hex: &str) -> Result<(), ImageError> {
    if sha256_hex(expected) == Some(actual_hex) {
        return Ok(());
    }
    Err(ImageError::DigestMismatch {
        what,
        expected: expected.to_string(),
        actual: format!("sha256:{actual_hex}"),
    })
}

/// Hashes a layer blob without keeping it (they can be large).
fn check_blob_file(root: &OwnedFd, digest: &str) -> Result<String, ImageError> {
    let rel = blob_rel(digest)?;
    let mut file = open_file(root, &rel)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| ImageError::Io {
        step: "read archive member",
        path: rel.clone().into(),
        source: e,
    })?;
    check_digest("layer blob", digest, &hex(&hasher.finalize()))?;
    Ok(rel)
}

fn oci_images(root: &OwnedFd) -> Result<Vec<Wanted>, ImageError> {
    let index: Index = parse("index.json", &read_file(root, "index.json")?)?;
    // One manifest may be listed once per name: load it once, with all its names.
    let mut by_manifest: Vec<(Descriptor, Vec<String>)> = Vec::new();
    for desc in index.manifests {
        let desc = pick_manifest(root, desc, 0)?;
        let name = image_name(&desc);
        match by_manifest
            .iter_mut()
            .find(|(d, _)| d.digest == desc.digest)
        {
            Some((_, names)) => names.extend(name),
            None => by_manifest.push((desc, name.into_iter().collect())),
        }
    }
    let mut wanted = Vec::new();
    for (desc, names) in by_manifest {
        let manifest: Manifest = parse(&desc.digest, &read_blob(root, &desc.digest)?)?;
        let config_blob = read_blob(root, &manifest.config.digest)?;
        let config: ConfigFile = parse(&manifest.config.digest, &config_blob)?;
        let diff_ids = diff_ids(&config, manifest.layers.len())?;
        let mut layers = Vec::new();
        for (layer, diff_id) in manifest.layers.iter().zip(diff_ids) {
            layers.push((check_blob_file(root, &layer.digest)?, diff_id));
        }
        wanted.push(Wanted {
            config,
            config_blob,
            layers,
            names,
        });
    }
    Ok(wanted)
}

/// An index entry may be an index itself (multi-platform): take this platform's image.
fn pick_manifest(root: &OwnedFd, desc: Descriptor, depth: u8) -> Result<Descriptor, ImageError> {
    if desc.media_type != MT_INDEX && desc.media_type != MT_DOCKER_LIST {
        return Ok(desc);
    }
    if depth > 2 {
        return Err(ImageError::InvalidArchive {
            reason: "image indexes nested too deep",
        });
    }
    let nested: Index = parse(&desc.digest, &read_blob(root, &desc.digest)?)?;
    let host = super::oci::host_platform();
    let chosen = nested
        .manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| *p == host))
        .or_else(|| nested.manifests.first())
        .cloned()
        .ok_or(ImageError::InvalidArchive {
            reason: "an image index lists no manifest",
        })?;
    let mut chosen = pick_manifest(root, chosen, depth + 1)?;
    // The name is on the outer entry.
    for (k, v) in desc.annotations {
        chosen.annotations.entry(k).or_insert(v);
    }
    Ok(chosen)
}

/// The name in `org.opencontainers.image.ref.name` (podman, skopeo, mdrun); docker puts
/// only the tag there and the whole name in `io.containerd.image.name`, which wins.
fn image_name(desc: &Descriptor) -> Option<String> {
    desc.annotations
        .get(CONTAINERD_NAME)
        .or_else(|| desc.annotations.get(REF_NAME))
        .cloned()
}

fn diff_ids(config: &ConfigFile, layers: usize) -> Result<Vec<String>, ImageError> {
    if config.rootfs.diff_ids.len() != layers {
        return Err(ImageError::InvalidArchive {
            reason: "the image config lists a different number of diff_ids than layers",
        });
    }
    config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| {
            sha256_hex(d)
                .map(str::to_string)
                .ok_or(ImageError::InvalidArchive {
                    reason: "a diff_id is not a sha256 digest",
                })
        })
        .collect()
}

fn docker_images(root: &OwnedFd) -> Result<Vec<Wanted>, ImageError> {
    let entries: Vec<DockerEntry> = parse("manifest.json", &read_file(root, "manifest.json")?)?;
    let mut wanted = Vec::new();
    for entry in entries {
        let bytes = read_file(root, &entry.config)?;
        // `<hex>.json` (docker) or `blobs/sha256/<hex>`: the name is the digest.
        let stem = Path::new(&entry.config)
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".json"))
            .unwrap_or("");
        if super::store::is_image_id(stem) {
            check_digest(
                "config",
                &format!("sha256:{stem}"),
                &hex(&Sha256::digest(&bytes)),
            )?;
        }
        let config: ConfigFile = parse(&entry.config, &bytes)?;
        let diff_ids = diff_ids(&config, entry.layers.len())?;
        for layer in &entry.layers {
            open_file(root, layer)?;
        }
        wanted.push(Wanted {
            config,
            config_blob: bytes,
            layers: entry.layers.into_iter().zip(diff_ids).collect(),
            names: entry.repo_tags.unwrap_or_default(),
        });
    }
    if wanted.is_empty() {
        return Err(ImageError::InvalidArchive {
            reason: "manifest.json lists no image",
        });
    }
    Ok(wanted)
}

/// Bytes of regular file content under `dir` (each hard-linked file once), as
/// `Image::size` counts them. Best effort: what cannot be read counts nothing.
pub(crate) fn tree_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() && (meta.nlink() == 1 || seen.insert(meta.ino())) {
                total += meta.len();
            }
        }
    }
    total
}
