//! `mdrun pull` and `run`'s pull against real registries on 127.0.0.1 (Debian's
//! docker-registry 2.8; images put there with skopeo from OCI layouts written here): OCI
//! and docker schema2 manifests, indexes, gzip/zstd layers, the store (a layer never
//! fetched twice, id = config digest), ENTRYPOINT/CMD/ENV/WORKDIR/USER/STOPSIGNAL, and
//! the failures: a changed blob, 404, 401, 500s, cut connections, a killed pull.

use crate::common::oci_layout::{self, files_tar, layer, Comp, Image};
use crate::common::registry::{Mode, Proxy, Registry};
use crate::common::stop_point::{self, kill_stopped};
use crate::common::*;
use serde_json::json;
use std::fs;
use std::path::Path;

/// `mdrun ARGS` with credentials, docker config and registries.conf of this scenario.
pub(super) fn md(env: &TestEnv, args: &[&str]) -> Cmd {
    env.cmd(args)
        .env("REGISTRY_AUTH_FILE", env.path("auth.json"))
        .env("DOCKER_CONFIG", env.path("docker"))
        .env("MDRUN_REGISTRIES_CONF", env.path("registries.conf"))
}

fn busybox_layer(comp: Comp) -> oci_layout::Layer {
    layer(&fs::read(busybox_tarball()).unwrap(), comp)
}

const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/srv:/bin/sh\n";
const GROUP: &[u8] = b"root:x:0:\napp:x:1234:\n";
/// Who and where the container runs, and its arguments.
const SHOW: &[u8] =
    b"#!/bin/sh\necho $(id -u):$(id -g) $(pwd) $GREETING $(cat hello.txt 2>/dev/null) args:$*\n";

/// busybox, then a layer with a user `app` (1234), /srv and /arch.
pub(super) fn app_image(arch: &'static str, comp: Comp) -> Image {
    let files = files_tar(&[
        ("etc/passwd", PASSWD, 0o644),
        ("etc/group", GROUP, 0o644),
        ("srv/hello.txt", b"hi from srv\n", 0o644),
        ("usr/local/bin/show", SHOW, 0o755),
        ("arch", arch.as_bytes(), 0o644),
    ]);
    Image {
        layers: vec![busybox_layer(comp), layer(&files, comp)],
        run: json!({
            "Entrypoint": ["/bin/echo", "ep"],
            "Cmd": ["default"],
            "Env": ["PATH=/usr/local/bin:/bin:/usr/bin", "GREETING=hello"],
            "WorkingDir": "/srv",
            "User": "app",
            "StopSignal": "SIGUSR1",
            "Labels": {"org.example.team": "registry"},
            "ExposedPorts": {"8080/tcp": {}},
        }),
        arch,
    }
}

/// Writes `image` as an OCI layout and pushes it to `dest` with skopeo.
pub(super) fn push(env: &TestEnv, image: &Image, dest: &str, format: Option<&str>) {
    let dir = env.path(&format!("layout-{}", dest.replace(['/', ':'], "_")));
    oci_layout::write_single(&dir, image, "t");
    oci_layout::skopeo_push(&dir, "t", dest, format, None, None);
}

fn image_ids(env: &TestEnv) -> Vec<String> {
    let out = env.mdrun(&["images", "-q"]);
    out.assert_ok();
    out.stdout.lines().map(str::to_string).collect()
}

