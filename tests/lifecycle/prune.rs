//! `mdrun prune`: removes stopped containers and what killed commands left behind, and
//! nothing that is running or may still be starting.

use crate::common::*;
use crate::util::*;
use std::fs;
use std::time::{Duration, SystemTime};

/// Set a path's modification time `secs` into the past.
fn age(path: &std::path::Path, secs: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs);
    fs::File::open(path)
        .and_then(|f| f.set_modified(when))
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", path.display()));
}

#[test]
fn prune_removes_stopped_containers_and_stale_leftovers_only() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "finished", "busybox", "true"])
        .assert_ok();
    let finished = record(&env, "finished").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (running, live) = start(&env, "alive", &["sleep", "30"]);
    let live_pid = live["pid"].as_i64().unwrap();

    let containers = env.root.join("containers");
    // A `run` killed before it wrote a record, a minute ago: stale.
    let killed = "a".repeat(64);
    fs::create_dir_all(containers.join(&killed).join("upper")).unwrap();
    age(&containers.join(&killed), 120);
    // One that may be starting right now: kept.
    let starting = "b".repeat(64);
    fs::create_dir_all(containers.join(&starting).join("upper")).unwrap();
    // An `rm` killed half-way.
    let half = containers.join(format!(".removing-{}", "c".repeat(64)));
    fs::create_dir_all(half.join("upper/etc")).unwrap();
    // A runtime directory without its container.
    let runtime = env.run_root.join("d".repeat(64));
    fs::create_dir_all(runtime.join("rootfs")).unwrap();
    // Cgroups of no container, in two hierarchies: one with an id this store made (its
    // last 16 digits are the store's id), one with an id it did not (another store's, or
    // one older than store ids), and one that is not mdrun's.
    let store_id = fs::read_to_string(env.root.join("store-id")).unwrap();
    let orphan = format!("mdrun-{}{}", "e".repeat(48), store_id.trim());
    let unknown = format!("mdrun-{}", "f".repeat(64));
    for ctl in ["memory", "pids"] {
        fs::create_dir(env.cgroup_dir(ctl).join(&orphan)).unwrap();
        fs::create_dir(env.cgroup_dir(ctl).join(&unknown)).unwrap();
    }
    let foreign = env.cgroup_dir("memory").join("mdrun-not-a-container");
    fs::create_dir(&foreign).unwrap();

    let out = env.mdrun(&["prune"]);
    out.assert_ok();
    assert!(
        out.stdout
            .starts_with(&format!("Deleted Containers:\n{finished}\n")),
        "{out}"
    );
    for gone in [&killed, &"c".repeat(64), &"d".repeat(64), &orphan] {
        assert!(
            out.stdout.contains(gone.as_str()),
            "prune did not report {gone}:\n{out}"
        );
    }
    assert!(!out.stdout.contains(&starting), "{out}");
    assert!(!out.stdout.contains(&unknown), "{out}");

    assert!(record(&env, "finished").is_none());
    assert_absent(&containers.join(&finished));
    assert_absent(&containers.join(&killed));
    assert_absent(&half);
    assert_absent(&runtime);
    for ctl in ["memory", "pids"] {
        assert_absent(&env.cgroup_dir(ctl).join(&orphan));
    }
    // Kept: the running container, the young directory, the cgroups that are not ours.
    assert!(alive(live_pid));
    assert_eq!(record(&env, "alive").unwrap()["status"], "running");
    assert!(containers.join(&starting).is_dir());
    assert!(foreign.is_dir());
    for ctl in ["memory", "pids"] {
        let dir = env.cgroup_dir(ctl).join(&unknown);
        assert!(dir.is_dir(), "{}", dir.display());
        fs::remove_dir(dir).unwrap();
    }

    fs::remove_dir(&foreign).unwrap();
    fs::remove_dir_all(containers.join(&starting)).unwrap();
    env.mdrun(&["rm", "-f", "alive"]).assert_ok();
    running.wait().assert_code(137);
    env.assert_clean();
}

#[test]
fn prune_removes_containers_whose_mdrun_was_killed() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "abandoned", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().unwrap();
    // SAFETY: kill(2) of our own child, the attached mdrun.
    assert_eq!(
        unsafe { libc::kill(running.pid() as i32, libc::SIGKILL) },
        0
    );
    running.wait();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the init outlived its mdrun"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = env.mdrun(&["prune"]);
    out.assert_ok();
    assert!(out.stdout.contains(rec["id"].as_str().unwrap()), "{out}");
    env.assert_clean();
}
