//! Looking at directory trees from the host: listings and snapshots to compare.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Names in `dir`, sorted; empty when it does not exist.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// Every path under `dir` (not following symlinks) with its type, mode, owner, size,
/// mtime, link target and a hash of its content: equal snapshots mean an unchanged tree.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(top: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let mut desc = format!(
            "mode={:o} uid={} gid={} size={} mtime={}.{}",
            meta.mode(),
            meta.uid(),
            meta.gid(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec()
        );
        if meta.file_type().is_symlink() {
            desc += &format!(
                " -> {}",
                fs::read_link(&path)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            );
        } else if meta.is_file() {
            let mut h = DefaultHasher::new();
            fs::read(&path).unwrap_or_default().hash(&mut h);
            desc += &format!(" content={:016x}", h.finish());
        }
        out.insert(path.strip_prefix(top).unwrap().to_path_buf(), desc);
        if meta.is_dir() {
            walk(top, &path, out);
        }
    }
}

/// Paths under `dir` (not following symlinks) whose file name is `name`.
pub fn find_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            found.push(path.clone());
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(find_named(&path, name));
        }
    }
    found
}

/// A readable difference between two snapshots.
pub fn diff(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, desc) in before {
        match after.get(path) {
            None => out.push(format!("removed {}", path.display())),
            Some(now) if now != desc => {
                out.push(format!("changed {}: {desc} => {now}", path.display()))
            }
            _ => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        out.push(format!("added {}", path.display()));
    }
    out
}
