//! An image's VOLUME paths become anonymous volumes at `run` (as docker makes them): a
//! directory of its own under `<root>/volumes/`, kept by `rm`, removed by `rm -v` and by
//! `--rm`; a `-v` on the same path replaces it; named volumes are never removed.

use crate::common;

use crate::common::oci_layout::{self, layer, Comp, Image};
use crate::common::registry::Registry;
use crate::common::*;
use std::fs;

fn md(env: &TestEnv, args: &[&str]) -> Out {
    env.cmd(args)
        .env("REGISTRY_AUTH_FILE", env.path("auth.json"))
        .env("DOCKER_CONFIG", env.path("docker"))
        .env("MDRUN_REGISTRIES_CONF", env.path("registries.conf"))
        .run()
}

fn volumes(env: &TestEnv) -> Vec<String> {
    let mut v = common::files::names(&env.root.join("volumes"));
    v.sort();
    v
}

fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn image_volumes_are_anonymous_volumes_removed_by_rm_v_and_by_rm() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = Image {
        layers: vec![layer(&fs::read(busybox_tarball()).unwrap(), Comp::Gzip)],
        run: serde_json::json!({"Cmd": ["sh"], "Volumes": {"/data": {}, "/keep": {}}}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let name = format!("{}/vol:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);
    md(&env, &["pull", "-q", &name]).assert_ok();

    // /data gets an anonymous volume; /keep the named volume given with -v.
    let out = env.mdrun(&[
        "run",
        "--name",
        "v1",
        "-v",
        "named:/keep",
        &name,
        "sh",
        "-c",
        "echo d > /data/f && echo k > /keep/f",
    ]);
    out.assert_ok();
    let vols = volumes(&env);
    assert_eq!(vols.len(), 2, "{vols:?}");
    let anon: Vec<&String> = vols.iter().filter(|v| is_anonymous(v)).collect();
    assert_eq!(anon.len(), 1, "{vols:?}");
    let anon = anon[0].clone();
    assert_eq!(
        fs::read_to_string(env.root.join("volumes").join(&anon).join("f")).unwrap(),
        "d\n"
    );
    assert_eq!(
        fs::read_to_string(env.root.join("volumes/named/f")).unwrap(),
        "k\n"
    );

    // rm keeps volumes (docker's rule); rm -v removes the anonymous one, not the named.
    env.mdrun(&["run", "--name", "v2", &name, "true"])
        .assert_ok();
    assert_eq!(volumes(&env).len(), 4, "v2 has two of its own");
    env.mdrun(&["rm", "-v", "v1"]).assert_ok();
    let vols = volumes(&env);
    assert!(
        !vols.contains(&anon) && vols.contains(&"named".to_string()),
        "{vols:?}"
    );
    env.mdrun(&["rm", "v2"]).assert_ok();
    let kept: Vec<String> = volumes(&env)
        .into_iter()
        .filter(|v| is_anonymous(v))
        .collect();
    assert_eq!(kept.len(), 2, "rm without -v keeps them");

    // --rm removes its anonymous volumes when the container ends.
    env.mdrun(&["run", "--rm", &name, "sh", "-c", "echo x > /data/x"])
        .assert_ok();
    assert_eq!(volumes(&env).len(), 3, "{:?}", volumes(&env));

    for v in volumes(&env) {
        fs::remove_dir_all(env.root.join("volumes").join(v)).unwrap();
    }
}
