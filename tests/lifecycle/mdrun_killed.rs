//! SIGKILL of mdrun at several points of `run`, `commit` and `rm` (stopped there by
//! `MDRUN_TEST_STOP_AT`, see tests/common/stop_point.rs): the next command understands what
//! it left (`ps -a`), and `rm` or `prune` cleans it, with no mount, cgroup, process, record,
//! runtime directory or scratch directory left (TestEnv checks).

use crate::common::stop_point::{kill_stopped, signal, spawn_stopped};
use crate::common::*;
use crate::util::*;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every `mdrun-*` cgroup directory under the scenario's parent, in every hierarchy.
fn container_cgroups(env: &TestEnv) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for ctl in ["memory", "pids", "cpu", "devices", "freezer"] {
        let dir = env.cgroup_dir(ctl);
        for name in files::names(&dir) {
            if name.starts_with("mdrun-") {
                found.push(dir.join(name));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// `run` killed after its claim, after cloning the init, and after placing it in its
/// cgroup; attached and detached (then it is the supervisor that is killed). Each time the
/// record is there as soon as the claim is, says "created" while the killed run is gone,
/// and `rm` or `prune` removes everything.
#[test]
fn run_killed_at_three_points_is_cleaned_by_rm_or_prune() {
    let env = TestEnv::new();
    let cases = [
        ("run:claimed", false, "rm"),
        ("run:claimed", false, "prune"),
        ("run:spawned", false, "rm"),
        ("run:spawned", true, "prune"),
        ("run:placed", false, "prune"),
        ("run:placed", true, "rm"),
    ];
    for (i, (step, detach, cleaner)) in cases.into_iter().enumerate() {
        let name = format!("k{i}");
        let mut args = vec!["run", "--name", &name];
        if detach {
            args.push("-d");
        }
        args.extend(["busybox", "sleep", "30"]);
        let (running, stopped) = spawn_stopped(&env, step, &args);
        let rec = record(&env, &name).unwrap_or_else(|| panic!("{step}: no record"));
        assert_eq!(rec["status"], "created", "{step}: {rec}");
        assert_eq!(rec["supervisor_pid"], stopped, "{step}: {rec}");
        assert_eq!(
            detach,
            stopped != running.pid() as i32,
            "{step}: a detached run stops in its supervisor"
        );
        if step == "run:placed" {
            // The init is in its cgroup, waiting for the go-ahead.
            env.container_cgroup("pids");
        }
        // While the run lives, it is being created: rm refuses it, prune keeps it.
        assert_eq!(ps_entry(&env, &name)["State"], "created");
        let refused = env.mdrun(&["rm", &name]);
        refused.assert_mdrun_error();
        assert!(refused.stderr.contains("being started"), "{refused}");

        let out = kill_stopped(running, stopped);
        if detach {
            // `run -d` lost its supervisor: it says so.
            out.assert_mdrun_error();
            assert!(out.stderr.contains("supervisor"), "{out}");
        } else {
            assert_eq!(out.code, 128 + libc::SIGKILL, "{out}");
        }
        // Stale now: shown as created (it never ran), its leftovers freed.
        let entry = ps_entry(&env, &name);
        assert_eq!(entry["State"], "created", "{step}: {entry}");
        let id = rec["id"].as_str().unwrap().to_string();
        match cleaner {
            "rm" => {
                let out = env.mdrun(&["rm", &name]);
                out.assert_ok();
            }
            _ => {
                let out = env.mdrun(&["prune"]);
                out.assert_ok();
                assert!(out.stdout.contains(&id), "{step}: {out}");
            }
        }
        assert!(record(&env, &name).is_none(), "{step}: record kept");
        assert!(
            container_cgroups(&env).is_empty(),
            "{step}: {:?}",
            container_cgroups(&env)
        );
        env.assert_clean();
    }
}

/// The freezer state of the container's cgroup: Some(true) when frozen.
fn frozen(env: &TestEnv, name: &str) -> Option<bool> {
    let rec = record(env, name)?;
    for dir in rec["cgroup_paths"]
        .as_array()?
        .iter()
        .filter_map(|p| p.as_str())
    {
        let dir = PathBuf::from(dir);
        if let Ok(state) = fs::read_to_string(dir.join("freezer.state")) {
            return Some(state.trim() == "FROZEN");
        }
    }
    for dir in rec["cgroup_paths"]
        .as_array()?
        .iter()
        .filter_map(|p| p.as_str())
    {
        if let Ok(events) = fs::read_to_string(PathBuf::from(dir).join("cgroup.events")) {
            return Some(events.lines().any(|l| l.trim() == "frozen 1"));
        }
    }
    None
}

/// A working container whose write layer changes all the time.
fn ticking(env: &TestEnv, name: &str) -> PathBuf {
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        name,
        "busybox",
        "sh",
        "-c",
        "echo running > /state; while true; do date +%s%N > /tick; sleep 0.05; done",
    ])
    .assert_ok();
    let id = record(env, name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let upper = env.root.join("containers").join(id).join("upper");
    wait_until("the container to write /tick", || {
        upper.join("tick").exists()
    });
    upper
}

/// Until the container's /tick changes: it is at work (not frozen).
fn wait_working(upper: &std::path::Path) {
    let before = fs::read_to_string(upper.join("tick")).unwrap_or_default();
    wait_until("the container to work again", || {
        fs::read_to_string(upper.join("tick")).unwrap_or_default() != before
    });
}

/// `commit` killed with the container frozen, and killed with its new layer unpacked in
/// `<root>/tmp` but not published: the watchdog thaws the container, no image appears,
/// `prune` sweeps the scratch directory, and the next commit works.
#[test]
fn commit_killed_at_two_points_thaws_the_container_and_prune_sweeps_its_scratch() {
    let env = TestEnv::new();
    let upper = ticking(&env, "live");
    let images_before = files::names(&env.root.join("images"));
    for step in ["commit:frozen", "commit:layer"] {
        let (running, pid) = spawn_stopped(&env, step, &["commit", "live", "snap:1"]);
        assert_eq!(frozen(&env, "live"), Some(true), "{step}: frozen meanwhile");
        let scratch = files::names(&env.root.join("tmp"));
        if step == "commit:layer" {
            assert!(
                scratch.iter().any(|n| n.starts_with("commit-")),
                "{step}: the layer is being made in tmp: {scratch:?}"
            );
        }
        let out = kill_stopped(running, pid);
        assert_eq!(out.code, 128 + libc::SIGKILL, "{out}");
        // The watchdog saw its pipe close and thawed the container.
        wait_until("the watchdog to thaw the container", || {
            frozen(&env, "live") == Some(false)
        });
        wait_working(&upper);
        assert_eq!(files::names(&env.root.join("images")), images_before);
        assert_eq!(ps_entry(&env, "live")["State"], "running");
        let out = env.mdrun(&["prune"]);
        out.assert_ok();
        if step == "commit:layer" {
            assert!(out.stdout.contains("scratch directory"), "{out}");
        }
        assert!(files::names(&env.root.join("tmp")).is_empty());
    }
    // The next commit works, and its image has the container's writes.
    env.mdrun(&["commit", "live", "snap:1"]).assert_ok();
    let out = env.run(&["snap:1", "cat", "/state"]);
    assert_eq!(out.out(), "running", "{out}");
    env.mdrun(&["rm", "-f", "live"]).assert_ok();
    env.mdrun(&["rmi", "snap:1"]).assert_ok();
    env.assert_clean();
}

/// `commit` of a stopped container killed at each step of moving its write layer into the
/// store: before anything changed, after its record names the new layer (the write layer
/// not moved yet), and after the move (no empty write layer yet). The container still sees
/// its files (`start` finishes the move), the next commit works, and an `rm` killed after
/// renaming the container away leaves the moved layer to `prune`.
#[test]
fn commit_of_a_stopped_container_killed_while_moving_its_write_layer() {
    let env = TestEnv::new();
    let layers_before = files::names(&env.root.join("layers"));
    let count = "echo run >> /runs; wc -l < /runs";
    let out = env.mdrun(&["run", "--name", "s1", "busybox", "sh", "-c", count]);
    assert_eq!(out.out(), "1", "{out}");
    let mut runs = 1;
    for step in ["commit:hashed", "commit:recorded", "commit:moved"] {
        let (running, pid) = spawn_stopped(&env, step, &["commit", "s1", "snap:1"]);
        assert_eq!(
            kill_stopped(running, pid).code,
            128 + libc::SIGKILL,
            "{step}"
        );
        assert!(
            !env.root.join("images").join("tags.json").exists()
                || !fs::read_to_string(env.root.join("images").join("tags.json"))
                    .unwrap()
                    .contains("snap"),
            "{step}: no image"
        );
        runs += 1;
        let out = env.mdrun(&["start", "-a", "s1"]);
        assert_eq!(out.out(), runs.to_string(), "{step}: {out}");
    }
    let id = image_id_of(&env.mdrun(&["commit", "s1", "snap:1"]));
    let out = env.run(&[&id, "sh", "-c", "wc -l < /runs"]);
    assert_eq!(out.out(), runs.to_string(), "{out}");
    env.mdrun(&["rmi", "snap:1"]).assert_ok();

    let cid = record(&env, "s1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut own: Vec<String> = record(&env, "s1").unwrap()["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    // Killed at `commit:recorded` and `commit:moved`, the layer stays on record (the move
    // is finished by `start`); the last commit moved a third.
    assert_eq!(own.len(), 3, "{own:?}");
    let (running, pid) = spawn_stopped(&env, "rm:renamed", &["rm", "s1"]);
    assert_eq!(kill_stopped(running, pid).code, 128 + libc::SIGKILL);
    own.sort();
    assert_eq!(env.unused_layers(), own, "left by the killed rm");
    let out = env.mdrun(&["prune"]);
    out.assert_ok();
    assert!(out.stdout.contains(&cid), "{out}");
    assert!(out.stdout.contains("unused layer"), "{out}");
    assert_eq!(files::names(&env.root.join("layers")), layers_before);
    env.assert_clean();
}

fn image_id_of(out: &Out) -> String {
    out.assert_ok();
    out.out()
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("{out}"))
        .to_string()
}

/// `rm` killed after it freed the cgroup and runtime directory (the record is still
/// there: the next `rm` finishes), and after it renamed the data directory away (the
/// container is gone from every listing: `prune` deletes the rest).
#[test]
fn rm_killed_at_two_points_is_finished_by_rm_or_prune() {
    let env = TestEnv::new();
    // A running container, killed by `rm -f`, which is then killed itself.
    env.mdrun(&["run", "-d", "--name", "r1", "busybox", "sleep", "30"])
        .assert_ok();
    let rec = record(&env, "r1").unwrap();
    let (running, pid) = spawn_stopped(&env, "rm:released", &["rm", "-f", "r1"]);
    assert!(
        !alive(rec["pid"].as_i64().unwrap()),
        "rm -f killed it first"
    );
    assert!(existing_cgroups(&rec).is_empty(), "its cgroup is gone");
    assert_eq!(kill_stopped(running, pid).code, 128 + libc::SIGKILL);
    let entry = ps_entry(&env, "r1");
    assert_eq!(entry["State"], "exited", "{entry}");
    assert_eq!(entry["ExitCode"], 137, "{entry}");
    env.mdrun(&["rm", "r1"]).assert_ok();
    env.assert_clean();

    env.mdrun(&[
        "run",
        "--name",
        "r2",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/f bs=1M count=8 2>/dev/null",
    ])
    .assert_ok();
    let id = record(&env, "r2").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (running, pid) = spawn_stopped(&env, "rm:renamed", &["rm", "r2"]);
    assert_eq!(kill_stopped(running, pid).code, 128 + libc::SIGKILL);
    let half = env.root.join("containers").join(format!(".removing-{id}"));
    assert!(half.join("upper/f").is_file(), "killed before deleting");
    assert!(ps_all(&env).is_empty(), "r2 is gone from ps -a");
    env.mdrun(&["rm", "r2"]).assert_mdrun_error();
    let out = env.mdrun(&["prune"]);
    out.assert_ok();
    assert!(out.stdout.contains(&id), "{out}");
    assert_absent(&half);
    env.assert_clean();
}

/// Killing is not the only way out of a stop point: a run stopped at its claim goes on.
#[test]
fn a_run_stopped_at_a_step_goes_on_when_continued() {
    let env = TestEnv::new();
    let (running, pid) = spawn_stopped(
        &env,
        "run:placed",
        &["run", "--rm", "busybox", "echo", "on"],
    );
    signal(pid, libc::SIGCONT);
    let out = running.wait();
    out.assert_ok();
    assert_eq!(out.out(), "on");
    env.assert_clean();
}

/// `start` whose supervisor is killed once the init is in its cgroup: `start` says so, the
/// record is as before (exited), nothing of the attempt is left, and the next `start` works.
#[test]
fn start_killed_in_its_supervisor_gives_the_container_back() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "again", "busybox", "sh", "-c", "exit 4"])
        .assert_code(4);
    let (running, pid) = spawn_stopped(&env, "run:placed", &["start", "again"]);
    assert_ne!(pid, running.pid() as i32, "stopped in the supervisor");
    env.container_cgroup("pids");
    let out = kill_stopped(running, pid);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("supervisor"), "{out}");
    let entry = ps_entry(&env, "again");
    assert_eq!(entry["State"], "exited", "{entry}");
    assert_eq!(entry["ExitCode"], 4, "{entry}");
    assert!(
        container_cgroups(&env).is_empty(),
        "{:?}",
        container_cgroups(&env)
    );
    env.mdrun(&["start", "-a", "again"]).assert_code(4);
    env.mdrun(&["rm", "again"]).assert_ok();
    env.assert_clean();
}

