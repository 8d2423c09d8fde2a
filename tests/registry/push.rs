//! `mdrun push` against Debian's docker-registry 2.8 on 127.0.0.1: a committed image
//! (one layer over 8 MiB, sent in chunks), checked with `skopeo inspect`, pulled into an
//! empty store and run, pulled by podman; blobs the registry has are not sent again
//! (HEAD, cross-repository mount); a pulled image keeps its id through push and pull.

use crate::common;

use crate::common::registry::Registry;
use crate::common::*;
use std::process::Command;

/// `mdrun ARGS` with this scenario's credentials and registries.conf.
fn md(env: &TestEnv, args: &[&str]) -> Out {
    env.cmd(args)
        .env("REGISTRY_AUTH_FILE", env.path("auth.json"))
        .env("DOCKER_CONFIG", env.path("docker"))
        .env("MDRUN_REGISTRIES_CONF", env.path("registries.conf"))
        .run()
}

fn skopeo_inspect(what: &str, name: &str) -> serde_json::Value {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false"]);
    if !what.is_empty() {
        cmd.arg(what);
    }
    let out = cmd.arg(format!("docker://{name}")).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The image id as `images -q --no-trunc`-like full hex, from `inspect`.
fn image_id(env: &TestEnv, name: &str) -> String {
    let out = env.mdrun(&["inspect", name]);
    out.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json[0]["id"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string()
}

/// Requests of this method for uploads, from the registry's access log.
fn uploads(reg: &Registry, method: &str) -> usize {
    let log = std::fs::read_to_string(reg.dir.join("registry.err")).unwrap_or_default()
        + &std::fs::read_to_string(reg.dir.join("registry.log")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(&format!("\"{method} /v2/")) && l.contains("/blobs/uploads/"))
        .count()
}

fn config_digest(name: &str) -> String {
    let raw = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--config", "--raw"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    assert!(raw.status.success());
    common::oci_layout::digest(&raw.stdout)
}

#[test]
fn a_committed_image_is_pushed_inspected_pulled_into_an_empty_store_and_run() {
    let env = TestEnv::new();
    let reg = Registry::start(&env.dir);
    env.mdrun(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        "echo pushed > /added; head -c 10485760 /dev/urandom > /big",
    ])
    .assert_ok();
    env.mdrun(&["commit", "c1", "snap:v1"]).assert_ok();
    env.mdrun(&["rm", "c1"]).assert_ok();
    let committed_id = image_id(&env, "snap:v1");
    let name = format!("{}/team/snap:v1", reg.host());

    let out = md(&env, &["push", "snap:v1", &name]);
    out.assert_ok();
    assert_eq!(out.stdout.matches(": Pushed").count(), 2, "{out}");
    let last = out.stdout.lines().last().unwrap().to_string();
    let (pushed_name, digest) = last.split_once('@').unwrap();
    assert_eq!(pushed_name, format!("{}/team/snap", reg.host()));
    // The 10 MiB layer went in 8 MiB chunks (PATCH), the small one in one PUT.
    assert_eq!(uploads(&reg, "PATCH"), 2, "two chunks");

    let inspect = skopeo_inspect("", &name);
    assert_eq!(inspect["Digest"], digest, "{inspect}");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2, "{inspect}");
    assert_eq!(inspect["Os"], "linux");
    // Compressed as docker pushes them; the config keeps the uncompressed diff_ids.
    let raw = skopeo_inspect("--raw", &name);
    for layer in raw["layers"].as_array().unwrap() {
        assert_eq!(
            layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip",
            "{raw}"
        );
    }
    assert_eq!(
        config_digest(&name),
        format!("sha256:{committed_id}"),
        "the committed image's id is the pushed config's digest"
    );

    // Again: every blob is there; nothing is uploaded.
    let (posts, patches) = (uploads(&reg, "POST"), uploads(&reg, "PATCH"));
    let out = md(&env, &["push", "snap:v1", &name]);
    out.assert_ok();
    assert_eq!(
        out.stdout.matches("Layer already exists").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.stdout.lines().last().unwrap(),
        last,
        "the same manifest"
    );
    assert_eq!(
        (uploads(&reg, "POST"), uploads(&reg, "PATCH")),
        (posts, patches),
        "a second push uploaded something:\n{out}"
    );

    // To another repository of the same registry: its layers are mounted, not sent.
    env.mdrun(&["tag", "snap:v1", &name]).assert_ok();
    let other = format!("{}/other/snap:v2", reg.host());
    let out = md(&env, &["push", &name, &other]);
    out.assert_ok();
    assert_eq!(
        out.stdout.matches("Mounted from team/snap").count(),
        2,
        "{out}"
    );
    assert_eq!(uploads(&reg, "PATCH"), patches, "nothing sent in chunks");

    // An empty store pulls it and runs it; its id is the pushed config's digest.
    let empty = TestEnv::bare();
    md(&empty, &["pull", "-q", &name]).assert_ok();
    let out = empty.run(&[&name, "sh", "-c", "cat /added; wc -c < /big"]);
    assert_eq!(out.out(), "pushed\n10485760", "{out}");
    let pulled_id = image_id(&empty, &name);
    assert_eq!(format!("sha256:{pulled_id}"), config_digest(&name));
    assert_eq!(
        pulled_id, committed_id,
        "the id through commit, push and pull"
    );

    // That pulled image pushed again keeps its id: its config goes as it came.
    let again = format!("{}/again/snap:v1", reg.host());
    md(&empty, &["push", "-q", &name, &again]).assert_ok();
    assert_eq!(config_digest(&again), format!("sha256:{pulled_id}"));
    let third = TestEnv::bare();
    md(&third, &["pull", "-q", &again]).assert_ok();
    assert_eq!(
        image_id(&third, &again),
        pulled_id,
        "the id through push and pull"
    );

    // podman pulls what mdrun pushed (vfs: no mounts; never a container).
    let podman_root = env.path("podman");
    let podman = |args: &[&str]| {
        Command::new("podman")
            .arg("--root")
            .arg(podman_root.join("root"))
            .arg("--runroot")
            .arg(podman_root.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = podman(&["pull", "-q", "--tls-verify=false", &name]);
    assert!(
        out.status.success(),
        "podman pull: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        pulled_id,
        "podman's id is the config digest too"
    );
    let _ = podman(&["rmi", "-a", "-f"]);
    let _ = std::fs::remove_dir_all(&podman_root);
}

#[test]
fn bad_pushes_fail_with_one_line_and_leave_nothing() {
    let env = TestEnv::new();
    let reg = Registry::start(&env.dir);
    let out = md(&env, &["push", "nosuch:1", &format!("{}/x:1", reg.host())]);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("unknown image"), "{out}");
    let out = md(
        &env,
        &[
            "push",
            "busybox",
            &format!("{}/x@sha256:{}", reg.host(), "a".repeat(64)),
        ],
    );
    out.assert_mdrun_error();
    assert!(out.stderr.contains("not a digest"), "{out}");
    let port = common::registry::free_port();
    let out = md(&env, &["push", "busybox", &format!("127.0.0.1:{port}/x:1")]);
    out.assert_mdrun_error();
    assert!(
        out.stderr.contains(&format!(
            "push 127.0.0.1:{port}/x: cannot reach the registry"
        )),
        "{out}"
    );
}

#[test]
fn images_digests_and_history_of_a_pulled_image() {
    use common::oci_layout::{self, layer, Comp, Image};
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = Image {
        layers: vec![layer(
            &std::fs::read(busybox_tarball()).unwrap(),
            Comp::Gzip,
        )],
        run: serde_json::json!({"Cmd": ["sh"]}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let name = format!("{}/hist/bb:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);
    md(&env, &["pull", "-q", &name]).assert_ok();
    let digest = skopeo_inspect("", &name)["Digest"]
        .as_str()
        .unwrap()
        .to_string();
    let id = image_id(&env, &name);

    let out = env.mdrun(&["images", "--digests"]);
    out.assert_ok();
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "REPOSITORY",
            "TAG",
            "DIGEST",
            "IMAGE",
            "ID",
            "CREATED",
            "SIZE"
        ],
        "{out}"
    );
    assert_eq!(
        lines[1][..4],
        [&format!("{}/hist/bb", reg.host()), "1", &digest, &id[..12]],
        "{out}"
    );
    // Another name, not pulled or pushed as: no digest.
    env.mdrun(&["tag", &name, "local:1"]).assert_ok();
    let out = env.mdrun(&["images", "--digests"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("local ") && l.contains("<none>")),
        "{out}"
    );

    // history: the config's one step, newest first, the image's id on top.
    let out = env.mdrun(&["history", &name]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("IMAGE ") && lines[0].contains("CREATED BY"),
        "{out}"
    );
    assert!(lines[1].starts_with(&id[..12]), "{out}");
    assert!(
        lines[1].contains("years ago") && lines[1].contains("mdrun test"),
        "{out}"
    );
    env.mdrun(&["history", "nosuch"]).assert_mdrun_error();

    // rmi forgets the digests with the image.
    env.mdrun(&["rmi", "local:1", &name]).assert_ok();
    let left = common::files::names(&env.root.join("images"));
    assert!(
        !left.iter().any(|f| f.ends_with(".digests.json")),
        "{left:?}"
    );
}

#[test]
fn a_pulled_image_keeps_its_id_through_save_and_load() {
    use common::oci_layout::{self, layer, Comp, Image};
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    // Layers as other tools write them (GNU tar's busybox tarball; a tar crate one), not
    // as mdrun would write the same files.
    let image = Image {
        layers: vec![
            layer(&std::fs::read(busybox_tarball()).unwrap(), Comp::Gzip),
            layer(
                &oci_layout::files_tar(&[("etc/motd", b"from the registry\n", 0o644)]),
                Comp::Zstd,
            ),
        ],
        run: serde_json::json!({"Cmd": ["cat", "/etc/motd"]}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let name = format!("{}/saved/bb:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);
    md(&env, &["pull", "-q", &name]).assert_ok();
    let id = image_id(&env, &name);
    assert_eq!(format!("sha256:{id}"), config_digest(&name));
    let archive = env.path("pulled.tar");
    env.mdrun(&["save", "-o", archive.to_str().unwrap(), &name])
        .assert_ok();

    let other = TestEnv::bare();
    other
        .mdrun(&["load", "-i", archive.to_str().unwrap()])
        .assert_ok();
    assert_eq!(image_id(&other, &name), id, "the id through save and load");
    let out = other.mdrun(&["images", "-q"]);
    assert_eq!(out.out(), &id[..12], "{out}");
    let out = other.run(&[&name]);
    assert_eq!(out.out(), "from the registry", "{out}");

    // And pushed from there: the registry gets the same config.
    let again = format!("{}/again/bb:1", reg.host());
    md(&other, &["push", "-q", &name, &again]).assert_ok();
    assert_eq!(config_digest(&again), format!("sha256:{id}"));
    other.mdrun(&["rmi", &name]).assert_ok();
    other.assert_clean();
}

#[test]
fn a_pulled_image_pushed_to_another_repository_is_mounted_not_sent() {
    use common::oci_layout::{self, layer, Comp, Image};
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    // Compressed by other tools (skopeo keeps these blobs as they are): mdrun's own gzip
    // of the same layers would be other blobs.
    let image = Image {
        layers: vec![
            layer(&std::fs::read(busybox_tarball()).unwrap(), Comp::Gzip),
            layer(
                &oci_layout::files_tar(&[("etc/motd", b"mounted\n", 0o644)]),
                Comp::Zstd,
            ),
        ],
        run: serde_json::json!({"Cmd": ["cat", "/etc/motd"]}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let name = format!("{}/source/app:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);
    md(&env, &["pull", "-q", &name]).assert_ok();
    let puts = uploads(&reg, "PUT");

    let other = format!("{}/copy/app:1", reg.host());
    let out = md(&env, &["push", &name, &other]);
    out.assert_ok();
    assert_eq!(
        out.stdout.matches("Mounted from source/app").count(),
        2,
        "{out}"
    );
    // One upload: the config's (small, and not linked into the new repository).
    assert_eq!(uploads(&reg, "PUT"), puts + 1, "no layer sent: {out}");
    assert_eq!(config_digest(&other), config_digest(&name));
    let raw = skopeo_inspect("--raw", &other);
    assert_eq!(
        raw["layers"][1]["mediaType"], "application/vnd.oci.image.layer.v1.tar+zstd",
        "{raw}"
    );
    env.mdrun(&["rmi", &name]).assert_ok();
    env.assert_clean();
}
