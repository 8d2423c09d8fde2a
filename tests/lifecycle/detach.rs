//! Detached containers and what works on them: `run -d` (with and without a terminal),
//! `exec`, `logs`, `start` (and two at once), and names claimed by two `run`s at the same
//! moment.

use crate::common::*;
use crate::util::*;
use std::time::{Duration, Instant};

/// Wait until the container's record says `status`.
fn wait_status(env: &TestEnv, name: &str, status: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = record(env, name).filter(|r| r["status"] == status) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became {status}: {:?}",
            record(env, name)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

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
fn exec_joins_the_container_and_passes_its_status_through() {
    let env = TestEnv::new();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "c1",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sleep",
        "30",
    ])
    .assert_ok();
    wait_status(&env, "c1", "running");
    // Its own processes, with its command as PID 1.
    let ps = env.mdrun(&["exec", "c1", "ps"]);
    ps.assert_ok();
    let pid1 = ps
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("1"));
    assert!(pid1.is_some_and(|l| l.contains("sleep 30")), "{ps}");
    assert!(
        ps.stdout.lines().count() <= 4,
        "only the container's processes: {ps}"
    );
    // Its hostname, environment, -e, -w, and the exit status.
    let rec = record(&env, "c1").unwrap();
    let out = env.mdrun(&[
        "exec",
        "-e",
        "EXTRA=2",
        "-w",
        "/tmp",
        "c1",
        "sh",
        "-c",
        "echo $(hostname) $FROM_RUN $EXTRA $(pwd)",
    ]);
    out.assert_ok();
    assert_eq!(
        out.out(),
        format!("{} 1 2 /tmp", &rec["id"].as_str().unwrap()[..12])
    );
    env.mdrun(&["exec", "c1", "sh", "-c", "exit 7"])
        .assert_code(7);
    env.mdrun(&["exec", "c1", "nosuchcommand"])
        .assert_one_line_error(127);
    // Its cgroup: the exec'd process counts against the container's limits.
    let cg = env.mdrun(&["exec", "c1", "cat", "/proc/self/cgroup"]);
    cg.assert_ok();
    assert!(
        cg.stdout.lines().any(|l| l.ends_with(":/")),
        "inside its cgroup namespace: {cg}"
    );
    // Stdin passes with -i, and what the command prints comes back.
    let piped = env.cmd(&["exec", "-i", "c1", "cat"]).stdin("piped\n").run();
    piped.assert_ok();
    assert_eq!(piped.stdout, "piped\n", "{piped}");
    // Without -i the command's stdin is empty.
    let closed = env.cmd(&["exec", "c1", "cat"]).stdin("not passed\n").run();
    closed.assert_ok();
    assert_eq!(closed.stdout, "", "{closed}");
    env.mdrun(&["rm", "-f", "c1"]).assert_ok();
    // Not running any more: a clear error.
    env.mdrun(&["run", "--name", "done", "busybox", "true"])
        .assert_ok();
    env.mdrun(&["exec", "done", "true"]).assert_mdrun_error();
    env.mdrun(&["rm", "done"]).assert_ok();
    env.assert_clean();
}

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
