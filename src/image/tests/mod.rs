//! Tests of the image store: small tarballs built in the test, a store in a temp dir.
//! They run as root (ownership, device nodes), like the rest of the suite.

mod escape;
mod import;
mod store;
mod tar_split;

use super::{ImageError, Imported, Store};
use crate::paths::Paths;
use std::io::Write;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// A store in a fresh temp dir, with `outside/victim` beside it to prove escapes fail.
pub(crate) struct Env {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

pub(super) const VICTIM: &[u8] = b"original content";

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("store");
        let store = Store::new(Paths::new(&root, dir.path().join("run")));
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/victim"), VICTIM).unwrap();
        Env { dir, store }
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    pub fn import(&self, bytes: Vec<u8>, reference: &str) -> Result<Imported, ImageError> {
        self.store
            .import(Box::new(std::io::Cursor::new(bytes)), reference)
    }

    pub fn layer(&self, imported: &Imported) -> PathBuf {
        self.store.lower_dirs(&imported.image)[0].clone()
    }

    /// Nothing outside the layer changed: the victim is intact and alone.
    pub fn assert_outside_untouched(&self) {
        assert_eq!(
            std::fs::read(self.outside().join("victim")).unwrap(),
            VICTIM
        );
        let names: Vec<_> = std::fs::read_dir(self.outside())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["victim"], "something was written beside the victim");
    }

    /// A failed import left nothing: no scratch dir, no layer, no image, no tag.
    pub fn assert_nothing_imported(&self) {
        let paths = &self.store.paths;
        assert_eq!(entries(&paths.tmp()), Vec::<String>::new(), "left in tmp/");
        assert_eq!(
            entries(&paths.layers()),
            Vec::<String>::new(),
            "left in layers/"
        );
        let images: Vec<String> = entries(&paths.images())
            .into_iter()
            .filter(|n| n != ".lock")
            .collect();
        assert!(
            images.is_empty() || images == ["tags.json"],
            "left in images/: {images:?}"
        );
        assert!(
            self.store.image_ids().unwrap().is_empty(),
            "an image was left"
        );
    }
}

pub(super) fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Builds tarballs entry by entry, including ones the tar crate's own `Builder` refuses
/// to write (paths with `..`), by filling the header's name bytes directly.
pub(crate) struct Tar {
    b: tar::Builder<Vec<u8>>,
}

impl Tar {
    pub fn new() -> Tar {
        Tar {
            b: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: EntryType, path: &str, mode: u32, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(1_600_000_000);
        h.set_uid(0);
        h.set_gid(0);
        let name = &mut h.as_old_mut().name;
        assert!(path.len() < name.len(), "test paths are short");
        name[..path.len()].copy_from_slice(path.as_bytes());
        h
    }

    fn link_name(h: &mut Header, target: &str) {
        let link = &mut h.as_old_mut().linkname;
        link[..target.len()].copy_from_slice(target.as_bytes());
    }

    fn append(&mut self, mut h: Header, data: &[u8]) -> &mut Tar {
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Tar {
        self.append(
            Self::header(EntryType::Regular, path, 0o644, data.len() as u64),
            data,
        )
    }

    /// A file with owner, mode and mtime of its own.
    pub fn file_with(
        &mut self,
        path: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
        mtime: u64,
    ) -> &mut Tar {
        let mut h = Self::header(EntryType::Regular, path, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(mtime);
        self.append(h, data)
    }

    pub fn dir(&mut self, path: &str, mode: u32, mtime: u64) -> &mut Tar {
        let mut h = Self::header(EntryType::Directory, path, mode, 0);
        h.set_mtime(mtime);
        self.append(h, &[])
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Tar {
        let mut h = Self::header(EntryType::Symlink, path, 0o777, 0);
        Self::link_name(&mut h, target);
        self.append(h, &[])
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Tar {
        let mut h = Self::header(EntryType::Link, path, 0o644, 0);
        Self::link_name(&mut h, target);
        self.append(h, &[])
    }

    pub fn node(&mut self, kind: EntryType, path: &str, major: u32, minor: u32) -> &mut Tar {
        let mut h = Self::header(kind, path, 0o666, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.append(h, &[])
    }

    /// PAX records for the next entry (xattrs, nanosecond mtimes).
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Tar {
        self.b
            .append_pax_extensions(records.iter().map(|(k, v)| (*k, *v)))
            .unwrap();
        self
    }

    /// The finished archive, with its end-of-archive blocks.
    pub fn bytes(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Compressed with the `zstd` command (what users have), with a checksum.
pub(super) fn zstd(data: &[u8]) -> Vec<u8> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("zstd")
        .args(["-q", "-c", "--check"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the zstd command is installed");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

pub(super) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
