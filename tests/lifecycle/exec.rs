//! `mdrun exec`: a process joins a running container (its namespaces, cgroup and
//! confinement) and passes its exit status through.

use crate::common::*;
use crate::util::*;

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
fn exec_gets_the_containers_confinement() {
    let env = TestEnv::new();
    env.keep_containers();
    let out = env.mdrun(&[
        "run",
        "-d",
        "--name",
        "conf",
        "--cap-drop",
        "ALL",
        "--user",
        "nobody",
        "busybox",
        "sleep",
        "30",
    ]);
    out.assert_ok();
    let out = env.mdrun(&[
        "exec",
        "conf",
        "sh",
        "-c",
        "id -u; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status",
    ]);
    out.assert_ok();
    let got: Vec<String> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        got,
        vec![
            "65534",
            "CapBnd: 0000000000000000",
            "NoNewPrivs: 1",
            "Seccomp: 2"
        ],
        "{out}"
    );
    // `-u` overrides the container's user; the capabilities stay the container's.
    let out = env.mdrun(&[
        "exec",
        "-u",
        "0",
        "conf",
        "sh",
        "-c",
        "id -u; grep CapEff /proc/self/status",
    ]);
    assert_eq!(
        out.stdout.split_whitespace().collect::<Vec<_>>(),
        vec!["0", "CapEff:", "0000000000000000"],
        "{out}"
    );
    env.mdrun(&["rm", "-f", "conf"]).assert_ok();
    env.assert_clean();
}
