//! `mdrun run -d`: detached containers (with and without a terminal), and names claimed by
//! two `run`s at the same moment. What works on them: exec.rs, logs.rs, start.rs.

use crate::common::*;
use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn run_d_prints_the_id_and_returns_while_the_container_runs() {
    let env = TestEnv::new();
    let out = env.mdrun(&["run", "-d", "--name", "bg", "busybox", "sleep", "30"]);
    out.assert_ok();
    let id = out.out().to_string();
    assert_eq!(id.len(), 64, "run -d prints the full id: {out}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let rec = wait_status(&env, "bg", "running");
    assert_eq!(rec["id"], id.as_str());
    assert!(
        alive(rec["pid"].as_i64().unwrap()),
        "the container's init runs"
    );
    let entry = ps_entry(&env, "bg");
    assert!(
        entry["Status"].as_str().unwrap().starts_with("Up "),
        "{entry}"
    );
    env.mdrun(&["rm", "-f", "bg"]).assert_ok();
    env.assert_clean();
}

#[test]
fn run_d_with_i_is_refused_and_with_t_keeps_a_terminal() {
    let env = TestEnv::new();
    env.mdrun(&["run", "-d", "-i", "busybox", "true"])
        .assert_mdrun_error();
    env.assert_clean();
    env.mdrun(&[
        "run",
        "-d",
        "-t",
        "--name",
        "tty",
        "busybox",
        "sh",
        "-c",
        "tty; sleep 30",
    ])
    .assert_ok();
    wait_status(&env, "tty", "running");
    // The supervisor holds the terminal's master: the container's stdout is a terminal from
    // its own devpts, and what it writes reaches the log.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = env.mdrun(&["logs", "tty"]);
        if logs.stdout.contains("/dev/pts/") {
            break;
        }
        assert!(Instant::now() < deadline, "no tty in the logs: {logs}");
        std::thread::sleep(Duration::from_millis(50));
    }
    env.mdrun(&["rm", "-f", "tty"]).assert_ok();
    env.assert_clean();
}

#[test]
fn two_runs_with_one_name_at_the_same_moment_exactly_one_wins() {
    let env = TestEnv::new();
    for round in 0..3 {
        let name = format!("dup{round}");
        let a = env
            .cmd(&["run", "-d", "--name", &name, "busybox", "sleep", "30"])
            .spawn();
        let b = env
            .cmd(&["run", "-d", "--name", &name, "busybox", "sleep", "30"])
            .spawn();
        let (a, b) = (a.wait(), b.wait());
        let wins = [&a, &b].iter().filter(|o| o.code == 0).count();
        assert_eq!(wins, 1, "exactly one wins:\n{a}\n{b}");
        let loser = if a.code == 0 { &b } else { &a };
        loser.assert_mdrun_error();
        assert!(loser.stderr.contains("already in use"), "{loser}");
        assert_eq!(
            records(&env)
                .iter()
                .filter(|r| r["name"] == name.as_str())
                .count(),
            1
        );
        env.mdrun(&["rm", "-f", &name]).assert_ok();
    }
    env.assert_clean();
}
