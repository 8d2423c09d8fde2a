//! `mdrun run`: stdio, exit codes, environment, working directory, the default command and
//! what remains of a container afterwards.

use crate::common::*;
use std::fs;
use std::time::Duration;

#[test]
fn stdin_is_piped_through_to_the_command() {
    let env = TestEnv::new();
    // `run` is the default verb: `echo hi | mdrun busybox cat`.
    let out = env.mdrun_stdin(&["--rm", "busybox", "cat"], "hi\n");
    out.assert_ok();
    assert_eq!(out.stdout, "hi\n", "{out}");
    env.assert_clean();
}

#[test]
fn large_input_passes_through_unchanged() {
    let env = TestEnv::new();
    let input: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let out = env
        .cmd(&["run", "--rm", "busybox", "cat"])
        .stdin(input.as_bytes())
        .run();
    out.assert_ok();
    assert!(
        out.stdout == input,
        "cat returned {} bytes of {}",
        out.stdout.len(),
        input.len()
    );
}

#[test]
fn stdout_and_stderr_stay_separate() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "sh", "-c", "echo out; echo err >&2; echo out2"]);
    out.assert_ok();
    assert_eq!(out.stdout, "out\nout2\n", "{out}");
    assert_eq!(out.stderr, "err\n", "{out}");
}

#[test]
fn exit_code_of_the_command_is_mdruns() {
    let env = TestEnv::new();
    env.run(&["busybox", "sh", "-c", "exit 3"]).assert_code(3);
    env.run(&["busybox", "false"]).assert_code(1);
    env.run(&["busybox", "sh", "-c", "exit 255"])
        .assert_code(255);
    env.run(&["busybox", "true"]).assert_code(0);
    env.assert_clean();
}

#[test]
fn a_process_killed_by_sigkill_gives_137() {
    let env = TestEnv::new();
    // The command is PID 1, which the kernel shields from its own SIGKILL (as under docker),
    // so the process killed here is a child whose status the shell passes on (`; exit $?`
    // keeps busybox sh from exec'ing its last command in place of itself).
    let out = env.run(&["busybox", "sh", "-c", "sh -c 'kill -9 $$'; exit $?"]);
    out.assert_code(137);
}

#[test]
fn the_container_killed_from_the_host_gives_128_plus_signal() {
    let env = TestEnv::new();
    let running = env.spawn(&["busybox", "sleep", "30"]);
    let pid = env.container_process("sleep 30");
    // SAFETY: kill(2); the pid is the container's init, started by this test.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let out = running.wait();
    out.assert_code(137);
    env.assert_clean();
}

#[test]
fn command_not_found_gives_127_and_one_line() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "no-such-command"]);
    out.assert_one_line_error(127);
    assert!(out.stderr.contains("no-such-command"), "{out}");
    let out = env.run(&["busybox", "/bin/no/such/path"]);
    out.assert_one_line_error(127);
    env.assert_clean();
}

#[test]
fn a_file_that_cannot_be_executed_gives_126() {
    let env = TestEnv::new();
    let out = env.run(&["busybox", "/etc/passwd"]);
    out.assert_one_line_error(126);
    assert!(out.stderr.contains("/etc/passwd"), "{out}");
    env.run(&["busybox", "/tmp"]).assert_one_line_error(126);
    env.assert_clean();
}

#[test]
fn env_flags_set_variables() {
    let env = TestEnv::new();
    let out = env
        .cmd(&[
            "run",
            "--rm",
            "-e",
            "FOO=bar baz",
            "-e",
            "EMPTY=",
            "-e",
            "FROM_HOST",
            "-e",
            "UNSET_ON_HOST_7c1",
            "busybox",
            "env",
        ])
        .env("FROM_HOST", "host value")
        .run();
    out.assert_ok();
    let vars: Vec<&str> = out.stdout.lines().collect();
    for expected in ["FOO=bar baz", "EMPTY=", "FROM_HOST=host value"] {
        assert!(vars.contains(&expected), "{expected} missing:\n{out}");
    }
    assert!(!out.stdout.contains("UNSET_ON_HOST_7c1"), "{out}");
    assert!(
        vars.iter()
            .any(|v| v.starts_with("PATH=") && v.contains("/bin")),
        "{out}"
    );
    assert!(vars.iter().any(|v| v.starts_with("HOSTNAME=")), "{out}");
    // Nothing of mdrun's own environment leaks in.
    assert!(!out.stdout.contains("MDRUN_CONFIG"), "{out}");
}

