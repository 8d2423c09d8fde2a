//! The container's root: the image's layers below, a write layer of its own above.

use crate::common::*;
use std::fs;
use std::time::{Duration, Instant};

#[test]
fn writes_inside_do_not_change_the_image_layer() {
    let env = TestEnv::new();
    let layers = env.root.join("layers");
    let before = files::snapshot(&layers);
    assert!(
        before.keys().any(|p| p.ends_with("bin/busybox")),
        "no busybox in {}",
        layers.display()
    );
    let script = "echo new > /etc/newfile; echo more >> /etc/passwd; rm /bin/ls; mkdir /newdir; \
                  chmod 600 /etc/group; rm -r /var; echo done";
    env.run(&["busybox", "sh", "-c", script]).assert_ok();
    let after = files::snapshot(&layers);
    let changes = files::diff(&before, &after);
    assert!(
        changes.is_empty(),
        "the image layer changed:\n  {}",
        changes.join("\n  ")
    );
    // And the next container sees the image as it was.
    let out = env.run(&["busybox", "sh", "-c", "test -e /etc/newfile && echo leaked; grep -c . /etc/passwd; test -L /bin/ls && test -d /var/run && echo intact"]);
    out.assert_ok();
    assert_eq!(out.stdout, "2\nintact\n", "{out}");
    env.assert_clean();
}

#[test]
fn containers_do_not_see_each_others_writes() {
    let env = TestEnv::new();
    let writer = env.spawn(&["busybox", "sh", "-c", "echo mine > /shared; sleep 3"]);
    // Wait until the write is in the writer's write layer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while files::find_named(&env.root.join("containers"), "shared").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the writer's /shared never appeared in its write layer"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = env.run(&["busybox", "sh", "-c", "cat /shared; echo rc=$?"]);
    assert_eq!(out.stdout, "rc=1\n", "{out}");
    writer.wait().assert_ok();
    env.assert_clean();
}

#[test]
fn writes_persist_in_the_containers_upper_dir() {
    let env = TestEnv::new();
    env.keep_containers();
    env.mdrun(&[
        "run",
        "busybox",
        "sh",
        "-c",
        "echo persisted > /root/note; rm /etc/group",
    ])
    .assert_ok();
    let id = env.only_container();
    let upper = env.root.join("containers").join(&id).join("upper");
    assert_eq!(
        fs::read_to_string(upper.join("root/note")).unwrap(),
        "persisted\n"
    );
    // A deletion is a whiteout in the upper dir: a 0:0 character device.
    let whiteout =
        fs::symlink_metadata(upper.join("etc/group")).expect("no whiteout for /etc/group");
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    assert!(
        whiteout.file_type().is_char_device() && whiteout.rdev() == 0,
        "{whiteout:?}"
    );
    env.assert_clean();
}

#[test]
fn a_big_write_lands_in_the_write_layer() {
    let env = TestEnv::new();
    env.keep_containers();
    env.mdrun(&[
        "run",
        "busybox",
        "sh",
        "-c",
        "head -c 8m /dev/urandom > /big; sync",
    ])
    .assert_ok();
    let id = env.only_container();
    let big = env.root.join("containers").join(id).join("upper/big");
    assert_eq!(fs::metadata(&big).unwrap().len(), 8 << 20);
}