/// cgroupfs: the cgroup made for the init is removed before the init can enter it, as
/// systemd may remove an empty cgroup outside a delegated subtree. The start is tried again
/// with a new cgroup, the container runs, and nothing is left.
#[test]
fn a_cgroup_removed_before_the_init_enters_it_is_made_again() {
    cgroup_removed_at_is_made_again("run:cgroup-made");
}

/// cgroupfs: the same, one step earlier: the cgroup goes after its mkdir and limits, before
/// mdrun opens the files the init enters it by (ENOENT there). Made again too.
#[test]
fn a_cgroup_removed_before_its_files_are_opened_is_made_again() {
    cgroup_removed_at_is_made_again("run:cgroup-created");
}

/// Stops `run` at `step`, removes the cgroup it made, lets it go on: it runs, nothing left.
fn cgroup_removed_at_is_made_again(step: &str) {
    let env = TestEnv::new();
    let (running, pid) = spawn_stopped(
        &env,
        step,
        &["run", "--rm", "--memory", "32m", "busybox", "echo", "ran"],
    );
    let made = container_cgroups(&env);
    assert!(!made.is_empty(), "no cgroup was made before the clone");
    for dir in &made {
        fs::remove_dir(dir).unwrap_or_else(|e| panic!("rmdir {}: {e}", dir.display()));
    }
    signal(pid, libc::SIGCONT);
    let out = running.wait();
    out.assert_ok();
    assert_eq!(out.stdout, "ran\n", "{out}");
    assert_eq!(
        container_cgroups(&env),
        Vec::<PathBuf>::new(),
        "cgroups left"
    );
    env.assert_clean();
}
