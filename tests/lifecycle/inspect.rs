//! `mdrun inspect`: containers in docker's shape (mdrun's record under `Mdrun`), images,
//! and `--format` templates.

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
    assert_eq!(items[0]["Name"], "/one");
    assert_eq!(items[0]["State"]["Status"], "exited");
    assert_eq!(items[0]["State"]["ExitCode"], 0);
    assert_eq!(items[0]["State"]["Running"], false);
    assert_eq!(items[0]["Config"]["Image"], "busybox");
    assert_eq!(items[0]["Config"]["Cmd"], serde_json::json!(["true"]));
    assert_eq!(items[0]["Mdrun"]["exit"], serde_json::json!({"Exited": 0}));
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

#[test]
fn inspect_has_dockers_shape_and_takes_a_template() {
    let env = TestEnv::new();
    let id = env
        .mdrun(&[
            "run",
            "-d",
            "--name",
            "shape",
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "20",
            "-e",
            "A=1",
            "-v",
            "/srv:/srv:ro",
            "busybox",
            "sleep",
            "1000",
        ])
        .assert_ok()
        .out()
        .to_string();
    let out = env.mdrun(&["inspect", "shape"]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let c = &v[0];
    assert_eq!(c["Id"], id.as_str());
    assert_eq!(c["Name"], "/shape");
    assert_eq!(c["State"]["Status"], "running");
    assert_eq!(c["State"]["Running"], true);
    assert_eq!(c["State"]["Paused"], false);
    assert!(c["State"]["Pid"].as_i64().unwrap() > 1, "{c}");
    assert_eq!(c["Config"]["Cmd"], serde_json::json!(["sleep", "1000"]));
    assert!(
        c["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&"A=1".into()),
        "{c}"
    );
    assert_eq!(c["HostConfig"]["Memory"], 64 << 20);
    assert_eq!(c["HostConfig"]["NanoCpus"], 500_000_000u64);
    assert_eq!(c["HostConfig"]["PidsLimit"], 20);
    assert_eq!(
        c["HostConfig"]["Binds"],
        serde_json::json!(["/srv:/srv:ro"])
    );
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "no");
    assert_eq!(c["Mounts"][0]["Destination"], "/srv");
    assert_eq!(c["Mounts"][0]["RW"], false);
    assert_eq!(c["RestartCount"], 0);
    assert_eq!(c["Mdrun"]["id"], id.as_str());

    let out = env.mdrun(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.Name}}",
        "shape",
    ]);
    assert_eq!(out.stdout, "running /shape\n", "{out}");
    env.mdrun(&["inspect", "-f", "{{.State", "shape"])
        .assert_one_line_error(125);
    env.mdrun(&["rm", "-f", "shape"]).assert_ok();
    env.assert_clean();
}
