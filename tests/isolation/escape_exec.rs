//! A process that `exec` is starting, before its exec: it already stands in the container's
//! PID namespace, confined as the container's own processes are (capabilities, user,
//! seccomp), with mdrun's descriptors, environment and memory. The container must not reach
//! it through /proc (the class of CVE-2016-9962): mdrun makes it non-dumpable until its exec.

use crate::common::stop_point;
use crate::common::*;

/// The pid `pid` (a host pid) has in the innermost PID namespace it is in.
fn inner_pid(pid: i32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .unwrap_or_else(|| panic!("no NSpid in /proc/{pid}/status"));
    line.split_whitespace().last().unwrap().to_string()
}

#[test]
fn a_process_being_execd_cannot_be_reached_through_proc() {
    let env = TestEnv::new();
    env.mdrun(&["run", "-d", "--name", "box", "busybox", "sleep", "1000"])
        .assert_ok();
    let (running, stopped) =
        stop_point::spawn_stopped(&env, "execve:ready", &["exec", "box", "true"]);
    let n = inner_pid(stopped);
    assert_ne!(
        n,
        stopped.to_string(),
        "the stopped process is not in the container"
    );
    // From a process with the same user and capabilities, in the same container.
    let script = format!(
        "cat /proc/{n}/comm; \
         cat /proc/{n}/environ >/dev/null 2>&1 && echo read-environ; \
         readlink /proc/{n}/fd/0 >/dev/null 2>&1 && echo read-fd; \
         readlink /proc/{n}/root >/dev/null 2>&1 && echo read-root; \
         readlink /proc/{n}/cwd >/dev/null 2>&1 && echo read-cwd; \
         echo end"
    );
    let probe = env.mdrun(&["exec", "box", "sh", "-c", &script]);
    let out = stop_point::kill_stopped(running, stopped);
    assert_ne!(out.code, 0, "{out}");
    env.mdrun(&["rm", "-f", "box"]).assert_ok();
    probe.assert_ok();
    // The probe looked at the right process (comm is readable whatever its dumpability).
    assert_eq!(probe.stdout, "mdrun\nend\n", "{probe}");
    env.assert_clean();
}
