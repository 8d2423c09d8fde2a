//! `mdrun rm`: what it removes, what it refuses, and how containers are named (name, id,
//! id prefix); a container whose attached mdrun was SIGKILLed is seen as exited and removed
//! without leftovers.

use crate::common::*;
use crate::util::*;
use std::fs;
use std::time::{Duration, Instant};

#[test]
fn rm_removes_the_write_layer_record_and_runtime_state() {
    let env = TestEnv::new();
    env.mdrun(&[
        "run",
        "--name",
        "scribbler",
        "busybox",
        "sh",
        "-c",
        "echo hi > /note",
    ])
    .assert_ok();
    let id = record(&env, "scribbler").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = env.root.join("containers").join(&id);
    assert!(
        data.join("upper/note").is_file(),
        "the write layer holds /note"
    );

    let out = env.mdrun(&["rm", "scribbler"]);
    out.assert_ok();
    assert_eq!(out.stdout, "scribbler\n");
    assert_absent(&data);
    assert_absent(&env.run_root.join(&id));
    env.assert_clean();
    // The image is still there and usable.
    env.run(&["busybox", "true"]).assert_ok();
}

#[test]
fn rm_refuses_a_running_container_and_rm_f_kills_it() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "busy", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().unwrap();

    let refused = env.mdrun(&["rm", "busy"]);
    refused.assert_mdrun_error();
    assert!(
        refused.stderr.contains("is running") && refused.stderr.contains("-f"),
        "{refused}"
    );
    assert!(alive(pid), "a refused rm must leave the container running");
    assert_eq!(record(&env, "busy").unwrap()["status"], "running");

    let t = Instant::now();
    let out = env.mdrun(&["rm", "-f", "busy"]);
    out.assert_ok();
    assert_eq!(out.stdout, "busy\n");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "rm -f took {:?}",
        t.elapsed()
    );
    assert!(!alive(pid));
    running.wait().assert_code(137);
    assert!(record(&env, "busy").is_none());
    env.assert_clean();
}

#[test]
fn unknown_containers_are_an_error_for_every_verb() {
    let env = TestEnv::new();
    for verb in ["rm", "stop", "kill", "wait", "inspect"] {
        let out = env.mdrun(&[verb, "ghost"]);
        out.assert_mdrun_error();
        assert!(out.stderr.contains("no such container"), "{out}");
    }
    env.assert_clean();
}

#[test]
fn an_ambiguous_prefix_is_refused_and_lists_the_matches() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "model", "busybox", "true"])
        .assert_ok();
    let model = record(&env, "model").unwrap();
    // Two more records whose ids share a prefix (copies of a real one).
    let containers = env.root.join("containers");
    for (id, name) in [("abc1", "first"), ("abc2", "second")] {
        let id = format!("{id}{}", "0".repeat(60));
        let mut r = model.clone();
        r["id"] = id.clone().into();
        r["name"] = name.into();
        fs::create_dir(containers.join(&id)).unwrap();
        fs::write(
            containers.join(&id).join("container.json"),
            serde_json::to_vec(&r).unwrap(),
        )
        .unwrap();
    }
    let out = env.mdrun(&["rm", "abc"]);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("ambiguous"), "{out}");
    assert!(
        out.stderr.contains("abc100000000 (first)") && out.stderr.contains("abc200000000 (second)"),
        "{out}"
    );
    assert_eq!(
        env.containers().len(),
        3,
        "an ambiguous rm removed something"
    );

    // A unique prefix, a full id and a name all work; one rm, several containers.
    let model_id = model["id"].as_str().unwrap();
    let out = env.mdrun(&[
        "rm",
        "abc1",
        &format!("abc2{}", "0".repeat(60)),
        &model_id[..8],
    ]);
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 3, "{out}");
    env.assert_clean();
}