fn config_digest(image: &Image) -> String {
    // As write_image makes it: the same JSON, so the same digest.
    let config = json!({
        "created": "2024-05-06T07:08:09Z",
        "architecture": image.arch,
        "os": "linux",
        "config": image.run,
        "rootfs": {"type": "layers", "diff_ids": image.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        "history": [{"created_by": "mdrun test"}],
    });
    oci_layout::digest(&serde_json::to_vec(&config).unwrap())
}

#[test]
fn pulled_image_runs_as_docker_runs_it_and_its_id_is_the_config_digest() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    let name = format!("{}/team/app:v1", reg.host());
    push(&env, &image, &name, None);

    let out = md(&env, &["pull", &name]).run();
    out.assert_ok();
    assert!(out.stdout.contains("Pull complete"), "{out}");
    assert_eq!(out.stdout.lines().last(), Some(name.as_str()), "{out}");
    let want_id = config_digest(&image);
    assert_eq!(
        image_ids(&env),
        [want_id[7..19].to_string()],
        "id = config digest"
    );

    // ENTRYPOINT + CMD; arguments replace CMD; --entrypoint replaces both.
    md(&env, &["run", "--rm", &name]).run().assert_ok();
    assert_eq!(md(&env, &["run", "--rm", &name]).run().out(), "ep default");
    assert_eq!(
        md(&env, &["run", "--rm", &name, "x", "y"]).run().out(),
        "ep x y"
    );
    let out = md(
        &env,
        &["run", "--rm", "--entrypoint", "/usr/local/bin/show", &name],
    )
    .run();
    assert_eq!(
        out.out(),
        "1234:1234 /srv hello hi from srv args:",
        "--entrypoint drops CMD:\n{out}"
    );
    let out = md(
        &env,
        &[
            "run",
            "--rm",
            "-e",
            "GREETING=over",
            "-u",
            "0",
            "-w",
            "/",
            "--entrypoint",
            "",
            &name,
            "show",
            "a",
        ],
    )
    .run();
    assert_eq!(out.out(), "0:0 / over args:a", "{out}");

    // Another name for it; the same id.
    env.mdrun(&["tag", &name, "mine:1"]).assert_ok();
    assert_eq!(
        md(&env, &["run", "--rm", "--pull", "never", "mine:1", "t"])
            .run()
            .out(),
        "ep t"
    );
    assert_eq!(image_ids(&env).len(), 1);
    env.mdrun(&["tag", "nosuch", "mine:2"]).assert_mdrun_error();
    env.mdrun(&["tag", &name, "Bad:Name"]).assert_mdrun_error();

    // Labels and exposed ports in inspect.
    let out = env.mdrun(&["inspect", &name]);
    out.assert_ok();
    assert!(
        out.stdout.contains("org.example.team") && out.stdout.contains("8080/tcp"),
        "{out}"
    );

    // STOPSIGNAL: stop sends SIGUSR1, which the shell traps and exits 7 on (SIGTERM would
    // be ignored by an init without a handler, and the stop would end in SIGKILL, 137).
    let out = md(
        &env,
        &[
            "run",
            "-d",
            "--name",
            "sig",
            "--entrypoint",
            "",
            &name,
            "sh",
            "-c",
            "trap 'exit 7' USR1; while :; do sleep 0.1; done",
        ],
    )
    .run();
    out.assert_ok();
    env.mdrun(&["stop", "-t", "30", "sig"]).assert_ok();
    let out = env.mdrun(&["wait", "sig"]);
    assert_eq!(out.out(), "7", "{out}");
    env.mdrun(&["rm", "sig"]).assert_ok();
}

#[test]
fn an_index_gives_this_machines_image_and_platform_picks_another() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let dir = env.path("layout");
    let images = [
        app_image("arm64", Comp::Gzip),
        app_image("amd64", Comp::Gzip),
    ];
    oci_layout::write_index(&dir, &images, "t");
    let name = format!("{}/multi:1", reg.host());
    oci_layout::skopeo_push(&dir, "t", &name, None, None, None);

    md(&env, &["pull", "-q", &name]).run().assert_ok();
    let arch = md(
        &env,
        &["run", "--rm", "--entrypoint", "cat", &name, "/arch"],
    )
    .run();
    assert_eq!(arch.out(), "amd64", "{arch}");
    md(&env, &["pull", "-q", "--platform", "linux/arm64", &name])
        .run()
        .assert_ok();
    let arch = md(
        &env,
        &["run", "--rm", "--entrypoint", "cat", &name, "/arch"],
    )
    .run();
    assert_eq!(arch.out(), "arm64", "{arch}");
    let out = md(&env, &["pull", "--platform", "linux/s390x", &name]).run();
    out.assert_mdrun_error();
    assert!(
        out.stderr
            .contains("no image for linux/s390x in the index (it has linux/arm64, linux/amd64)"),
        "{out}"
    );
}

