//! Looking images up: by `name[:tag]`, by id or unique id prefix; listing them.

use super::files::{io_err, read_json};
use super::reference::{id_prefix, Reference};
use super::tags::Tags;
use super::{Image, ImageConfig, ImageError};
use std::fs;
use std::path::{Path, PathBuf};

pub struct Store {
    pub paths: crate::paths::Paths,
}

/// `<root>/images/<id>.json` as stored: an [`Image`] without its names, which live in
/// `tags.json` only.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ImageRecord {
    pub id: String,
    pub layers: Vec<String>,
    pub created: u64,
    pub size: u64,
    pub config: ImageConfig,
}

impl ImageRecord {
    pub(crate) fn into_image(self, tags: &Tags) -> Image {
        Image {
            names: tags.names_of(&self.id),
            id: self.id,
            layers: self.layers,
            created: self.created,
            size: self.size,
            config: self.config,
        }
    }
}

pub(crate) fn is_image_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Store {
    pub fn new(paths: crate::paths::Paths) -> Store {
        Store { paths }
    }

    /// `NAME[:TAG]`, a full id (optionally `sha256:`-prefixed) or a unique id prefix.
    /// A name wins over an id prefix that happens to be spelled the same.
    pub fn resolve(&self, reference: &str) -> Result<Image, ImageError> {
        let tags = Tags::load(&self.paths.images())?;
        let id = self.resolve_id(reference, &tags)?;
        self.load(&id, &tags)?
            .ok_or_else(|| ImageError::Unknown(reference.to_string()))
    }

    /// The image is still stored (one stat): for a `run` that resolved it before it
    /// recorded its container, so that an `rmi` in between cannot go unnoticed (`rmi`
    /// checks for containers and deletes under the containers' lock).
    pub fn check_present(&self, image: &Image) -> Result<(), ImageError> {
        match exists(&self.image_path(&image.id)) {
            true => Ok(()),
            false => Err(ImageError::Unknown(image.id.clone())),
        }
    }

    /// Deletes what killed imports, commits, loads, saves and exports left in `<root>/tmp`
    /// (a scratch directory no live process holds); returns what it deleted.
    pub fn sweep_scratch(&self) -> Vec<PathBuf> {
        super::files::sweep_all_stale(&self.paths.tmp())
    }

    /// Layer directories for overlayfs `lowerdir=`, topmost first.
    pub fn lower_dirs(&self, image: &Image) -> Vec<PathBuf> {
        image
            .layers
            .iter()
            .rev()
            .map(|layer| self.paths.layers().join(layer))
            .collect()
    }

    /// Every image, newest first.
    pub fn list(&self) -> Result<Vec<Image>, ImageError> {
        let tags = Tags::load(&self.paths.images())?;
        let mut images = Vec::new();
        for id in self.image_ids()? {
            if let Some(image) = self.load(&id, &tags)? {
                images.push(image);
            }
        }
        images.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(images)
    }

    pub(crate) fn image_path(&self, id: &str) -> PathBuf {
        self.paths.images().join(format!("{id}.json"))
    }

    pub(crate) fn load_record(&self, id: &str) -> Result<Option<ImageRecord>, ImageError> {
        read_json(&self.image_path(id))
    }

    fn load(&self, id: &str, tags: &Tags) -> Result<Option<Image>, ImageError> {
        Ok(self.load_record(id)?.map(|r| r.into_image(tags)))
    }

    /// The ids of all stored images (`<64 hex>.json` files; temporaries are skipped).
    pub(crate) fn image_ids(&self) -> Result<Vec<String>, ImageError> {
        let dir = self.paths.images();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read directory", &dir)(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("read directory", &dir))?;
            let name = entry.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|id| is_image_id(id))
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The image id `reference` names, given the current tags.
    pub(crate) fn resolve_id(&self, reference: &str, tags: &Tags) -> Result<String, ImageError> {
        if let Ok(r) = Reference::parse(reference) {
            if let Some(id) = tags.get(&r.to_string()) {
                return Ok(id.to_string());
            }
        }
        let Some(prefix) = id_prefix(reference) else {
            return Err(ImageError::Unknown(reference.to_string()));
        };
        let matches: Vec<String> = self
            .image_ids()?
            .into_iter()
            .filter(|id| id.starts_with(prefix))
            .collect();
        match matches.len() {
            0 => Err(ImageError::Unknown(reference.to_string())),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(ImageError::Ambiguous {
                reference: reference.to_string(),
                // Short ids tell them apart unless the prefix itself is that long.
                matches: matches
                    .iter()
                    .map(|id| {
                        if prefix.len() < 12 {
                            crate::ids::short(id).to_string()
                        } else {
                            id.clone()
                        }
                    })
                    .collect(),
            }),
        }
    }

    pub(crate) fn layer_dir(&self, layer: &str) -> PathBuf {
        self.paths.layers().join(layer)
    }

    pub(crate) fn images_dir(&self) -> PathBuf {
        self.paths.images()
    }
}

pub(crate) fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}
