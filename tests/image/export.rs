//! `mdrun export`: a container's flat root filesystem, of stopped and running containers,
//! to a file and to standard output. (`save` and `load`: save_load.rs.)

use crate::common::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

/// Changes to busybox's root: a file added, one deleted, a directory replaced.
pub(super) const CHANGES: &str = "echo hi > /added && rm /bin/ls && rm -rf /etc && mkdir /etc \
                       && echo only > /etc/only";

/// Member names of a tarball, as GNU tar lists them, without a leading `./`.
pub(super) fn members(tarball: &Path) -> BTreeSet<String> {
    let out = Command::new("tar")
        .arg("-tf")
        .arg(tarball)
        .output()
        .unwrap();
    assert!(out.status.success(), "tar -tf {}", tarball.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect()
}

#[test]
fn export_writes_the_merged_root_filesystem_of_a_stopped_container() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    let tarball = env.path("c1.tar");
    env.mdrun(&["export", "-o", tarball.to_str().unwrap(), "c1"])
        .assert_ok();
    let names = members(&tarball);
    for present in ["added", "etc/only", "bin/sh", "bin/busybox"] {
        assert!(names.contains(present), "{present} missing from {names:?}");
    }
    assert!(!names.contains("bin/ls"), "a deleted file was exported");
    assert!(
        names.iter().all(|n| !n.contains(".wh.")),
        "whiteouts in a flat export: {names:?}"
    );
    let etc: Vec<&String> = names.iter().filter(|n| n.starts_with("etc/")).collect();
    assert_eq!(
        etc,
        ["etc/only"],
        "the replaced /etc shows only its own file"
    );
    // It is a root filesystem `import` takes back.
    env.mdrun(&["import", tarball.to_str().unwrap(), "flat:1"])
        .assert_ok();
    let out = env.run(&[
        "flat:1",
        "sh",
        "-c",
        "cat /added /etc/only; ls /bin/ls 2>&1",
    ]);
    assert!(
        out.stdout.starts_with("hi\nonly\n") && out.stdout.contains("No such file"),
        "{out}"
    );
    env.mdrun(&["rm", "c1"]).assert_ok();
    env.assert_clean();
}

#[test]
fn export_of_a_running_container_and_to_standard_output() {
    let env = TestEnv::new();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo running > /state; sleep 1000",
    ])
    .assert_ok();
    let tarball = env.path("live.tar");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        env.mdrun(&["export", "-o", tarball.to_str().unwrap(), "live"])
            .assert_ok();
        if members(&tarball).contains("state") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "/state never showed in the export"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // No -o: the archive goes to stdout (here a pipe).
    let out = Command::new(MDRUN)
        .args(["export", "live"])
        .env("MDRUN_CONFIG", &env.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let piped = env.path("piped.tar");
    fs::write(&piped, &out.stdout).unwrap();
    assert!(members(&piped).contains("state"));
    env.mdrun(&["rm", "-f", "live"]).assert_ok();
    env.assert_clean();
}
