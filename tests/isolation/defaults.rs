//! What a container gets by default (docker's confinement) and what each option changes:
//! capabilities, no_new_privs, seccomp, masked and read-only paths, the device list,
//! `--read-only`, `--tmpfs`, `--user`, `--cap-add`/`--cap-drop`, `--privileged`,
//! `--security-opt`. (`exec` processes get the container's confinement too:
//! tests/lifecycle/exec.rs.)

use crate::common::*;
use std::collections::BTreeMap;

/// docker's 14 default capabilities as the kernel prints them (CapBnd of `docker run`).
const DOCKER_DEFAULT_CAPS: &str = "00000000a80425fb";

/// `Cap*`, `NoNewPrivs`, `Seccomp*` lines of /proc/self/status inside a container.
fn status(env: &TestEnv, flags: &[&str]) -> BTreeMap<String, String> {
    let mut args: Vec<&str> = flags.to_vec();
    args.extend([
        "busybox",
        "grep",
        "-E",
        "^(Cap|NoNewPrivs|Seccomp)",
        "/proc/self/status",
    ]);
    let out = env.run(&args);
    out.assert_ok();
    out.stdout
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// What the test process itself has: mdrun's ceiling (this machine's own bounding set may
/// already lack some capabilities).
fn own_bounding_set() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn default_capabilities_are_dockers_and_inheritable_ambient_are_empty() {
    let env = TestEnv::new();
    let s = status(&env, &[]);
    for set in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(s[set], DOCKER_DEFAULT_CAPS, "{set}: {s:?}");
    }
    assert_eq!(s["CapInh"], "0000000000000000", "{s:?}");
    assert_eq!(s["CapAmb"], "0000000000000000", "{s:?}");
}

#[test]
fn no_new_privs_and_seccomp_are_on_by_default() {
    let env = TestEnv::new();
    let s = status(&env, &[]);
    assert_eq!(s["NoNewPrivs"], "1", "{s:?}");
    assert_eq!(s["Seccomp"], "2", "filter mode expected: {s:?}");
    // One program: the deny list behind its ENOSYS prelude (clone3, x32), see security::seccomp.
    assert_eq!(s["Seccomp_filters"], "1", "{s:?}");
}

#[test]
fn security_opts_turn_off_no_new_privs_and_seccomp() {
    let env = TestEnv::new();
    let s = status(&env, &["--security-opt", "no-new-privileges=false"]);
    assert_eq!(s["NoNewPrivs"], "0", "{s:?}");
    // Installed before the capabilities were dropped, as runc does without no_new_privs.
    assert_eq!(s["Seccomp"], "2", "{s:?}");
    assert_eq!(s["CapEff"], DOCKER_DEFAULT_CAPS, "{s:?}");
    let s = status(&env, &["--security-opt", "seccomp=unconfined"]);
    assert_eq!(s["Seccomp"], "0", "{s:?}");
    assert_eq!(s["NoNewPrivs"], "1", "{s:?}");
}

#[test]
fn cap_drop_all_then_add_one() {
    let env = TestEnv::new();
    let s = status(
        &env,
        &["--cap-drop", "ALL", "--cap-add", "net_bind_service"],
    );
    // CAP_NET_BIND_SERVICE is bit 10.
    assert_eq!(s["CapBnd"], "0000000000000400", "{s:?}");
    assert_eq!(s["CapEff"], "0000000000000400", "{s:?}");
    let s = status(&env, &["--cap-drop", "chown", "--cap-add", "CAP_SYS_TIME"]);
    let eff = u64::from_str_radix(&s["CapEff"], 16).unwrap();
    assert_eq!(eff & 1, 0, "CAP_CHOWN still there: {s:?}");
    assert_ne!(eff & (1 << 25), 0, "CAP_SYS_TIME missing: {s:?}");
}

#[test]
fn privileged_has_every_capability_and_no_filter() {
    let env = TestEnv::new();
    let s = status(&env, &["--privileged"]);
    let all = own_bounding_set();
    assert_eq!(s["CapBnd"], all, "{s:?}");
    assert_eq!(s["CapEff"], all, "{s:?}");
    assert_eq!(s["Seccomp"], "0", "{s:?}");
    // And no masks: /proc/kcore is the real (huge, unreadable-by-cat) file, not /dev/null.
    let out = env.run(&[
        "--privileged",
        "busybox",
        "sh",
        "-c",
        "mount | grep -c ' /proc/kcore ' || true",
    ]);
    assert_eq!(out.out(), "0", "{out}");
}

#[test]
fn unknown_capability_and_security_opt_are_refused() {
    let env = TestEnv::new();
    env.run(&["--cap-add", "CAP_MAKE_COFFEE", "busybox", "true"])
        .assert_one_line_error(125);
    env.run(&["--security-opt", "apparmor=unconfined", "busybox", "true"])
        .assert_one_line_error(125);
    env.run(&["--tmpfs", "relative", "busybox", "true"])
        .assert_one_line_error(125);
    env.assert_clean();
}

