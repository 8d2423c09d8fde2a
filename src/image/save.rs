//! `save`: images as an OCI image layout in a tar archive ("oci-archive"):
//!
//! ```text
//! oci-layout                      {"imageLayoutVersion": "1.0.0"}
//! index.json                      one manifest descriptor per name (ref.name annotation)
//! manifest.json                   the same images in docker-archive form, for `docker load`
//! blobs/sha256/<digest>           layer tarballs (uncompressed), configs, manifests
//! ```
//!
//! Layers are written as OCI tarballs (`layer_tar`, overlay whiteouts -> `.wh.` files)
//! into `<root>/tmp/save-*` first, hashing on the way: a tar header needs the size before
//! the data, and the blob's name is its digest. The archive itself is then streamed.

use super::files::{io_err, sweep_stale, TmpDir};
use super::oci::{
    ConfigFile, Descriptor, DockerEntry, Index, Manifest, LAYOUT_VERSION, MT_CONFIG, MT_INDEX,
    MT_LAYER_TAR, MT_MANIFEST, REF_NAME,
};
use super::reference::Reference;
use super::tags::Tags;
use super::{Blob, Image, ImageError, Store};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

const TMP_PREFIX: &str = "save";

/// What `save` wrote.
#[derive(Debug, Default)]
pub struct Saved {
    /// Image ids, in the order given.
    pub images: Vec<String>,
    /// Layer blobs written (each once, however many images share it).
    pub layers: usize,
}

impl Store {
    /// The config to write for `image` whose layers are written as blobs with `diff_ids`
    /// (`sha256:<hex>`, bottom first): the one stored with it, byte for byte, while it
    /// names those layers (then the image's id, its digest, stays the same through save
    /// and load, push and pull), else one made from its run config.
    pub(crate) fn config_for(
        &self,
        image: &Image,
        diff_ids: &[String],
    ) -> Result<Vec<u8>, ImageError> {
        if let Some(bytes) = self.config_blob(&image.id)? {
            let stored: Option<ConfigFile> = serde_json::from_slice(&bytes).ok();
            if stored.is_some_and(|c| c.rootfs.diff_ids == diff_ids) {
                return Ok(bytes);
            }
        }
        let config = ConfigFile::for_image(&image.config, image.created, diff_ids.to_vec());
        Ok(to_json(&config))
    }

    /// Writes the images `references` name (names, ids or id prefixes) to `out`.
    pub fn save(&self, references: &[String], out: &mut dyn Write) -> Result<Saved, ImageError> {
        let tags = Tags::load(&self.images_dir())?;
        let mut wanted: Vec<(Image, Option<String>)> = Vec::new();
        for reference in references {
            let id = self.resolve_id(reference, &tags)?;
            let image = self
                .load_record(&id)?
                .ok_or_else(|| ImageError::Unknown(reference.clone()))?
                .into_image(&tags);
            // Saved by name: that name goes with it. By id: no name, as docker does.
            let name = Reference::parse(reference)
                .ok()
                .map(|r| r.to_string())
                .filter(|n| tags.get(n) == Some(id.as_str()));
            wanted.push((image, name));
        }
        sweep_stale(&self.paths.tmp(), TMP_PREFIX);
        let scratch = TmpDir::create(&self.paths.tmp(), TMP_PREFIX)?;
        let mut layer_blobs: HashMap<String, Blob> = HashMap::new();
        for (image, _) in &wanted {
            for layer in &image.layers {
                if !layer_blobs.contains_key(layer) {
                    let blob = self.layer_blob(layer, scratch.path(), layer_blobs.len(), false)?;
                    layer_blobs.insert(layer.clone(), blob);
                }
            }
        }
        let mut archive = tar::Builder::new(BufWriter::with_capacity(1 << 20, out));
        let archive_err = |e| ImageError::Io {
            step: "write",
            path: PathBuf::from("the archive"),
            source: e,
        };
        let mut index = Index {
            schema_version: 2,
            media_type: Some(MT_INDEX.to_string()),
            manifests: Vec::new(),
        };
        let mut docker = Vec::new();
        let mut written_blobs: Vec<String> = Vec::new();
        let mut saved = Saved::default();
        for (image, name) in &wanted {
            let blobs: Vec<&Blob> = image.layers.iter().map(|l| &layer_blobs[l]).collect();
            let diff_ids: Vec<String> = blobs.iter().map(|b| b.digest.clone()).collect();
            let config = self.config_for(image, &diff_ids)?;
            let config_desc = descriptor(MT_CONFIG, &config);
            let manifest = Manifest {
                schema_version: 2,
                media_type: Some(MT_MANIFEST.to_string()),
                config: config_desc.clone(),
                layers: blobs
                    .iter()
                    .map(|b| Descriptor {
                        media_type: MT_LAYER_TAR.to_string(),
                        digest: b.digest.clone(),
                        size: b.size,
                        annotations: BTreeMap::new(),
                        platform: None,
                        urls: Vec::new(),
                    })
                    .collect(),
            };
            let manifest = to_json(&manifest);
            let mut manifest_desc = descriptor(MT_MANIFEST, &manifest);
            for (digest, bytes) in [
                (&config_desc.digest, &config),
                (&manifest_desc.digest, &manifest),
            ] {
                if !written_blobs.contains(digest) {
                    append_bytes(&mut archive, &blob_path(digest), bytes).map_err(archive_err)?;
                    written_blobs.push(digest.clone());
                }
            }
            for blob in &blobs {
                if !written_blobs.contains(&blob.digest) {
                    append_file(&mut archive, &blob_path(&blob.digest), blob)?;
                    written_blobs.push(blob.digest.clone());
                }
            }
            if let Some(name) = name {
                manifest_desc
                    .annotations
                    .insert(REF_NAME.to_string(), name.clone());
            }
            index.manifests.push(manifest_desc);
            docker.push(DockerEntry {
                config: blob_path(&config_desc.digest),
                repo_tags: name.clone().map(|n| vec![n]),
                layers: blobs.iter().map(|b| blob_path(&b.digest)).collect(),
            });
            saved.images.push(image.id.clone());
        }
        let layout = serde_json::json!({ "imageLayoutVersion": LAYOUT_VERSION });
        append_bytes(&mut archive, "oci-layout", &to_json(&layout)).map_err(archive_err)?;
        append_bytes(&mut archive, "index.json", &to_json(&index)).map_err(archive_err)?;
        append_bytes(&mut archive, "manifest.json", &to_json(&docker)).map_err(archive_err)?;
        archive.finish().map_err(archive_err)?;
        let mut buffered = archive.into_inner().map_err(archive_err)?;
        buffered.flush().map_err(archive_err)?;
        saved.layers = layer_blobs.len();
        Ok(saved)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("archive documents serialize")
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: format!("sha256:{}", hex(&Sha256::digest(bytes))),
        size: bytes.len() as u64,
        annotations: BTreeMap::new(),
        platform: None,
        urls: Vec::new(),
    }
}

/// `sha256:<hex>` -> `blobs/sha256/<hex>`.
fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header.set_mtime(0);
    header
}

fn append_bytes<W: Write>(
    archive: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> io::Result<()> {
    archive.append_data(&mut file_header(bytes.len() as u64), name, bytes)
}

fn append_file<W: Write>(
    archive: &mut tar::Builder<W>,
    name: &str,
    blob: &Blob,
) -> Result<(), ImageError> {
    let file = File::open(&blob.path).map_err(io_err("open", &blob.path))?;
    archive
        .append_data(&mut file_header(blob.size), name, file)
        .map_err(io_err("copy into the archive", &blob.path))
}
