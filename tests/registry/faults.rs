//! What goes wrong with registries and must end well: a foreign or non-distributable layer
//! refused before anything is fetched; a push that meets server errors; a push killed
//! half-way through a layer and repeated.

use super::pull::{app_image, md, push};
use crate::common::oci_layout::Comp;
use crate::common::registry::{Mode, Proxy, Registry};
use crate::common::stop_point::{kill_stopped, spawn_stopped};
use crate::common::*;
use std::process::Command;

fn skopeo_raw(name: &str) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// PUTs `manifest` as `repo:tag` straight to the registry.
fn put_manifest(reg: &Registry, repo: &str, tag: &str, manifest: &serde_json::Value) {
    let out = Command::new("curl")
        .args(["-sS", "-f", "-X", "PUT", "-H"])
        .arg("Content-Type: application/vnd.oci.image.manifest.v1+json")
        .arg("--data-binary")
        .arg(serde_json::to_string(manifest).unwrap())
        .arg(format!("http://{}/v2/{repo}/manifests/{tag}", reg.host()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "PUT manifest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn foreign_and_non_distributable_layers_are_refused_and_nothing_is_stored() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let ok = format!("{}/outside:ok", reg.host());
    push(&env, &app_image("amd64", Comp::Gzip), &ok, None);
    let manifest = skopeo_raw(&ok);
    let cases = [
        (
            "nondist",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            Some("https://example.invalid/layer.tar.gz"),
        ),
        (
            "foreign",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            None,
        ),
    ];
    for (tag, media_type, url) in cases {
        let mut m = manifest.clone();
        m["layers"][1]["mediaType"] = media_type.into();
        if let Some(url) = url {
            m["layers"][1]["urls"] = serde_json::json!([url]);
        }
        put_manifest(&reg, "outside", tag, &m);
        let before = reg.blob_gets();
        let name = format!("{}/outside:{tag}", reg.host());
        let out = md(&env, &["pull", &name]).run();
        out.assert_mdrun_error();
        let digest = m["layers"][1]["digest"].as_str().unwrap();
        assert_eq!(
            out.stderr.trim(),
            format!(
                "mdrun: pull {}/outside: layer {digest} is foreign or non-distributable \
                 ({media_type}): it is not in the registry, refused",
                reg.host()
            ),
            "{out}"
        );
        assert_eq!(reg.blob_gets(), before, "{tag}: a blob was fetched");
        assert!(files::names(&env.root.join("layers")).is_empty(), "{tag}");
        assert!(md(&env, &["images", "-q"]).run().stdout.is_empty(), "{tag}");
    }
    env.assert_clean();
}

/// A committed image of busybox plus a 10 MiB layer (sent in two chunks).
fn committed(env: &TestEnv) -> String {
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
    "snap:v1".to_string()
}

/// The registry has a valid image at `name`: an empty store pulls it and runs it.
fn pulls_and_runs(name: &str) {
    let empty = TestEnv::bare();
    md(&empty, &["pull", "-q", name]).run().assert_ok();
    let out = empty.run(&[name, "sh", "-c", "cat /added; wc -c < /big"]);
    assert_eq!(out.out(), "pushed\n10485760", "{out}");
    empty.mdrun(&["rmi", name]).assert_ok();
    empty.assert_clean();
}

#[test]
fn a_push_that_meets_server_errors_twice_succeeds() {
    let env = TestEnv::new();
    let reg = Registry::start(&env.dir);
    let proxy = Proxy::start(reg.port, Mode::FailUploads(2));
    let image = committed(&env);
    let name = format!("{}/flaky/snap:v1", proxy.host());
    let out = md(&env, &["push", &image, &name]).run();
    out.assert_ok();
    assert_eq!(proxy.counts().failed, 2);
    pulls_and_runs(&format!("{}/flaky/snap:v1", reg.host()));
    env.mdrun(&["rmi", &image]).assert_ok();
    env.assert_clean();
}

#[test]
fn a_push_killed_half_way_through_a_layer_is_repeated_and_the_image_is_whole() {
    let env = TestEnv::new();
    let reg = Registry::start(&env.dir);
    let image = committed(&env);
    let name = format!("{}/killed/snap:v1", reg.host());
    let args = ["push", "-q", &image, &name];
    let (running, pid) = spawn_stopped(&env, "push:chunk", &args);
    kill_stopped(running, pid);
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "no manifest before the push ends");

    md(&env, &args).run().assert_ok();
    assert_eq!(skopeo_raw(&name)["layers"].as_array().unwrap().len(), 2);
    pulls_and_runs(&name);
    env.mdrun(&["rmi", &image]).assert_ok();
    env.assert_clean();
}
