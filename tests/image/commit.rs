//! `mdrun commit`: a container's changes as one more layer, for stopped and running
//! containers; the new image runs with the changes (added files there, deleted ones gone,
//! replaced directories opaque), and bad requests change nothing.

use crate::common;
use crate::common::*;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a container changes in busybox's root filesystem.
const CHANGES: &str = "echo hi > /added && rm /bin/ls && rm -rf /etc && mkdir /etc \
                       && echo only > /etc/only";
/// Prints what a container of the committed image sees of those changes.
const PROBE: &str =
    "cat /added; test -e /bin/ls || echo ls-gone; ls /etc; test -x /bin/sh && echo sh";

fn image_id(out: &Out) -> String {
    out.assert_ok();
    let id = out
        .out()
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{out}"
    );
    id.to_string()
}

/// Layers, image files and scratch dirs of the store, to compare before and after.
fn store_state(env: &TestEnv) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        files::names(&env.root.join("layers")),
        files::names(&env.root.join("images")),
        files::names(&env.root.join("tmp")),
    )
}

#[test]
fn a_committed_stopped_container_runs_with_its_changes() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    let id = image_id(&env.mdrun(&["commit", "c1", "snap:v1"]));
    let out = env.run(&["snap:v1", "sh", "-c", PROBE]);
    out.assert_ok();
    assert_eq!(out.out(), "hi\nls-gone\nonly\nsh", "{out}");
    // One more layer than busybox, found by the id printed.
    let inspect = env.mdrun(&["inspect", &id]);
    inspect.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(json[0]["layers"].as_array().unwrap().len(), 2, "{inspect}");
    assert_eq!(json[0]["config"]["cmd"][0], "sh", "the config is busybox's");

    // Layers stack: a container of the committed image deletes a file of the top layer
    // and one of the bottom layer.
    env.mdrun(&[
        "run",
        "--name",
        "c2",
        "snap:v1",
        "sh",
        "-c",
        "rm /added /bin/cat; echo 2 > /second",
    ])
    .assert_ok();
    env.mdrun(&["commit", "c2", "snap:v2"]).assert_ok();
    let out = env.run(&[
        "snap:v2",
        "sh",
        "-c",
        "ls /added /bin/cat 2>&1; cat /second /etc/only",
    ]);
    assert!(out.stdout.contains("/added: No such file"), "{out}");
    assert!(out.stdout.contains("/bin/cat: No such file"), "{out}");
    assert!(out.stdout.ends_with("2\nonly\n"), "{out}");
    env.mdrun(&["rm", "c1", "c2"]).assert_ok();
    env.assert_clean();
}

#[test]
fn committing_the_same_changes_twice_reuses_the_layer() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    let first = image_id(&env.mdrun(&["commit", "c1", "snap:a"]));
    let layers = files::names(&env.root.join("layers"));
    let second = image_id(&env.mdrun(&["commit", "c1", "snap:b"]));
    assert_eq!(first, second, "same layers and config: same image");
    assert_eq!(files::names(&env.root.join("layers")), layers);
    env.mdrun(&["rm", "c1"]).assert_ok();
    env.assert_clean();
}

fn upper_of(env: &TestEnv, name: &str) -> PathBuf {
    let out = env.mdrun(&["inspect", name]);
    out.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let id = json[0]["Id"].as_str().unwrap().to_string();
    env.root.join("containers").join(id).join("upper")
}

