//! Tar headers that would cost memory rather than disk: the tar crate keeps a PAX header
//! or a GNU long name in memory whole before it hands over the entry, so a gzip layer of a
//! few MB could hold a header of GBs (measured: 4.6 MB of gzip, 1 GiB PAX record, `import`
//! at 1 GiB of memory). Refused past 4 MiB, with one line and nothing left in the store;
//! a large but sane header (64 KiB of PAX records: long xattrs) still imports.

use crate::common::*;
use std::fs;
use std::io::Write;

/// A tar stream: one `special` entry of `kind` holding `data`, then a small file `x`.
fn with_special(kind: tar::EntryType, name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_path(name).unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, data).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("x").unwrap();
    h.set_size(3);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, &b"hi\n"[..]).unwrap();
    b.into_inner().unwrap()
}

/// A PAX record `len` bytes long in all, of a key no one reads.
fn pax_record(len: usize) -> Vec<u8> {
    let digits = len.to_string().len();
    let head = format!("{len} mdrun.junk=");
    assert_eq!(head.len() - 1, digits + " mdrun.junk=".len() - 1);
    let mut rec = head.into_bytes();
    rec.resize(len - 1, b'a');
    rec.push(b'\n');
    rec
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn huge_pax_headers_and_long_names_are_refused() {
    let env = TestEnv::new();
    let listing = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(env.root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let (layers, images) = (listing("layers"), listing("images"));
    let big = 16 << 20;
    let cases = [
        (
            "pax",
            with_special(tar::EntryType::XHeader, "PaxHeaders/x", &pax_record(big)),
        ),
        (
            "longname",
            with_special(
                tar::EntryType::GNULongName,
                "././@LongLink",
                &vec![b'n'; big],
            ),
        ),
    ];
    for (what, tar) in cases {
        let file = env.path(&format!("{what}.tar.gz"));
        fs::write(&file, gzip(&tar)).unwrap();
        let out = env.mdrun(&["import", file.to_str().unwrap(), what]);
        out.assert_one_line_error(125);
        assert!(out.stderr.contains("over 4 MiB"), "{what}: {out}");
        assert_eq!(listing("layers"), layers, "{what}: the layers changed");
        assert_eq!(listing("images"), images, "{what}: the images changed");
        assert_eq!(listing("tmp"), Vec::<String>::new(), "{what}: scratch left");
    }
    // 64 KiB of PAX records is a header, not an attack.
    let file = env.path("sane.tar");
    let tar = with_special(
        tar::EntryType::XHeader,
        "PaxHeaders/x",
        &pax_record(64 << 10),
    );
    fs::write(&file, tar).unwrap();
    env.mdrun(&["import", file.to_str().unwrap(), "sane"])
        .assert_ok();
    env.mdrun(&["rmi", "sane"]).assert_ok();
    env.assert_clean();
}
