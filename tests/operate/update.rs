//! `mdrun update` with the cgroupfs manager: the new limits land in the container's cgroup
//! files and the kernel enforces them (an allocation over the new memory limit is
//! OOM-killed). In a scope (SetUnitProperties, `systemctl show`): tests/vm/scenarios.sh
//! (`update_in_scope`).

use crate::common::*;
use crate::util::*;

/// 40 MB held at once: `tail` keeps the whole (newline-free) line.
const ALLOC_40M: &[&str] = &[
    "exec",
    "u",
    "sh",
    "-c",
    "head -c 40000000 /dev/zero | tail -n 1 >/dev/null",
];

fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

/// The v1 file, else its v2 equivalent, of the container's cgroup.
fn limit(env: &TestEnv, controller: &str, v1: &str, v2: &str) -> String {
    let dir = env.container_cgroup(controller);
    match dir.join(v1).exists() {
        true => read(&dir, v1),
        false => read(&dir, v2),
    }
}

#[test]
fn update_changes_the_limits_the_kernel_enforces() {
    let env = TestEnv::new();
    detached(&env, "u", &["--memory", "200m"], &["sleep", "1000"]);
    env.mdrun(ALLOC_40M).assert_ok();

    let out = env.mdrun(&[
        "update",
        "--memory",
        "20m",
        "--pids-limit",
        "50",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "u",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "u\n");
    let mem = limit(&env, "memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem, (20u64 << 20).to_string());
    assert_eq!(limit(&env, "pids", "pids.max", "pids.max"), "50");
    let cpu = env.container_cgroup("cpu");
    if cpu.join("cpu.cfs_quota_us").exists() {
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cpu, "cpu.shares"), "512");
    } else {
        assert_eq!(read(&cpu, "cpu.max"), "50000 100000");
    }
    // The kernel enforces the new limit: the same allocation is OOM-killed now.
    env.mdrun(ALLOC_40M).assert_code(137);
    let rec = record(&env, "u").unwrap();
    assert_eq!(rec["limits"]["memory"], 20u64 << 20, "{rec}");
    assert_eq!(rec["spec"]["limits"]["pids_limit"], 50, "{rec}");

    // Up again, past the old memory+swap (v1 wants memsw raised first).
    env.mdrun(&["update", "-m", "300m", "u"]).assert_ok();
    let mem = limit(&env, "memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem, (300u64 << 20).to_string());
    env.mdrun(ALLOC_40M).assert_ok();
    env.mdrun(&["update", "--pids-limit", "-1", "u"])
        .assert_ok();
    assert_eq!(limit(&env, "pids", "pids.max", "pids.max"), "max");

    env.mdrun(&["rm", "-f", "u"]).assert_ok();
    env.assert_clean();
}

#[test]
fn bad_updates_are_refused_and_change_nothing() {
    let env = TestEnv::new();
    detached(&env, "u", &["--memory", "100m"], &["sleep", "1000"]);
    for bad in [
        &["update", "--memory", "10m", "--memory-swap", "5m", "u"][..],
        &["update", "--memory", "lots", "u"],
        &["update", "--cpu-shares", "1", "u"],
        &["update", "--pids-limit", "0", "u"],
        &["update", "u"],
        &["update", "--memory", "10m", "nope"],
    ] {
        env.mdrun(bad).assert_one_line_error(125);
    }
    let mem = limit(&env, "memory", "memory.limit_in_bytes", "memory.max");
    assert_eq!(mem, (100u64 << 20).to_string());
    assert_eq!(record(&env, "u").unwrap()["limits"]["memory"], 100u64 << 20);
    env.mdrun(&["rm", "-f", "u"]).assert_ok();
    env.assert_clean();
}

#[test]
fn update_of_a_stopped_container_applies_at_its_next_start() {
    let env = TestEnv::new();
    detached(&env, "s", &[], &["sleep", "1000"]);
    env.mdrun(&["kill", "s"]).assert_ok();
    env.mdrun(&["wait", "s"]).assert_ok();
    env.mdrun(&["update", "--pids-limit", "33", "s"])
        .assert_ok();
    env.mdrun(&["start", "s"]).assert_ok();
    until("s running again", || {
        record(&env, "s").is_some_and(|r| r["status"] == "running")
    });
    assert_eq!(limit(&env, "pids", "pids.max", "pids.max"), "33");
    env.mdrun(&["rm", "-f", "s"]).assert_ok();
    env.assert_clean();
}
