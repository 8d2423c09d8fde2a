//! `-v`: host directories and named volumes mounted into the container.

use crate::common::*;
use std::fs;

#[test]
fn host_directory_volume_write_is_visible_on_the_host() {
    let env = TestEnv::new();
    let data = env.path("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("from-host"), "host\n").unwrap();
    let volume = format!("{}:/data", data.display());
    let out = env.run(&[
        "-v",
        &volume,
        "busybox",
        "sh",
        "-c",
        "cat /data/from-host; echo hello > /data/from-container",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "host\n");
    assert_eq!(
        fs::read_to_string(data.join("from-container")).unwrap(),
        "hello\n"
    );
    env.assert_clean();
}

#[test]
fn missing_host_directory_is_created() {
    let env = TestEnv::new();
    let data = env.path("new/nested/dir");
    let volume = format!("{}:/data", data.display());
    env.run(&["-v", &volume, "busybox", "sh", "-c", "echo x > /data/f"])
        .assert_ok();
    assert!(data.is_dir(), "{} was not created", data.display());
    assert_eq!(fs::read_to_string(data.join("f")).unwrap(), "x\n");
}

#[test]
fn read_only_volume_refuses_writes() {
    let env = TestEnv::new();
    let data = env.path("ro");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("file"), "original\n").unwrap();
    let volume = format!("{}:/data:ro", data.display());
    let script =
        "cat /data/file; echo changed > /data/file; echo write=$?; touch /data/new; echo touch=$?";
    let out = env.run(&["-v", &volume, "busybox", "sh", "-c", script]);
    out.assert_ok();
    assert_eq!(out.stdout, "original\nwrite=1\ntouch=1\n", "{out}");
    assert!(out.stderr.contains("Read-only file system"), "{out}");
    assert_eq!(fs::read_to_string(data.join("file")).unwrap(), "original\n");
    assert!(!data.join("new").exists());
    // ...and the host side stays writable.
    fs::write(data.join("file"), "host can\n").unwrap();
}

#[test]
fn explicit_rw_volume_is_writable() {
    let env = TestEnv::new();
    let data = env.path("rw");
    let volume = format!("{}:/data:rw", data.display());
    env.run(&["-v", &volume, "busybox", "touch", "/data/ok"])
        .assert_ok();
    assert!(data.join("ok").exists());
}

#[test]
fn named_volume_persists_across_containers() {
    let env = TestEnv::new();
    env.run(&[
        "-v",
        "vol1:/v",
        "busybox",
        "sh",
        "-c",
        "echo kept > /v/note",
    ])
    .assert_ok();
    let on_host = env.root.join("volumes/vol1/note");
    assert_eq!(
        fs::read_to_string(&on_host).unwrap(),
        "kept\n",
        "{} not written",
        on_host.display()
    );
    let out = env.run(&["-v", "vol1:/elsewhere", "busybox", "cat", "/elsewhere/note"]);
    out.assert_ok();
    assert_eq!(out.stdout, "kept\n");
    env.assert_clean();
}

#[test]
fn volume_mount_point_is_made_in_the_write_layer_not_the_image() {
    let env = TestEnv::new();
    env.keep_containers();
    let layers_before = files::snapshot(&env.root.join("layers"));
    let data = env.path("d");
    let volume = format!("{}:/brand/new/point", data.display());
    env.mdrun(&[
        "run",
        "-v",
        &volume,
        "busybox",
        "sh",
        "-c",
        "touch /brand/new/point/x",
    ])
    .assert_ok();
    assert!(data.join("x").exists());
    let changes = files::diff(&layers_before, &files::snapshot(&env.root.join("layers")));
    assert!(
        changes.is_empty(),
        "the image layer changed:\n  {}",
        changes.join("\n  ")
    );
    let id = env.only_container();
    let upper = env.root.join("containers").join(id).join("upper");
    assert!(
        upper.join("brand/new/point").is_dir(),
        "no mount point in {}",
        upper.display()
    );
    // The file went to the volume, not to the write layer.
    assert!(!upper.join("brand/new/point/x").exists());
    env.assert_clean();
}

#[test]
fn several_volumes_at_once() {
    let env = TestEnv::new();
    let (a, b) = (env.path("a"), env.path("b"));
    let (va, vb) = (
        format!("{}:/a", a.display()),
        format!("{}:/tmp/b:ro", b.display()),
    );
    let out = env.run(&[
        "-v",
        &va,
        "-v",
        &vb,
        "-v",
        "named:/n",
        "busybox",
        "sh",
        "-c",
        "touch /a/1 /n/3; touch /tmp/b/2; echo $?",
    ]);
    out.assert_ok();
    assert_eq!(out.out(), "1", "{out}");
    assert!(a.join("1").exists() && !b.join("2").exists());
    assert!(env.root.join("volumes/named/3").exists());
}

#[test]
fn volume_over_an_image_symlink_stays_inside_the_container() {
    // The container path is a symlink in the image pointing at an absolute path that also
    // exists on the host: resolved on the host's side it would mount over the host's directory.
    let env = TestEnv::new();
    env.keep_containers();
    let host_target = env.path("must-stay-empty");
    fs::create_dir(&host_target).unwrap();
    let data = env.path("vol");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("marker"), "m").unwrap();
    let tar_dir = env.path("img");
    fs::create_dir_all(tar_dir.join("bin")).unwrap();
    fs::copy("/bin/busybox", tar_dir.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("/bin/busybox", tar_dir.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink(&host_target, tar_dir.join("escape")).unwrap();
    let tarball = env.path("img.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(&tar_dir)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    env.mdrun(&["import", tarball.to_str().unwrap(), "linky"])
        .assert_ok();
    let volume = format!("{}:/escape", data.display());
    let out = env.mdrun(&["run", "-v", &volume, "linky", "/bin/busybox", "true"]);
    // Either refused or mounted inside the container: never on the host's directory.
    if out.code != 0 {
        out.assert_mdrun_error();
    }
    assert_eq!(
        files::names(&host_target),
        Vec::<String>::new(),
        "the volume was mounted on the host"
    );
    assert!(mounts::mounts_under(&host_target).is_empty());
    env.assert_clean();
}
