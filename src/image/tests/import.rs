//! Importing: formats, metadata kept, dedup, tags, and failures that leave nothing behind.

use super::{gzip, sha256_hex, zstd, Env, Tar};
use crate::image::ImageError;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use tar::EntryType;

/// A small root filesystem with one of everything.
fn rootfs() -> Vec<u8> {
    Tar::new()
        .dir("./", 0o755, 1_400_000_000)
        .dir("bin/", 0o755, 1_500_000_000)
        .file_with(
            "bin/busybox",
            b"#!/bin/sh\necho hi\n",
            0o4755,
            0,
            0,
            1_600_000_000,
        )
        .symlink("bin/sh", "busybox")
        .hardlink("bin/ls", "bin/busybox")
        .dir("etc/", 0o750, 1_500_000_001)
        .file_with("etc/owned", b"x", 0o640, 1234, 5678, 1_600_000_001)
        .dir("tmp/", 0o1777, 1_500_000_002)
        .dir("dev/", 0o755, 1_500_000_003)
        .node(EntryType::Char, "dev/null", 1, 3)
        .node(EntryType::Fifo, "dev/fifo", 0, 0)
        .pax(&[
            ("SCHILY.xattr.user.mdrun", b"yes"),
            ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
            ("mtime", b"1600000002.25"),
        ])
        .file("etc/attrs", b"with xattr")
        .bytes()
}

