//! `ps --filter` (name, id, status, ancestor) and `--format` with Go templates.

use crate::common::*;
use crate::util::*;

fn names(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ps", "--format", "{{.Names}}"];
    all.extend_from_slice(args);
    let out = env.mdrun(&all);
    out.assert_ok();
    let mut n: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    n.sort();
    n
}

#[test]
fn ps_filters_and_go_templates() {
    let env = TestEnv::new();
    let a = detached(&env, "app-a", &[], &["sleep", "1000"]);
    detached(&env, "app-b", &[], &["sleep", "1000"]);
    env.mdrun(&["pause", "app-b"]).assert_ok();
    env.mdrun(&["run", "--name", "done-c", "busybox", "true"])
        .assert_ok();

    assert_eq!(names(&env, &[]), ["app-a", "app-b"]);
    assert_eq!(names(&env, &["-a"]), ["app-a", "app-b", "done-c"]);
    assert_eq!(names(&env, &["--filter", "name=app"]), ["app-a", "app-b"]);
    assert_eq!(names(&env, &["-f", "name=-a"]), ["app-a"]);
    assert_eq!(names(&env, &["-f", &format!("id={}", &a[..8])]), ["app-a"]);
    // A status filter shows stopped containers without -a, as docker.
    assert_eq!(names(&env, &["-f", "status=exited"]), ["done-c"]);
    assert_eq!(names(&env, &["-f", "status=paused"]), ["app-b"]);
    assert_eq!(
        names(&env, &["-f", "status=paused", "-f", "status=running"]),
        ["app-a", "app-b"]
    );
    assert_eq!(names(&env, &["-a", "-f", "ancestor=busybox"]).len(), 3);
    assert_eq!(
        names(
            &env,
            &["-a", "-f", "ancestor=busybox:latest", "-f", "name=c"]
        ),
        ["done-c"]
    );
    assert!(names(&env, &["-a", "-f", "ancestor=alpine"]).is_empty());

    let out = env.mdrun(&[
        "ps",
        "-a",
        "-f",
        "name=done",
        "--format",
        "table {{.Names}}\\t{{.State}}",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "NAMES     STATE\ndone-c    exited\n");
    let out = env.mdrun(&["ps", "-f", "name=app-b", "--format", "{{.ID}} {{.Status}}"]);
    assert!(out.stdout.trim_end().ends_with("(Paused)"), "{out}");
    let out = env.mdrun(&["ps", "-f", "name=app-a", "--format", "{{json .Names}}"]);
    assert_eq!(out.stdout, "\"app-a\"\n");

    for bad in [
        &["ps", "-f", "color=red"][..],
        &["ps", "-f", "status=asleep"],
        &["ps", "--format", "{{.Names"],
    ] {
        env.mdrun(bad).assert_one_line_error(125);
    }
    env.mdrun(&["rm", "-f", "app-a", "app-b", "done-c"])
        .assert_ok();
    env.assert_clean();
}
