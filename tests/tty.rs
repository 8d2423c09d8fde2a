//! `-t`: the command gets a terminal of its own. util-linux `script` gives mdrun a real
//! terminal to be started from, as a user's shell would.

mod common;

use common::*;

/// Runs shell `line` under `script`, in a terminal; `$MDRUN` is the binary.
fn in_terminal(env: &TestEnv, line: &str, input: Option<&str>) -> Out {
    let mut cmd = Cmd::new("script", &env.dir)
        .args(&["-qfec", line, "/dev/null"])
        .env("MDRUN_CONFIG", &env.config)
        .env("MDRUN", MDRUN)
        .env("TERM", "xterm-256color");
    if let Some(input) = input {
        cmd = cmd.stdin(input.as_bytes());
    }
    let out = cmd.run();
    // A terminal ends lines with \r\n.
    Out {
        stdout: out.stdout.replace("\r\n", "\n"),
        ..out
    }
}

#[test]
fn tty_flag_gives_the_command_a_terminal() {
    let env = TestEnv::new();
    let inner = "tty; stty size; echo TERM=$TERM; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; test -t 2 && echo stderr-tty";
    let out = in_terminal(
        &env,
        &format!(
            "stty rows 30 cols 100; \"$MDRUN\" run --rm -t busybox sh -c '{inner}'; echo rc=$?"
        ),
        None,
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("/dev/pts/") || *l == "/dev/console"),
        "{out}"
    );
    assert!(
        lines.contains(&"30 100"),
        "the window size did not reach the container:\n{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("TERM=") && l.len() > 5),
        "no TERM:\n{out}"
    );
    for expected in ["stdin-tty", "stdout-tty", "stderr-tty", "rc=0"] {
        assert!(lines.contains(&expected), "{expected} missing:\n{out}");
    }
    env.assert_clean();
}

#[test]
fn terminal_settings_are_restored_afterwards() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "stty -g; \"$MDRUN\" run --rm -t busybox sh -c 'stty raw -echo; true'; stty -g",
        None,
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 2, "{out}");
    assert_eq!(
        lines.first(),
        lines.last(),
        "the terminal was left changed:\n{out}"
    );
}

#[test]
fn exit_code_passes_through_with_a_tty() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "\"$MDRUN\" run --rm -t busybox sh -c 'exit 5'; echo rc=$?",
        None,
    );
    assert!(out.stdout.lines().any(|l| l == "rc=5"), "{out}");
    env.assert_clean();
}

#[test]
fn interactive_tty_forwards_input() {
    let env = TestEnv::new();
    let out = in_terminal(
        &env,
        "\"$MDRUN\" run --rm -it busybox sh; echo rc=$?",
        Some("echo hello-$((6*7))\nexit 7\n"),
    );
    assert!(
        out.stdout.contains("hello-42"),
        "the command did not get its input:\n{out}"
    );
    assert!(out.stdout.lines().any(|l| l == "rc=7"), "{out}");
    env.assert_clean();
}
