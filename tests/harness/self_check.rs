//! The harness checks itself: a scenario with no container is clean, and leaks are found.

use crate::common::*;
use std::fs;

#[test]
fn fixture_tarball_is_built_and_deterministic() {
    let tarball = busybox_tarball();
    let again = fixture::target_tmp().join("busybox-rootfs-again.tar");
    let status = std::process::Command::new("bash")
        .arg(fixture::fixture_script())
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    let (a, b) = (fs::read(tarball).unwrap(), fs::read(&again).unwrap());
    fs::remove_file(&again).unwrap();
    assert!(a == b, "two builds of the busybox fixture differ");
    let listing = std::process::Command::new("tar")
        .arg("tf")
        .arg(tarball)
        .output()
        .unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    for entry in [
        "bin/busybox",
        "bin/sh",
        "etc/passwd",
        "etc/group",
        "proc/",
        "sys/",
        "dev/",
        "tmp/",
        "root/",
        "var/run/",
    ] {
        assert!(
            listing.lines().any(|l| l == entry),
            "{entry} missing from the fixture:\n{listing}"
        );
    }
}

#[test]
fn an_unused_scenario_is_clean() {
    let env = TestEnv::bare();
    env.assert_clean();
    for controller in [
        "memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer",
    ] {
        assert!(
            env.cgroup_dir(controller).is_dir(),
            "{controller} parent was not made"
        );
    }
    assert!(!mounts::is_overlayfs(&env.dir));
}

#[test]
fn leaked_cgroup_and_process_are_found_and_cleaned() {
    let env = TestEnv::bare();
    let leaked = env.cgroup_dir("pids").join("mdrun-leak");
    fs::create_dir(&leaked).unwrap();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    fs::write(leaked.join("cgroup.procs"), child.id().to_string()).unwrap();
    let found = env.leftovers(true);
    assert!(
        found
            .iter()
            .any(|l| l.starts_with("cgroup ") && l.contains("mdrun-leak")),
        "{found:?}"
    );
    assert!(found.iter().any(|l| l.starts_with("process ")), "{found:?}");
    env.cgroup.remove().unwrap();
    child.wait().unwrap();
    assert!(!leaked.exists());
    assert!(env.cgroup.leftovers().is_empty());
    // Drop removes the (already removed) parent again without complaint.
}

#[test]
fn leaked_mount_is_found() {
    let env = TestEnv::bare();
    let target = env.path("mnt");
    fs::create_dir(&target).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "leak"])
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    let found = env.leftovers(true);
    assert!(
        found
            .iter()
            .any(|l| l.starts_with("mount ") && l.contains("/mnt")),
        "{found:?}"
    );
    mounts::detach(&target).unwrap();
    env.assert_clean();
}

#[test]
#[should_panic(expected = "mdrun left behind")]
fn a_leak_fails_the_scenario_on_drop() {
    let env = TestEnv::bare();
    fs::create_dir(env.cgroup_dir("memory").join("mdrun-leak")).unwrap();
    // Drop finds it, removes it, and fails the test naming it.
}

#[test]
fn hand_made_tarballs_are_what_gnu_tar_reads() {
    use crate::common::tarball::{Kind, Tar};
    let env = TestEnv::bare();
    let tar = Tar::new()
        .entry("a/", Kind::Dir)
        .entry("a/f", Kind::File(b"hello"))
        .entry("l", Kind::Symlink("/abs/target"))
        .entry("h", Kind::Hardlink("a/f"))
        .entry("../up", Kind::File(b""))
        .finish();
    let file = env.path("t.tar");
    fs::write(&file, tar).unwrap();
    let out = std::process::Command::new("tar")
        .arg("tvf")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 5, "{listing}");
    assert!(
        lines[0].starts_with('d') && lines[0].ends_with(" a/"),
        "{listing}"
    );
    assert!(
        lines[1].starts_with('-') && lines[1].contains(" 5 ") && lines[1].ends_with(" a/f"),
        "{listing}"
    );
    assert!(lines[2].ends_with("l -> /abs/target"), "{listing}");
    assert!(lines[3].ends_with("h link to a/f"), "{listing}");
    assert!(lines[4].ends_with(" ../up"), "{listing}");
}
