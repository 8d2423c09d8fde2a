//! `mdrun stop` on containers run attached in the background (`run -d` is not needed for
//! these; `kill` and `wait`: kill.rs, wait.rs).
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
