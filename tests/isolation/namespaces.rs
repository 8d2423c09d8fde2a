//! What the command sees inside: PID 1, its own hostname, /proc, /dev, a read-only /sys, a
//! loopback that is up, none of the host's processes; and the host's mounts stay as they were.

use crate::common::*;
use std::collections::BTreeMap;

#[test]
fn the_command_is_pid_1() {
    let env = TestEnv::new();
    let out = env.run(&[
        "busybox",
        "sh",
        "-c",
        "echo $$ $PPID; cat /proc/1/comm; true",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "1 0\nsh\n", "{out}");
}

#[test]
fn hostname_defaults_to_the_short_id() {
    let env = TestEnv::new();
    env.keep_containers();
    let out = env.mdrun(&["run", "busybox", "sh", "-c", "hostname; echo $HOSTNAME"]);
    out.assert_ok();
    let id = env.only_container();
    assert_eq!(out.stdout, format!("{0}\n{0}\n", &id[..12]), "{out}");
}

#[test]
fn hostname_flag_sets_it() {
    let env = TestEnv::new();
    let host_before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = env.run(&[
        "-h",
        "web1",
        "busybox",
        "sh",
        "-c",
        "hostname; echo $HOSTNAME",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "web1\nweb1\n", "{out}");
    let out = env.run(&["--hostname", "db.example", "busybox", "hostname"]);
    assert_eq!(out.out(), "db.example", "{out}");
    let host_after = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(host_before, host_after, "the host's own hostname changed");
}

#[test]
fn proc_is_mounted_for_the_container() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "sh", "-c", "grep '^Name:' /proc/self/status; grep -c . /proc/mounts >/dev/null && echo mounts-ok; awk '$2 == \"/proc\" {print $3}' /proc/mounts"]);
    out.assert_ok();
    assert_eq!(out.stdout, "Name:\tgrep\nmounts-ok\nproc\n", "{out}");
}

#[test]
fn dev_has_the_standard_nodes_and_no_host_disks() {
    let env = TestEnv::new();
    let script = r#"
        for c in null zero full random urandom tty ptmx; do test -c /dev/$c || echo "not a char device: $c"; done
        for d in pts shm mqueue; do test -d /dev/$d || echo "not a dir: $d"; done
        for l in fd stdin stdout stderr; do test -e /dev/$l || echo "missing: $l"; done
        echo x > /dev/null || echo "cannot write /dev/null"
        test "$(head -c 5 /dev/zero | wc -c)" = 5 || echo "/dev/zero is not zeros"
        test "$(head -c 16 /dev/urandom | wc -c)" = 16 || echo "/dev/urandom is not random"
        (echo x > /dev/full) 2>/dev/null && echo "/dev/full accepted a write"
        echo via-fd > /dev/stdout
        ls /dev | grep -E '^(sd|vd|nvme|xvd|hd|loop|mem$|kmem$|port$|kmsg$)' | sed 's/^/host device: /'
        true
    "#;
    let out = env.run(&["busybox", "sh", "-c", script]);
    out.assert_ok();
    assert_eq!(out.stdout, "via-fd\n", "{out}");
}

#[test]
fn sys_is_read_only() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "sh", "-c", "touch /sys/x; echo touch=$?; awk '$2 == \"/sys\" {print $3, substr($4, 1, 3)}' /proc/mounts"]);
    out.assert_ok();
    assert_eq!(out.stdout, "touch=1\nsysfs ro,\n", "{out}");
    assert!(out.stderr.contains("Read-only file system"), "{out}");
}

#[test]
fn loopback_is_up_and_alone() {
    let env = TestEnv::new();
    let out = env.run(&[
        "busybox",
        "sh",
        "-c",
        "ip link show lo; echo ---; ls /sys/class/net",
    ]);
    out.assert_ok();
    let (link, devices) = out.stdout.split_once("---\n").unwrap();
    let flags = link.split(['<', '>']).nth(1).unwrap_or("");
    assert!(flags.split(',').any(|f| f == "UP"), "lo is not up:\n{out}");
    // Its own network namespace: none of the host's interfaces.
    assert_eq!(devices.trim(), "lo", "{out}");
    // And it works: something listens on 127.0.0.1 and answers.
    let out = env.run(&[
        "busybox",
        "sh",
        "-c",
        "ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pong",
    ]);
    assert_eq!(out.out(), "pong", "{out}");
}

#[test]
fn host_processes_are_not_visible() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "ps", "-o", "pid,comm"]);
    out.assert_ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows, vec![vec!["1", "ps"]], "{out}");
}

/// The host's mounts, by mount id: (mount point, options, propagation, fs options).
fn mount_table() -> BTreeMap<u32, (String, String, String, String)> {
    mounts::mounts()
        .into_iter()
        .map(|m| {
            let point = m.mount_point.display().to_string();
            (m.id, (point, m.options, m.optional, m.super_options))
        })
        .collect()
}

#[test]
fn host_mount_table_is_unchanged() {
    let env = TestEnv::new();
    let before = mount_table();
    let running = env.spawn(&["busybox", "sh", "-c", "sleep 1; echo done"]);
    env.container_cgroup("memory");
    let during = mount_table();
    running.wait().assert_ok();
    let after = mount_table();
    for (when, table) in [("while it ran", &during), ("after it ran", &after)] {
        // Mounts that existed before must be exactly as they were (propagation included:
        // a runtime that forgets its own private mount namespace makes / private here).
        for (id, was) in &before {
            if let Some(now) = table.get(id) {
                assert_eq!(was, now, "host mount {id} changed {when}");
            }
        }
        // New mounts: none of ours. (Other scenarios and other users of this machine may be
        // mounting things under /tmp and /var/tmp meanwhile; those are not ours to judge.)
        for (id, (point, ..)) in table.iter().filter(|(id, _)| !before.contains_key(id)) {
            let foreign = (point.starts_with("/tmp/") || point.starts_with("/var/tmp/"))
                && !point.starts_with(env.dir.to_str().unwrap());
            assert!(foreign, "new host mount {id} at {point} {when}");
        }
    }
    env.assert_clean();
}

#[test]
fn container_has_its_own_namespaces() {
    let env = TestEnv::new();
    let ns = |pid: &str, kind: &str| std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap();
    let out = env.run(&[
        "busybox",
        "sh",
        "-c",
        "for n in mnt uts ipc net pid; do readlink /proc/self/ns/$n; done",
    ]);
    out.assert_ok();
    let inside: Vec<&str> = out.stdout.lines().collect();
    for (i, kind) in ["mnt", "uts", "ipc", "net", "pid"].iter().enumerate() {
        let host = ns("self", kind);
        assert_ne!(
            inside[i],
            host.to_str().unwrap(),
            "the container shares the host's {kind} namespace"
        );
    }
}
