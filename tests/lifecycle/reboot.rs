//! A reboot, simulated: every process of the containers is killed (an attached container's
//! mdrun and init, a detached one's supervisor and init) and the whole run root is emptied.
//! `ps -a` then shows the containers exited, and `start`, `commit` and `rm` work on them.

use crate::common::stop_point::{signal, wait_gone};
use crate::common::*;
use crate::util::*;
use std::fs;
use std::time::{Duration, Instant};

const APPEND_AND_WAIT: &str = "echo ran >> /runs; sleep 30";

fn pid_of(rec: &serde_json::Value, field: &str) -> i32 {
    rec[field]
        .as_i64()
        .unwrap_or_else(|| panic!("no {field} in {rec}")) as i32
}

#[test]
fn after_a_reboot_containers_show_exited_and_start_commit_rm_work() {
    let env = TestEnv::new();
    let (attached, att) = start(&env, "att", &["sh", "-c", APPEND_AND_WAIT]);
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "det",
        "busybox",
        "sh",
        "-c",
        APPEND_AND_WAIT,
    ])
    .assert_ok();
    let det = record(&env, "det").unwrap();
    assert_eq!(det["status"], "running");
    env.mdrun(&["run", "--name", "done", "busybox", "sh", "-c", "exit 3"])
        .assert_code(3);

    // The reboot: every process behind the containers dies...
    signal(attached.pid() as i32, libc::SIGKILL);
    assert_eq!(attached.wait().code, 128 + libc::SIGKILL);
    for pid in [
        pid_of(&att, "pid"),
        pid_of(&det, "supervisor_pid"),
        pid_of(&det, "pid"),
    ] {
        // The init may be gone already (it dies with its parent).
        // SAFETY: kill(2) of a process this test started through mdrun.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        wait_gone(pid);
    }
    // ... and the run root is empty, as a fresh tmpfs /run would be.
    for name in files::names(&env.run_root) {
        let path = env.run_root.join(name);
        match fs::symlink_metadata(&path).map(|m| m.is_dir()) {
            Ok(true) => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        }
        .unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    // Orphaned inits are reaped by this machine's PID 1, maybe a moment later: until then
    // a zombie in the container's cgroup still counts as running.
    let deadline = Instant::now() + Duration::from_secs(15);
    while ps_all(&env).iter().any(|e| e["State"] == "running") {
        assert!(
            Instant::now() < deadline,
            "still running: {:?}",
            ps_all(&env)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for (name, code) in [("att", 255), ("det", 255), ("done", 3)] {
        let entry = ps_entry(&env, name);
        assert_eq!(entry["State"], "exited", "{entry}");
        assert_eq!(entry["ExitCode"], code, "{entry}");
    }

    // commit: the write layers survived.
    env.mdrun(&["commit", "att", "att:snap"]).assert_ok();
    let out = env.run(&["att:snap", "cat", "/runs"]);
    assert_eq!(out.out(), "ran", "{out}");
    env.mdrun(&["rmi", "att:snap"]).assert_ok();

    // start: each runs again, on its write layer.
    for name in ["att", "det"] {
        let out = env.mdrun(&["start", name]);
        out.assert_ok();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let runs = env.mdrun(&["exec", name, "cat", "/runs"]);
            if runs.code == 0 && runs.out() == "ran\nran" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not run again: {runs}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(ps_entry(&env, name)["State"], "running");
    }
    env.mdrun(&["start", "done"]).assert_ok();

    // rm: of running ones with -f, of the exited one without.
    env.mdrun(&["rm", "-f", "att", "det"]).assert_ok();
    env.mdrun(&["wait", "done"]).assert_ok();
    env.mdrun(&["rm", "done"]).assert_ok();
    env.assert_clean();
}

/// The same reboot, then `rm` and `prune` straight away, with nothing run before them.
#[test]
fn after_a_reboot_rm_and_prune_clean_everything() {
    let env = TestEnv::new();
    for name in ["d1", "d2"] {
        env.mdrun(&["run", "-d", "--name", name, "busybox", "sleep", "30"])
            .assert_ok();
    }
    for name in ["d1", "d2"] {
        let rec = record(&env, name).unwrap();
        for field in ["supervisor_pid", "pid"] {
            let pid = pid_of(&rec, field);
            // SAFETY: kill(2) of a process this test started through mdrun.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait_gone(pid);
        }
    }
    fs::remove_dir_all(&env.run_root).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = env.mdrun(&["rm", "d1"]);
        if out.code == 0 {
            break;
        }
        // A zombie init not yet reaped by PID 1 still counts as running.
        assert!(out.stderr.contains("is running"), "{out}");
        assert!(Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while record(&env, "d2").is_some() {
        env.mdrun(&["prune"]).assert_ok();
        assert!(Instant::now() < deadline, "prune left d2");
        std::thread::sleep(Duration::from_millis(20));
    }
    env.assert_clean();
}
