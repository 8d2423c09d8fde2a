//! `mdrun images` (table, json, `-q`, Go templates), and an image named by a prefix of its id.

use crate::common::*;

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
fn images_format_takes_docker_go_templates() {
    let env = TestEnv::new();
    let out = env.mdrun(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    out.assert_ok();
    assert_eq!(out.stdout, "busybox:latest\n", "{out}");
    let id = env.mdrun(&["images", "-q"]).out().to_string();
    let out = env.mdrun(&["images", "--format", "{{.ID}} {{.Digest}} {{.Size}}"]);
    out.assert_ok();
    let fields: Vec<&str> = out.out().split(' ').collect();
    assert_eq!(fields[..2], [id.as_str(), "<none>"], "{out}");
    assert!(fields[2].ends_with("MB"), "{out}");
    // `table`: docker's headers, the cells aligned as the default table.
    let out = env.mdrun(&[
        "images",
        "--format",
        "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}",
    ]);
    out.assert_ok();
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| {
            l.split("  ")
                .filter(|c| !c.is_empty())
                .map(str::trim)
                .collect()
        })
        .collect();
    assert_eq!(
        lines,
        [
            vec!["REPOSITORY", "TAG", "IMAGE ID"],
            vec!["busybox", "latest", id.as_str()]
        ],
        "{out}"
    );
    env.mdrun(&["images", "--format", "{{.Nope"])
        .assert_one_line_error(125);
    env.mdrun(&["images", "--format", "yaml"])
        .assert_one_line_error(125);
}
