//! What the image verbs print (`import`, `images`, `rmi`), on a store in a temp dir (the
//! store's own tests are `image::tests`).

use crate::image::tests::{gzip, Env, Tar};
use std::fs;

#[test]
fn the_commands_print_what_docker_prints() {
    let env = Env::new();
    let paths = &env.store.paths;
    let file = env.dir.path().join("rootfs.tar.gz");
    fs::write(
        &file,
        gzip(&Tar::new().file("f", &[1u8; 2_100_000]).bytes()),
    )
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        super::import::import(paths, file.to_str().unwrap(), "bb", &mut out).unwrap(),
        0
    );
    let printed = String::from_utf8(out).unwrap();
    let id = printed
        .trim()
        .strip_prefix("sha256:")
        .expect("docker's form")
        .to_string();
    assert_eq!(id.len(), 64);

    let mut out = Vec::new();
    super::images::list(paths, false, "table", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"),
        "{text}"
    );
    assert!(
        text.contains(&format!("bb           latest    {}   ", &id[..12])),
        "{text}"
    );
    assert!(text.trim_end().ends_with("2.1MB"), "{text}");

    let mut out = Vec::new();
    super::images::list(paths, false, "json", &mut out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json[0]["id"], id.as_str());
    assert_eq!(json[0]["names"][0], "bb:latest");
    let mut out = Vec::new();
    super::images::list(paths, true, "table", &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n", &id[..12]));

    let (mut out, mut err) = (Vec::new(), Vec::new());
    let refs = ["bb".to_string(), "nope".to_string()];
    assert_eq!(
        super::rmi::remove(paths, &refs, &mut out, &mut err).unwrap(),
        1
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("Untagged: bb:latest\nDeleted: sha256:{id}\n")
    );
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "mdrun: unknown image \"nope\"\n"
    );
    env.assert_nothing_imported();
}