#[test]
fn zstd_and_plain_layers_and_a_second_pull_fetches_no_blob() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let mut image = app_image("amd64", Comp::Zstd);
    image.layers.push(layer(
        &files_tar(&[("plain.txt", b"plain\n", 0o644)]),
        Comp::Plain,
    ));
    let name = format!("{}/zstd:1", reg.host());
    push(&env, &image, &name, None);

    md(&env, &["pull", &name]).run().assert_ok();
    let fetched = reg.blob_gets();
    assert_eq!(fetched, 4, "a config and three layers");
    let out = md(&env, &["pull", &name]).run();
    out.assert_ok();
    assert_eq!(
        reg.blob_gets(),
        fetched,
        "a second pull fetched blobs:\n{out}"
    );
    assert!(out.stdout.contains("Already exists"), "{out}");
    let out = md(
        &env,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            &name,
            "/plain.txt",
            "/arch",
        ],
    )
    .run();
    assert_eq!(out.out(), "plain\namd64", "{out}");

    // Another image sharing the busybox layer: that layer is not fetched again.
    let other = Image {
        layers: vec![
            busybox_layer(Comp::Zstd),
            layer(&files_tar(&[("o", b"o", 0o644)]), Comp::Zstd),
        ],
        run: json!({"Cmd": ["sh"]}),
        arch: "amd64",
    };
    push(&env, &other, &format!("{}/other:1", reg.host()), None);
    md(&env, &["pull", &format!("{}/other:1", reg.host())])
        .run()
        .assert_ok();
    assert_eq!(reg.blob_gets(), fetched + 2, "config and the one new layer");
}

#[test]
fn docker_schema2_images_pull_too() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    let name = format!("{}/v2s2:1", reg.host());
    push(&env, &image, &name, Some("v2s2"));
    md(&env, &["pull", "-q", &name]).run().assert_ok();
    assert_eq!(md(&env, &["run", "--rm", &name, "ok"]).run().out(), "ep ok");
}

#[test]
fn a_changed_blob_is_refused_by_digest_and_nothing_is_stored() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    let name = format!("{}/bad:1", reg.host());
    push(&env, &image, &name, None);
    let digest = image.layers[1].digest();
    let data = reg.blob_path(&digest);
    let mut bytes = fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&data, bytes).unwrap();

    let out = md(&env, &["pull", &name]).run();
    out.assert_mdrun_error();
    assert!(
        out.stderr
            .contains(&format!("blob {digest} does not match its digest")),
        "{out}"
    );
    assert!(image_ids(&env).is_empty(), "an image was stored");
    assert!(
        files::names(&env.root.join("layers")).is_empty(),
        "a layer was stored"
    );
}

#[test]
fn errors_name_the_registry_the_repository_and_what_it_said() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let out = md(&env, &["pull", &format!("{}/nosuch", reg.host())]).run();
    out.assert_mdrun_error();
    assert_eq!(
        out.stderr.trim(),
        format!(
            "mdrun: pull {}/nosuch: repository not found (404)",
            reg.host()
        )
    );
    let out = md(
        &env,
        &[
            "run",
            "--rm",
            "--pull",
            "never",
            &format!("{}/nosuch", reg.host()),
        ],
    )
    .run();
    out.assert_mdrun_error();
    let out = md(&env, &["pull", "Not/Valid"]).run();
    out.assert_mdrun_error();
}

#[test]
fn tls_with_a_certs_d_ca_and_basic_auth_after_login() {
    let env = TestEnv::bare();
    let reg = Registry::start_tls(&env.dir);
    let tls = reg.tls.as_ref().unwrap();
    let image = app_image("amd64", Comp::Gzip);
    let name = format!("{}/private:1", reg.host());
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "t");
    let certs = tls.certs_dirs.join(reg.host());
    let creds = format!("{}:{}", tls.user, tls.password);
    oci_layout::skopeo_push(&dir, "t", &name, None, Some(&creds), Some(&certs));
    let certs_env = tls.certs_dirs.to_str().unwrap();

    // Without the CA: the certificate is not trusted.
    let out = md(&env, &["pull", &name]).run();
    out.assert_mdrun_error();
    // With it, but no login: 401.
    let out = md(&env, &["pull", &name])
        .env("MDRUN_CERTS_DIRS", certs_env)
        .run();
    out.assert_mdrun_error();
    assert!(out.stderr.contains("(401)"), "{out}");
    let out = md(
        &env,
        &["login", "-u", "tester", "--password-stdin", &reg.host()],
    )
    .env("MDRUN_CERTS_DIRS", certs_env)
    .stdin("wrong\n")
    .run();
    out.assert_mdrun_error();
    assert!(
        !env.path("auth.json").exists(),
        "bad credentials were stored"
    );
    md(
        &env,
        &["login", "-u", "tester", "--password-stdin", &reg.host()],
    )
    .env("MDRUN_CERTS_DIRS", certs_env)
    .stdin("s3cret\n")
    .run()
    .assert_ok();
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(env.path("auth.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    md(&env, &["pull", "-q", &name])
        .env("MDRUN_CERTS_DIRS", certs_env)
        .run()
        .assert_ok();
    assert_eq!(
        md(&env, &["run", "--rm", &name, "tls"]).run().out(),
        "ep tls"
    );
    md(&env, &["logout", &reg.host()]).run().assert_ok();
    let out = md(&env, &["pull", &name])
        .env("MDRUN_CERTS_DIRS", certs_env)
        .run();
    assert!(out.stderr.contains("(401)"), "{out}");
}

#[test]
fn bearer_tokens_from_the_realm() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    push(&env, &image, &format!("{}/tok:1", reg.host()), None);
    let proxy = Proxy::start(reg.port, Mode::Bearer);
    let name = format!("{}/tok:1", proxy.host());
    md(&env, &["pull", "-q", &name]).run().assert_ok();
    let counts = proxy.counts();
    assert!(counts.tokens >= 1 && counts.unauthorized >= 1, "{counts:?}");
}

