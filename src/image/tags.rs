//! `<root>/images/tags.json`: `name:tag` -> image id. Changed only under [`StoreLock`]
//! (read, change, write atomically), read by anyone at any time.
//!
//! [`StoreLock`]: super::files::StoreLock

use super::files::{read_json, write_atomic};
use super::ImageError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Tags {
    /// `name:tag` -> 64-hex image id. A BTreeMap so the file is stable and diffable.
    tags: BTreeMap<String, String>,
}

pub(crate) fn tags_path(images_dir: &Path) -> PathBuf {
    images_dir.join("tags.json")
}

impl Tags {
    pub(crate) fn load(images_dir: &Path) -> Result<Tags, ImageError> {
        Ok(read_json(&tags_path(images_dir))?.unwrap_or_default())
    }

    /// Call with the store lock held.
    pub(crate) fn save(&self, images_dir: &Path) -> Result<(), ImageError> {
        let path = tags_path(images_dir);
        let json = serde_json::to_vec_pretty(self).expect("a map of strings serializes");
        write_atomic(&path, &json)
    }

    pub(crate) fn get(&self, name_tag: &str) -> Option<&str> {
        self.tags.get(name_tag).map(String::as_str)
    }

    /// Points `name_tag` at `id`; returns the image it pointed at before, if another.
    pub(crate) fn set(&mut self, name_tag: &str, id: &str) -> Option<String> {
        self.tags
            .insert(name_tag.to_string(), id.to_string())
            .filter(|old| old != id)
    }

    pub(crate) fn remove(&mut self, name_tag: &str) -> Option<String> {
        self.tags.remove(name_tag)
    }

    /// Every `name:tag` of image `id`, sorted.
    pub(crate) fn names_of(&self, id: &str) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }
}
