//! `mdrun save` and `load`: images in OCI archives, round trips through them, and bad
//! archives that change nothing.

use super::export::{members, CHANGES};
use crate::common::*;
use std::fs;
use std::process::Command;

#[test]
fn save_and_load_round_trip_a_committed_image() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    env.mdrun(&["commit", "c1", "snap:v1"]).assert_ok();
    env.mdrun(&["rm", "c1"]).assert_ok();
    let archive = env.path("snap.tar");
    env.mdrun(&["save", "-o", archive.to_str().unwrap(), "snap:v1"])
        .assert_ok();
    let names = members(&archive);
    for doc in ["oci-layout", "index.json", "manifest.json"] {
        assert!(names.contains(doc), "{doc} missing: {names:?}");
    }

    // Into a store that has never seen busybox, from a file and from stdin (gzipped).
    let other = TestEnv::bare();
    let out = other.mdrun(&["load", "-i", archive.to_str().unwrap()]);
    out.assert_ok();
    assert_eq!(out.out(), "Loaded image: snap:v1");
    let probe = "cat /added; ls /bin/ls 2>&1; ls /etc";
    let out = other.run(&["snap:v1", "sh", "-c", probe]);
    assert!(
        out.stdout.starts_with("hi\n") && out.stdout.contains("No such file"),
        "{out}"
    );
    assert!(out.stdout.ends_with("only\n"), "{out}");

    other.mdrun(&["rmi", "snap:v1"]).assert_ok();
    let gz = Command::new("gzip")
        .arg("-c")
        .arg(&archive)
        .output()
        .unwrap();
    let out = other.cmd(&["load"]).stdin(gz.stdout).run();
    out.assert_ok();
    other.run(&["snap:v1", "cat", "/added"]).assert_ok();
    other.assert_clean();
    env.assert_clean();
}

/// The full id `inspect` shows.
fn full_id(env: &TestEnv, name: &str) -> String {
    let out = env.mdrun(&["inspect", name]);
    out.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn imported_and_committed_images_keep_their_ids_through_save_and_load() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    env.mdrun(&["commit", "c1", "snap:v1"]).assert_ok();
    env.mdrun(&["rm", "c1"]).assert_ok();
    let ids = [full_id(&env, "busybox"), full_id(&env, "snap:v1")];
    let short: Vec<String> = ids.iter().map(|id| id[..12].to_string()).collect();
    let archive = env.path("both.tar");
    env.mdrun(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        "busybox",
        "snap:v1",
    ])
    .assert_ok();

    let other = TestEnv::bare();
    other
        .mdrun(&["load", "-i", archive.to_str().unwrap()])
        .assert_ok();
    assert_eq!(
        [full_id(&other, "busybox"), full_id(&other, "snap:v1")],
        ids,
        "the ids through save and load"
    );
    let listed = other.mdrun(&["images", "-q"]);
    let mut listed: Vec<&str> = listed.stdout.lines().collect();
    listed.sort();
    let mut want: Vec<&str> = short.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(listed, want);
    other.mdrun(&["rmi", "snap:v1", "busybox"]).assert_ok();
    other.assert_clean();
    env.assert_clean();
}

fn image_count(env: &TestEnv) -> usize {
    let out = env.mdrun(&["images", "-q"]);
    out.assert_ok();
    out.stdout.lines().count()
}

#[test]
fn bad_archives_are_refused_with_one_line_and_change_nothing() {
    let env = TestEnv::new();
    let good = env.path("good.tar");
    env.mdrun(&["save", "-o", good.to_str().unwrap(), "busybox"])
        .assert_ok();
    let bytes = fs::read(&good).unwrap();
    let layers = files::names(&env.root.join("layers"));
    let images = image_count(&env);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bytes[..bytes.len() / 3].to_vec()),
        ("garbage", b"this is not an archive at all".repeat(40)),
        ("empty", Vec::new()),
        ("corrupt", {
            // Flip bytes in the middle of the layer blob: its digest no longer matches.
            let mut b = bytes.clone();
            let mid = b.len() / 2;
            for x in &mut b[mid..mid + 64] {
                *x ^= 0x5a;
            }
            b
        }),
    ];
    for (what, data) in cases {
        let path = env.path(&format!("{what}.tar"));
        fs::write(&path, &data).unwrap();
        let out = env.mdrun(&["load", "-i", path.to_str().unwrap()]);
        out.assert_mdrun_error();
        let out = env.cmd(&["load"]).stdin(data).run();
        out.assert_mdrun_error();
        assert_eq!(files::names(&env.root.join("layers")), layers, "{what}");
        assert_eq!(image_count(&env), images, "{what}");
        assert_eq!(
            files::names(&env.root.join("tmp")),
            Vec::<String>::new(),
            "{what}"
        );
    }
    // save of an unknown image: an error, and no half-written file.
    let out_file = env.path("none.tar");
    env.mdrun(&["save", "-o", out_file.to_str().unwrap(), "no-such-image"])
        .assert_mdrun_error();
    assert_absent(&out_file);
    env.mdrun(&[
        "export",
        "-o",
        out_file.to_str().unwrap(),
        "no-such-container",
    ])
    .assert_mdrun_error();
    assert_absent(&out_file);
    env.assert_clean();
}

/// `save -o FILE` and `export -o FILE` that fail (an unknown image or container, say)
/// leave a FILE that was already there as it was: it used to be truncated, then removed
/// (and through a symlink, the file it names emptied). One that succeeds replaces it whole.
#[test]
fn a_failed_save_or_export_leaves_an_existing_output_file_as_it_was() {
    let env = TestEnv::new();
    let keep = env.path("keep.tar");
    let target = env.path("target");
    let link = env.path("link.tar");
    fs::write(&keep, "precious\n").unwrap();
    fs::write(&target, "also precious\n").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for path in [&keep, &link] {
        let p = path.to_str().unwrap();
        env.mdrun(&["save", "-o", p, "no-such-image"])
            .assert_one_line_error(125);
        env.mdrun(&["export", "-o", p, "no-such-container"])
            .assert_one_line_error(125);
    }
    assert_eq!(fs::read_to_string(&keep).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "also precious\n");

    // Success: the archive, in place of what was there (through the link: its target),
    // with its permissions.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&keep, fs::Permissions::from_mode(0o600)).unwrap();
    env.mdrun(&["save", "-o", keep.to_str().unwrap(), "busybox"])
        .assert_ok();
    assert!(members(&keep).contains("index.json"));
    assert_eq!(
        fs::metadata(&keep).unwrap().permissions().mode() & 0o777,
        0o600
    );
    env.mdrun(&["save", "-o", link.to_str().unwrap(), "busybox"])
        .assert_ok();
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(members(&target).contains("index.json"));
    // No scratch file left beside them.
    let mut names: Vec<String> = fs::read_dir(keep.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| ["keep.tar", "target", "link.tar"].contains(&n.as_str()) || n.contains("tmp"))
        .collect();
    names.sort();
    assert_eq!(names, ["keep.tar", "link.tar", "target"]);
    env.assert_clean();
}
