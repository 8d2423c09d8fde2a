//! Interoperability with Debian's podman (packages `podman` and `runc`): an image podman
//! saves as an OCI archive loads into mdrun and runs, and one mdrun saves loads into podman
//! and runs there. Every podman image and container here has a random name and is removed
//! afterwards; no other podman image is touched. Containers run with `--network=none`.
//!
//! podman runs its containers with `--runtime runc` (Debian's crun refuses hybrid cgroup
//! hierarchies) and with rlimits below any hard limit (a CI sandbox may lack
//! CAP_SYS_RESOURCE to raise them to podman's defaults).

use crate::common::*;
use std::process::{Command, Output};

const RUN_FLAGS: &[&str] = &[
    "--network=none",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];

/// podman's cgroups (cgroupfs here: `<parent>/libpod-<id>` and `<parent>/conmon`) under the
/// scenario's own, not at the top of every hierarchy (`/libpod_parent`, podman's default).
fn cgroup_parent(env: &TestEnv) -> String {
    format!("/{}", env.cgroup.path.trim_matches('/'))
}

/// conmon's cgroup, which podman leaves when conmon is gone: removed (empty by then).
fn remove_conmon_cgroup(env: &TestEnv) {
    for h in crate::common::cgroup::hierarchies() {
        let _ =
            std::fs::remove_dir(h.dir(&format!("{}/conmon", env.cgroup.path.trim_matches('/'))));
    }
}

fn podman(args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .args(["-k", "10", "120"])
        .arg("podman")
        .args(["--runtime", "runc"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("podman is not installed (apt-get install podman runc): {e}"));
    out
}

#[track_caller]
fn podman_ok(args: &[&str]) -> String {
    let out = podman(args);
    assert!(
        out.status.success(),
        "podman {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Podman images and containers this test made, removed when it ends.
struct Made {
    images: Vec<String>,
    containers: Vec<String>,
}

impl Drop for Made {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = podman(&["rm", "-f", c]);
        }
        for i in &self.images {
            let _ = podman(&["rmi", "-f", i]);
        }
    }
}

/// A directory of the busybox image (19 applet links in it), removed and made again by the
/// containers below: an opaque directory in their layer.
const OPAQUE: &str = "rm -rf /usr/sbin && mkdir /usr/sbin && echo new > /usr/sbin/marker";
/// What a container of the committed image sees there: only the new file.
const OPAQUE_PROBE: &str = "ls /usr/sbin; cat /usr/sbin/marker; test -x /bin/sh && echo sh";

/// Does some layer of the OCI or docker archive hold the entry `path` (no leading `./`)?
fn archive_has(env: &TestEnv, archive: &std::path::Path, path: &str) -> bool {
    let dir = env.path(&unique("unpacked"));
    std::fs::create_dir(&dir).unwrap();
    let script = r#"set -e; tar -xf "$1" -C "$2"
        find "$2" -type f | while read -r f; do tar -tf "$f" 2>/dev/null || true; done"#;
    let out = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(archive)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim_start_matches("./") == path)
}

fn unique(prefix: &str) -> String {
    use rand::Rng;
    format!("{prefix}-{:08x}", rand::rng().random::<u32>())
}