#[test]
fn a_container_whose_mdrun_was_sigkilled_shows_exited_and_rm_cleans_it() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "orphan", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().unwrap();
    assert!(!existing_cgroups(&rec).is_empty());

    // SAFETY: kill(2) of our own child, the attached mdrun.
    assert_eq!(
        unsafe { libc::kill(running.pid() as i32, libc::SIGKILL) },
        0
    );
    let out = running.wait();
    assert_eq!(out.code, 128 + 9);
    // The container's init dies with its parent (PDEATHSIG) a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the init {pid} outlived its mdrun by 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The record still says running, and the cgroup and runtime directory are still
    // there: nobody was left to write the end or clean up.
    assert_eq!(record(&env, "orphan").unwrap()["status"], "running");
    assert!(!existing_cgroups(&rec).is_empty());
    assert!(env.run_root.join(rec["id"].as_str().unwrap()).exists());

    let entry = ps_entry(&env, "orphan");
    assert_eq!(entry["State"], "exited", "{entry}");
    assert_eq!(entry["ExitCode"], 255, "{entry}");
    assert!(
        entry["Status"]
            .as_str()
            .unwrap()
            .starts_with("Exited (255) "),
        "{entry}"
    );
    // `ps` only lists running containers: not this one.
    assert!(!env.mdrun(&["ps"]).stdout.contains("orphan"));

    env.mdrun(&["rm", "orphan"]).assert_ok();
    assert!(existing_cgroups(&rec).is_empty());
    env.assert_clean();
}

#[test]
fn rm_of_a_stale_record_after_a_reboot_repairs_and_removes_it() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "stale", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().unwrap();
    // SAFETY: kill(2) of our own child, the attached mdrun.
    assert_eq!(
        unsafe { libc::kill(running.pid() as i32, libc::SIGKILL) },
        0
    );
    running.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the init {pid} outlived its mdrun by 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // As after a reboot: the runtime state is gone too.
    fs::remove_dir_all(env.run_root.join(rec["id"].as_str().unwrap())).unwrap();
    // No `ps` first: rm itself finds out that the record is stale. No -f needed.
    env.mdrun(&["rm", "stale"]).assert_ok();
    assert!(existing_cgroups(&rec).is_empty());
    env.assert_clean();
}

/// `rm`, `prune` and `rmi` while a `run` is still starting its container (stopped right
/// after its claim): the named and the unnamed container are both on record at once, `rm`
/// refuses, `prune` and `rmi` leave them and their image alone, and both runs then finish.
#[test]
fn rm_prune_and_rmi_leave_a_starting_container_alone() {
    use crate::common::stop_point::{signal, spawn_stopped};
    let env = TestEnv::new();
    let (named, named_pid) = spawn_stopped(
        &env,
        "run:claimed",
        &["run", "--name", "early", "busybox", "echo", "named ran"],
    );
    let (unnamed, unnamed_pid) = spawn_stopped(
        &env,
        "run:claimed",
        &["run", "--rm", "busybox", "echo", "unnamed ran"],
    );
    assert_eq!(records(&env).len(), 2, "both claimed on record");
    let rec = record(&env, "early").unwrap();
    assert_eq!(rec["status"], "created");

    let refused = env.mdrun(&["rm", "early"]);
    refused.assert_mdrun_error();
    assert!(refused.stderr.contains("being started"), "{refused}");
    let pruned = env.mdrun(&["prune"]);
    pruned.assert_ok();
    assert_eq!(pruned.stdout, "", "prune removed something: {pruned}");
    let rmi = env.mdrun(&["rmi", "busybox"]);
    assert_eq!(rmi.code, 1, "{rmi}");
    assert!(rmi.stderr.contains("in use"), "{rmi}");
    assert_eq!(records(&env).len(), 2, "nothing was removed");

    signal(named_pid, libc::SIGCONT);
    signal(unnamed_pid, libc::SIGCONT);
    let (named, unnamed) = (named.wait(), unnamed.wait());
    named.assert_ok();
    assert_eq!(named.out(), "named ran");
    unnamed.assert_ok();
    assert_eq!(unnamed.out(), "unnamed ran");
    assert_eq!(record(&env, "early").unwrap()["status"], "exited");
    env.mdrun(&["rm", "early"]).assert_ok();
    env.mdrun(&["rmi", "busybox"]).assert_ok();
    env.assert_clean();
}
