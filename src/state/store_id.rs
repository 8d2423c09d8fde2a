//! A store's own id: 16 random hex digits in `<root>/store-id`, made by the first `run` in
//! the store, and carried by every container id the store makes, as its last 16 digits.
//!
//! Several stores (mdrun roots, one per MDRUN_CONFIG) may share a cgroup parent (the
//! default one is mdrun's own cgroup) and a slice. A container's cgroup is named after its
//! full id (`mdrun-<id>`, under the parent or inside its scope), so the name alone says which
//! store made it, on cgroup v1 (no xattrs to mark it with) as on v2, with nothing to look
//! up: a cleanup that finds a cgroup with no record (`prune`) removes it only when its id
//! ends in its own store's id. The first 48 digits stay random: the short id (12 digits),
//! the scope's name `md-<short id>.scope` and generated names come from them.
//!
//! Containers made before stores had ids have fully random ids: their records name their
//! cgroups, and only a record-less one of them cannot be told from another store's.

use super::{io, is_full_id, StateError};
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// The file in the store's root.
pub const FILE: &str = "store-id";
/// Hex digits of a store id; the rest of a container id (48 digits) is random.
const LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreId(String);

impl StoreId {
    /// The id of the store at `root`; None when it has none yet (no `run` made one) or its
    /// file is damaged: then no container id is known to be this store's.
    pub fn read(root: &Path) -> Option<StoreId> {
        parse(&fs::read_to_string(root.join(FILE)).ok()?)
    }

    /// The id of the store at `root`, made now if it has none: one small read per `run`.
    pub fn get_or_create(root: &Path) -> Result<StoreId, StateError> {
        let path = root.join(FILE);
        match fs::read_to_string(&path) {
            Ok(text) => parse(&text).ok_or(StateError::BadStoreId { path }),
            Err(e) if e.kind() == ErrorKind::NotFound => create(root),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// A new container id of this store: 48 random hex digits, then the store's 16.
    pub fn container_id(&self) -> String {
        let random = crate::ids::new_id();
        format!("{}{}", &random[..random.len() - LEN], self.0)
    }

    /// Was the container id `id` made by this store?
    pub fn made(&self, id: &str) -> bool {
        is_full_id(id) && id.ends_with(&self.0)
    }
}

fn parse(text: &str) -> Option<StoreId> {
    let id = text.trim_end_matches('\n');
    let hex = id.len() == LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex.then(|| StoreId(id.to_string()))
}

/// Write a new id under a temporary name, synced, then link it into place: of two first
/// `run`s at the same moment one links and the other reads its id; no reader ever sees a
/// file half-written, nor (after a crash) an empty one.
fn create(root: &Path) -> Result<StoreId, StateError> {
    crate::private_dirs::create(root).map_err(io("mkdir", root))?;
    let path = root.join(FILE);
    let id = StoreId(crate::ids::new_id()[..LEN].to_string());
    let tmp = root.join(format!(".{FILE}.tmp-{}", &crate::ids::new_id()[..12]));
    let written = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{}\n", id.0).as_bytes())?;
            f.sync_all()
        })
        .map_err(io("write", &tmp))
        .and_then(|()| match fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(Some(id)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(io("link", &path)(e)),
        });
    let _ = fs::remove_file(&tmp);
    match written? {
        Some(id) => Ok(id),
        // Another `run` made it first: theirs is the store's.
        None => {
            let text = fs::read_to_string(&path).map_err(io("read", &path))?;
            parse(&text).ok_or(StateError::BadStoreId { path })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_read_and_carried_by_container_ids() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        assert_eq!(StoreId::read(&root), None);
        let made = StoreId::get_or_create(&root).unwrap();
        assert_eq!(StoreId::read(&root), Some(made.clone()));
        assert_eq!(StoreId::get_or_create(&root).unwrap(), made);
        let names: Vec<_> = fs::read_dir(&root).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

        let (a, b) = (made.container_id(), made.container_id());
        assert!(is_full_id(&a) && a != b && a[..48] != b[..48]);
        assert!(made.made(&a) && made.made(&b));
        let other = StoreId::get_or_create(&dir.path().join("other")).unwrap();
        assert_ne!(other, made);
        assert!(!made.made(&other.container_id()));
        assert!(!made.made(&"0".repeat(64)));
        assert!(!made.made(&a[48..]), "a full id only");
    }

    #[test]
    fn a_damaged_file_is_an_error_for_run_and_no_id_for_cleanups() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE), "not an id\n").unwrap();
        assert_eq!(StoreId::read(dir.path()), None);
        let e = StoreId::get_or_create(dir.path()).unwrap_err().to_string();
        assert!(e.contains(FILE) && e.contains("16 hex digits"), "{e}");
    }

    #[test]
    fn a_concurrent_first_run_takes_the_id_already_there() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE), "0123456789abcdef\n").unwrap();
        let id = create(dir.path()).unwrap();
        assert!(id.made(&format!("{}0123456789abcdef", "f".repeat(48))));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