#[test]
fn a_later_env_flag_wins() {
    let env = TestEnv::new();
    let out = env.run(&["-e", "A=1", "-e", "A=2", "busybox", "sh", "-c", "echo $A"]);
    out.assert_ok();
    assert_eq!(out.out(), "2");
}

#[test]
fn env_file_is_read() {
    let env = TestEnv::new();
    let file = env.path("vars.env");
    fs::write(&file, "# a comment\n\nA=1\nB=two words\nC=\n").unwrap();
    let out = env.run(&[
        "--env-file",
        file.to_str().unwrap(),
        "-e",
        "A=override",
        "busybox",
        "env",
    ]);
    out.assert_ok();
    let vars: Vec<&str> = out.stdout.lines().collect();
    for expected in ["A=override", "B=two words", "C="] {
        assert!(vars.contains(&expected), "{expected} missing:\n{out}");
    }
    assert!(!out.stdout.contains("comment"), "{out}");
}

#[test]
fn workdir_flag_sets_the_current_directory() {
    let env = TestEnv::new();
    let out = env.run(&["-w", "/etc", "busybox", "pwd"]);
    out.assert_ok();
    assert_eq!(out.out(), "/etc");
    let out = env.run(&["--workdir", "/tmp", "busybox", "sh", "-c", "pwd; ls -d ."]);
    out.assert_ok();
    assert_eq!(out.stdout, "/tmp\n.\n");
}

#[test]
fn default_command_of_the_image_is_sh() {
    let env = TestEnv::new();
    let out = env.mdrun_stdin(&["run", "--rm", "busybox"], "echo ok\n");
    out.assert_ok();
    assert_eq!(out.out(), "ok");
}

#[test]
fn rm_leaves_nothing_behind() {
    let env = TestEnv::new();
    env.run(&[
        "busybox",
        "sh",
        "-c",
        "echo data > /tmp/file; mkdir -p /a/b",
    ])
    .assert_ok();
    assert_eq!(env.containers(), Vec::<String>::new());
    env.assert_clean();
    // Also after a failing command.
    env.run(&["busybox", "sh", "-c", "exit 9"]).assert_code(9);
    env.assert_clean();
}

#[test]
fn without_rm_the_container_record_stays() {
    let env = TestEnv::new();
    env.keep_containers();
    let out = env.mdrun(&["run", "busybox", "hostname"]);
    out.assert_ok();
    let id = env.only_container();
    assert_eq!(id.len(), 64, "container dir {id:?} is not a 64-hex id");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert!(env.root.join("containers").join(&id).is_dir());
    // The hostname is the short id.
    assert_eq!(out.out(), &id[..12], "{out}");
    env.assert_clean();
    // A second run adds a second record.
    env.mdrun(&["busybox", "true"]).assert_ok();
    assert_eq!(env.containers().len(), 2);
    env.assert_clean();
}

#[test]
fn two_quick_containers_in_parallel_both_work() {
    let env = TestEnv::new();
    let a = env
        .cmd(&["run", "--rm", "busybox", "sh", "-c", "sleep 1; echo a"])
        .spawn();
    let b = env
        .cmd(&["run", "--rm", "busybox", "sh", "-c", "sleep 1; echo b"])
        .spawn();
    let (a, b) = (a.wait(), b.wait());
    a.assert_ok();
    b.assert_ok();
    assert_eq!((a.out(), b.out()), ("a", "b"));
    env.assert_clean();
}

#[test]
fn a_quick_container_is_quick() {
    let env = TestEnv::new();
    env.run(&["busybox", "true"]).assert_ok(); // warm the page cache
    let start = std::time::Instant::now();
    env.cmd(&["run", "--rm", "busybox", "true"])
        .timeout(Duration::from_secs(10))
        .run()
        .assert_ok();
    let took = start.elapsed();
    // crun takes 8 ms here; a debug build of mdrun should stay well under a second.
    assert!(
        took < Duration::from_secs(1),
        "mdrun run --rm busybox true took {took:?}"
    );
}