#[test]
fn masked_paths_are_empty_and_read_only_paths_refuse_writes() {
    let env = TestEnv::new();
    let script = r#"
        for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do
            [ -e $f ] || continue
            n=$(head -c 100 $f | wc -c); [ "$n" = 0 ] || echo "readable: $f"
        done
        for d in /proc/scsi /proc/acpi /sys/firmware; do
            [ -e $d ] || continue
            [ -z "$(ls -A $d)" ] || echo "not empty: $d"
            touch $d/x 2>/dev/null && echo "writable: $d"
        done
        for f in /proc/sys/kernel/hostname /proc/sysrq-trigger /proc/sys/vm/drop_caches; do
            (echo 1 > $f) 2>/dev/null && echo "writable: $f"
        done
        awk '$2 == "/proc/sys" || $2 == "/proc/sysrq-trigger" || $2 == "/proc/irq" || $2 == "/proc/bus" {print $2, substr($4, 1, 2)}' /proc/mounts | sort
    "#;
    let out = env.run(&["busybox", "sh", "-c", script]);
    out.assert_ok();
    let mut expect = vec!["/proc/sys ro"];
    // Not every kernel has them (no CONFIG_MAGIC_SYSRQ here, for one).
    for (p, line) in [
        ("/proc/bus", "/proc/bus ro"),
        ("/proc/irq", "/proc/irq ro"),
        ("/proc/sysrq-trigger", "/proc/sysrq-trigger ro"),
    ] {
        if std::path::Path::new(p).exists() {
            expect.push(line);
        }
    }
    expect.sort();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expect, "{out}");
}

#[test]
fn device_cgroup_allows_only_the_standard_nodes() {
    let env = TestEnv::new();
    let running = env.spawn(&["busybox", "sleep", "2"]);
    let dir = env.container_cgroup("devices");
    let list = std::fs::read_to_string(dir.join("devices.list")).unwrap();
    let mut rules: Vec<&str> = list.lines().collect();
    rules.sort();
    let mut expect = vec![
        "b *:* m",
        "c *:* m",
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 1:7 rwm",
        "c 1:8 rwm",
        "c 1:9 rwm",
        "c 136:* rwm",
        "c 5:0 rwm",
        "c 5:1 rwm",
        "c 5:2 rwm",
    ];
    expect.sort();
    assert_eq!(rules, expect, "{}", dir.display());
    running.wait().assert_ok();
    env.assert_clean();
}

#[test]
fn read_only_root_keeps_tmp_run_and_volumes_writable() {
    let env = TestEnv::new();
    let vol = env.path("vol");
    let script = r#"
        touch /x 2>/dev/null && echo "root writable"
        touch /etc/x 2>/dev/null && echo "etc writable"
        touch /tmp/x /run/x /data/x || echo "cannot write tmp run data"
        awk '$2 == "/" {print substr($4, 1, 2)}' /proc/mounts
        echo done
    "#;
    let out = env.run(&[
        "--read-only",
        "-v",
        &format!("{}:/data", vol.display()),
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "ro\ndone\n", "{out}");
    assert!(vol.join("x").exists());
    env.assert_clean();
}

#[test]
fn tmpfs_flag_mounts_with_dockers_defaults() {
    let env = TestEnv::new();
    let out = env.run(&[
        "--tmpfs",
        "/scratch",
        "--tmpfs",
        "/big:size=1m,exec",
        "busybox",
        "sh",
        "-c",
        "awk '$2 == \"/scratch\" || $2 == \"/big\" {print $2, $3, $4}' /proc/mounts; echo hi > /scratch/f && cat /scratch/f",
    ]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let scratch = lines.iter().find(|l| l.starts_with("/scratch ")).unwrap();
    for opt in ["rw", "nosuid", "nodev", "noexec"] {
        assert!(
            scratch.split([' ', ',']).any(|o| o == opt),
            "{opt} missing: {out}"
        );
    }
    let big = lines.iter().find(|l| l.starts_with("/big ")).unwrap();
    assert!(
        big.contains("size=1024k") && !big.contains("noexec"),
        "{out}"
    );
    assert_eq!(lines[2], "hi");
}

#[test]
fn user_flag_switches_ids_and_drops_groups_and_capabilities() {
    let env = TestEnv::new();
    let out = env.run(&[
        "--user",
        "nobody",
        "busybox",
        "sh",
        "-c",
        "id -u; id -G; grep CapEff /proc/self/status",
    ]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "65534", "{out}");
    assert_eq!(lines[1], "65534", "supplementary groups kept: {out}");
    assert_eq!(
        lines[2].split_whitespace().nth(1),
        Some("0000000000000000"),
        "{out}"
    );
    let out = env.run(&[
        "-u",
        "1234:4321",
        "busybox",
        "sh",
        "-c",
        "id -u; id -g; touch /root/x 2>/dev/null || echo denied",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "1234\n4321\ndenied\n", "{out}");
    env.run(&["--user", "nosuchuser", "busybox", "true"])
        .assert_code(125);
    env.assert_clean();
}
