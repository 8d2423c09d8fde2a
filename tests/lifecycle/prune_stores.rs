//! Two stores (two mdrun roots, as two MDRUN_CONFIGs give) sharing one cgroup parent, as
//! they share the default one (mdrun's own cgroup): `prune` of one removes what its own
//! killed commands left, and never a cgroup, or the processes in it, of the other.

use crate::common::stop_point::{kill_stopped, spawn_stopped};
use crate::common::*;
use crate::util::*;
use std::fs;
use std::path::Path;

/// `mdrun run --name NAME busybox sleep 30` in `env`, SIGKILLed once its init is in its
/// cgroup (the init dies with it): a stale record and a cgroup are left. Returns the id.
fn killed_after_placement(env: &TestEnv, name: &str) -> String {
    let args = ["run", "--name", name, "busybox", "sleep", "30"];
    let (running, stopped) = spawn_stopped(env, "run:placed", &args);
    let id = record(env, name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    kill_stopped(running, stopped);
    id
}

/// The cgroup `mdrun-<id>` under the scenario's parent, in the pids hierarchy.
fn cgroup_of(env: &TestEnv, id: &str) -> std::path::PathBuf {
    env.cgroup_dir("pids").join(format!("mdrun-{id}"))
}

#[test]
fn prune_cleans_its_own_store_and_leaves_another_stores_containers_running() {
    let a = TestEnv::new();
    let b = TestEnv::sharing_cgroup_parent(&a);
    a.mdrun(&["run", "-d", "--name", "web", "busybox", "sleep", "300"])
        .assert_ok();
    let web = record(&a, "web").unwrap();
    let web_id = web["id"].as_str().unwrap().to_string();
    let web_pid = web["pid"].as_i64().unwrap();
    let web_cgroups = existing_cgroups(&web);
    assert!(!web_cgroups.is_empty(), "{web}");

    // B's own leftovers: a killed run with its record, and one whose data directory is
    // gone too (only its cgroup and runtime directory say it was there).
    let stale = killed_after_placement(&b, "stale");
    let lost = killed_after_placement(&b, "lost");
    fs::remove_dir_all(b.root.join("containers").join(&lost)).unwrap();
    assert!(cgroup_of(&b, &stale).is_dir() && cgroup_of(&b, &lost).is_dir());

    let out = b.mdrun(&["prune"]);
    out.assert_ok();
    for id in [&stale, &lost] {
        assert!(
            out.stdout.contains(id.as_str()),
            "{id} not reported:\n{out}"
        );
        assert_absent(&cgroup_of(&b, id));
    }
    assert!(
        !out.stdout.contains(&web_id),
        "B's prune reported A's container:\n{out}"
    );
    // A's container runs on, in its cgroups.
    assert!(
        alive(web_pid),
        "A's container was killed by B's prune:\n{out}"
    );
    for cg in &web_cgroups {
        assert!(
            Path::new(cg).is_dir(),
            "B's prune removed A's cgroup {cg}:\n{out}"
        );
    }
    assert_eq!(record(&a, "web").unwrap()["status"], "running");
    assert_eq!(a.mdrun(&["exec", "web", "echo", "alive"]).stdout, "alive\n");
    b.assert_clean();

    a.mdrun(&["rm", "-f", "web"]).assert_ok();
    a.assert_clean();
}

/// Every container id of a store ends in the store's id, made once in `<root>/store-id`; a
/// damaged one stops `run` with one line naming it, exit 125, and nothing made.
#[test]
fn container_ids_end_in_the_store_id_and_a_damaged_one_stops_run() {
    let env = TestEnv::new();
    let first = env.mdrun(&["run", "-d", "busybox", "true"]);
    first.assert_ok();
    let store_id = fs::read_to_string(env.root.join("store-id")).unwrap();
    let store_id = store_id.trim();
    assert_eq!(store_id.len(), 16, "{store_id:?}");
    let second = env.mdrun(&["run", "-d", "busybox", "true"]);
    second.assert_ok();
    for out in [&first, &second] {
        assert!(out.out().ends_with(store_id), "{out}");
    }
    assert_ne!(first.out()[..48], second.out()[..48]);
    env.mdrun(&["rm", "-f", first.out(), second.out()])
        .assert_ok();

    fs::write(env.root.join("store-id"), "x\n").unwrap();
    let out = env.mdrun(&["run", "--rm", "busybox", "true"]);
    out.assert_mdrun_error();
    assert!(out.stderr.contains("store-id"), "{out}");
    env.assert_clean();
}
