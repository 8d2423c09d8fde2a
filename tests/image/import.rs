//! `mdrun import`: tarballs (plain, gzip, zstd) from a file or standard input. (`images`:
//! images.rs; `rmi`: rmi.rs; refused tarballs: tests/running/bad_input.rs.)

use crate::common::*;
use std::fs;
use std::process::Command;

fn compress(tool: &str, input: &std::path::Path, out: &std::path::Path) {
    let data = Command::new(tool).arg("-c").arg(input).output().unwrap();
    assert!(data.status.success(), "{tool} failed");
    fs::write(out, data.stdout).unwrap();
}

#[test]
fn import_prints_the_image_id_and_images_lists_it() {
    let env = TestEnv::bare();
    let out = env.mdrun(&["import", busybox_tarball().to_str().unwrap(), "busybox"]);
    out.assert_ok();
    // docker prints `sha256:<64 hex>`; the id proper is the hex.
    let id = out.out().trim_start_matches("sha256:").to_string();
    assert!(
        id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "not an id: {out}"
    );
    let out = env.mdrun(&["images"]);
    out.assert_ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("busybox"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("latest") && row.contains(&id[..12]), "{out}");
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"],
        "{out}"
    );
    // CREATED in docker's words, SIZE as docker prints it (decimal units): the busybox layer
    // is one static binary of about 2 MB.
    assert!(
        ["Less than a second ago", " 1 second ago", " seconds ago"]
            .iter()
            .any(|t| row.contains(t)),
        "CREATED is not a recent time: {row}"
    );
    let size = row.split_whitespace().last().unwrap();
    let mb: f64 = size
        .strip_suffix("MB")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("SIZE {size:?} is not in MB: {row}"));
    let on_disk = fs::metadata("/bin/busybox").unwrap().len() as f64 / 1e6;
    assert!(
        mb >= on_disk * 0.99 && mb < on_disk * 1.5,
        "SIZE {size} for a layer of /bin/busybox ({on_disk:.2} MB): {row}"
    );
    env.run(&["busybox", "true"]).assert_ok();
    env.assert_clean();
}

#[test]
fn gzip_and_zstd_tarballs_import() {
    let env = TestEnv::bare();
    let tar = busybox_tarball();
    for (tool, ext, name) in [("gzip", "gz", "bb-gz:1"), ("zstd", "zst", "bb-zstd:1")] {
        let packed = env.path(&format!("rootfs.tar.{ext}"));
        compress(tool, tar, &packed);
        env.mdrun(&["import", packed.to_str().unwrap(), name])
            .assert_ok();
        let out = env.run(&[name, "sh", "-c", "echo works"]);
        out.assert_ok();
        assert_eq!(out.out(), "works", "{out}");
    }
    let listing = env.mdrun(&["images"]).stdout;
    assert!(
        listing.contains("bb-gz") && listing.contains("bb-zstd"),
        "{listing}"
    );
    env.assert_clean();
}

#[test]
fn import_reads_standard_input() {
    let env = TestEnv::bare();
    let data = fs::read(busybox_tarball()).unwrap();
    let out = env.cmd(&["import", "-", "from-stdin:v1"]).stdin(data).run();
    out.assert_ok();
    env.run(&["from-stdin:v1", "true"]).assert_ok();
    // Without the tag it means :latest, which does not exist.
    env.run(&["from-stdin", "true"]).assert_mdrun_error();
    env.assert_clean();
}
