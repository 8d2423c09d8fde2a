//! The harness checks itself: a scenario with no container is clean, and leaks are found.

mod common;

use common::*;
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
    let listing = std::process::Command::new("tar").arg("tf").arg(tarball).output().unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    for entry in ["bin/busybox", "bin/sh", "etc/passwd", "etc/group", "proc/", "sys/", "dev/", "tmp/", "root/", "var/run/"] {
        assert!(listing.lines().any(|l| l == entry), "{entry} missing from the fixture:\n{listing}");
    }
}

#[test]
fn an_unused_scenario_is_clean() {
    let env = TestEnv::bare();
    env.assert_clean();
    for controller in ["memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer"] {
        assert!(env.cgroup_dir(controller).is_dir(), "{controller} parent was not made");
    }
    assert!(!mounts::is_overlayfs(&env.dir));
}

#[test]
fn leaked_cgroup_and_process_are_found_and_cleaned() {
    let env = TestEnv::bare();
    let leaked = env.cgroup_dir("pids").join("mdrun-leak");
    fs::create_dir(&leaked).unwrap();
    let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    fs::write(leaked.join("cgroup.procs"), child.id().to_string()).unwrap();
    let found = env.leftovers(true);
    assert!(found.iter().any(|l| l.starts_with("cgroup ") && l.contains("mdrun-leak")), "{found:?}");
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
    let status = std::process::Command::new("mount").args(["-t", "tmpfs", "leak"]).arg(&target).status().unwrap();
    assert!(status.success());
    let found = env.leftovers(true);
    assert!(found.iter().any(|l| l.starts_with("mount ") && l.contains("/mnt")), "{found:?}");
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
