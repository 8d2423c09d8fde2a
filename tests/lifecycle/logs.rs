//! `mdrun logs` of a container of the file log driver: `--tail`, `-t` and `-f`. (The journald
//! driver: tests/systemd/logs_follow.rs.)

use crate::common::*;
use crate::util::*;

#[test]
fn logs_of_a_file_logged_container_with_tail_timestamps_and_follow() {
    let env = TestEnv::new();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "lg",
        "--log-driver",
        "file",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; sleep 0.2; done",
    ])
    .assert_ok();
    // -f follows until the container ends, and then the record says so.
    let follow = env.mdrun(&["logs", "-f", "lg"]);
    follow.assert_ok();
    assert_eq!(follow.stdout, "out 1\nout 2\nout 3\nout 4\nout 5\n");
    assert_eq!(follow.stderr, "err 1\nerr 2\nerr 3\nerr 4\nerr 5\n");
    assert_eq!(record(&env, "lg").unwrap()["status"], "exited");
    let tail = env.mdrun(&["logs", "--tail", "2", "lg"]);
    assert_eq!(
        tail.stdout.lines().count() + tail.stderr.lines().count(),
        2,
        "{tail}"
    );
    let stamped = env.mdrun(&["logs", "-t", "lg"]);
    let first = stamped.stdout.lines().next().unwrap();
    assert!(
        first.ends_with(" out 1") && first.contains('T') && first.len() > 20,
        "{first}"
    );
    let none = env.mdrun(&["logs", "--since", "2099-01-01T00:00:00Z", "lg"]);
    assert_eq!(none.stdout, "");
    env.mdrun(&["logs", "nosuch"]).assert_mdrun_error();
    env.mdrun(&["rm", "lg"]).assert_ok();
    env.assert_clean();
}
