//! `mdrun ps`: what it shows of exited and running containers (`inspect`: inspect.rs).

use crate::common::*;
use crate::util::*;
use std::fs;

#[test]
fn an_exited_container_is_listed_only_with_all() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "done", "busybox", "sh", "-c", "exit 3"])
        .assert_code(3);
    let id = record(&env, "done").expect("a record for done")["id"]
        .as_str()
        .unwrap()
        .to_string();

    let running = env.mdrun(&["ps"]);
    running.assert_ok();
    assert_eq!(
        running.stdout, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    NAMES     PID\n",
        "{running}"
    );

    let all = env.mdrun(&["ps", "-a"]);
    all.assert_ok();
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{all}");
    assert!(
        lines[0].starts_with("CONTAINER ID   IMAGE     COMMAND"),
        "{all}"
    );
    let row = lines[1];
    assert!(
        row.starts_with(&format!("{}   busybox   \"sh -c exit 3\"", &id[..12])),
        "{all}"
    );
    assert!(row.contains(" ago   Exited (3) "), "{all}");
    assert!(row.ends_with("   done      -"), "{all}");

    let quiet = env.mdrun(&["ps", "-a", "-q"]);
    quiet.assert_ok();
    assert_eq!(quiet.stdout, format!("{}\n", &id[..12]));
    let full = env.mdrun(&["ps", "-aq", "--no-trunc"]);
    assert_eq!(full.stdout, format!("{id}\n"));
    assert_eq!(env.mdrun(&["ps", "-q"]).stdout, "");

    let entry = ps_entry(&env, "done");
    assert_eq!(entry["Id"], id.as_str());
    assert_eq!(entry["State"], "exited");
    assert_eq!(entry["ExitCode"], 3);
    assert_eq!(entry["Command"], serde_json::json!(["sh", "-c", "exit 3"]));
    assert_eq!(entry["Pid"], serde_json::Value::Null);
    assert!(entry["Status"].as_str().unwrap().starts_with("Exited (3) "));

    env.mdrun(&["ps", "--format", "yaml"]).assert_mdrun_error();

    env.mdrun(&["rm", "done"]).assert_ok();
    env.assert_clean();
}

#[test]
fn a_running_container_shows_up_with_its_pid() {
    let env = TestEnv::new();
    let (running, rec) = start(&env, "sleeper", &["sleep", "30"]);
    let pid = rec["pid"].as_i64().expect("a running record has a pid");
    assert!(cgroup::comm(pid as i32).starts_with("sleep 30"));

    let out = env.mdrun(&["ps"]);
    out.assert_ok();
    let row = out
        .stdout
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no row:\n{out}"));
    assert!(row.contains("\"sleep 30\""), "{out}");
    assert!(row.contains("   Up "), "{out}");
    assert!(row.ends_with(&format!("   sleeper   {pid}")), "{out}");
    let entry = ps_entry(&env, "sleeper");
    assert_eq!(entry["State"], "running");
    assert_eq!(entry["Pid"], pid);

    env.mdrun(&["rm", "-f", "sleeper"]).assert_ok();
    running.wait().assert_code(137);
    env.assert_clean();
}

/// `ps -a` lists every one of 1,000 recorded containers (how fast it does so is measured by
/// the benchmarks, bench/run, not asserted here).
#[test]
fn ps_lists_a_thousand_recorded_containers() {
    let env = TestEnv::new();
    env.mdrun(&["run", "--name", "model", "busybox", "true"])
        .assert_ok();
    let model = record(&env, "model").unwrap();
    let containers = env.root.join("containers");
    for i in 0..1000 {
        let id = format!("{i:064x}");
        let mut r = model.clone();
        r["id"] = id.clone().into();
        r["name"] = format!("c{i}").into();
        fs::create_dir(containers.join(&id)).unwrap();
        fs::write(
            containers.join(&id).join("container.json"),
            serde_json::to_vec(&r).unwrap(),
        )
        .unwrap();
    }
    let out = env.mdrun(&["ps", "-a"]);
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 1002, "header + 1,001 rows");
    for i in [0, 499, 999] {
        let name = format!("c{i}");
        assert!(
            out.stdout
                .lines()
                .any(|l| l.split_whitespace().any(|w| w == name)),
            "{name} missing from ps -a"
        );
    }
    // Full ids: the made-up ones share their first 12 digits.
    let quiet = env.mdrun(&["ps", "-a", "-q", "--no-trunc"]);
    quiet.assert_ok();
    let ids: std::collections::HashSet<&str> = quiet.stdout.lines().collect();
    assert_eq!(ids.len(), 1001, "ps -a -q lists each container once");
    env.mdrun(&["prune"]).assert_ok();
    env.assert_clean();
}
