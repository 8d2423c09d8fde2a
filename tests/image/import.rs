//! `mdrun import`, `images` and `rmi`.

use crate::common::*;
use std::fs;
use std::process::Command;

fn compress(tool: &str, input: &std::path::Path, out: &std::path::Path) {
    let data = Command::new(tool).arg("-c").arg(input).output().unwrap();
    assert!(data.status.success(), "{tool} failed");
    fs::write(out, data.stdout).unwrap();
}

/// `rmi` of an unknown image fails with one line; like `docker rmi`, mdrun may exit 1 there
/// (the 125 of `run` tells the command's own exit codes apart, which `rmi` has none of).
#[track_caller]
fn rmi_refused(out: &Out) {
    assert!(out.code == 1 || out.code == 125, "{out}");
    out.assert_one_line_error(out.code);
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
fn images_json_lists_names_and_ids() {
    let env = TestEnv::new();
    let out = env.mdrun(&["images", "--format", "json"]);
    out.assert_ok();
    let json: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    let text = json.to_string();
    assert!(text.contains("busybox:latest"), "{out}");
    let ids = env.mdrun(&["images", "-q"]);
    ids.assert_ok();
    assert_eq!(ids.stdout.lines().count(), 1, "{ids}");
    assert!(
        text.contains(ids.out()),
        "images -q id {} not in the json:\n{out}",
        ids.out()
    );
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

#[test]
fn rmi_removes_the_image_and_its_layer() {
    let env = TestEnv::new();
    env.mdrun(&["rmi", "busybox"]).assert_ok();
    let listing = env.mdrun(&["images"]);
    listing.assert_ok();
    assert!(!listing.stdout.contains("busybox"), "{listing}");
    let layers = files::names(&env.root.join("layers"));
    assert!(layers.is_empty(), "layers left after rmi: {layers:?}");
    env.run(&["busybox", "true"]).assert_mdrun_error();
    // A second rmi is an error.
    rmi_refused(&env.mdrun(&["rmi", "busybox"]));
    env.assert_clean();
}

#[test]
fn an_image_can_be_found_by_id_prefix() {
    let env = TestEnv::bare();
    let out = env.mdrun(&["import", busybox_tarball().to_str().unwrap(), "busybox"]);
    out.assert_ok();
    let id = out.out().trim_start_matches("sha256:").to_string();
    let out = env.run(&[&id[..12], "echo", "by-id"]);
    out.assert_ok();
    assert_eq!(out.out(), "by-id");
}

#[test]
fn rmi_of_an_unknown_image_is_refused() {
    let env = TestEnv::new();
    let out = env.mdrun(&["rmi", "no-such-image"]);
    rmi_refused(&out);
    assert!(out.stderr.contains("no-such-image"), "{out}");
}