#[test]
fn plain_tar_keeps_modes_owners_times_links_nodes_and_xattrs() {
    let env = Env::new();
    let imported = env.import(rootfs(), "busybox").unwrap();
    let layer = env.layer(&imported);

    let busybox = fs::metadata(layer.join("bin/busybox")).unwrap();
    assert_eq!(busybox.mode() & 0o7777, 0o4755, "setuid survives the chown");
    assert_eq!(busybox.mtime(), 1_600_000_000);
    assert_eq!(
        fs::read(layer.join("bin/busybox")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    assert_eq!(
        fs::read_link(layer.join("bin/sh")).unwrap().to_str(),
        Some("busybox")
    );
    assert_eq!(
        fs::symlink_metadata(layer.join("bin/sh")).unwrap().mtime(),
        1_600_000_000
    );
    assert_eq!(
        fs::metadata(layer.join("bin/ls")).unwrap().ino(),
        busybox.ino(),
        "hard link"
    );

    let owned = fs::metadata(layer.join("etc/owned")).unwrap();
    assert_eq!(
        (owned.uid(), owned.gid(), owned.mode() & 0o7777),
        (1234, 5678, 0o640)
    );

    // Directory times survive the files created in them afterwards.
    assert_eq!(
        fs::metadata(layer.join("bin")).unwrap().mtime(),
        1_500_000_000
    );
    let etc = fs::metadata(layer.join("etc")).unwrap();
    assert_eq!((etc.mtime(), etc.mode() & 0o7777), (1_500_000_001, 0o750));
    assert_eq!(
        fs::metadata(layer.join("tmp")).unwrap().mode() & 0o7777,
        0o1777
    );
    assert_eq!(
        fs::metadata(&layer).unwrap().mtime(),
        1_400_000_000,
        "./ applies to the root"
    );

    let null = fs::metadata(layer.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
    assert!(fs::metadata(layer.join("dev/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());

    let attrs = fs::metadata(layer.join("etc/attrs")).unwrap();
    assert_eq!(
        (attrs.mtime(), attrs.mtime_nsec()),
        (1_600_000_002, 250_000_000)
    );
    assert_eq!(
        xattr::get(layer.join("etc/attrs"), "user.mdrun")
            .unwrap()
            .as_deref(),
        Some(&b"yes"[..])
    );
    let planted = xattr::get(layer.join("etc/attrs"), "trusted.overlay.opaque").unwrap();
    assert_eq!(
        planted, None,
        "overlayfs markers are not taken from archives"
    );

    // Regular file bytes, the hard link counted once.
    assert_eq!(imported.image.size, 18 + 1 + 10);
    assert_eq!(imported.image.names, ["busybox:latest"]);
    assert_eq!(imported.image.config.cmd, ["sh"]);
    assert!(imported.image.config.env[0].starts_with("PATH=/usr/local/sbin:"));
    assert_eq!(super::entries(&env.store.paths.tmp()), Vec::<String>::new());
}

#[test]
fn layer_id_is_the_sha256_of_the_uncompressed_stream_whatever_the_compression() {
    let tar = rootfs();
    let want = sha256_hex(&tar);
    for (i, bytes) in [tar.clone(), gzip(&tar), zstd(&tar)]
        .into_iter()
        .enumerate()
    {
        let env = Env::new();
        let imported = env.import(bytes, "x").unwrap();
        assert_eq!(
            imported.image.layers,
            std::slice::from_ref(&want),
            "input #{i}"
        );
        assert_eq!(
            fs::read(env.layer(&imported).join("etc/attrs")).unwrap(),
            b"with xattr"
        );
    }
}

#[test]
fn concatenated_gzip_members_and_zstd_frames_are_one_stream() {
    let tar = rootfs();
    let (a, b) = tar.split_at(1000);
    for bytes in [[gzip(a), gzip(b)].concat(), [zstd(a), zstd(b)].concat()] {
        let env = Env::new();
        let imported = env.import(bytes, "x").unwrap();
        assert_eq!(imported.image.layers, [sha256_hex(&tar)]);
    }
}

#[test]
fn same_content_twice_reuses_the_layer_and_the_image() {
    let env = Env::new();
    let first = env.import(rootfs(), "a").unwrap();
    let second = env.import(gzip(&rootfs()), "b:v1").unwrap();
    assert!(!first.layer_reused && second.layer_reused);
    assert_eq!(first.image.id, second.image.id);
    assert_eq!(second.image.names, ["a:latest", "b:v1"]);
    assert_eq!(super::entries(&env.store.paths.layers()).len(), 1);
    assert_eq!(super::entries(&env.store.paths.tmp()), Vec::<String>::new());
}

#[test]
fn importing_under_a_taken_tag_moves_it_and_the_old_image_stays_unnamed() {
    let env = Env::new();
    let old = env
        .import(Tar::new().file("a", b"1").bytes(), "app:1")
        .unwrap();
    let new = env
        .import(Tar::new().file("a", b"2").bytes(), "app:1")
        .unwrap();
    assert_ne!(old.image.id, new.image.id);
    assert_eq!(new.previous.as_deref(), Some(old.image.id.as_str()));
    assert_eq!(env.store.resolve("app:1").unwrap().id, new.image.id);
    let kept = env.store.resolve(&old.image.id).unwrap();
    assert!(kept.names.is_empty(), "the old image is listed as <none>");
    assert_eq!(env.store.list().unwrap().len(), 2);
}

#[test]
fn truncated_archives_fail_and_leave_nothing() {
    let tar = Tar::new().file("a", &[7u8; 3000]).file("b", b"bb").bytes();
    // Inside a header, inside file data, exactly between entries (no end marker), empty.
    for cut in [100, 1500, 512 + 3072, 0] {
        let env = Env::new();
        let err = env.import(tar[..cut].to_vec(), "x").unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::Truncated | ImageError::TruncatedEntry { .. } | ImageError::Archive(_)
            ),
            "cut at {cut}: {err}"
        );
        env.assert_nothing_imported();
    }
    let gz = gzip(&tar);
    let zst = zstd(&tar);
    for bytes in [
        gz[..gz.len() / 2].to_vec(),
        zst[..zst.len() / 2].to_vec(),
        gz[..gz.len() - 4].to_vec(),
    ] {
        let env = Env::new();
        assert!(env.import(bytes, "x").is_err());
        env.assert_nothing_imported();
    }
}

#[test]
fn corrupt_archives_fail_and_leave_nothing() {
    let tar = Tar::new().file("a", &[7u8; 3000]).file("b", b"bb").bytes();
    let mut bad_header = tar.clone();
    bad_header[512 + 3072 + 10] ^= 0xff; // the name of "b": its header checksum no longer adds up
    let mut bad_gzip = gzip(&tar);
    let n = bad_gzip.len();
    bad_gzip[n - 6] ^= 0xff; // the CRC32 in the trailer
    let mut bad_zstd = zstd(&tar);
    let n = bad_zstd.len();
    bad_zstd[n - 2] ^= 0xff; // the content checksum
    for (what, bytes) in [
        ("tar header", bad_header),
        ("gzip crc", bad_gzip),
        ("zstd checksum", bad_zstd),
    ] {
        let env = Env::new();
        let err = env.import(bytes, "x").unwrap_err();
        assert!(matches!(err, ImageError::Archive(_)), "{what}: {err}");
        env.assert_nothing_imported();
    }
}

#[test]
fn xz_and_bzip2_are_refused_by_magic() {
    let env = Env::new();
    let xz = b"\xfd7zXZ\x00rest".to_vec();
    assert!(matches!(
        env.import(xz, "x"),
        Err(ImageError::UnsupportedCompression("xz"))
    ));
    let bz = b"BZh91AY&SY".to_vec();
    assert!(matches!(
        env.import(bz, "x"),
        Err(ImageError::UnsupportedCompression("bzip2"))
    ));
    env.assert_nothing_imported();
}

#[test]
fn an_invalid_name_is_refused_before_any_work() {
    let env = Env::new();
    assert!(matches!(
        env.import(rootfs(), "Bad Name"),
        Err(ImageError::InvalidReference { .. })
    ));
    env.assert_nothing_imported();
}

#[test]
fn a_later_entry_replaces_an_earlier_one_without_following_it() {
    let env = Env::new();
    let victim = env.outside().join("victim");
    let tar = Tar::new()
        .symlink("f", victim.to_str().unwrap())
        .file("f", b"replaced")
        .file("g", b"one")
        .dir("g/", 0o755, 1)
        .bytes();
    let imported = env.import(tar, "x").unwrap();
    let layer = env.layer(&imported);
    assert_eq!(fs::read(layer.join("f")).unwrap(), b"replaced");
    assert!(fs::metadata(layer.join("g")).unwrap().is_dir());
    env.assert_outside_untouched();
}

#[test]
fn a_big_file_streams_through_intact() {
    // Several chunks of the reader thread, and not a multiple of any buffer size.
    let data: Vec<u8> = (0..5_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let env = Env::new();
    let imported = env
        .import(zstd(&Tar::new().file("big", &data).bytes()), "x")
        .unwrap();
    assert_eq!(fs::read(env.layer(&imported).join("big")).unwrap(), data);
    assert_eq!(imported.image.size, data.len() as u64);
}

/// Hands out a big archive and checks, at every read, that the unpacked file keeps up:
/// an import that read the whole archive before writing would fail here. (That the reader
/// thread stays a bounded distance ahead is tested in `stream`.)
struct WatchingSource {
    data: std::io::Cursor<Vec<u8>>,
    tmp: std::path::PathBuf,
    checks: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// At most 4 chunks queued, one being filled, one being read, 256 KiB being written.
const MAX_AHEAD: u64 = 7 << 20;

impl std::io::Read for WatchingSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.data.position();
        let written = super::entries(&self.tmp)
            .iter()
            .filter_map(|dir| fs::metadata(self.tmp.join(dir).join("big")).ok())
            .map(|m| m.len())
            .sum::<u64>();
        assert!(
            read <= written + 1024 + MAX_AHEAD,
            "read {read} bytes, only {written} written"
        );
        self.checks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let n = buf.len().min(64 << 10);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn import_streams_instead_of_buffering_the_archive() {
    let env = Env::new();
    let tar = Tar::new().file("big", &vec![0u8; 16 << 20]).bytes();
    let checks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = WatchingSource {
        data: std::io::Cursor::new(tar),
        tmp: env.store.paths.tmp(),
        checks: checks.clone(),
    };
    env.store.import(Box::new(source), "big").unwrap();
    assert!(
        checks.load(std::sync::atomic::Ordering::SeqCst) > 200,
        "the source was watched"
    );
}

#[test]
fn leftovers_of_a_killed_import_are_swept_but_a_running_one_is_not() {
    let env = Env::new();
    let tmp = env.store.paths.tmp();
    fs::create_dir_all(tmp.join("import-dead/usr/bin")).unwrap();
    fs::write(tmp.join("import-dead/usr/bin/sh"), b"x").unwrap();
    let running = crate::image::files::TmpDir::create(&tmp, "import").unwrap();
    fs::create_dir_all(tmp.join("other")).unwrap();

    env.import(Tar::new().file("a", b"1").bytes(), "x").unwrap();
    let mut left = super::entries(&tmp);
    left.sort();
    let running_name = running
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(left, [running_name, "other".to_string()]);
    drop(running);
    assert_eq!(super::entries(&tmp), ["other"]);
}

#[test]
fn a_failure_while_tagging_takes_the_new_layer_and_image_back() {
    let env = Env::new();
    // tags.json cannot be read: the import fails after the layer was moved into place.
    fs::create_dir_all(env.store.paths.images().join("tags.json")).unwrap();
    let err = env.import(rootfs(), "x").unwrap_err();
    assert!(matches!(err, ImageError::Io { step: "read", .. }), "{err}");
    env.assert_nothing_imported();
}
