//! Hooks run at their moments, in order, with the container's state on stdin; a failing
//! poststart or poststop hook is a warning and the next one still runs.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;

#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    let log = env.path("hooks.log");
    let hook = |name: &str| {
        json!({"path": "/bin/sh", "args": ["sh", "-c",
            format!("read -r s; echo \"{name} $s\" >> {}", log.display())]})
    };
    let failing = json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]});
    o.edit(|c| {
        c["hooks"] = json!({
            "createRuntime": [hook("createRuntime")],
            "createContainer": [hook("createContainer")],
            "startContainer": [hook("startContainer")],
            "poststart": [failing.clone(), hook("poststart")],
            "poststop": [failing.clone(), hook("poststop")],
        });
    });
    o.ok(&["create", "h1"]);
    o.ok(&["start", "h1"]);
    o.wait_status("h1", "stopped");
    o.ok(&["delete", "h1"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let names: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ],
        "{text}"
    );
    for l in &lines {
        let state: serde_json::Value = serde_json::from_str(l.split_once(' ').unwrap().1).unwrap();
        assert_eq!(state["id"], "h1", "{l}");
        assert_eq!(state["bundle"], o.bundle.to_str().unwrap(), "{l}");
    }
    assert!(lines[4].contains("\"stopped\""), "{}", lines[4]);
}
