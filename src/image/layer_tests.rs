//! Stacked layers: the write layer -> tarball -> layer conversion of `commit`, `save` and
//! `load` round trips, and archives `load` must refuse without leaving anything behind.
//! Run as root (device nodes, `trusted.*` xattrs), like the rest of the suite.

use super::layer_tar::write_tree;
use super::tests::{Env, Tar};
use super::whiteout::OPAQUE_XATTR;
use super::{ImageError, Store};
use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// A container's write layer as overlayfs leaves it: a new file, a whiteout, an opaque
/// directory, a hard link pair, and overlayfs' bookkeeping xattrs.
fn overlay_upper(dir: &Path) {
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::write(dir.join("added"), b"new file").unwrap();
    fs::write(dir.join("etc/only"), b"replaced dir").unwrap();
    fs::hard_link(dir.join("added"), dir.join("bin/again")).unwrap();
    nix::sys::stat::mknod(
        &dir.join("bin/ls"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .unwrap();
    xattr::set(dir.join("etc"), OPAQUE_XATTR, b"y").unwrap();
    xattr::set(dir.join("bin"), "trusted.overlay.impure", b"y").unwrap();
    xattr::set(dir.join("added"), "user.kept", b"1").unwrap();
}

/// Entry name -> (type flag, PAX xattr keys), of a tarball.
fn listing(bytes: &[u8]) -> BTreeMap<String, (u8, Vec<String>)> {
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type().as_byte();
        let mut keys = Vec::new();
        if let Some(records) = entry.pax_extensions().unwrap() {
            for r in records {
                keys.push(r.unwrap().key().unwrap().to_string());
            }
        }
        out.insert(name, (kind, keys));
    }
    out
}

#[test]
fn overlay_whiteouts_become_oci_files_and_come_back() {
    let env = Env::new();
    let upper = env.dir.path().join("upper");
    overlay_upper(&upper);
    let (bytes, written) = write_tree(&upper, Vec::new(), true).unwrap();
    let entries = listing(&bytes);
    assert_eq!(entries["bin/.wh.ls"].0, b'0', "{entries:?}");
    assert!(!entries.contains_key("bin/ls"), "{entries:?}");
    assert_eq!(entries["etc/.wh..wh..opq"].0, b'0', "{entries:?}");
    assert_eq!(
        entries["bin/again"].0, b'1',
        "the second link is a hard link"
    );
    assert_eq!(entries["added"].1, ["SCHILY.xattr.user.kept"]);
    let all_keys: Vec<&String> = entries.values().flat_map(|(_, k)| k).collect();
    assert!(
        all_keys.iter().all(|k| !k.contains("trusted.overlay")),
        "overlayfs' xattrs leaked: {all_keys:?}"
    );
    // "new file" and "replaced dir": the hard-linked copy of the first counts once.
    assert_eq!(written.bytes, 8 + 12);

    // And back: the layer `commit` makes is in overlayfs form again.
    let layer = env.store.layer_from_tree(&upper, "test").unwrap();
    let dir = layer.dir.path();
    let ls = fs::symlink_metadata(dir.join("bin/ls")).unwrap();
    assert!(ls.file_type().is_char_device() && ls.rdev() == 0);
    assert!(!dir.join("bin/.wh.ls").exists());
    assert!(!dir.join("etc/.wh..wh..opq").exists());
    assert_eq!(
        xattr::get(dir.join("etc"), OPAQUE_XATTR)
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(xattr::get(dir.join("bin"), OPAQUE_XATTR).unwrap(), None);
    assert_eq!(
        fs::metadata(dir.join("added")).unwrap().ino(),
        fs::metadata(dir.join("bin/again")).unwrap().ino()
    );
    // The layer id is the digest of the stream, and writing the layer again (as `save`
    // does) gives the same stream: the id is the blob's digest in a saved archive.
    assert_eq!(layer.id, super::tests::sha256_hex(&bytes));
    let (again, _) = write_tree(dir, Vec::new(), true).unwrap();
    assert_eq!(super::tests::sha256_hex(&again), layer.id);
}

fn parent(env: &Env) -> super::Image {
    let base = Tar::new()
        .dir("./", 0o755, 1)
        .dir("bin/", 0o755, 1)
        .file("bin/ls", b"ls")
        .dir("etc/", 0o755, 1)
        .file("etc/passwd", b"root")
        .bytes();
    env.import(base, "base:1").unwrap().image
}

#[test]
fn commit_adds_one_layer_and_keeps_the_parent_config() {
    let env = Env::new();
    let base = parent(&env);
    let upper = env.dir.path().join("upper");
    overlay_upper(&upper);
    let committed = env.store.commit(&base, &upper, "snap:v1").unwrap();
    let image = &committed.image;
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.layers[0], base.layers[0]);
    assert_eq!(image.config, base.config);
    assert_eq!(image.names, ["snap:v1"]);
    assert_eq!(env.store.resolve("snap:v1").unwrap().id, image.id);
    assert!(env
        .store
        .layer_dir(&image.layers[1])
        .join("added")
        .is_file());
    // Same changes again: same layer, same image.
    let again = env.store.commit(&base, &upper, "snap:v2").unwrap();
    assert!(again.layer_reused);
    assert_eq!(again.image.id, image.id);
    assert_eq!(
        super::tests::entries(&env.store.paths.tmp()),
        Vec::<String>::new()
    );
}

#[test]
fn commit_to_an_invalid_name_makes_nothing() {
    let env = Env::new();
    let base = parent(&env);
    let upper = env.dir.path().join("upper");
    overlay_upper(&upper);
    for bad in ["UPPER", "a b", "..", ""] {
        let err = env.store.commit(&base, &upper, bad).unwrap_err();
        assert!(
            matches!(err, ImageError::InvalidReference { .. }),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        env.store.image_ids().unwrap(),
        std::slice::from_ref(&base.id)
    );
    assert_eq!(super::tests::entries(&env.store.paths.layers()).len(), 1);
    assert_eq!(
        super::tests::entries(&env.store.paths.tmp()),
        Vec::<String>::new()
    );
}

fn saved(store: &Store, names: &[&str]) -> Vec<u8> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut out = Vec::new();
    store.save(&names, &mut out).unwrap();
    out
}

#[test]
fn save_then_load_gives_the_same_files_names_and_config() {
    let env = Env::new();
    let base = parent(&env);
    let upper = env.dir.path().join("upper");
    overlay_upper(&upper);
    let committed = env.store.commit(&base, &upper, "snap:v1").unwrap().image;
    let archive = saved(&env.store, &["snap:v1"]);
    let names = listing(&archive);
    for doc in ["oci-layout", "index.json", "manifest.json"] {
        assert!(names.contains_key(doc), "{doc} missing: {names:?}");
    }

    let other = Env::new();
    let loaded = other
        .store
        .load_archive(Box::new(Cursor::new(archive)))
        .unwrap();
    assert_eq!(loaded.len(), 1);
    let image = &loaded[0].image;
    assert_eq!(loaded[0].names, ["snap:v1"]);
    assert_eq!(image.config, committed.config);
    assert_eq!(image.created, committed.created);
    assert_eq!(image.layers.len(), 2);
    // The committed layer's id is its blob's digest, so it is the same layer here.
    assert_eq!(image.layers[1], committed.layers[1]);
    let top = other.store.layer_dir(&image.layers[1]);
    assert!(fs::symlink_metadata(top.join("bin/ls"))
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(
        xattr::get(top.join("etc"), OPAQUE_XATTR)
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    let bottom = other.store.layer_dir(&image.layers[0]);
    assert_eq!(fs::read(bottom.join("etc/passwd")).unwrap(), b"root");
    assert_eq!(
        super::tests::entries(&other.store.paths.tmp()),
        Vec::<String>::new()
    );
}

/// Rewrites one archive member; returns the new archive.
fn tamper(archive: &[u8], member: impl Fn(&str) -> bool, new: &[u8]) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    let mut input = tar::Archive::new(Cursor::new(archive));
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if member(&name) {
            data = new.to_vec();
        }
        header.set_size(data.len() as u64);
        header.set_cksum();
        out.append(&header, &data[..]).unwrap();
    }
    out.into_inner().unwrap()
}

#[track_caller]
fn refused(archive: Vec<u8>) -> ImageError {
    let env = Env::new();
    let err = env
        .store
        .load_archive(Box::new(Cursor::new(archive)))
        .unwrap_err();
    env.assert_nothing_imported();
    err
}

#[test]
fn corrupt_truncated_or_escaping_archives_are_refused_and_leave_nothing() {
    let env = Env::new();
    parent(&env);
    let good = saved(&env.store, &["base:1"]);

    let truncated = good[..good.len() / 2].to_vec();
    assert!(matches!(
        refused(truncated),
        ImageError::Truncated | ImageError::TruncatedEntry { .. }
    ));

    // A layer blob whose content is not what its name says.
    let layer = |n: &str| n.starts_with("blobs/") && !n.ends_with("json");
    let big_blob = listing(&good).keys().find(|n| layer(n)).cloned().unwrap();
    let bad = tamper(&good, |n| n == big_blob, b"not a tarball");
    assert!(matches!(
        refused(bad),
        ImageError::DigestMismatch { .. } | ImageError::ArchiveFile { .. }
    ));

    let err = refused(tamper(&good, |n| n == "index.json", b"{not json"));
    assert!(matches!(err, ImageError::Json { .. }), "{err}");

    let docker_escape = br#"[{"Config":"../../outside/victim","RepoTags":["x:1"],"Layers":[]}]"#;
    let no_index = tamper(&good, |n| n == "manifest.json", docker_escape);
    let no_index = tamper(&no_index, |n| n == "index.json", b"");
    let err = refused(rename(&no_index, "index.json", "other.json"));
    assert!(matches!(err, ImageError::ArchiveFile { .. }), "{err}");

    let neither = rename(&rename(&good, "index.json", "a"), "manifest.json", "b");
    assert!(matches!(
        refused(neither),
        ImageError::InvalidArchive { .. }
    ));
}

/// The archive with member `from` renamed `to`.
fn rename(archive: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    let mut input = tar::Archive::new(Cursor::new(archive));
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        let name = if name == from { to.to_string() } else { name };
        out.append_data(&mut header, &name, &data[..]).unwrap();
    }
    out.into_inner().unwrap()
}

