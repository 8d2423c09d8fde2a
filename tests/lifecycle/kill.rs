//! `mdrun kill` on a container run attached in the background.

use crate::common::*;
use crate::util::*;

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
