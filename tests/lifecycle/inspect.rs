//! `mdrun inspect`: the records of containers and images.

use crate::common::*;

#[test]
fn inspect_prints_records_and_images() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "one", "busybox", "true"])
        .assert_ok();
    let out = env.mdrun(&["inspect", "one", "busybox"]);
    out.assert_ok();
    let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("inspect prints JSON");
    let items = value.as_array().expect("an array");
    assert_eq!(items.len(), 2, "{out}");
    assert_eq!(items[0]["name"], "one");
    assert_eq!(items[0]["status"], "exited");
    assert_eq!(items[0]["exit"], serde_json::json!({"Exited": 0}));
    assert_eq!(items[1]["names"][0], "busybox:latest", "{out}");

    let missing = env.mdrun(&["inspect", "nothing-by-that-name"]);
    missing.assert_code(125);
    assert!(
        missing
            .stderr
            .contains("no such container or image \"nothing-by-that-name\""),
        "{missing}"
    );
    assert_eq!(missing.stdout.trim(), "[]");

    env.mdrun(&["rm", "one"]).assert_ok();
    env.assert_clean();
}
