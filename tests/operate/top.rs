//! `mdrun top`: the container's processes, and only those, through the host's `ps`.

use crate::common::*;
use crate::util::*;

#[test]
fn top_lists_the_containers_processes_only() {
    let env = TestEnv::new();
    detached(
        &env,
        "tp",
        &[],
        &["sh", "-c", "sleep 1001 & sleep 1002 & wait"],
    );
    until("both sleeps", || {
        let out = env.mdrun(&["top", "tp"]);
        out.code == 0 && out.stdout.contains("sleep 1002") && out.stdout.contains("sleep 1001")
    });
    let out = env.mdrun(&["top", "tp"]);
    out.assert_ok();
    let mut lines = out.stdout.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("PID") && header.contains("CMD"), "{out}");
    // sh, and its two sleeps: nothing of the host (ps itself, the test).
    assert_eq!(lines.count(), 3, "{out}");

    let out = env.mdrun(&["top", "tp", "-o", "pid,args"]);
    out.assert_ok();
    let header = out.stdout.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["PID", "COMMAND"]
    );
    assert_eq!(out.stdout.lines().count(), 4, "{out}");

    env.mdrun(&["top", "nope"]).assert_one_line_error(125);
    env.mdrun(&["rm", "-f", "tp"]).assert_ok();
    env.mdrun(&["run", "--name", "done", "busybox", "true"])
        .assert_ok();
    env.mdrun(&["top", "done"]).assert_one_line_error(125);
    env.mdrun(&["rm", "done"]).assert_ok();
    env.assert_clean();
}
