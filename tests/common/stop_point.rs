//! Stopping mdrun at a step it names (`MDRUN_TEST_STOP_AT`, see src/stop_point.rs):
//! mdrun raises SIGSTOP there, the test looks at what it has made so far, then SIGKILLs it
//! (or lets it go on with SIGCONT). Nothing here depends on timing: the test waits until the
//! process is stopped, however long that takes (within a deadline against hangs).

use super::{Running, TestEnv};
use std::fs;
use std::time::{Duration, Instant};

pub const STOP_AT: &str = "MDRUN_TEST_STOP_AT";

/// `mdrun ARGS` with `MDRUN_TEST_STOP_AT=step`, returned once it (or a process it forked: a
/// detached container's supervisor) has stopped itself there, with the stopped pid.
pub fn spawn_stopped(env: &TestEnv, step: &str, args: &[&str]) -> (Running, i32) {
    spawn_stopped_cmd(env.cmd(args).env(STOP_AT, step), step, args)
}

/// [`spawn_stopped`] of a command already made (`mdrun ARGS` with stdin, say) with
/// `STOP_AT` set to `step`.
pub fn spawn_stopped_cmd(cmd: super::process::Cmd, step: &str, args: &[&str]) -> (Running, i32) {
    let mut running = cmd.spawn();
    let pid = running.pid() as i32;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stopped = std::iter::once(pid)
            .chain(children(pid))
            .find(|p| state(*p) == Some('T'));
        if let Some(p) = stopped {
            return (running, p);
        }
        assert!(
            !running.exited(),
            "mdrun {args:?} ended before it reached {step}:\n{}",
            running.wait()
        );
        assert!(
            Instant::now() < deadline,
            "mdrun {args:?} did not stop at {step} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Send `signal` to `pid`, a process this test started (directly or through mdrun).
pub fn signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) touches no memory of ours; the pid is one of this test's processes.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(
        rc,
        0,
        "kill({pid}, {signal}): {}",
        std::io::Error::last_os_error()
    );
}

/// SIGKILL the stopped mdrun `pid` and wait until it is gone (reaped, when it is `running`
/// itself; when it is a forked supervisor, until it is no more than a zombie).
pub fn kill_stopped(running: Running, pid: i32) -> super::Out {
    signal(pid, libc::SIGKILL);
    let out = running.wait();
    wait_gone(pid);
    out
}

/// The state letter of /proc/<pid>/stat (R, S, T, Z...), None once the pid is gone.
pub fn state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Until `pid` no longer runs (gone, or a zombie).
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !matches!(state(pid), None | Some('Z')) {
        assert!(
            Instant::now() < deadline,
            "process {pid} still runs after 15 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pids whose parent is `pid`.
fn children(pid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = s.rsplit_once(')')?.1.to_string();
                    rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                == Some(pid)
        })
        .collect()
}
