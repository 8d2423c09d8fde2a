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
            "prestart": [hook("prestart")],
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
            "prestart",
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
    assert!(lines[5].contains("\"stopped\""), "{}", lines[5]);
}

#[test]
fn a_failing_prestart_hook_fails_start_and_removes_the_container() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "touch /ran"]);
    o.edit(|c| c["hooks"] = json!({"prestart": [{"path": "/bin/false", "args": ["false"]}]}));
    o.ok(&["create", "f1"]);
    let r = o.oci(&["start", "f1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("prestart hook"), "{}", r.stderr);
    assert!(!o.bundle.join("rootfs/ran").exists(), "the process ran");
    let r = o.oci(&["state", "f1"]);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
}
