//! `mdrun cp` on a container that does not run: out of its layers and write layer merged,
//! into its write layer (seen when it starts again), its symlinks never followed out of
//! its root, and nothing left mounted (the leftover check looks for mounts).

use crate::common::*;
use crate::util::*;
use std::fs;

/// `mdrun run --name NAME busybox sh -c SCRIPT`, which exits 0.
fn ran(env: &TestEnv, name: &str, script: &str) -> String {
    env.mdrun(&["run", "--name", name, "busybox", "sh", "-c", script])
        .assert_ok();
    let r = record(env, name).expect("its record");
    assert_eq!(r["status"], "exited", "{r}");
    r["id"].as_str().unwrap().to_string()
}

#[test]
fn cp_copies_out_of_and_into_a_stopped_container() {
    let env = TestEnv::new();
    let script = "cat /msg 2>/dev/null; mkdir -p /data/sub; echo hello > /data/sub/f; \
                  ln -sfn /etc /data/etc; rm -f /bin/true";
    let id = ran(&env, "st", script);

    // Out: the write layer's files, the image's, and what the container deleted is gone.
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    let o = out.to_str().unwrap();
    env.mdrun(&["cp", "st:/data", o]).assert_ok();
    assert_eq!(
        fs::read_to_string(out.join("data/sub/f")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        fs::read_link(out.join("data/etc")).unwrap().to_str(),
        Some("/etc")
    );
    env.mdrun(&["cp", "st:/bin/sh", o]).assert_ok();
    assert!(fs::symlink_metadata(out.join("sh")).is_ok());
    env.mdrun(&["cp", "st:/bin/true", o])
        .assert_one_line_error(125);
    let tar = env.mdrun(&["cp", "st:/data/sub", "-"]);
    tar.assert_ok();
    assert!(tar.stdout.contains("hello"), "{tar}");

    // In: a host file and a tar stream land in the write layer ...
    fs::write(env.path("msg"), "copied in\n").unwrap();
    env.mdrun(&["cp", env.path("msg").to_str().unwrap(), "st:/msg"])
        .assert_ok();
    assert_eq!(
        fs::read_to_string(upper_file(&env, &id, "msg")).unwrap(),
        "copied in\n"
    );
    let mut stream = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    stream
        .append_data(&mut h, "streamed", &b"piped\n"[..])
        .unwrap();
    let r = env
        .cmd(&["cp", "-", "st:/data/sub"])
        .stdin(stream.into_inner().unwrap())
        .run();
    r.assert_ok();
    assert_eq!(
        fs::read_to_string(upper_file(&env, &id, "data/sub/streamed")).unwrap(),
        "piped\n"
    );
    // ... and the container sees them when it runs again.
    let again = env.mdrun(&["start", "-a", "st"]);
    again.assert_ok();
    assert_eq!(again.stdout, "copied in\n", "{again}");
    assert_eq!(record(&env, "st").unwrap()["status"], "exited");

    env.mdrun(&["rm", "st"]).assert_ok();
    env.assert_clean();
}

#[test]
fn cp_never_follows_a_stopped_containers_symlink_out_of_its_root() {
    let env = TestEnv::new();
    let host = env.path("hostside");
    fs::create_dir(&host).unwrap();
    fs::write(host.join("secret"), "host secret\n").unwrap();
    let script = format!(
        "ln -s {h} /evil; ln -s ../../../../../../../../{h} /up; ln -s {h}/secret /leak",
        h = host.display()
    );
    ran(&env, "sym", &script);
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    let o = out.to_str().unwrap();

    for src in ["sym:/evil/secret", "sym:/up/secret", "sym:/evil/."] {
        env.mdrun(&["cp", src, o]).assert_one_line_error(125);
    }
    env.mdrun(&["cp", "sym:/leak", o]).assert_ok();
    assert!(fs::symlink_metadata(out.join("leak")).unwrap().is_symlink());
    let r = env.mdrun(&["cp", "sym:/leak", "-"]);
    r.assert_ok();
    assert!(!r.stdout.contains("host secret"), "{r}");

    let file = env.path("payload");
    fs::write(&file, "payload\n").unwrap();
    for dest in ["sym:/evil/", "sym:/evil/dropped", "sym:/up/dropped"] {
        let r = env.mdrun(&["cp", file.to_str().unwrap(), dest]);
        assert_ne!(r.code, 0, "{r}");
    }
    assert_eq!(
        fs::read_dir(&host).unwrap().count(),
        1,
        "something was written through a symlink"
    );

    env.mdrun(&["rm", "sym"]).assert_ok();
    env.assert_clean();
}