/// Whether the container's cgroup is frozen (v1 `freezer.state`, v2 `cgroup.events`);
/// None when it has no freezer.
fn frozen(env: &TestEnv, name: &str) -> Option<bool> {
    let out = env.mdrun(&["inspect", name]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let dirs: Vec<PathBuf> = json[0]["Mdrun"]["cgroup_paths"]
        .as_array()?
        .iter()
        .filter_map(|p| Some(PathBuf::from(p.as_str()?)))
        .collect();
    if let Some(state) = dirs
        .iter()
        .find_map(|d| fs::read_to_string(d.join("freezer.state")).ok())
    {
        return Some(state.trim() == "FROZEN");
    }
    dirs.iter()
        .find_map(|d| fs::read_to_string(d.join("cgroup.events")).ok())
        .map(|events| events.lines().any(|l| l.trim() == "frozen 1"))
}

#[test]
fn a_running_container_is_committed_frozen_and_keeps_running() {
    let env = TestEnv::new();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo running > /state; while true; do date > /tick; sleep 0.05; done",
    ])
    .assert_ok();
    let upper = upper_of(&env, "live");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !upper.join("state").exists() {
        assert!(
            Instant::now() < deadline,
            "the container never wrote /state"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stopped half-way through (after freezing, before reading the layer): the container's
    // cgroup is frozen then.
    let (committing, pid) =
        common::stop_point::spawn_stopped(&env, "commit:frozen", &["commit", "live", "live:snap"]);
    assert_eq!(frozen(&env, "live"), Some(true), "frozen during the commit");
    common::stop_point::signal(pid, libc::SIGCONT);
    image_id(&committing.wait());
    assert_eq!(frozen(&env, "live"), Some(false), "thawed after the commit");
    let out = env.run(&["live:snap", "cat", "/state"]);
    out.assert_ok();
    assert_eq!(out.out(), "running");
    // Still at work.
    let before = fs::read_to_string(upper.join("tick")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while fs::read_to_string(upper.join("tick")).unwrap_or_default() == before {
        assert!(
            Instant::now() < deadline,
            "the container stopped working after commit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    env.mdrun(&["rm", "-f", "live"]).assert_ok();
    env.assert_clean();
}

#[test]
fn commit_to_a_bad_name_or_of_an_unknown_container_changes_nothing() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    let before = store_state(&env);
    for bad in ["UPPER", "a b", "..", "x:", "a@b"] {
        let out = env.mdrun(&["commit", "c1", bad]);
        out.assert_mdrun_error();
        assert!(out.stderr.contains("invalid image reference"), "{out}");
    }
    let out = env.mdrun(&["commit", "no-such-container", "fine:1"]);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("no-such-container"), "{out}");
    assert_eq!(store_state(&env), before);
    env.mdrun(&["rm", "c1"]).assert_ok();
    env.assert_clean();
}

/// A 200 MB write layer commits whole: the new image carries every byte (its speed against
/// GNU tar is measured by bench/run, not asserted here).
#[test]
fn commit_of_a_200mb_layer_keeps_every_byte() {
    let _heavy = heavy_lock();
    let env = TestEnv::new();
    let fill = "for i in 1 2 3 4; do dd if=/dev/urandom of=/big$i bs=1M count=50 2>/dev/null; done; md5sum /big* > /sums";
    env.mdrun(&["run", "--name", "big", "busybox", "sh", "-c", fill])
        .assert_ok();
    env.mdrun(&["commit", "big", "big:1"]).assert_ok();
    let out = env.mdrun(&[
        "run",
        "--rm",
        "big:1",
        "sh",
        "-c",
        "md5sum -c /sums && du -sm /big1 /big2 /big3 /big4",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout.matches(": OK").count(), 4, "{}", out.stdout);
    env.mdrun(&["rmi", "big:1"]).assert_ok();
    env.mdrun(&["rm", "big"]).assert_ok();
    env.assert_clean();
}

/// The ids of the container's own layers (`layers` of its record: what commits of it while
/// stopped moved out of its write layer).
fn own_layers(env: &TestEnv, name: &str) -> Vec<String> {
    let out = env.mdrun(&["inspect", name]);
    out.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json[0]["Mdrun"]["layers"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A stopped container's write layer is moved into the store, not copied: the container
/// goes on seeing its files (and writes new ones into a fresh write layer that the image
/// does not see), its layers outlive `rmi` of the images made of them, and `rm` of the
/// container deletes them once nothing uses them.
#[test]
fn a_stopped_container_is_committed_by_moving_its_write_layer() {
    let env = TestEnv::new();
    let layers_before = files::names(&env.root.join("layers"));
    let count = "echo run >> /runs; wc -l < /runs";
    let out = env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", count]);
    assert_eq!(out.out(), "1", "{out}");
    let upper = upper_of(&env, "c1");
    let first = image_id(&env.mdrun(&["commit", "c1", "snap:1"]));
    assert!(files::names(&upper).is_empty(), "the write layer moved");
    let own = own_layers(&env, "c1");
    assert_eq!(own.len(), 1);
    assert!(env.root.join("layers").join(&own[0]).join("runs").is_file());
    let inspect: serde_json::Value =
        serde_json::from_str(&env.mdrun(&["inspect", &first]).stdout).unwrap();
    assert_eq!(inspect[0]["layers"][1], own[0].as_str(), "{inspect}");

    // The container sees its file and adds to it; the image does not see that.
    let out = env.mdrun(&["start", "-a", "c1"]);
    assert_eq!(out.out(), "2", "{out}");
    let out = env.run(&["snap:1", "cat", "/runs"]);
    assert_eq!(out.out(), "run", "{out}");
    // Committed again: one more layer; once more with nothing written: the same image.
    let second = image_id(&env.mdrun(&["commit", "c1", "snap:2"]));
    assert_eq!(own_layers(&env, "c1").len(), 2);
    let again = image_id(&env.mdrun(&["commit", "c1", "snap:3"]));
    assert_eq!(
        again, second,
        "nothing written since: the same layers, the same image"
    );
    let out = env.run(&["snap:2", "sh", "-c", "wc -l < /runs"]);
    assert_eq!(out.out(), "2", "{out}");

    // The images go; the container's layers stay with it, and it still runs.
    for tag in ["snap:1", "snap:2", "snap:3"] {
        env.mdrun(&["rmi", tag]).assert_ok();
    }
    let own = own_layers(&env, "c1");
    for layer in &own {
        assert!(env.root.join("layers").join(layer).is_dir(), "{layer} kept");
    }
    let out = env.mdrun(&["start", "-a", "c1"]);
    assert_eq!(out.out(), "3", "{out}");
    env.mdrun(&["rm", "c1"]).assert_ok();
    assert_eq!(files::names(&env.root.join("layers")), layers_before);
    env.assert_clean();
}

/// A layer both an image and a container use stays until both are gone, whichever goes
/// first; `export` of the container shows its files after the move.
#[test]
fn a_moved_layer_stays_until_the_image_and_the_container_are_gone() {
    let env = TestEnv::new();
    let layers_before = files::names(&env.root.join("layers"));
    env.mdrun(&["run", "--name", "c1", "busybox", "sh", "-c", CHANGES])
        .assert_ok();
    env.mdrun(&["commit", "c1", "snap:1"]).assert_ok();
    let own = own_layers(&env, "c1");
    let tar = env.dir.join("c1.tar");
    env.mdrun(&["export", "-o", tar.to_str().unwrap(), "c1"])
        .assert_ok();
    let listing = std::process::Command::new("tar")
        .args(["-tf", tar.to_str().unwrap()])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.lines().any(|l| l == "added"), "{listing}");
    assert!(!listing.lines().any(|l| l == "bin/ls"), "{listing}");
    fs::remove_file(&tar).unwrap();
    env.mdrun(&["rm", "c1"]).assert_ok();
    assert!(
        env.root.join("layers").join(&own[0]).is_dir(),
        "the image uses it"
    );
    let out = env.run(&["snap:1", "sh", "-c", PROBE]);
    assert_eq!(out.out(), "hi\nls-gone\nonly\nsh", "{out}");
    env.mdrun(&["rmi", "snap:1"]).assert_ok();
    assert_eq!(files::names(&env.root.join("layers")), layers_before);
    env.assert_clean();
}