#[test]
fn server_errors_are_retried_and_a_cut_blob_resumes_with_range() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    push(&env, &image, &format!("{}/flaky:1", reg.host()), None);

    let proxy = Proxy::start(reg.port, Mode::FailBlobs(2));
    md(&env, &["pull", "-q", &format!("{}/flaky:1", proxy.host())])
        .run()
        .assert_ok();
    assert_eq!(proxy.counts().failed, 2);

    let env2 = TestEnv::bare();
    let proxy = Proxy::start(reg.port, Mode::CutBlobAfter(300_000));
    md(&env2, &["pull", "-q", &format!("{}/flaky:1", proxy.host())])
        .run()
        .assert_ok();
    let counts = proxy.counts();
    assert!(counts.cut == 1 && counts.ranges >= 1, "{counts:?}");
    let out = md(
        &env2,
        &["run", "--rm", &format!("{}/flaky:1", proxy.host()), "whole"],
    )
    .run();
    assert_eq!(out.out(), "ep whole", "{out}");
}

#[test]
fn a_killed_pull_is_finished_by_the_next_and_concurrent_pulls_agree() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    let name = format!("{}/killed:1", reg.host());
    push(&env, &image, &name, None);
    let args = ["pull", "-q", &name];
    let (running, pid) = {
        let cmd = md(&env, &args).env(stop_point::STOP_AT, "pull:layer");
        let mut running = cmd.spawn();
        let pid = running.pid() as i32;
        while stop_point::state(pid) != Some('T') {
            assert!(!running.exited(), "the pull ended before its stop point");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        (running, pid)
    };
    kill_stopped(running, pid);
    assert!(
        !files::names(&env.root.join("tmp")).is_empty(),
        "the killed pull left nothing to clean"
    );
    // The next pull sweeps what it left and finishes.
    md(&env, &args).run().assert_ok();
    assert_eq!(image_ids(&env).len(), 1);

    // Two at once into an empty store: one image, each layer once.
    let env2 = TestEnv::bare();
    let a = md(&env2, &args).spawn();
    let b = md(&env2, &args).spawn();
    a.wait().assert_ok();
    b.wait().assert_ok();
    assert_eq!(image_ids(&env2).len(), 1);
    assert_eq!(files::names(&env2.root.join("layers")).len(), 2);
}

#[test]
fn run_pulls_a_missing_image_and_short_names_use_the_search_registries() {
    let env = TestEnv::bare();
    let reg = Registry::start(&env.dir);
    let image = app_image("amd64", Comp::Gzip);
    push(&env, &image, &format!("{}/app:v1", reg.host()), None);
    fs::write(
        env.path("registries.conf"),
        format!("unqualified-search-registries = [\"{}\"]\n", reg.host()),
    )
    .unwrap();
    let out = md(&env, &["run", "--rm", "--pull", "never", "app:v1"]).run();
    out.assert_mdrun_error();
    let out = md(&env, &["run", "--rm", "app:v1", "pulled"]).run();
    assert_eq!(out.out(), "ep pulled", "{out}");
    assert_eq!(
        out.stderr, "",
        "without a terminal, a pull in run says nothing"
    );
    let fetched = reg.blob_gets();
    // Present now (stored as HOST/app:v1): no pull, no blob.
    let out = md(&env, &["run", "--rm", "app:v1", "again"]).run();
    assert_eq!(out.out(), "ep again", "{out}");
    assert_eq!(reg.blob_gets(), fetched);
    let _: &Path = env.dir.as_path();
}