#[test]
fn a_blob_that_is_a_symlink_out_of_the_archive_is_not_read() {
    let digest = "ab".repeat(32);
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{digest}","size":1}}]}}"#
    );
    for target in ["/etc/passwd", "../../../../../../etc/passwd"] {
        let archive = Tar::new()
            .file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
            .file("index.json", index.as_bytes())
            .dir("blobs/", 0o755, 1)
            .dir("blobs/sha256/", 0o755, 1)
            .symlink(&format!("blobs/sha256/{digest}"), target)
            .bytes();
        let err = refused(archive);
        assert!(
            matches!(
                err,
                ImageError::ArchiveFile {
                    reason: "a symlink",
                    ..
                }
            ),
            "{target}: {err}"
        );
    }
}

/// The digest a stopped container's commit takes of its write layer (hashed in chunks, file
/// content read straight into them) is the id a copied layer gets and the sha256 of the
/// stream `save` writes: for overlayfs' forms, a file larger than a chunk, one that ends on
/// a chunk boundary, an empty one and a long name.
#[test]
fn the_digest_of_a_tree_is_the_id_of_its_copied_layer() {
    use sha2::Digest;
    let env = Env::new();
    let upper = env.dir.path().join("upper");
    overlay_upper(&upper);
    let big: Vec<u8> = (0..(3 << 20) + 777).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(upper.join("big"), &big).unwrap();
    fs::write(upper.join("exact"), vec![5u8; 1 << 20]).unwrap();
    fs::write(upper.join("empty"), b"").unwrap();
    let long = "n".repeat(120);
    fs::write(upper.join(&long), b"long name").unwrap();
    let digest = env.store.digest_tree(&upper).unwrap();
    let (bytes, written) = write_tree(&upper, Vec::new(), true).unwrap();
    let want: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest.id, want);
    assert_eq!(digest.bytes, written.bytes);
    let copied = env.store.layer_from_tree(&upper, "test").unwrap();
    assert_eq!(copied.id, digest.id);
    assert!(
        listing(&bytes).contains_key(&long),
        "the long name is there"
    );
}
