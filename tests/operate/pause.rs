//! `mdrun pause` / `unpause` with the cgroupfs manager: the container's own cgroup freezer
//! (v1 `freezer.state` here, v2 `cgroup.freeze` in the guest). Scopes: tests/vm/scenarios.sh
//! (`pause_in_scope`).

use crate::common::*;
use crate::util::*;
use std::time::Duration;

/// A container that counts into /count as fast as it can.
const COUNTER: &[&str] = &[
    "sh",
    "-c",
    "i=0; while :; do i=$((i+1)); echo $i > /count.new; mv /count.new /count; done",
];

fn count(env: &TestEnv, id: &str) -> u64 {
    let file = upper_file(env, id, "count");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    text.trim().parse().unwrap_or(0)
}

/// The kernel's word on the container's freezer (v1: freezer.state; v2: cgroup.events).
fn kernel_frozen(env: &TestEnv) -> bool {
    let v1 = env.container_cgroup("freezer").join("freezer.state");
    match std::fs::read_to_string(&v1) {
        Ok(state) => state.trim() == "FROZEN",
        Err(_) => {
            let events = env.container_cgroup("memory").join("cgroup.events");
            std::fs::read_to_string(events)
                .unwrap()
                .lines()
                .any(|l| l == "frozen 1")
        }
    }
}

#[test]
fn pause_freezes_the_counter_and_unpause_lets_it_go_on() {
    let env = TestEnv::new();
    let id = detached(&env, "ctr", &[], COUNTER);
    until("the counter started", || count(&env, &id) > 0);

    let out = env.mdrun(&["pause", "ctr"]);
    out.assert_ok();
    assert_eq!(out.stdout, "ctr\n");
    assert!(kernel_frozen(&env), "the kernel does not say frozen");
    let entry = ps_entry(&env, "ctr");
    assert_eq!(entry["State"], "paused", "{entry}");
    let status = entry["Status"].as_str().unwrap();
    assert!(
        status.starts_with("Up ") && status.ends_with(" (Paused)"),
        "{status}"
    );

    let frozen_at = count(&env, &id);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        count(&env, &id),
        frozen_at,
        "the counter advanced while paused"
    );
    // Twice is an error, as is exec into a frozen container.
    let again = env.mdrun(&["pause", "ctr"]);
    again.assert_one_line_error(125);
    assert!(again.stderr.contains("already paused"), "{again}");
    env.mdrun(&["exec", "ctr", "true"])
        .assert_one_line_error(125);

    let out = env.mdrun(&["unpause", "ctr"]);
    out.assert_ok();
    assert_eq!(out.stdout, "ctr\n");
    assert!(!kernel_frozen(&env));
    until("the counter advances after unpause", || {
        count(&env, &id) > frozen_at
    });
    assert_eq!(ps_entry(&env, "ctr")["State"], "running");
    env.mdrun(&["unpause", "ctr"]).assert_one_line_error(125);

    env.mdrun(&["rm", "-f", "ctr"]).assert_ok();
    env.assert_clean();
}

#[test]
fn a_paused_container_can_be_stopped_killed_and_removed() {
    let env = TestEnv::new();
    detached(&env, "s", &[], &["sleep", "1000"]);
    detached(&env, "k", &[], &["sleep", "1000"]);
    detached(&env, "r", &[], &["sleep", "1000"]);
    for name in ["s", "k", "r"] {
        env.mdrun(&["pause", name]).assert_ok();
    }
    // sleep as PID 1 ignores SIGTERM: stop kills it at the timeout.
    env.mdrun(&["stop", "-t", "1", "s"]).assert_ok();
    assert_eq!(record(&env, "s").unwrap()["status"], "exited");
    env.mdrun(&["kill", "k"]).assert_ok();
    assert_eq!(env.mdrun(&["wait", "k"]).assert_ok().out(), "137");
    assert_eq!(
        record(&env, "k").unwrap()["exit"],
        serde_json::json!({"Signaled": 9})
    );
    env.mdrun(&["rm", "-f", "r"]).assert_ok();
    assert!(record(&env, "r").is_none());
    env.mdrun(&["rm", "s", "k"]).assert_ok();
    env.assert_clean();
}

#[test]
fn pause_of_what_does_not_run_is_an_error_that_leaves_nothing() {
    let env = TestEnv::new();
    env.mdrun(&["pause", "nope"]).assert_one_line_error(125);
    env.mdrun(&["unpause", "nope"]).assert_one_line_error(125);
    env.mdrun(&["run", "--name", "done", "busybox", "true"])
        .assert_ok();
    let out = env.mdrun(&["pause", "done"]);
    out.assert_one_line_error(125);
    assert!(out.stderr.contains("is not running"), "{out}");
    env.mdrun(&["rm", "done"]).assert_ok();
    env.assert_clean();
}
