//! A layer imported from a tarball is written again (`save`, `push`) as the very bytes it
//! came as, from its tar-split: the digest is the layer's id.

use super::{gzip, Env, Tar};
use std::io::Read;
use tar::EntryType;

/// Everything a layer tarball may hold that `layer_tar` would write otherwise: PAX
/// records, GNU long names, hard links, odd modes and times, the entries' own order,
/// and a record's worth of zeros after the end-of-archive blocks (GNU tar's padding).
fn unusual_tar() -> Vec<u8> {
    let mut tar = Tar::new();
    tar.dir("zdir/", 0o711, 12345)
        .file_with("zdir/b", b"second, listed first", 0o4755, 7, 8, 99)
        .pax(&[
            ("SCHILY.xattr.user.note", b"kept".as_slice()),
            ("mtime", b"1.5"),
        ])
        .file("a", &vec![b'x'; 70_000])
        .hardlink("zdir/link-to-a", "a")
        .symlink("s", "/nowhere")
        .node(EntryType::Fifo, "fifo", 0, 0)
        .file(".wh.literal", b"");
    let mut bytes = tar.bytes();
    let long = format!("{}/file", "d".repeat(150));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o600);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
    let long_entry = b.into_inner().unwrap();
    // Before the end blocks of the first archive: one archive, then 10 KiB of zeros.
    bytes.truncate(bytes.len() - 1024);
    bytes.extend_from_slice(&long_entry);
    bytes.resize(bytes.len().div_ceil(10240) * 10240 + 10240, 0);
    bytes
}

#[test]
fn an_imported_layer_is_written_again_byte_for_byte() {
    let env = Env::new();
    let tar = unusual_tar();
    let imported = env.import(gzip(&tar), "odd").unwrap();
    let layer = &imported.image.layers[0];
    assert_eq!(*layer, super::sha256_hex(&tar));
    let dir = env.dir.path().join("blobs");
    std::fs::create_dir(&dir).unwrap();

    let plain = env.store.layer_blob(layer, &dir, 0, false).unwrap();
    assert_eq!(plain.digest, format!("sha256:{layer}"));
    assert_eq!(plain.diff_id, plain.digest);
    assert_eq!(std::fs::read(&plain.path).unwrap(), tar);

    let gz = env.store.layer_blob(layer, &dir, 1, true).unwrap();
    assert_eq!(gz.diff_id, format!("sha256:{layer}"));
    let compressed = std::fs::read(&gz.path).unwrap();
    assert_eq!(
        gz.digest,
        format!("sha256:{}", super::sha256_hex(&compressed))
    );
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, tar);
}

#[test]
fn a_tar_split_that_no_longer_fits_falls_back_to_a_fresh_tarball() {
    let env = Env::new();
    // The same path twice: the layer keeps the second file, whose content then stands
    // for both, so the tar-split cannot give the original bytes.
    let tar = Tar::new().file("f", b"first").file("f", b"2nd!!").bytes();
    let imported = env.import(tar.clone(), "twice").unwrap();
    let layer = &imported.image.layers[0];
    let dir = env.dir.path().join("blobs");
    std::fs::create_dir(&dir).unwrap();
    let blob = env.store.layer_blob(layer, &dir, 0, false).unwrap();
    assert_ne!(blob.digest, format!("sha256:{layer}"));
    let mut archive = tar::Archive::new(std::fs::File::open(&blob.path).unwrap());
    let mut content = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("f") {
            entry.read_to_string(&mut content).unwrap();
        }
    }
    assert_eq!(content, "2nd!!");
}

#[test]
fn tar_splits_go_with_their_layers_and_orphans_are_swept() {
    let env = Env::new();
    let imported = env
        .import(Tar::new().file("f", b"x").bytes(), "one")
        .unwrap();
    let layer = imported.image.layers[0].clone();
    let splits = env.store.tar_split_dir();
    assert!(splits.join(&layer).is_file());
    // What a publish killed before moving its layer, or while writing, leaves.
    let orphan = splits.join("a".repeat(64));
    let half = splits.join(".x.tmp-123");
    std::fs::write(&orphan, b"x").unwrap();
    std::fs::write(&half, b"x").unwrap();
    env.store.sweep_unused_layers().unwrap();
    assert!(!orphan.exists() && !half.exists());
    assert!(
        splits.join(&layer).is_file(),
        "a used layer keeps its tar-split"
    );
    env.store.remove("one").unwrap();
    assert_eq!(
        super::entries(&splits),
        Vec::<String>::new(),
        "rmi removes it"
    );
}
