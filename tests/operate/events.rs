//! `mdrun events`: each lifecycle step as an event, in order, filtered, as JSON lines.

use crate::common::*;
use crate::util::*;
use serde_json::Value;

fn actions(env: &TestEnv, extra: &[&str]) -> Vec<String> {
    let until = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1
    );
    let mut args = vec![
        "events", "--since", "0", "--until", &until, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let out = env.mdrun(&args);
    out.assert_ok();
    out.stdout
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"));
            assert_eq!(e["Type"], "container");
            e["Action"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn events_record_each_step_in_order() {
    let env = TestEnv::new();
    let id = detached(&env, "ev", &[], &["sleep", "1000"]);
    env.mdrun(&["pause", "ev"]).assert_ok();
    env.mdrun(&["unpause", "ev"]).assert_ok();
    env.mdrun(&["update", "--pids-limit", "9", "ev"])
        .assert_ok();
    env.mdrun(&["kill", "ev"]).assert_ok();
    env.mdrun(&["wait", "ev"]).assert_ok();
    env.mdrun(&["rename", "ev", "ev2"]).assert_ok();
    env.mdrun(&["rm", "ev2"]).assert_ok();
    assert_eq!(
        actions(&env, &[]),
        ["create", "start", "pause", "unpause", "update", "kill", "die", "rename", "destroy"]
    );
    assert_eq!(actions(&env, &["--filter", "event=die"]), ["die"]);
    assert_eq!(
        actions(&env, &["-f", "event=pause", "-f", "event=unpause"]),
        ["pause", "unpause"]
    );
    assert_eq!(
        actions(&env, &["-f", &format!("container={}", &id[..12])]).len(),
        9
    );
    assert!(actions(&env, &["-f", "container=other"]).is_empty());

    // The die event carries the exit code; a template reads it.
    let out = env.mdrun(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "-f",
        "event=die",
        "--format",
        "{{.Action}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(out.stdout, "die 137 ev\n", "{out}");
    env.mdrun(&["events", "-f", "color=red"])
        .assert_one_line_error(125);
    env.mdrun(&["events", "--since", "yesterday"])
        .assert_one_line_error(125);
    env.assert_clean();
}
