//! `mdrun start`: an exited container runs again with its write layer; two `start`s at once
//! start it once.

use crate::common::*;
use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn start_runs_an_exited_container_again_with_its_write_layer() {
    let env = TestEnv::new();
    let count = "echo x >> /count; wc -l < /count";
    let first = env.mdrun(&["run", "--name", "again", "busybox", "sh", "-c", count]);
    assert_eq!(first.out(), "1");
    let attached = env.mdrun(&["start", "-a", "again"]);
    assert_eq!(attached.out(), "2");
    let before = record(&env, "again").unwrap()["started"].clone();
    let detached = env.mdrun(&["start", "again"]);
    detached.assert_ok();
    assert_eq!(detached.out(), "again");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = record(&env, "again").unwrap();
        if r["status"] == "exited" && r["started"] != before {
            break;
        }
        assert!(Instant::now() < deadline, "start did not run it: {r}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let third = env.mdrun(&["start", "-a", "again"]);
    assert_eq!(
        third.out(),
        "4",
        "three runs before this one kept their writes"
    );
    env.mdrun(&["start", "nosuch"]).assert_mdrun_error();
    env.mdrun(&["rm", "again"]).assert_ok();
    env.assert_clean();
}

/// Two `start`s of one container: the second, while the first is still starting it (stopped
/// right after its claim), is refused; once it runs, `start` says so. Then both at the same
/// moment: the command ran once.
#[test]
fn two_starts_of_one_container_start_it_once() {
    use crate::common::stop_point::{signal, spawn_stopped};
    let env = TestEnv::new();
    let count = "echo x >> /count; sleep 30";
    env.mdrun(&["run", "-d", "--name", "twice", "busybox", "sh", "-c", count])
        .assert_ok();
    wait_status(&env, "twice", "running");
    env.mdrun(&["stop", "-t", "0", "twice"]).assert_ok();

    let (first, pid) = spawn_stopped(&env, "start:claimed", &["start", "twice"]);
    let rec = record(&env, "twice").unwrap();
    assert_eq!(rec["status"], "created", "claimed: {rec}");
    assert_eq!(rec["supervisor_pid"], pid);
    let second = env.mdrun(&["start", "twice"]);
    second.assert_mdrun_error();
    assert!(second.stderr.contains("already being started"), "{second}");
    signal(pid, libc::SIGCONT);
    let first = first.wait();
    first.assert_ok();
    assert_eq!(first.out(), "twice");
    wait_status(&env, "twice", "running");
    let again = env.mdrun(&["start", "twice"]);
    again.assert_ok();
    assert_eq!(again.out(), "twice", "already running: {again}");
    env.mdrun(&["stop", "-t", "0", "twice"]).assert_ok();

    // At the same moment: each says it started it, or is refused, or finds it running.
    let a = env.cmd(&["start", "twice"]).spawn();
    let b = env.cmd(&["start", "twice"]).spawn();
    let (a, b) = (a.wait(), b.wait());
    for out in [&a, &b] {
        assert!(
            out.code == 0 || out.stderr.contains("already being started"),
            "{out}"
        );
    }
    assert!(
        a.code == 0 || b.code == 0,
        "one of them starts it:\n{a}\n{b}"
    );
    wait_status(&env, "twice", "running");
    let runs = env.mdrun(&["exec", "twice", "cat", "/count"]);
    runs.assert_ok();
    // The first run, the first start, and one of the two last: three.
    assert_eq!(runs.stdout, "x\nx\nx\n", "started twice at once: {runs}");
    env.mdrun(&["rm", "-f", "twice"]).assert_ok();
    env.assert_clean();
}
