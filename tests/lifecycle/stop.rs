//! `mdrun stop`, `mdrun kill` and `mdrun wait` on containers run attached in the
//! background (`run -d` is not needed for these).
//!
//! A container's command is PID 1 of its namespace: the kernel delivers it only the
//! signals it handles (SIGKILL excepted), so the commands here trap what they should obey.

use crate::common::*;
use crate::util::*;
use std::time::{Duration, Instant};

const TRAP_TERM: &str = "trap 'exit 143' TERM; while true; do sleep 0.1; done";

#[test]
fn stop_sends_sigterm_and_the_exit_is_recorded() {
    let env = TestEnv::new();
    let (running, _) = start(&env, "polite", &["sh", "-c", TRAP_TERM]);
    let t = Instant::now();
    let out = env.mdrun(&["stop", "polite"]);
    out.assert_ok();
    assert_eq!(out.stdout, "polite\n");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stop took {:?}: SIGTERM was not obeyed",
        t.elapsed()
    );
    // stop returns once the exit is on record.
    let rec = record(&env, "polite").unwrap();
    assert_eq!(rec["status"], "exited");
    assert_eq!(rec["exit"], serde_json::json!({"Exited": 143}));
    assert_eq!(rec["pid"], serde_json::Value::Null);
    running.wait().assert_code(143);
    let entry = ps_entry(&env, "polite");
    assert!(
        entry["Status"]
            .as_str()
            .unwrap()
            .starts_with("Exited (143) "),
        "{entry}"
    );
    env.mdrun(&["rm", "polite"]).assert_ok();
    env.assert_clean();
}

#[test]
fn stop_kills_what_ignores_sigterm_after_the_timeout() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "stubborn", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().unwrap();
    let t = Instant::now();
    env.mdrun(&["stop", "-t", "1", "stubborn"]).assert_ok();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "SIGKILL came before the timeout: {took:?}"
    );
    assert!(took < Duration::from_secs(6), "stop -t 1 took {took:?}");
    assert!(!alive(pid));
    assert_eq!(
        record(&env, "stubborn").unwrap()["exit"],
        serde_json::json!({"Signaled": 9})
    );
    running.wait().assert_code(137);
    assert!(ps_entry(&env, "stubborn")["Status"]
        .as_str()
        .unwrap()
        .starts_with("Exited (137) "));

    // Stopping it again is not an error: it says so on stderr.
    let again = env.mdrun(&["stop", "stubborn"]);
    again.assert_ok();
    assert_eq!(again.stdout, "stubborn\n");
    assert!(again.stderr.contains("is not running"), "{again}");
    env.mdrun(&["rm", "stubborn"]).assert_ok();
    env.assert_clean();
}

#[test]
fn kill_sends_the_signal_asked_for() {
    let env = TestEnv::new();
    let (running, _) = start(
        &env,
        "target",
        &[
            "sh",
            "-c",
            "trap 'exit 7' USR1; while true; do sleep 0.1; done",
        ],
    );
    env.mdrun(&["kill", "-s", "FOO", "target"])
        .assert_mdrun_error();
    assert_eq!(record(&env, "target").unwrap()["status"], "running");

    let out = env.mdrun(&["kill", "-s", "SIGUSR1", "target"]);
    out.assert_ok();
    assert_eq!(out.stdout, "target\n");
    running.wait().assert_code(7);
    let rec = record(&env, "target").unwrap();
    assert_eq!(rec["exit"], serde_json::json!({"Exited": 7}));

    // Killing an exited container is an error.
    let again = env.mdrun(&["kill", "target"]);
    again.assert_mdrun_error();
    assert!(again.stderr.contains("is not running"), "{again}");
    env.mdrun(&["rm", "target"]).assert_ok();
    env.assert_clean();
}

#[test]
fn kill_defaults_to_sigkill() {
    let env = TestEnv::new();
    let (running, _) = start(&env, "victim", &["sleep", "30"]);
    env.mdrun(&["kill", "victim"]).assert_ok();
    running.wait().assert_code(137);
    env.mdrun(&["wait", "victim"]).assert_ok();
    assert_eq!(
        record(&env, "victim").unwrap()["exit"],
        serde_json::json!({"Signaled": 9})
    );
    env.mdrun(&["rm", "victim"]).assert_ok();
    env.assert_clean();
}

#[test]
fn wait_blocks_until_the_exit_and_prints_the_code() {
    let env = TestEnv::new();
    let (running, _) = start(&env, "brief", &["sh", "-c", "sleep 1; exit 5"]);
    let t = Instant::now();
    let out = env.mdrun(&["wait", "brief"]);
    out.assert_ok();
    assert_eq!(out.stdout, "5\n");
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "wait returned early: {:?}",
        t.elapsed()
    );
    running.wait().assert_code(5);
    // On an exited container it returns at once, with the same code.
    env.mdrun(&["run", "--name", "other", "busybox", "false"])
        .assert_code(1);
    let both = env.mdrun(&["wait", "brief", "other"]);
    both.assert_ok();
    assert_eq!(both.stdout, "5\n1\n");
    env.mdrun(&["rm", "brief", "other"]).assert_ok();
    env.assert_clean();
}