#[test]
fn an_oci_archive_from_podman_loads_into_mdrun_and_runs() {
    let env = TestEnv::bare();
    let parent = cgroup_parent(&env);
    let base = format!("localhost/{}:1", unique("mdrun-test-base"));
    let top = format!("localhost/{}:1", unique("mdrun-test-top"));
    let container = unique("mdrun-test-c");
    let mut made = Made {
        images: vec![base.clone()],
        containers: vec![],
    };
    podman_ok(&[
        "import",
        "--change",
        "CMD [\"sh\"]",
        busybox_tarball().to_str().unwrap(),
        &base,
    ]);
    // A second layer made by podman: a deletion, a new file, and an opaque directory (one
    // of the base layer's, removed and made again).
    made.containers.push(container.clone());
    let changes =
        format!("rm /bin/ls && mkdir -p /opt/app && echo podman > /opt/app/marker && {OPAQUE}");
    let mut run = vec!["run", "--name", &container];
    run.extend_from_slice(RUN_FLAGS);
    run.extend_from_slice(&["--cgroup-parent", &parent]);
    run.extend_from_slice(&[&base, "sh", "-c", &changes]);
    podman_ok(&run);
    made.images.push(top.clone());
    podman_ok(&[
        "commit",
        "-q",
        "--change",
        "CMD [\"cat\", \"/opt/app/marker\"]",
        &container,
        &top,
    ]);
    let archive = env.path("podman.tar");
    podman_ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        archive.to_str().unwrap(),
        &top,
    ]);

    assert!(
        archive_has(&env, &archive, "usr/sbin/.wh..wh..opq"),
        "podman wrote /usr/sbin as an opaque directory"
    );

    let out = env.mdrun(&["load", "-i", archive.to_str().unwrap()]);
    out.assert_ok();
    assert_eq!(out.out(), format!("Loaded image: {top}"));
    // The opaque directory hides the base layer's entries under mdrun's overlay too.
    let out = env.run(&[&top, "sh", "-c", OPAQUE_PROBE]);
    out.assert_ok();
    assert_eq!(out.out(), "marker\nnew\nsh", "{out}");
    let out = env.run(&[
        &top,
        "sh",
        "-c",
        "cat /opt/app/marker; ls /bin/ls 2>&1; true",
    ]);
    out.assert_ok();
    assert!(
        out.stdout.starts_with("podman\n") && out.stdout.contains("No such file"),
        "{out}"
    );
    // Its config came along: no command given, the CMD podman set runs.
    let out = env.run(&[&top]);
    out.assert_ok();
    assert_eq!(out.out(), "podman");
    // docker-archive too.
    let docker = env.path("podman-docker.tar");
    podman_ok(&[
        "save",
        "--format",
        "docker-archive",
        "-o",
        docker.to_str().unwrap(),
        &top,
    ]);
    env.mdrun(&["rmi", &top]).assert_ok();
    env.mdrun(&["load", "-i", docker.to_str().unwrap()])
        .assert_ok();
    env.run(&[&top, "cat", "/opt/app/marker"]).assert_ok();
    drop(made);
    remove_conmon_cgroup(&env);
    env.assert_clean();
}

#[test]
fn an_image_saved_by_mdrun_loads_into_podman_and_runs() {
    let env = TestEnv::new();
    let parent = cgroup_parent(&env);
    let name = format!("{}:v1", unique("mdrun-test-saved"));
    let made = Made {
        images: vec![format!("localhost/{name}")],
        containers: vec![],
    };
    env.mdrun(&[
        "run",
        "--name",
        "c1",
        "busybox",
        "sh",
        "-c",
        &format!("echo from-mdrun > /marker && rm /bin/ls && {OPAQUE}"),
    ])
    .assert_ok();
    env.mdrun(&["commit", "c1", &name]).assert_ok();
    env.mdrun(&["rm", "c1"]).assert_ok();
    let archive = env.path("mdrun.tar");
    env.mdrun(&["save", "-o", archive.to_str().unwrap(), &name])
        .assert_ok();

    assert!(
        archive_has(&env, &archive, "usr/sbin/.wh..wh..opq"),
        "mdrun saved /usr/sbin as an opaque directory"
    );

    let loaded = podman_ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(loaded.contains(&name), "podman load said: {loaded}");
    let inspect = podman_ok(&[
        "image",
        "inspect",
        &name,
        "--format",
        "{{.Config.Cmd}} {{len .RootFS.Layers}}",
    ]);
    assert_eq!(inspect.trim(), "[sh] 2");
    let mut run = vec!["run", "--rm"];
    run.extend_from_slice(RUN_FLAGS);
    run.extend_from_slice(&["--cgroup-parent", &parent]);
    run.extend_from_slice(&[&name, "sh", "-c", "cat /marker; ls /bin/ls 2>&1; true"]);
    let out = podman_ok(&run);
    assert!(
        out.starts_with("from-mdrun\n") && out.contains("No such file"),
        "{out}"
    );
    // Under podman's overlay the opaque directory hides the base layer's entries.
    let mut run = vec!["run", "--rm"];
    run.extend_from_slice(RUN_FLAGS);
    run.extend_from_slice(&["--cgroup-parent", &parent]);
    run.extend_from_slice(&[&name, "sh", "-c", OPAQUE_PROBE]);
    let out = podman_ok(&run);
    assert_eq!(out.trim(), "marker\nnew\nsh", "{out}");
    drop(made);
    remove_conmon_cgroup(&env);
    env.assert_clean();
}
