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

/// A layer with `/data` (owner 1000:1001, mode 0750) holding a file (0640), a symlink
/// and a subdirectory, as an image with files at its VOLUME ships them.
fn seeded_data_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |kind: tar::EntryType, path: &str, mode: u32, data: &[u8], link: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(1_600_000_000);
        h.set_uid(1000);
        h.set_gid(1001);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        b.append_data(&mut h, path, data).unwrap();
    };
    add(tar::EntryType::Directory, "data/", 0o750, b"", "");
    add(tar::EntryType::Regular, "data/seed", 0o640, b"seeded\n", "");
    add(tar::EntryType::Symlink, "data/link", 0o777, b"", "seed");
    add(tar::EntryType::Directory, "data/sub/", 0o700, b"", "");
    add(
        tar::EntryType::Regular,
        "data/sub/deep",
        0o4755,
        b"deep\n",
        "",
    );
    b.into_inner().unwrap()
}

#[test]
fn a_new_volume_takes_the_image_files_at_its_path_with_owner_and_mode() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = Image {
        layers: vec![
            layer(&fs::read(busybox_tarball()).unwrap(), Comp::Gzip),
            layer(&seeded_data_tar(), Comp::Gzip),
        ],
        run: serde_json::json!({"Cmd": ["sh"], "Volumes": {"/data": {}}}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let name = format!("{}/seeded:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);
    md(&env, &["pull", "-q", &name]).assert_ok();

    let probe = "cat /data/seed /data/sub/deep; readlink /data/link; \
                 stat -c '%n %u:%g %a %Y' /data /data/seed /data/sub /data/sub/deep; \
                 echo more > /data/added";
    let out = env.mdrun(&["run", "--name", "s1", &name, "sh", "-c", probe]);
    out.assert_ok();
    assert_eq!(
        out.out(),
        "seeded\ndeep\nseed\n\
         /data 1000:1001 750 1600000000\n\
         /data/seed 1000:1001 640 1600000000\n\
         /data/sub 1000:1001 700 1600000000\n\
         /data/sub/deep 1000:1001 4755 1600000000",
        "{out}"
    );
    // The files are the volume's, on the host: the image's layer is untouched.
    let vols: Vec<String> = volumes(&env)
        .into_iter()
        .filter(|v| is_anonymous(v))
        .collect();
    assert_eq!(vols.len(), 1, "{vols:?}");
    let vol = env.root.join("volumes").join(&vols[0]);
    assert_eq!(fs::read_to_string(vol.join("seed")).unwrap(), "seeded\n");
    assert_eq!(fs::read_to_string(vol.join("added")).unwrap(), "more\n");

    // Started again, the volume is not filled again: what the container removed stays
    // removed.
    env.mdrun(&["run", "--name", "s2", &name, "sh", "-c", "rm /data/seed"])
        .assert_ok();
    let out = env.mdrun(&["start", "-a", "s2"]);
    out.assert_code(1);
    assert!(out.stderr.contains("can't remove"), "{out}");

    // A named volume that exists already keeps its own content; -v on a host directory
    // is never filled.
    fs::create_dir_all(env.root.join("volumes/mine")).unwrap();
    fs::write(env.root.join("volumes/mine/own"), "own\n").unwrap();
    let host = env.path("hostdir");
    fs::create_dir(&host).unwrap();
    let out = env.mdrun(&[
        "run",
        "--rm",
        "-v",
        "mine:/data",
        "-v",
        &format!("{}:/data/sub", host.display()),
        &name,
        "sh",
        "-c",
        "ls /data /data/sub",
    ]);
    assert_eq!(out.out(), "/data:\nown\nsub\n\n/data/sub:", "{out}");
    env.mdrun(&["rm", "-v", "s1", "s2"]).assert_ok();
    for v in volumes(&env) {
        fs::remove_dir_all(env.root.join("volumes").join(v)).unwrap();
    }
    env.assert_clean();
}
