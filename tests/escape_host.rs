//! The escape and abuse suite, host side: from a default container, writing the kernel's
//! settings, seeing or signalling host processes, reaching a host service on 127.0.0.1, and
//! outliving `stop` / `rm -f` all fail, and the host is checked unchanged afterwards.
//! (Memory and fork bombs against --memory / --pids-limit: tests/limits.rs.)

mod common;

use common::*;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

#[test]
fn kernel_settings_under_proc_sys_and_sys_cannot_be_written() {
    let env = TestEnv::new();
    // Each write puts back the value that is there: harmless even if it got through.
    let files = [
        "/proc/sys/vm/swappiness",
        "/proc/sys/kernel/printk_ratelimit",
        "/proc/sys/kernel/hostname",
    ];
    let before: Vec<String> = files.iter().map(|f| read(f)).collect();
    let mut script = String::new();
    for f in files {
        script += &format!("v=$(cat {f}); (echo \"$v\" > {f}) 2>/dev/null && echo 'wrote {f}'\n");
    }
    script += "touch /sys/kernel/mdrun-x 2>/dev/null && echo 'wrote /sys'\n";
    script += "(echo h > /proc/sysrq-trigger) 2>/dev/null && echo 'wrote sysrq'\n";
    script += "mkdir /sys/fs/cgroup/mdrun-x 2>/dev/null && echo 'made a cgroup'\n";
    script += "hostname evil 2>/dev/null && echo 'set hostname'\n";
    script += "echo end\n";
    let out = env.run(&["busybox", "sh", "-c", &script]);
    out.assert_ok();
    assert_eq!(out.stdout, "end\n", "{out}");
    let after: Vec<String> = files.iter().map(|f| read(f)).collect();
    assert_eq!(before, after, "a kernel setting of the host changed");
    assert_absent(Path::new("/sys/kernel/mdrun-x"));
    env.assert_clean();
}

#[test]
fn host_processes_can_be_neither_seen_nor_signalled() {
    let env = TestEnv::new();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pid = sleeper.id();
    let script = format!(
        "ls /proc | grep -c '^[0-9]'; kill -9 {pid} 2>/dev/null && echo killed; kill -9 -1 2>/dev/null; \
         [ -e /proc/{pid} ] && echo visible; echo end"
    );
    let out = env.run(&["busybox", "sh", "-c", &script]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    // `kill -9 -1` kills every process the shell may signal: in its own PID namespace that
    // is only the container's; the shell itself survives it (POSIX: not the caller).
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines
            .first()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n <= 3),
        "{out}"
    );
    assert!(
        !lines.contains(&"killed") && !lines.contains(&"visible"),
        "{out}"
    );
    assert!(
        alive,
        "the host's sleep {pid} was killed from the container"
    );
    env.assert_clean();
}

#[test]
fn a_host_service_on_loopback_is_unreachable() {
    let env = TestEnv::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "echo hello | nc -w 2 127.0.0.1 {port} && echo connected; \
         wget -q -T 2 -O - http://127.0.0.1:{port}/ 2>/dev/null && echo fetched; echo end"
    );
    let out = env.run(&["busybox", "sh", "-c", &script]);
    out.assert_ok();
    assert_eq!(out.stdout.trim_end().lines().last(), Some("end"), "{out}");
    assert!(
        !out.stdout.contains("connected") && !out.stdout.contains("fetched"),
        "{out}"
    );
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the host's listener on 127.0.0.1:{port} got a connection: {other:?}"),
    }
    env.assert_clean();
}

/// The container's processes as the host sees them: its cgroup in the pids hierarchy.
fn container_pids(env: &TestEnv) -> Vec<i32> {
    let dir = env.container_cgroup("pids");
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    procs.lines().filter_map(|l| l.parse().ok()).collect()
}

fn alive(pid: i32) -> bool {
    // A zombie has already exited: count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_gone(pids: &[i32], within: Duration) -> Vec<i32> {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Started detached: PID 1 ignores SIGTERM and has children (one in its own session and
/// process group, as a daemon would) that ignore it too.
fn start_stubborn(env: &TestEnv, name: &str) -> Vec<i32> {
    let script =
        "trap '' TERM; (trap '' TERM; sleep 1000) & setsid sh -c \"trap '' TERM; sleep 1000\" & \
                  while :; do sleep 1; done";
    env.mdrun(&["run", "-d", "--name", name, "busybox", "sh", "-c", script])
        .assert_ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids = container_pids(env);
        if pids.len() >= 4 || Instant::now() > deadline {
            return pids;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn nothing_keeps_running_after_stop() {
    let env = TestEnv::new();
    env.keep_containers();
    let pids = start_stubborn(&env, "stubborn");
    assert!(
        pids.len() >= 4,
        "expected PID 1, two sleeps and a loop: {pids:?}"
    );
    let start = Instant::now();
    env.mdrun(&["stop", "-t", "1", "stubborn"]).assert_ok();
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "stop -t 1 took {:?}",
        start.elapsed()
    );
    assert_eq!(
        wait_gone(&pids, Duration::from_secs(5)),
        Vec::<i32>::new(),
        "survived stop"
    );
    env.mdrun(&["rm", "stubborn"]).assert_ok();
    env.assert_clean();
}

#[test]
fn nothing_keeps_running_after_rm_force() {
    let env = TestEnv::new();
    let pids = start_stubborn(&env, "forced");
    env.mdrun(&["rm", "-f", "forced"]).assert_ok();
    assert_eq!(
        wait_gone(&pids, Duration::from_secs(5)),
        Vec::<i32>::new(),
        "survived rm -f"
    );
    env.assert_clean();
}
